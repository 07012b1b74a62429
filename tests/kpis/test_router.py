"""The KPI API end to end: a pack's report, settings with the OMTM, marketing spend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.models import Scope
from tests.fixtures.factories import auth, make_key, make_workspace
from tests.fixtures.ingest import Live

NOW = datetime.now(UTC).replace(microsecond=0)


def test_an_ecommerce_report_counts_what_was_just_sent(live: Live) -> None:
    day = NOW - timedelta(days=1)
    batch = [
        {"type": "track", "userId": "u1", "event": "Product Viewed", "timestamp": day.isoformat()},
        {
            "type": "track",
            "userId": "u1",
            "event": "Order Completed",
            "timestamp": day.isoformat(),
            "properties": {"revenue": 250000, "currency": "VND"},
        },
        {"type": "track", "userId": "u2", "event": "Product Viewed", "timestamp": day.isoformat()},
    ]
    assert live.send("/v1/batch", {"batch": batch}).status_code == 200
    frm, to = (NOW - timedelta(days=6)).date(), NOW.date()
    response = live.api(
        "/api/v1/kpis", pack="ecommerce", **{"from": frm.isoformat(), "to": to.isoformat()}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["pack"] == "ecommerce"
    assert (report["from"], report["to"]) == (frm.isoformat(), to.isoformat())
    assert report["previous_to"] == (frm - timedelta(days=1)).isoformat()
    kpis = {k["id"]: k for k in report["kpis"]}
    assert kpis["conversion_rate"]["value"] == 0.5
    assert kpis["average_cart_size"]["value"] == 250000
    assert kpis["conversion_rate"]["previous"] is None
    for kpi in kpis.values():
        assert {"value", "previous", "change", "definition", "series", "names"} <= kpi.keys()
        assert set(kpi["names"]) == {"en", "vi", "th"}
    assert kpis["conversion_rate"]["names"]["vi"] == "Tỷ lệ chuyển đổi"


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"pack": "shop"}, ["query", "pack"]),
        ({"interval": "hour"}, ["query", "interval"]),
        ({"from": "2026-12-01", "to": "2026-11-01"}, ["from"]),
        ({"pack": "saas", "kpi": "nps"}, ["kpi"]),
        # the period before, or the default start, would fall off the calendar
        ({"from": "0001-01-01", "to": "9999-12-31"}, ["from"]),
        ({"from": "9999-12-30"}, ["from"]),
        ({"to": "0001-01-02"}, ["to"]),
    ],
)
def test_bad_reports_are_422_naming_the_field(live: Live, params: Any, loc: list[str]) -> None:
    response = live.api("/api/v1/kpis", **params)
    assert response.status_code == 422, response.text
    assert loc in [e["loc"] for e in response.json()["errors"]]


def test_packs_list_every_definition(live: Live) -> None:
    packs = live.api("/api/v1/kpis/packs").json()
    ids = [p["id"] for p in packs["items"]]
    assert ids == ["ecommerce", "saas", "mobile_app", "media", "ugc", "marketplace"]
    assert packs["roles"]["purchase"] == [
        {"event": "Order Completed", "type": "track", "where": {}, "channel": None}
    ]


def test_settings_pin_one_metric_that_matters(client: TestClient, session: Session) -> None:
    workspace = make_workspace(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    assert client.get("/api/v1/kpis/settings", headers=auth(token)).json()["pack"] == "ecommerce"
    body = {
        "pack": "saas",
        "omtm": {"pack": "saas", "kpi": "churn_rate"},
        "mapping": {"purchase": [{"event": "Invoice Paid"}]},
        "currency": "THB",
    }
    response = client.put("/api/v1/kpis/settings", json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    stored = client.get("/api/v1/kpis/settings", headers=auth(token)).json()
    assert stored["omtm"] == {"pack": "saas", "kpi": "churn_rate"}
    assert stored["mapping"]["purchase"][0]["event"] == "Invoice Paid"
    report = client.get("/api/v1/kpis", headers=auth(token)).json()
    assert report["pack"] == "saas"
    assert report["currency"] == "THB"
    assert [k["id"] for k in report["kpis"] if k["is_omtm"]] == ["churn_rate"]

    bad = client.put(
        "/api/v1/kpis/settings",
        json={**body, "omtm": {"pack": "saas", "kpi": "aov"}},
        headers=auth(token),
    )
    assert bad.status_code == 422
    assert ["omtm", "kpi"] in [e["loc"] for e in bad.json()["errors"]]
    bad = client.put(
        "/api/v1/kpis/settings",
        json={**body, "mapping": {"buy": [{"event": "x"}]}},
        headers=auth(token),
    )
    assert bad.status_code == 422
    assert ["mapping", "buy"] in [e["loc"] for e in bad.json()["errors"]]


def test_marketing_spend_import_is_idempotent_and_feeds_cac(
    client: TestClient, session: Session
) -> None:
    workspace = make_workspace(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    rows = [
        {"date": "2026-11-10", "channel": "facebook", "amount": "1500000", "currency": "VND"},
        {
            "date": "2026-11-10",
            "channel": "google",
            "campaign": "tet",
            "amount": "500000.50",
            "currency": "VND",
        },
    ]
    for _ in range(2):
        response = client.post("/api/v1/marketing-spend", json={"rows": rows}, headers=auth(token))
        assert response.status_code == 200, response.text
        assert response.json() == {"imported": 2}
    listed = client.get("/api/v1/marketing-spend", headers=auth(token)).json()
    assert len(listed["items"]) == 2
    assert float(listed["total"]["VND"]) == 2000000.5
    bad = client.post(
        "/api/v1/marketing-spend",
        json={"rows": [{**rows[0], "amount": "-1"}]},
        headers=auth(token),
    )
    assert bad.status_code == 422
    assert ["body", "rows", 0, "amount"] in [e["loc"] for e in bad.json()["errors"]]
