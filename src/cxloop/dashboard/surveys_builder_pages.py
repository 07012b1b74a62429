"""The survey builder: ``/app/surveys/new`` and ``/app/surveys/{id}/edit``.

One form, posted back for everything: ``op=save`` creates a draft (or saves the survey,
which becomes a new version once it has answers), ``op=preview`` answers with the real
hosted page of the questions as they stand (shown in the builder's frame), and the other
buttons (add a question, move one, add a choice...) come back as the same form changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cxloop.core.deps import ReadSessionDep, SessionDep, SettingsDep
from cxloop.core.errors import InvalidInput
from cxloop.core.i18n import translate
from cxloop.dashboard import surveys_builder as builder
from cxloop.dashboard import surveys_data
from cxloop.dashboard.auth import CsrfFailed, PageDep, checked_form
from cxloop.dashboard.surveys_pages import actor_of, require_editor
from cxloop.surveys import errors, page_flow, service, widget
from cxloop.surveys import pages as hosted_pages
from cxloop.surveys import templates as survey_templates
from cxloop.surveys.schemas import LANGUAGES, localise
from cxloop.web.page import Page
from cxloop.web.session import CSRF_FIELD
from cxloop.web.templating import templates

router = APIRouter(include_in_schema=False)
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 512 * 1024  # a hundred questions with texts in three languages
MAX_FIELDS = 6000
PREVIEW_HEADERS = {
    # the preview is shown in the builder's frame only, and its form posts nowhere
    "Content-Security-Policy": "frame-ancestors 'self'; form-action 'none'",
    "Cache-Control": "no-store",
}


async def read_builder_form(request: Request) -> dict[str, list[str]]:
    """The posted builder (urlencoded), every value of every field; at most 512 KB."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        raise CsrfFailed("send the form as application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise CsrfFailed(f"the form is larger than {MAX_FORM_BYTES} bytes")
    fields = parse_qsl(
        body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS
    )
    form: dict[str, list[str]] = {}
    for key, value in fields:
        form.setdefault(key, []).append(value[:10_000])
    return form


def checked_builder_form(
    request: Request,
    settings: SettingsDep,
    form: Annotated[dict[str, list[str]], Depends(read_builder_form)],
) -> dict[str, list[str]]:
    """The builder's form once its CSRF token is checked as every dashboard form's is."""
    checked_form(request, settings, {CSRF_FIELD: (form.get(CSRF_FIELD) or [""])[0]})
    return form


BuilderForm = Annotated[dict[str, list[str]], Depends(checked_builder_form)]


# -- pages ------------------------------------------------------------------------------------


@router.get("/app/surveys/new")
def new_survey(page: PageDep, template: str = Query("", max_length=20)) -> Response:
    require_editor(page.viewer)
    if template == "nps":
        payload = survey_templates.nps_template().model_dump(mode="json", exclude_none=True)
        state = builder.state_of_payload(payload, page.viewer.timezone)
        state.preview_language = page.lang if page.lang in LANGUAGES else "vi"
    elif template:
        known = ", ".join(t.key for t in survey_templates.templates())
        raise InvalidInput("template", f"one of {known}, not {template!r}")
    else:
        state = builder.BuilderState(preview_language=page.lang if page.lang in LANGUAGES else "vi")
        state.questions.append(builder.new_question(state))
    return _render(page, state, None)


@router.post("/app/surveys/new")
def post_new_survey(
    request: Request,
    page: PageDep,
    form: BuilderForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    require_editor(page.viewer)
    state = builder.read_form(form)
    builder.fill_ids(state)
    op = "preview" if _previewing(request) else (form.get("op") or ["save"])[0]
    if op == "preview":
        return preview_response(request, state, page.viewer.timezone, finished=_finished(request))
    if builder.apply(state, op):
        return _render(page, state, None)
    body, problems = builder.payload(state, page.viewer.timezone)
    create, invalid = builder.validate_create(body)
    problems = builder.merged(problems, invalid)
    if invalid:  # what saving would say of the questions too, all at once
        problems = builder.merged(problems, builder.definition_problems(body))
    if create is not None and not problems:
        try:
            with session.begin_nested():
                survey = service.create_survey(
                    session,
                    page.viewer.workspace_id,
                    create,
                    actor_of(request, page.viewer, settings),
                )
        except errors.InvalidDefinition as exc:
            problems = builder.problem_errors(exc.problems)
        else:
            target = f"/app/surveys/{survey.id}/edit?saved=new"
            return RedirectResponse(_keep_lang(request, target), status_code=303)
    return _render(page, state, None, problems=problems, status=422)


@router.get("/app/surveys/{survey_id}/edit")
def edit_survey(
    survey_id: uuid.UUID,
    page: PageDep,
    session: ReadSessionDep,
    saved: str = Query("", max_length=10),
) -> Response:
    require_editor(page.viewer)
    detail = service.survey_detail(session, page.viewer.workspace_id, survey_id)
    state = builder.state_of(detail, detail["definition"], page.viewer.timezone)
    state.preview_language = (
        page.lang if page.lang in detail["languages"] else state.preview_language
    )
    page_settings = widget.get_page(session, page.viewer.workspace_id, survey_id)
    return _render(page, state, detail, saved=saved, theme=page_settings.theme)


@router.post("/app/surveys/{survey_id}/edit")
def post_edit_survey(
    survey_id: uuid.UUID,
    request: Request,
    page: PageDep,
    form: BuilderForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    require_editor(page.viewer)
    workspace_id = page.viewer.workspace_id
    detail = service.survey_detail(session, workspace_id, survey_id)
    state = builder.read_form(form)
    builder.fill_ids(state)
    op = "preview" if _previewing(request) else (form.get("op") or ["save"])[0]
    if op == "preview":
        theme = _theme(session, detail)
        return preview_response(
            request, state, page.viewer.timezone, theme=theme, finished=_finished(request)
        )
    if builder.apply(state, op):
        return _render(page, state, detail, theme=_theme(session, detail))
    body, problems = builder.payload(state, page.viewer.timezone)
    update, invalid = builder.validate_update(body)
    problems = builder.merged(problems, invalid)
    if invalid:  # what saving would say of the questions too, all at once
        problems = builder.merged(problems, builder.definition_problems(body))
    if update is not None and not problems:
        try:
            with session.begin_nested():
                survey = service.update_survey(
                    session,
                    workspace_id,
                    survey_id,
                    update,
                    actor_of(request, page.viewer, settings),
                )
        except errors.InvalidDefinition as exc:
            problems = builder.problem_errors(exc.problems)
        else:
            target = f"/app/surveys/{survey.id}/edit?saved=v{survey.current_version}"
            return RedirectResponse(_keep_lang(request, target), status_code=303)
    return _render(
        page, state, detail, problems=problems, status=422, theme=_theme(session, detail)
    )


def _render(
    page: Page,
    state: builder.BuilderState,
    detail: dict[str, Any] | None,
    *,
    problems: builder.Errors | None = None,
    status: int = 200,
    saved: str = "",
    theme: dict[str, Any] | None = None,
) -> Response:
    t = page.t
    found = builder.localised(builder.anchored(problems or {}), page.lang)
    summary = [
        (name, where(name, t), message) for name, messages in found.items() for message in messages
    ]
    preview = preview_response(page.request, state, page.viewer.timezone, theme=theme)
    preview_html = bytes(preview.body).decode("utf-8")
    title = t("builder.edit_title").format(name=detail["name"]) if detail else t("builder.title")
    status_value = detail["status"] if detail else None
    return page.render(
        "app/surveys/builder.html",
        section="surveys",
        title=title,
        status=status,
        state=state,
        survey=detail,
        errors=found,
        error_summary=summary,
        action=_action(page, detail),
        types=builder.QUESTION_TYPES,
        operators=builder.OPERATORS,
        stages=builder.STAGES,
        survey_languages=LANGUAGES,
        preview_html=preview_html,
        saved=saved,
        next_statuses=surveys_data.next_statuses(status_value) if status_value else [],
        is_answered=bool(detail and any(v["response_count"] for v in detail["versions"])),
        hint=_hint,
        blank_question=builder.QuestionRow(),
        blank_choice=builder.ChoiceRow(),
        blank_condition=builder.ConditionRow(),
    )


_SEPARATOR = "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "th": "ไทย", "en": "English"}


def where(name: str, t: Callable[[str], str]) -> str:
    """A field of the builder as people name it, e.g. "Question 2 / Choice 1 / Label (ไทย)"
    (the parts joined by a single right-pointing angle quotation mark)."""
    parts = name.split(".")
    if len(parts) == 1:
        return t(f"builder.where.{name}")
    words: list[str] = []
    rest = parts
    if parts[0] == "questions" and parts[1].isdigit():
        words.append(f"{t('builder.question')} {int(parts[1]) + 1}")
        rest = parts[2:]
    else:
        words.append(t(f"builder.where.{parts[0]}"))
        rest = parts[1:]
    for i, part in enumerate(rest):
        if part.isdigit():
            continue
        number = rest[i + 1] if i + 1 < len(rest) and rest[i + 1].isdigit() else None
        if part in LANGUAGE_NAMES:
            words[-1] += f" ({LANGUAGE_NAMES[part]})"
        elif number is not None:
            words.append(f"{t(f'builder.field.{part}')} {int(number) + 1}")
        else:
            words.append(t(f"builder.field.{part}"))
    return f" {_SEPARATOR} ".join(words)


def _action(page: Page, detail: dict[str, Any] | None) -> str:
    """Where the builder posts; a language asked for in the address stays for the next page."""
    path = f"/app/surveys/{detail['id']}/edit" if detail else "/app/surveys/new"
    asked = page.request.query_params.get("lang")
    return f"{path}?lang={asked}" if asked in LANGUAGES else path


def _keep_lang(request: Request, target: str) -> str:
    asked = request.query_params.get("lang")
    return f"{target}&lang={asked}" if asked in LANGUAGES else target


def _hint(texts: dict[str, str], lang: str, default: str) -> str:
    """What a respondent reading ``lang`` is shown while its text is empty."""
    if texts.get(lang):
        return ""
    others = {k: v for k, v in texts.items() if k != lang}
    return localise(others, default or "en", "en")


# -- the preview --------------------------------------------------------------------------------


def preview_response(
    request: Request,
    state: builder.BuilderState,
    timezone: str,
    *,
    theme: dict[str, Any] | None = None,
    finished: bool = False,
) -> Response:
    """The hosted page of the questions as they stand, in the builder's preview language
    (or, while they cannot be shown, what stands in the way)."""
    body, _ = builder.payload(state, timezone)
    definition, _ = builder.validate_definition(body)
    problems = builder.definition_problems(body)
    lang = state.preview_language
    if definition is None or problems:
        messages = builder.localised(builder.anchored(problems), lang)
        return templates.TemplateResponse(
            request,
            "app/surveys/preview_problems.html",
            {"lang": lang, "t": lambda key: translate(key, lang), "problems": messages},
            headers=PREVIEW_HEADERS,
        )
    default = state.default_language or "en"
    view = page_flow.preview(definition, lang, default, page_theme=theme, finished=finished)
    response = hosted_pages.render(request, view)
    response.headers.update(PREVIEW_HEADERS)
    return response


def _theme(session: Session, detail: dict[str, Any] | None) -> dict[str, Any] | None:
    if detail is None:
        return None
    return dict(widget.get_page(session, detail["workspace_id"], detail["id"]).theme or {})


def _previewing(request: Request) -> bool:
    """The preview buttons post to ``?preview=1`` (``&page=done``: the thank-you page)."""
    return request.query_params.get("preview") == "1"


def _finished(request: Request) -> bool:
    return request.query_params.get("page") == "done"
