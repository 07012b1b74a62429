"""List endpoints run a fixed number of queries, however many rows they return."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.accounts.service import record_audit
from cxloop.core.actors import Actor
from cxloop.jobs import enqueue
from cxloop.models import MarketingSpend, Role, Scope
from cxloop.surveys.distribution import suppressions
from tests.conftest import QueryCounter
from tests.fixtures.factories import auth, make_customer, make_key, make_user, make_workspace
from tests.fixtures.surveys import make_survey

LISTS = [
    "/api/v1/keys",
    "/api/v1/members",
    "/api/v1/audit-events",
    "/api/v1/jobs",
    "/api/v1/customers",
    "/api/v1/surveys",
    "/api/v1/suppressions",
    "/api/v1/marketing-spend",
]


def test_list_endpoints_do_not_query_per_row(
    client: TestClient, session: Session, queries: QueryCounter
) -> None:
    workspace = make_workspace(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    client.get("/api/v1/workspace", headers=auth(token))  # first use writes last_used_at

    def counts() -> dict[str, int]:
        result = {}
        for url in LISTS:
            queries.statements.clear()
            assert client.get(url, headers=auth(token)).status_code == 200
            result[url] = queries.count
        return result

    few = counts()
    for n in range(15):
        make_key(session, workspace, Scope.READ, name=f"k{n}")
        make_user(session, workspace, Role.VIEWER)
        enqueue(session, "jobs.purge_finished", {}, workspace_id=workspace.id)
        record_audit(session, Actor.system(), "tests.row", workspace_id=workspace.id)
        anonymous = make_customer(session, workspace, anonymous_id=f"a{n}")
        make_customer(session, workspace, user_id=f"u{n}", email=f"c{n}@shop.vn")
        make_customer(session, workspace, user_id=f"u{n}", anonymous_id=f"a{n}")  # a merge
        make_survey(session, workspace, name=f"survey {n}")
        suppressions.add(session, workspace.id, "email", f"gone{n}@shop.vn", "manual")
        session.add(
            MarketingSpend(
                workspace_id=workspace.id,
                spent_on=date(2026, 11, 1 + n),
                channel="ads",
                amount=Decimal(n),
                currency="VND",
            )
        )
        assert anonymous
    session.flush()
    many = counts()
    assert many == few
    assert max(many.values()) <= 5  # the customers list: search + identities, merged, merges
