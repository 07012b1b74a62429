"""The distribution page's figures and forms: the hosted link and the widget, personal links,
email invitations with their status, reminders, triggers and the contact-fatigue rules.

Each form is read into the same schema the JSON API takes and handed to the same service
function; a problem comes back keyed by the form field it names.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.errors import CxloopError
from cxloop.core.time import utcnow
from cxloop.dashboard.surveys_builder import Errors, problem_errors, validation_errors
from cxloop.models import (
    InvitationStatus,
    SurveyInvitation,
    SurveyLink,
)
from cxloop.surveys import errors as survey_errors
from cxloop.surveys import fatigue, links, service, triggers, widget
from cxloop.surveys.distribution import invitations
from cxloop.surveys.distribution import schemas as dist
from cxloop.surveys.distribution.invitations import Batch
from cxloop.surveys.page_schemas import PageSettings, WidgetRules, dump
from cxloop.surveys.schemas import LANGUAGES

Form = Mapping[str, list[str]]
INVITATIONS_PER_PAGE = 25
LINKS_SHOWN = 20
MAX_INVITED = 1000
_EMAIL_SPLIT = re.compile(r"[\s,;]+")


@dataclass
class LinkRow:
    id: uuid.UUID
    customer: dict[str, Any]
    channel: str
    language: str | None
    touchpoint: str | None
    created_at: datetime
    expires_at: datetime
    state: str  # open, used, expired, revoked


@dataclass
class DistributionView:
    hosted_path: str
    hosted_url: str
    languages: list[str]
    widget_rules: dict[str, Any] | None
    widget_key: str | None
    snippet: str | None
    links: list[LinkRow]
    invitations: list[dist.InvitationRead]
    next_cursor: str | None
    counts: dict[str, int]
    reminders: dict[str, Any]
    triggers: list[dist.TriggerRead]
    days_between_surveys: int
    issued_link: str | None = None
    statuses: list[str] = field(default_factory=lambda: [s.value for s in InvitationStatus])


def view(
    session: Session,
    settings: Settings,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    *,
    status: InvitationStatus | None = None,
    before: uuid.UUID | None = None,
) -> DistributionView:
    """Everything the distribution page of a survey shows (a fixed number of queries)."""
    survey = service.get_survey(session, workspace_id, survey_id)
    page = widget.get_page(session, workspace_id, survey_id)
    key = page.widget_key if page.widget is not None else None
    base = settings.public_url.rstrip("/")
    rows = invitations.list_invitations(
        session,
        workspace_id,
        survey_id,
        status=status,
        limit=INVITATIONS_PER_PAGE,
        before=before,
    )
    cursor = str(rows[-1].id) if len(rows) == INVITATIONS_PER_PAGE else None
    reminders = invitations.distribution(session, workspace_id, survey_id)
    return DistributionView(
        hosted_path=f"/s/{survey.id}",
        hosted_url=f"{base}/s/{survey.id}",
        languages=list(survey.languages),
        widget_rules=page.widget,
        widget_key=key,
        snippet=f'<script src="{base}/widget.js" data-key="{key}" async></script>' if key else None,
        links=_links(session, workspace_id, survey_id),
        invitations=rows,
        next_cursor=cursor,
        counts=counts(session, workspace_id, survey_id),
        reminders={
            "reminder_after_days": reminders.reminder_after_days,
            "max_reminders": reminders.max_reminders,
            "answer_cooldown_days": reminders.answer_cooldown_days,
        },
        triggers=[
            dist.TriggerRead.model_validate(t)
            for t in triggers.list_triggers(session, workspace_id, survey_id)
        ],
        days_between_surveys=fatigue.policy(session, workspace_id).days_between_surveys,
    )


def counts(session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID) -> dict[str, int]:
    """Invitations per status; a sent one whose link was used counts as answered."""
    i = SurveyInvitation
    found = dict.fromkeys((s.value for s in InvitationStatus), 0)
    rows = session.execute(
        select(i.status, func.count())
        .where(i.workspace_id == workspace_id, i.survey_id == survey_id)
        .group_by(i.status)
    )
    for status, n in rows:
        found[status.value] += n
    answered = session.scalar(
        select(func.count())
        .select_from(i)
        .join(SurveyLink, SurveyLink.id == i.link_id)
        .where(
            i.workspace_id == workspace_id,
            i.survey_id == survey_id,
            i.status == InvitationStatus.SENT,
            SurveyLink.used_at.is_not(None),
        )
    )
    found[InvitationStatus.SENT.value] -= answered or 0
    found[InvitationStatus.ANSWERED.value] += answered or 0
    return found


def _links(session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID) -> list[LinkRow]:
    """The newest personal links of the survey, each with what became of it."""
    now = utcnow()
    rows = session.scalars(
        select(SurveyLink)
        .where(SurveyLink.workspace_id == workspace_id, SurveyLink.survey_id == survey_id)
        .order_by(SurveyLink.id.desc())
        .limit(LINKS_SHOWN)
    )
    out = []
    for link in rows:
        if link.revoked_at is not None:
            state = "revoked"
        elif link.used_at is not None:
            state = "used"
        elif link.expires_at <= now:
            state = "expired"
        else:
            state = "open"
        out.append(
            LinkRow(
                link.id,
                dict(link.customer),
                link.channel,
                link.language,
                link.touchpoint,
                link.created_at,
                link.expires_at,
                state,
            )
        )
    return out


# -- forms ------------------------------------------------------------------------------------


def _one(form: Form, name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def _failure(exc: Exception, prefix: str = "") -> Errors:
    """The errors of a refused form: pydantic's by field, the service's by its path."""
    if isinstance(exc, ValidationError):
        found = validation_errors(exc)
        return {f"{prefix}{k}" if k else prefix.rstrip(".") or "_form": v for k, v in found.items()}
    if isinstance(exc, survey_errors.Problems):
        return problem_errors(exc.problems)
    if isinstance(exc, CxloopError):
        return {"_form": [f"builder.problem.other|reason={exc.detail}"]}
    raise exc


def invite(
    session: Session,
    settings: Settings,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    form: Form,
) -> tuple[Batch | None, Errors]:
    """Invite the addresses of the form (one per line, or separated by commas)."""
    emails = [e for e in _EMAIL_SPLIT.split(_one(form, "emails")) if e]
    language = _one(form, "language") or None
    if not emails:
        return None, {"emails": ["builder.problem.required"]}
    if len(emails) > MAX_INVITED:
        return None, {"emails": [f"builder.problem.too_many|max_length={MAX_INVITED}"]}
    body = {
        "customers": [{"email": e, "language": language} for e in emails],
        "touchpoint": _one(form, "touchpoint") or None,
    }
    try:
        parsed = dist.InvitationCreate.model_validate(body)
        return invitations.create_invitations(
            session, workspace_id, survey_id, parsed, settings
        ), {}
    except (ValidationError, CxloopError) as exc:
        found = _failure(exc)
        # "customers.3.email" names the fourth address: show it at the field, with the address
        out: Errors = {}
        for name, keys in found.items():
            match = re.match(r"customers\.(\d+)\.(\w+)", name)
            if match:
                address = emails[int(match.group(1))]
                target = "language" if match.group(2) == "language" else "emails"
                out.setdefault(target, []).extend(
                    f"dist.problem.address|address={address}\x1freason={k}" for k in keys
                )
            else:
                out.setdefault(name, []).extend(keys)
        return None, out


def set_reminders(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, form: Form
) -> Errors:
    cooldown = _one(form, "answer_cooldown_days")
    body = {
        "reminder_after_days": _one(form, "reminder_after_days") or None,
        "max_reminders": _one(form, "max_reminders") or None,
        "answer_cooldown_days": cooldown or None,
    }
    try:
        parsed = dist.DistributionUpdate.model_validate(body)
        invitations.update_distribution(session, workspace_id, survey_id, parsed)
    except (ValidationError, CxloopError) as exc:
        return _failure(exc)
    return {}


def add_trigger(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, form: Form
) -> Errors:
    where_text = _one(form, "where")
    try:
        where = orjson.loads(where_text) if where_text else {}
    except orjson.JSONDecodeError:
        return {"where": ["builder.problem.json"]}
    body = {
        "event": _one(form, "event"),
        "where": where,
        "delay_minutes": _one(form, "delay_minutes") or 0,
        "touchpoint": _one(form, "touchpoint") or None,
    }
    try:
        parsed = dist.TriggerCreate.model_validate(body)
        triggers.create_trigger(session, workspace_id, survey_id, parsed)
    except (ValidationError, CxloopError) as exc:
        return _failure(exc)
    return {}


def delete_trigger(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, form: Form
) -> Errors:
    try:
        trigger_id = uuid.UUID(_one(form, "trigger_id"))
        triggers.delete_trigger(session, workspace_id, survey_id, trigger_id)
    except ValueError:
        return {"_form": ["builder.problem.invalid"]}
    except CxloopError as exc:
        return _failure(exc)
    return {}


def issue_link(
    session: Session,
    settings: Settings,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    form: Form,
) -> tuple[str | None, Errors]:
    """A personal link for the customer of the form; its address, shown once."""
    kind, value = _one(form, "kind") or "email", _one(form, "identifier")
    if kind not in ("email", "phone", "user_id"):
        return None, {"kind": ["builder.problem.choose"]}
    language = _one(form, "language") or None
    if language is not None and language not in LANGUAGES:
        return None, {"language": ["builder.problem.choose"]}
    try:
        issued = links.issue_link(
            session,
            workspace_id,
            survey_id,
            customer={kind: value} if value else None,
            channel=_one(form, "channel") or "email",
            language=language,
            touchpoint=_one(form, "touchpoint") or None,
            settings=settings,
        )
    except CxloopError as exc:
        return None, _failure(exc)
    return settings.public_url.rstrip("/") + issued.path, {}


def set_policy(session: Session, workspace_id: uuid.UUID, form: Form) -> Errors:
    try:
        parsed = dist.ContactPolicyUpdate.model_validate(
            {"days_between_surveys": _one(form, "days_between_surveys")}
        )
    except ValidationError as exc:
        return _failure(exc)
    fatigue.set_policy(session, workspace_id, parsed.days_between_surveys)
    return {}


def set_widget(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, form: Form
) -> Errors:
    """Switch the widget on with the form's rules, or off; the page's theme and review
    link stay as they are."""
    page = widget.get_page(session, workspace_id, survey_id)
    rules: dict[str, Any] | None = None
    if _one(form, "enabled") == "1":
        rules = {
            "url_contains": _one(form, "url_contains") or None,
            "event": _one(form, "event") or None,
            "sample_percent": _one(form, "sample_percent") or 100,
            "delay_seconds": _one(form, "delay_seconds") or 0,
        }
    try:
        body = PageSettings.model_validate(
            {
                "theme": page.theme or {},
                "review_url": page.review_url,
                "widget": WidgetRules.model_validate(rules) if rules is not None else None,
            }
        )
        widget.set_page(session, workspace_id, survey_id, body)
    except ValidationError as exc:
        return _failure(exc)
    except CxloopError as exc:
        return _failure(exc)
    return {}


def widget_rules(page_widget: Mapping[str, Any] | None) -> dict[str, Any]:
    return dump(WidgetRules.model_validate(page_widget)) if page_widget else {}
