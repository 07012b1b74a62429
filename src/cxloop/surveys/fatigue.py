"""Contact fatigue: whether a customer may be asked for feedback now.

Three rules, checked in this order, each with the reason a refusal gives:

- ``unsubscribed``: the customer's email or phone is on the workspace's suppression list;
- ``recently_contacted``: any survey of the workspace was sent or shown to them within the
  workspace's ``days_between_surveys`` (``PUT /api/v1/contact-policy``, default 30);
- ``recently_answered``: they completed this survey within its ``answer_cooldown_days``
  (``PUT /api/v1/surveys/{id}/distribution``, default 90).

Invitations, reminders' first send and triggers ask :func:`allowed` right before sending,
and a sent invitation or a shown widget is recorded with :func:`record_contact`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from cxloop.core.time import utcnow
from cxloop.models import (
    ContactPolicy,
    Profile,
    SurveyContact,
    SurveyDistribution,
    SurveyResponse,
)
from cxloop.profiles import service as profiles
from cxloop.surveys import events, widget
from cxloop.surveys.distribution import customers, suppressions
from cxloop.surveys.distribution.customers import Recipient

DEFAULT_DAYS_BETWEEN_SURVEYS = 30
DEFAULT_ANSWER_COOLDOWN_DAYS = 90

Customer = Profile | Recipient | Mapping[str, Any]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None


ALLOWED = Decision(True)


def allowed(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    customer: Customer,
    now: datetime | None = None,
) -> Decision:
    """May ``customer`` be sent or shown survey ``survey_id`` now? With the reason if not.

    ``customer`` is a profile, a resolved recipient, or identifiers such as
    ``{"email": ..., "user_id": ...}`` (a ``profile_id`` key is also understood).
    """
    now = now or utcnow()
    who = _recipient(session, workspace_id, customer)
    if suppressions.is_suppressed(session, workspace_id, email=who.email, phone=who.phone):
        return Decision(False, "unsubscribed")
    days = policy(session, workspace_id).days_between_surveys
    if days > 0 and _contacted_since(session, workspace_id, who, now - timedelta(days=days)):
        return Decision(False, "recently_contacted")
    cooldown = answer_cooldown_days(session, workspace_id, survey_id)
    if cooldown and _answered_since(
        session, workspace_id, survey_id, who, now - timedelta(days=cooldown)
    ):
        return Decision(False, "recently_answered")
    return ALLOWED


@widget.add_eligibility_check
def widget_allows(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, customer: dict[str, str]
) -> bool:
    """The widget shows a survey only where these rules allow it."""
    return allowed(session, workspace_id, survey_id, customer).allowed


def record_contact(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    customer: Customer,
    channel: str,
    now: datetime | None = None,
) -> None:
    """Count a survey sent or shown to ``customer`` towards the workspace's cap."""
    who = _recipient(session, workspace_id, customer)
    session.add(
        SurveyContact(
            workspace_id=workspace_id,
            survey_id=survey_id,
            profile_id=who.profile_id,
            user_id=who.ids.get("user_id"),
            email=who.email,
            phone=who.phone,
            channel=channel,
            contacted_at=now or utcnow(),
        )
    )
    session.flush()


def policy(session: Session, workspace_id: uuid.UUID) -> ContactPolicy:
    """The workspace's contact policy (the defaults until one is set)."""
    found = session.get(ContactPolicy, workspace_id)
    if found is None:
        return ContactPolicy(
            workspace_id=workspace_id,
            days_between_surveys=DEFAULT_DAYS_BETWEEN_SURVEYS,
            updated_at=utcnow(),
        )
    return found


def set_policy(
    session: Session, workspace_id: uuid.UUID, days_between_surveys: int
) -> ContactPolicy:
    """Set how many days must pass between two surveys to the same customer (0: no cap)."""
    found = session.get(ContactPolicy, workspace_id)
    if found is None:
        found = ContactPolicy(workspace_id=workspace_id)
        session.add(found)
    found.days_between_surveys = days_between_surveys
    found.updated_at = utcnow()
    session.flush()
    return found


def answer_cooldown_days(session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID) -> int:
    row = session.get(SurveyDistribution, survey_id)
    if row is None or row.workspace_id != workspace_id:
        return DEFAULT_ANSWER_COOLDOWN_DAYS
    return row.answer_cooldown_days or 0


def answered(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    customer: Customer,
    since: datetime,
) -> bool:
    """Did ``customer`` complete survey ``survey_id`` at or after ``since``?"""
    return _answered_since(
        session, workspace_id, survey_id, _recipient(session, workspace_id, customer), since
    )


def _recipient(session: Session, workspace_id: uuid.UUID, customer: Customer) -> Recipient:
    if isinstance(customer, Recipient):
        return customer
    if isinstance(customer, Profile):
        return customers.of_profile(session, workspace_id, customer)
    ids = {k: v for k, v in customer.items() if k != "profile_id"}
    raw_profile = customer.get("profile_id")
    profile_id = uuid.UUID(str(raw_profile)) if raw_profile else None
    return customers.resolve(session, workspace_id, ids, profile_id=profile_id)


def _profile_ids(session: Session, workspace_id: uuid.UUID, who: Recipient) -> list[uuid.UUID]:
    if who.profile is None:
        return []
    return profiles.merged_ids(session, workspace_id, who.profile.id)


def _contacted_since(
    session: Session, workspace_id: uuid.UUID, who: Recipient, since: datetime
) -> bool:
    matches: list[ColumnElement[bool]] = []
    if ids := _profile_ids(session, workspace_id, who):
        matches.append(SurveyContact.profile_id.in_(ids))
    if who.email:
        matches.append(SurveyContact.email == who.email)
    if who.phone:
        matches.append(SurveyContact.phone == who.phone)
    if "user_id" in who.ids:
        matches.append(SurveyContact.user_id == who.ids["user_id"])
    if not matches:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    SurveyContact.workspace_id == workspace_id,
                    SurveyContact.contacted_at > since,
                    or_(*matches),
                )
            )
        )
    )


def _answered_since(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    who: Recipient,
    since: datetime,
) -> bool:
    matches: list[ColumnElement[bool]] = []
    if ids := _profile_ids(session, workspace_id, who):
        matches.append(SurveyResponse.profile_id.in_(ids))
    if "user_id" in who.ids:
        matches.append(SurveyResponse.user_id == who.ids["user_id"])
    # a response given only by email or phone carries an anonymous id derived from it
    anonymous = [who.ids["anonymous_id"]] if "anonymous_id" in who.ids else []
    for kind, value in (("email", who.email), ("phone", who.phone)):
        if value:
            anonymous.append(events.anonymous_id_for(workspace_id, kind, value))
    if anonymous:
        matches.append(SurveyResponse.anonymous_id.in_(anonymous))
    if not matches:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    SurveyResponse.workspace_id == workspace_id,
                    SurveyResponse.survey_id == survey_id,
                    SurveyResponse.is_complete.is_(True),
                    SurveyResponse.submitted_at >= since,
                    or_(*matches),
                )
            )
        )
    )
