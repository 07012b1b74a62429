"""The funnel, retention and churn API end to end: events sent over HTTP count at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fixtures.ingest import Live, track

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=2)


def post(live: Live, path: str, body: Any) -> Any:
    return live.client.post(path, json=body, headers={"Authorization": f"Bearer {live.read_key}"})


def shop(live: Live) -> None:
    h = timedelta(hours=1)
    batch = [
        track({"userId": "u1"}, "Product Viewed", START),
        track({"userId": "u1"}, "Product Added", START + h),
        track({"userId": "u1"}, "Order Completed", START + 2 * h, revenue=100),
        track({"userId": "u2"}, "Product Viewed", START),
        # an anonymous visitor who signs in later is one customer with u3
        track({"anonymousId": "anon-3"}, "Product Viewed", START),
        track({"userId": "u3"}, "Product Added", START + 3 * h),
        {
            "type": "identify",
            "userId": "u3",
            "anonymousId": "anon-3",
            "timestamp": START.isoformat(),
        },
    ]
    assert live.send("/v1/batch", {"batch": batch}).status_code == 200


def test_a_funnel_counts_what_was_just_sent(live: Live) -> None:
    shop(live)  # not loaded: the funnel settles the inbox first
    body = {
        "steps": [
            {"event": "Product Viewed"},
            {"event": "Product Added"},
            {"event": "Order Completed", "where": {"revenue": {"gte": 50}}},
        ],
        "window_days": 7,
        "from": START.date().isoformat(),
        "to": NOW.date().isoformat(),
    }
    response = post(live, "/api/v1/analytics/funnel", body)
    assert response.status_code == 200, response.text
    steps = response.json()["steps"]
    assert [s["customers"] for s in steps] == [3, 2, 1]
    assert [s["conversion"] for s in steps] == [1.0, pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert steps[1]["median_seconds_to_convert"] == pytest.approx(2 * 3600)
    assert len(steps[1]["dropped_sample"]) == 1
    assert steps[2]["conversion_from_previous"] == 0.5


def test_retention_and_churn_answer(live: Live) -> None:
    shop(live)
    live.load()
    cohorts = post(live, "/api/v1/analytics/retention", {"period": "week", "periods": 2})
    assert cohorts.status_code == 200, cohorts.text
    assert sum(c["customers"] for c in cohorts.json()["cohorts"]) == 3
    churn = post(live, "/api/v1/analytics/churn", {"inactive_days": 7, "interval": "week"})
    assert churn.status_code == 200, churn.text
    assert churn.json()["overall"]["churned"] == 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "steps"]),
        ({"steps": []}, ["body", "steps"]),
        ({"steps": [{"event": "x"}] * 21}, ["body", "steps"]),
        ({"steps": [{"event": "x"}], "window_days": 0}, ["body", "window_days"]),
        ({"steps": [{"event": "x"}], "windw_days": 3}, ["body", "windw_days"]),
        ({"steps": [{"event": "x", "wher": {}}]}, ["body", "steps", 0, "wher"]),
        ({"steps": [{"event": "x"}], "from": "2026-12-01", "to": "2026-11-01"}, ["from"]),
        ({"steps": [{"type": "track"}]}, ["steps", "0", "event"]),
        ({"steps": [{"event": "x", "where": {"a b": 1}}]}, ["steps", "0", "where", "a b"]),
        ({"steps": [{"event": "x"}], "from": "yesterday"}, ["body", "from"]),
        ({"steps": [{"event": "x"}], "from": "0001-01-01", "to": "9999-12-31"}, ["from"]),
        ({"steps": [{"event": "x"}], "to": "0001-01-02"}, ["to"]),
        (
            {"steps": [{"event": "x", "where": {"n": {"gt": 10**400}}}]},
            ["steps", "0", "where", "n", "gt"],
        ),
        ({"steps": [{"event": "x", "where": {"n": [1, 10**20]}}]}, ["steps", "0", "where", "n"]),
        ({"steps": [{"event": "x"}], "breakdown": {"by": "trait"}}, ["breakdown", "name"]),
        ({"steps": [{"event": "x"}], "breakdown": {"by": "property"}}, ["breakdown", "name"]),
        (
            {"steps": [{"event": "x"}], "breakdown": {"by": "trait", "name": "a b"}},
            ["breakdown", "name"],
        ),
    ],
)
def test_bad_funnels_are_422_naming_the_field(live: Live, body: Any, loc: list[Any]) -> None:
    response = post(live, "/api/v1/analytics/funnel", body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["error"] == "validation_error"
    assert loc in [e["loc"] for e in payload["errors"]]


@pytest.mark.parametrize("number", ["1e309", "-1e309", "NaN", "Infinity"])
def test_numbers_beyond_a_double_are_422(live: Live, number: str) -> None:
    body = '{"steps": [{"event": "x", "where": {"n": {"gt": %s}}}]}' % number  # noqa: UP031
    response = live.client.post(
        "/api/v1/analytics/funnel",
        content=body,
        headers={"Authorization": f"Bearer {live.read_key}", "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["steps", "0", "where", "n", "gt"]


def test_a_read_key_is_needed(live: Live) -> None:
    response = live.client.post("/api/v1/analytics/funnel", json={"steps": [{"event": "x"}]})
    assert response.status_code == 401
