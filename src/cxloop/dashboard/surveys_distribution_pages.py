"""A survey's distribution page (``/app/surveys/{id}/distribution``): the hosted link and the
widget, personal links, email invitations with their status and reminders, triggers and the
contact-fatigue rules, each with the form that changes it."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.deps import ReadSessionDep, SessionDep, SettingsDep
from cxloop.core.errors import Forbidden, InvalidInput
from cxloop.dashboard import surveys_builder as builder
from cxloop.dashboard import surveys_distribution as dist
from cxloop.dashboard.auth import PageDep
from cxloop.dashboard.surveys_builder_pages import BuilderForm
from cxloop.dashboard.surveys_pages import can_edit, require_editor
from cxloop.models import InvitationStatus
from cxloop.surveys import service
from cxloop.web.page import Page
from cxloop.web.tables import Column, Table

router = APIRouter(include_in_schema=False)
POLICY_ROLES = ("owner", "admin")
ACTIONS = ("invite", "reminders", "trigger", "delete_trigger", "link", "policy", "widget")


@router.get("/app/surveys/{survey_id}/distribution")
def distribution_page(
    survey_id: uuid.UUID,
    page: PageDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    status: str = Query("", max_length=20),
    before: uuid.UUID | None = Query(None),
    done: str = Query("", max_length=20),
) -> Response:
    return _render(page, session, settings, survey_id, status=status, before=before, done=done)


@router.post("/app/surveys/{survey_id}/distribution/{action}")
def distribution_action(
    survey_id: uuid.UUID,
    action: str,
    page: PageDep,
    form: BuilderForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One of the page's forms; back to the page, or the page again with its errors."""
    require_editor(page.viewer)
    workspace_id = page.viewer.workspace_id
    service.get_survey(session, workspace_id, survey_id)
    issued: str | None = None
    savepoint = session.begin_nested()  # a refused form leaves nothing behind
    if action == "invite":
        _, problems = dist.invite(session, settings, workspace_id, survey_id, form)
    elif action == "reminders":
        problems = dist.set_reminders(session, workspace_id, survey_id, form)
    elif action == "trigger":
        problems = dist.add_trigger(session, workspace_id, survey_id, form)
    elif action == "delete_trigger":
        problems = dist.delete_trigger(session, workspace_id, survey_id, form)
    elif action == "link":
        issued, problems = dist.issue_link(session, settings, workspace_id, survey_id, form)
    elif action == "policy":
        if page.viewer.workspace.role not in POLICY_ROLES:
            raise Forbidden("the contact policy is changed by owners and admins")
        problems = dist.set_policy(session, workspace_id, form)
    elif action == "widget":
        problems = dist.set_widget(session, workspace_id, survey_id, form)
    else:
        savepoint.rollback()
        raise InvalidInput("action", f"one of {', '.join(ACTIONS)}, not {action!r}")
    if problems:
        savepoint.rollback()
        return _render(
            page,
            session,
            settings,
            survey_id,
            errors={action: problems},
            form=form,
            http_status=422,
        )
    savepoint.commit()
    if issued is not None:
        return _render(page, session, settings, survey_id, issued=issued, done="link")
    target = f"/app/surveys/{survey_id}/distribution?done={action}#{action}"
    return RedirectResponse(target, status_code=303)


def _render(
    page: Page,
    session: Session,
    settings: Settings,
    survey_id: uuid.UUID,
    *,
    status: str = "",
    before: uuid.UUID | None = None,
    done: str = "",
    errors: dict[str, builder.Errors] | None = None,
    form: dict[str, list[str]] | None = None,
    issued: str | None = None,
    http_status: int = 200,
) -> Response:
    t = page.t
    wanted = _status(status)
    survey = service.get_survey(session, page.viewer.workspace_id, survey_id)
    found = dist.view(
        session, settings, page.viewer.workspace_id, survey_id, status=wanted, before=before
    )
    found.issued_link = issued
    localised = {
        action: builder.localised(problems, page.lang)
        for action, problems in (errors or {}).items()
    }
    return page.render(
        "app/surveys/distribution.html",
        section="surveys",
        title=t("dist.title").format(name=survey.name),
        tables=[_invitations_table(page, found), _links_table(page, found)],
        status=http_status,
        survey=survey,
        found=found,
        status_filter=wanted.value if wanted else "",
        done=done if done in ACTIONS else "",
        errors=localised,
        posted={k: v[0] for k, v in (form or {}).items() if v},
        can_edit=can_edit(page.viewer),
        can_set_policy=page.viewer.workspace.role in POLICY_ROLES,
        widget_rules=dist.widget_rules(found.widget_rules),
    )


def _status(value: str) -> InvitationStatus | None:
    if not value:
        return None
    try:
        return InvitationStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in InvitationStatus)
        raise InvalidInput("status", f"one of {known}, not {value!r}") from None


def _invitations_table(page: Page, found: dist.DistributionView) -> Table:
    t = page.t
    return Table(
        id="invitations",
        title=t("dist.invitations"),
        columns=[
            Column(t("dist.column.email")),
            Column(t("dist.column.status")),
            Column(t("dist.column.language")),
            Column(t("dist.column.source")),
            Column(t("dist.column.sent_at"), "time"),
            Column(t("dist.column.deliveries"), "int"),
            Column(t("dist.column.next_reminder"), "time"),
            Column(t("dist.column.answered_at"), "time"),
            Column(t("dist.column.reason")),
        ],
        rows=[
            [
                i.email or "",
                t(f"dist.status.{i.status.value}"),
                i.language,
                t(f"dist.source.{i.source}") if i.source in ("api", "trigger") else i.source,
                i.sent_at,
                i.deliveries,
                i.next_reminder_at,
                i.answered_at,
                i.skip_reason or i.last_error or "",
            ]
            for i in found.invitations
        ],
        caption=t("dist.invitations.none"),
    )


def _links_table(page: Page, found: dist.DistributionView) -> Table:
    t = page.t
    return Table(
        id="links",
        title=t("dist.links"),
        columns=[
            Column(t("dist.column.customer")),
            Column(t("dist.column.status")),
            Column(t("dist.column.channel")),
            Column(t("dist.column.language")),
            Column(t("dist.column.created_at"), "time"),
            Column(t("dist.column.expires_at"), "time"),
        ],
        rows=[
            [
                ", ".join(f"{k}: {v}" for k, v in link.customer.items()),
                t(f"dist.link.{link.state}"),
                link.channel,
                link.language or "",
                link.created_at,
                link.expires_at,
            ]
            for link in found.links
        ],
        caption=t("dist.links.none"),
    )
