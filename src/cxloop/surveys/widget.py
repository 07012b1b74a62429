"""A survey's page settings (theme, review link) and its web widget: the rules a site's
visitors are matched against and the check that decides whether one is asked.

The widget is embedded with a **per-survey public widget key**, not the workspace's write
key: the key is in every page's HTML, so it may only do what the public survey page does
anyway (show this one survey and take answers to it). A write key would let anyone who views
the page source send any event or trait for any customer.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.core.time import utcnow
from cxloop.models import Survey, SurveyPage, SurveyResponse, SurveyStatus
from cxloop.surveys import errors
from cxloop.surveys.page_schemas import PageSettings, WidgetRules, dump
from cxloop.surveys.service import get_survey

WIDGET_KEY_PREFIX = "cxw_"
# extra checks other parts of cxloop add (contact-fatigue caps): each may say no
EligibilityCheck = Callable[[Session, uuid.UUID, uuid.UUID, dict[str, str]], bool]
_checks: list[EligibilityCheck] = []


def get_page(session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID) -> SurveyPage:
    """The page settings of a survey of the workspace (empty ones if never set)."""
    survey = get_survey(session, workspace_id, survey_id)
    page = page_of(session, survey)
    return page or SurveyPage(
        workspace_id=workspace_id, survey_id=survey.id, theme={}, review_url=None, widget=None
    )


def page_of(session: Session, survey: Survey) -> SurveyPage | None:
    return session.scalar(
        select(SurveyPage).where(
            SurveyPage.survey_id == survey.id, SurveyPage.workspace_id == survey.workspace_id
        )
    )


def set_page(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, body: PageSettings
) -> SurveyPage:
    """Replace a survey's page settings. The widget key is made when the widget is first
    switched on and kept, so a site's embed code keeps working across edits."""
    survey = get_survey(session, workspace_id, survey_id)
    page = page_of(session, survey)
    if page is None:
        page = SurveyPage(workspace_id=workspace_id, survey_id=survey.id)
        session.add(page)
    if body.widget is not None:
        _check_regex(body.widget)
    page.theme = dump(body.theme)
    page.review_url = body.review_url
    page.widget = dump(body.widget) if body.widget is not None else None
    if page.widget is not None and page.widget_key is None:
        page.widget_key = WIDGET_KEY_PREFIX + secrets.token_urlsafe(24)
    page.updated_at = utcnow()
    session.flush()
    return page


def _check_regex(rules: WidgetRules) -> None:
    if rules.url_regex is None:
        return
    try:
        re.compile(rules.url_regex)
    except re.error as exc:
        raise errors.InvalidDefinition([(["widget", "url_regex"], f"not a regex: {exc}")]) from None


def page_by_widget_key(session: Session, key: str) -> SurveyPage | None:
    if not key.startswith(WIDGET_KEY_PREFIX) or len(key) > 64:
        return None
    page = session.scalar(select(SurveyPage).where(SurveyPage.widget_key == key))
    return page if page is not None and page.widget is not None else None


# -- eligibility ------------------------------------------------------------------------------


def add_eligibility_check(check: EligibilityCheck) -> EligibilityCheck:
    """Register a further check :func:`eligible` runs (usable as a decorator)."""
    if check not in _checks:
        _checks.append(check)
    return check


def eligible(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, customer: dict[str, str]
) -> bool:
    """Whether this customer may be asked this survey now: they have not answered it yet,
    and every registered check (contact-fatigue caps, ...) agrees."""
    answered = _has_answered(session, workspace_id, survey_id, customer)
    return not answered and all(
        check(session, workspace_id, survey_id, customer) for check in _checks
    )


def _has_answered(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, customer: dict[str, str]
) -> bool:
    ids = [(SurveyResponse.user_id, customer.get("user_id"))]
    ids.append((SurveyResponse.anonymous_id, customer.get("anonymous_id")))
    for column, value in ids:
        if not value:
            continue
        found = session.scalar(
            select(SurveyResponse.id)
            .where(
                SurveyResponse.workspace_id == workspace_id,
                SurveyResponse.survey_id == survey_id,
                SurveyResponse.is_complete.is_(True),
                column == value,
            )
            .limit(1)
        )
        if found is not None:
            return True
    return False


@dataclass(frozen=True)
class WidgetDecision:
    show: bool
    reason: str
    survey_id: uuid.UUID | None = None
    rules: dict[str, Any] | None = None


def decide(session: Session, key: str, url: str, customer: dict[str, str]) -> WidgetDecision:
    """Whether the widget with ``key`` shows its survey to this visitor on ``url``; the
    event, delay and snooze rules are the script's (they happen in the browser)."""
    page = page_by_widget_key(session, key)
    if page is None or page.widget is None:
        return WidgetDecision(False, "unknown_key")
    survey = session.get(Survey, page.survey_id)
    if survey is None or survey.status != SurveyStatus.ACTIVE:
        return WidgetDecision(False, "survey_not_open")
    rules = WidgetRules.model_validate(page.widget)
    if not url_matches(rules, url):
        return WidgetDecision(False, "url_not_matched")
    visitor = customer.get("user_id") or customer.get("anonymous_id") or ""
    if not in_sample(rules.sample_percent, survey.id, visitor):
        return WidgetDecision(False, "not_sampled")
    if not eligible(session, survey.workspace_id, survey.id, customer):
        return WidgetDecision(False, "not_eligible")
    return WidgetDecision(True, "eligible", survey.id, dump(rules))


def url_matches(rules: WidgetRules, url: str) -> bool:
    if rules.url_contains is not None and rules.url_contains not in url:
        return False
    if rules.url_regex is not None:
        try:
            return re.search(rules.url_regex, url[:2000]) is not None
        except re.error:
            return False
    return True


def in_sample(percent: int, survey_id: uuid.UUID, visitor: str) -> bool:
    """The same visitor is always in or always out of a survey's sample."""
    if percent >= 100:
        return True
    digest = hashlib.sha256(f"{survey_id}:{visitor}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent
