"""Customers: search (``/app/customers?q=``) by email, phone, user id or name, and the
customer 360 (``/app/customers/{id}``): traits, identities, channels, counts, survey
answers, what the text analysis read, and the cross-channel timeline, paged and filtered."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cxloop.analytics.events import TimelineFilter
from cxloop.core.deps import ReadSessionDep, SettingsDep
from cxloop.dashboard import customer_views
from cxloop.dashboard.auth import PageDep
from cxloop.eventstore.service import events_root
from cxloop.models import Profile
from cxloop.profiles import service as profiles

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
TIMELINE_PAGE = 25
SURVEY_ANSWERS = 20
SURVEY_EVENT = "Survey Responded"
_PHONE = re.compile(r"\+?[\d\s().-]{6,20}")
NAME_TRAITS = ("name", "first_name", "last_name", "firstName", "lastName")


@router.get("/app/customers")
def customer_search(
    page: PageDep,
    session: ReadSessionDep,
    q: str = Query("", max_length=200),
) -> Response:
    query = q.strip()
    found = search(session, page.viewer.workspace_id, query)
    views = profiles.customer_views(session, page.viewer.workspace_id, found)
    table = customer_views.search_table(page, views)
    return page.render(
        "app/customers.html",
        section="customers",
        title=page.t("customers.title"),
        tables=[table],
        q=query,
        table=table,
    )


@router.get("/app/customers/{customer_id}")
def customer_detail(
    customer_id: uuid.UUID,
    page: PageDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    channel: list[str] = Query(default_factory=list, max_length=20),
    type: list[str] = Query(default_factory=list, max_length=10),
    cursor: str | None = Query(None, max_length=200),
) -> Response:
    workspace_id = page.viewer.workspace_id
    profile = profiles.get_profile(session, workspace_id, customer_id)
    view = profiles.customer_view(session, workspace_id, profile)
    root = events_root(settings)
    flt = TimelineFilter(
        profile_ids=(),
        channels=[c for c in channel if c],
        types=[k for k in type if k],
        before=profiles.decode_cursor(cursor) if cursor else None,
        limit=TIMELINE_PAGE,
    )
    events, next_cursor = profiles.timeline(session, workspace_id, profile, root, flt)
    answers, _ = profiles.timeline(
        session,
        workspace_id,
        profile,
        root,
        TimelineFilter(profile_ids=(), events=[SURVEY_EVENT], limit=SURVEY_ANSWERS),
    )
    built = customer_views.detail(page, view, events, answers)
    return page.render(
        "app/customer.html",
        section="customers",
        title=customer_views.display_name(view, page.t),
        charts=built.charts,
        tables=built.tables,
        view=view,
        facts=built.facts,
        filters={"channel": flt.channels, "type": flt.types},
        channel_options=sorted(view["channels"]),
        type_options=sorted(view["counters"]),
        next_cursor=next_cursor,
        cursor=cursor,
    )


def search(session: Session, workspace_id: uuid.UUID, query: str) -> list[Profile]:
    """Customers for what was typed: an email, a phone number, a user id or anonymous id,
    or part of a name; the most recently seen first. Nothing typed: the latest seen."""
    if not query:
        return profiles.search(session, workspace_id, {}, PAGE_SIZE)
    kinds = ["email"] if "@" in query else ["user_id", "anonymous_id"]
    if _PHONE.fullmatch(query):
        kinds.insert(0, "phone")
    found: dict[uuid.UUID, Profile] = {}
    for kind in kinds:
        for profile in profiles.search(session, workspace_id, {kind: query}, PAGE_SIZE):
            found.setdefault(profile.id, profile)
    if "@" not in query:
        for profile in by_name(session, workspace_id, query, PAGE_SIZE - len(found)):
            found.setdefault(profile.id, profile)
    return list(found.values())


def by_name(session: Session, workspace_id: uuid.UUID, text: str, limit: int) -> list[Profile]:
    """Customers whose name trait contains ``text`` (case aside), most recently seen first."""
    if limit <= 0 or len(text) < 2:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = [
        Profile.traits[trait].as_string().ilike(pattern, escape="\\") for trait in NAME_TRAITS
    ]
    return list(
        session.scalars(
            select(Profile)
            .where(
                Profile.workspace_id == workspace_id,
                Profile.merged_into_id.is_(None),
                or_(*matches),
            )
            .order_by(Profile.last_seen_at.desc().nulls_last(), Profile.id)
            .limit(limit)
        )
    )
