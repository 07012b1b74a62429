"""What the hosted page and the widget show and do, free of HTTP: open a survey's form,
and take a posted step of it. :mod:`cxloop.surveys.pages` only renders the result."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, cast

import orjson
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.groupcommit import Batch
from cxloop.core.i18n import translate
from cxloop.models import ResponseSource, Survey, SurveyStatus
from cxloop.surveys import errors, faces, hosted, links, service
from cxloop.surveys.hosted import FormState, Step
from cxloop.surveys.links import LinkGrant
from cxloop.surveys.schemas import Question, ResponseCreate, SurveyDefinition, localise

T = TypeVar("T")
Item = TypeVar("Item")


class Writer(Protocol):
    """Where the answers are written: a :class:`~cxloop.core.groupcommit.GroupCommitter`,
    which returns once they are durable and shares one commit among the submissions
    arriving together."""

    def run(self, apply: Callable[[Session], T]) -> T: ...

    def run_batched(self, batch: Batch[Item, T], item: Item) -> T: ...


FALLBACK_COLOUR = "#0b5cad"
PROMOTER_SCORE = 9


@dataclass
class Request:
    """What a visitor's request says, beyond the form itself."""

    lang: str | None = None
    accept_language: str | None = None
    touchpoint: str | None = None
    channel: str | None = None
    customer: dict[str, str] = field(default_factory=dict)
    source: ResponseSource = ResponseSource.PAGE
    embedded: bool = False


@dataclass
class View:
    """A page to render: ``kind`` picks the template, the rest fills it."""

    kind: Literal["form", "done", "closed", "link_used", "link_expired", "link_invalid"]
    lang: str
    status: int = 200
    survey_name: str = ""
    theme: dict[str, str] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


def theme_of(page_theme: Mapping[str, Any] | None) -> dict[str, str]:
    """Brand colour and the text colour that reads on it at WCAG AA (4.5:1) or better."""
    colour = str((page_theme or {}).get("brand_color") or FALLBACK_COLOUR)
    on = "#ffffff" if _contrast(colour, "#ffffff") >= _contrast(colour, "#111111") else "#111111"
    ink = colour if _contrast(colour, "#ffffff") >= 4.5 else "#1b1f24"
    logo = str((page_theme or {}).get("logo_url") or "")
    return {"brand": colour, "on_brand": on, "brand_ink": ink, "logo_url": logo}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _text(texts: Mapping[Any, str] | None, lang: str, default: str) -> str:
    return localise(cast("dict[str, str] | None", texts), lang, default)


def find_survey(session: Session, survey_id: uuid.UUID, settings: Settings) -> Survey | None:
    """A survey by id alone: its id is what the public page is addressed by."""
    return faces.survey(session, survey_id, settings)


def _current(session: Session, survey: Survey) -> SurveyDefinition:
    definition = service.version_definition(session, survey, survey.current_version)
    if definition is None:  # pragma: no cover (every survey has its current version)
        raise errors.VersionNotFound(f"survey {survey.id} lacks version {survey.current_version}")
    return definition


def _message(kind: Any, lang: str, status: int, survey: Survey | None = None) -> View:
    return View(kind=kind, lang=lang, status=status, survey_name=survey.name if survey else "")


def open_form(
    session: Session,
    survey_id: uuid.UUID,
    visitor: Request,
    settings: Settings,
    *,
    grant: LinkGrant | None = None,
) -> View:
    """The first step of a survey's form, or the page saying why there is none."""
    survey = find_survey(session, survey_id, settings)
    fallback = hosted.choose_language(
        [], "en", asked=visitor.lang, accept_language=visitor.accept_language
    )
    if survey is None or (grant is not None and grant.workspace_id != survey.workspace_id):
        return _message("link_invalid", fallback, 404)
    customer = dict(grant.customer) if grant else dict(visitor.customer)
    lang = hosted.choose_language(
        survey.languages,
        survey.default_language,
        asked=visitor.lang,
        link=grant.language if grant else None,
        profile=hosted.profile_language(session, survey.workspace_id, customer)
        if customer
        else None,
        accept_language=visitor.accept_language,
    )
    if survey.status != SurveyStatus.ACTIVE:
        return _message("closed", lang, 410, survey)
    key = grant.response_key if grant else uuid.uuid4()
    state = FormState(
        survey_id=survey.id,
        response_key=key,
        language=lang,
        source=_source(grant, visitor).value,
        customer=customer,
        touchpoint=(grant.touchpoint if grant else None) or visitor.touchpoint,
        channel=(grant.channel if grant else None) or visitor.channel,
        link_id=grant.link_id if grant else None,
    )
    definition = _current(session, survey)
    # only a link can come back to a response: an anonymous visit starts a new one
    stored = hosted.stored_answers(session, survey, key) if grant is not None else None
    answers = dict(stored.answers) if stored is not None else {}
    state.asked = [q for q in answers if definition.question(q) is not None]
    step = hosted.next_step(definition, answers, state.asked)
    if step.is_empty:  # a link whose every question was answered in an earlier visit
        return _message("link_used", lang, 410, survey)
    return _form(session, survey, definition, state, step, answers, settings, visitor)


def _source(grant: LinkGrant | None, visitor: Request) -> ResponseSource:
    if grant is not None:
        return ResponseSource.EMAIL if grant.channel == "email" else ResponseSource.PAGE
    return visitor.source


def _form(
    session: Session,
    survey: Survey,
    definition: SurveyDefinition,
    state: FormState,
    step: Step,
    answers: Mapping[str, Any],
    settings: Settings,
    visitor: Request,
    *,
    posted: Mapping[str, list[str]] | None = None,
    problems: Mapping[str, str] | None = None,
    status: int = 200,
) -> View:
    lang, default = state.language, survey.default_language
    page = faces.page(session, survey)
    questions = [_question(q, lang, default, False) for q in step.base]
    questions += [_question(q, lang, default, True) for q in step.follow_ups]
    values = {
        "token": hosted.sign_state(state, settings),
        "intro": _text(definition.intro, lang, default) if not state.asked else "",
        "questions": questions,
        "earlier": orjson.dumps(dict(answers)).decode(),
        "posted": posted or {},
        "problems": {qid: translate(key, lang) for qid, key in (problems or {}).items()},
        "is_first": not state.asked,
        "embedded": visitor.embedded,
    }
    return View(
        kind="form",
        lang=lang,
        status=status,
        survey_name=survey.name,
        theme=theme_of(page.theme if page else None),
        languages=list(survey.languages) or [default],
        values=values,
    )


def _question(question: Question, lang: str, default: str, follow_up: bool) -> dict[str, Any]:
    bounds = question.bounds()
    view: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "title": _text(question.title, lang, default),
        "description": _text(question.description, lang, default),
        "required": question.is_required,
        "follow_up": follow_up,
        "style": question.style or "stars",
        "max_length": question.max_length or 2000,
        "show_if": orjson.dumps([c.model_dump(mode="json") for c in question.conditions]).decode(),
        "choices": [(c.id, _text(c.label, lang, default)) for c in question.choices or []],
        "scale": list(range(bounds[0], bounds[1] + 1)) if bounds else [],
    }
    return view


# what a save may refuse, shown on the page rather than as an error
Refused = (errors.SurveyNotOpen, errors.InvalidResponse)


@dataclass
class Posted:
    """A posted step that passed the page's own checks: what to save, and what is needed to
    answer once it is saved. Holds no database object, so no session is kept open while the
    answers wait for their commit."""

    survey_id: uuid.UUID
    workspace_id: uuid.UUID
    definition: SurveyDefinition
    state: FormState
    step: Step
    earlier: dict[str, Any]
    merged: dict[str, Any]
    after: list[str]
    finished: bool
    posted: dict[str, list[str]]
    grant: LinkGrant | None

    def submission(self) -> service.Submission:
        """The save as an item of :func:`service.submit_many`: every save but a personal
        link's, which must also use the link up (:meth:`write`)."""
        return service.Submission(self.workspace_id, self.survey_id, self._payload(), self._source)

    def write(self, session: Session) -> None:
        """The save done alone (a personal link's)."""
        service.submit_response(
            session, self.workspace_id, self.survey_id, self._payload(), source=self._source
        )
        if self.finished and self.grant is not None:
            links.mark_used(session, self.grant.link_id)

    @property
    def _source(self) -> ResponseSource:
        return hosted.source_of(self.state.source)

    def _payload(self) -> ResponseCreate:
        state = self.state
        return ResponseCreate(
            customer=state.customer or None,  # type: ignore[arg-type]
            answers=self.merged,
            touchpoint=state.touchpoint,
            channel=state.channel,
            language=state.language,  # type: ignore[arg-type]
            response_id=state.response_key,
            is_complete=self.finished,
        )


def post_form(
    session: Session,
    survey_id: uuid.UUID,
    form: Mapping[str, list[str]],
    visitor: Request,
    settings: Settings,
    writer: Writer,
    *,
    grant: LinkGrant | None = None,
) -> View:
    """Take one posted step: save it (partial, or complete when nothing is left to ask)
    and return the next step, the same step with its problems, or the thank-you page.

    ``session`` only reads; the answers are written through ``writer``. An asynchronous
    caller runs the three parts itself: :func:`take_step`, the save, :func:`answer`."""
    taken = take_step(session, survey_id, form, visitor, settings, grant=grant)
    if isinstance(taken, View):
        return taken
    try:
        if grant is None:  # most submissions: many written together
            writer.run_batched(service.submit_many, taken.submission())
        else:
            writer.run(taken.write)
    except Refused as exc:  # shown on the page
        return answer(session, taken, exc, settings, visitor)
    return answer(session, taken, None, settings, visitor)


def take_step(
    session: Session,
    survey_id: uuid.UUID,
    form: Mapping[str, list[str]],
    visitor: Request,
    settings: Settings,
    *,
    grant: LinkGrant | None = None,
) -> View | Posted:
    """Check a posted step: the page to show now (a problem, a stale form, a closed
    survey), or the answers to save."""
    survey = find_survey(session, survey_id, settings)
    if survey is None:
        return _message("link_invalid", visitor.lang or "en", 404)
    try:
        state = hosted.read_state((form.get("token") or [""])[0], settings)
    except (hosted.TokenError, KeyError, ValueError):
        return _restart(session, survey_id, visitor, settings, grant)
    if state.survey_id != survey.id or (grant and state.link_id != grant.link_id):
        return _restart(session, survey_id, visitor, settings, grant)
    if any(v.strip() for v in form.get("website", [])):  # the honeypot: a bot filled it
        return _done(session, survey, state, {}, None)
    if survey.status != SurveyStatus.ACTIVE:
        return _message("closed", state.language, 410, survey)
    definition = _current(session, survey)
    stored = hosted.stored_answers(session, survey, state.response_key) if state.asked else None
    earlier = {k: v for k, v in (stored.answers if stored else {}).items() if k in state.asked}
    step = hosted.next_step(definition, earlier, state.asked)
    shown = step.base + (step.follow_ups if form.get("js") == ["1"] else [])
    answers, problems = hosted.parse_answers(shown, form)
    for qid in hosted.required_missing(shown, answers, earlier):
        problems.setdefault(qid, "page.error.required")
    posted = {q.id: form.get(f"a.{q.id}", []) for q in shown}
    if problems:
        return _form(
            session, survey, definition, state, step, earlier, settings, visitor,
            posted=posted, problems=problems, status=422,
        )  # fmt: skip
    merged = {**earlier, **answers}
    after = [*state.asked, *(q.id for q in shown)]
    finished = hosted.next_step(definition, merged, after).is_empty
    return Posted(
        survey.id, survey.workspace_id, definition, state, step, earlier, merged, after,
        finished, posted, grant,
    )  # fmt: skip


def answer(
    session: Session,
    taken: Posted,
    refused: errors.SurveyNotOpen | errors.InvalidResponse | None,
    settings: Settings,
    visitor: Request,
) -> View:
    """The page after the save of ``taken``: the next step, the thank-you page, or the same
    step with what the save refused (``refused``)."""
    survey = find_survey(session, taken.survey_id, settings)
    state = taken.state
    if survey is None or isinstance(refused, errors.SurveyNotOpen):
        return _message("closed", state.language, 410, survey)
    if isinstance(refused, errors.InvalidResponse):
        problems: dict[str, str] = {}
        for loc, _ in refused.problems:
            qid = str(loc[1]) if len(loc) > 1 and loc[0] == "answers" else "_form"
            problems.setdefault(qid, "page.error.invalid")
        return _form(
            session, survey, taken.definition, state, taken.step, taken.earlier, settings,
            visitor, posted=taken.posted, problems=problems, status=422,
        )  # fmt: skip
    if taken.finished:
        return _done(session, survey, state, taken.merged, taken.definition)
    state.asked = taken.after
    nxt = hosted.next_step(taken.definition, taken.merged, taken.after)
    return _form(session, survey, taken.definition, state, nxt, taken.merged, settings, visitor)


def _done(
    session: Session,
    survey: Survey,
    state: FormState,
    answers: Mapping[str, Any],
    definition: SurveyDefinition | None,
) -> View:
    definition = definition or _current(session, survey)
    page = faces.page(session, survey)
    lang = state.language
    nps = definition.first_of("nps")
    score = answers.get(nps.id) if nps is not None else None
    review = page.review_url if page is not None and page.review_url else None
    is_promoter = isinstance(score, int) and score >= PROMOTER_SCORE
    return View(
        kind="done",
        lang=lang,
        survey_name=survey.name,
        theme=theme_of(page.theme if page else None),
        values={
            "thank_you": _text(definition.thank_you, lang, survey.default_language),
            "review_url": review if is_promoter else None,
        },
    )


def _restart(
    session: Session,
    survey_id: uuid.UUID,
    visitor: Request,
    settings: Settings,
    grant: LinkGrant | None,
) -> View:
    """A form whose token is missing, forged or too old: a fresh form, with a note."""
    view = open_form(session, survey_id, visitor, settings, grant=grant)
    if view.kind == "form":
        view.values["problems"] = {"_form": translate("page.error.stale", view.lang)}
        view.status = 400
    return view


def read_grant(session: Session, token: str, settings: Settings) -> LinkGrant | View:
    """The grant of a personal link, or the page that says why it cannot be used."""
    try:
        return links.read_link(session, token, settings=settings)
    except errors.LinkUsed:
        return _message("link_used", "en", 410)
    except errors.LinkExpired:
        return _message("link_expired", "en", 410)
    except (errors.LinkRevoked, errors.LinkInvalid):
        return _message("link_invalid", "en", 404)


def preview(
    definition: SurveyDefinition,
    lang: str,
    default: str,
    *,
    page_theme: Mapping[str, Any] | None = None,
    finished: bool = False,
) -> View:
    """The hosted page of a definition that is still being written, as a respondent in
    ``lang`` would first see it (or, ``finished``, its thank-you page). Nothing is signed
    or saved: the form of a preview posts nowhere."""
    if finished:
        thanks = {"thank_you": _text(definition.thank_you, lang, default), "review_url": None}
        return View(kind="done", lang=lang, theme=theme_of(page_theme), values=thanks)
    step = hosted.next_step(definition, {}, [])
    questions = [_question(q, lang, default, False) for q in step.base]
    questions += [_question(q, lang, default, True) for q in step.follow_ups]
    values: dict[str, Any] = {
        "token": "",
        "intro": _text(definition.intro, lang, default),
        "questions": questions,
        "earlier": "{}",
        "posted": {},
        "problems": {},
        "is_first": True,
        "embedded": False,
    }
    return View(kind="form", lang=lang, theme=theme_of(page_theme), values=values)
