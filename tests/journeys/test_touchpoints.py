"""The touchpoint API end to end: scorecards, ranking, one touchpoint, paths; errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cxloop.core.db import transaction
from cxloop.models import Journey
from tests.fixtures.factories import make_workspace
from tests.fixtures.ingest import Live, track
from tests.fixtures.surveys import make_survey

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=2)
H = timedelta(hours=1)
RANGE = {"from": START.date().isoformat(), "to": NOW.date().isoformat()}


def names(en: str, vi: str, th: str) -> dict[str, str]:
    return {"en": en, "vi": vi, "th": th}


def stages(survey_id: uuid.UUID) -> list[dict[str, Any]]:
    return [
        {
            "key": "consideration",
            "name": names("Consideration", "Cân nhắc", "การพิจารณา"),
            "entry": [{"event": "Product Viewed"}],
            "touchpoints": [
                {
                    "key": "product_page",
                    "name": names("Product page", "Trang sản phẩm", "หน้าสินค้า"),
                    "channel": "web",
                    "matchers": [{"event": "Product Viewed"}],
                }
            ],
        },
        {
            "key": "purchase",
            "name": names("Purchase", "Mua hàng", "การซื้อ"),
            "entry": [{"event": "Order Completed"}],
            "touchpoints": [
                {
                    "key": "checkout",
                    "name": names("Checkout", "Thanh toán", "ชำระเงิน"),
                    "matchers": [{"event": "Checkout Started"}],
                }
            ],
        },
        {
            "key": "delivery",
            "name": names("Delivery", "Giao hàng", "การจัดส่ง"),
            "entry": [{"event": "Order Delivered"}],
            "touchpoints": [
                {
                    "key": "delivery",
                    "name": names("Delivery", "Giao hàng", "การจัดส่ง"),
                    "matchers": [{"event": "Order Delivered"}],
                    "survey_ids": [str(survey_id)],
                },
                {
                    "key": "support",
                    "name": names("Support", "Hỗ trợ", "ฝ่ายบริการลูกค้า"),
                    "matchers": [{"event": "Ticket Opened"}],
                },
            ],
        },
    ]


@pytest.fixture
def shop(live: Live) -> uuid.UUID:
    """A journey, a delivery survey answered through the API, and events just sent."""
    with transaction(live.factory) as session:
        survey = make_survey(session, live.workspace_id, name="Delivery NPS")
        journey = Journey(workspace_id=live.workspace_id, name="Shop", stages=stages(survey.id))
        session.add(journey)
        session.flush()
        survey_id, journey_id = survey.id, journey.id
    batch = []
    for i, score in enumerate([0, 2, 3, 9]):
        user = f"u{i}"
        batch += [
            track(user, "Product Viewed", START),
            track(user, "Checkout Started", START + H),
            track(
                user,
                "Survey Responded",
                START + 2 * H,
                response_id=f"c{i}",
                touchpoint="checkout",
                nps=score,
            ),
        ]
    batch += [
        track("u0", "Order Completed", START + 3 * H),
        track("u1", "Order Completed", START + 3 * H),
        track("u0", "Order Delivered", START + 24 * H),
        track("u4", "Product Viewed", START),
        track("u4", "Ticket Opened", START + H),
        track(
            "u4", "Survey Responded", START + 2 * H, response_id="s1", touchpoint="support", nps=1
        ),
    ]
    assert live.send("/v1/batch", {"batch": batch}).status_code == 200
    write = {"Authorization": f"Bearer {live.write_key}"}
    for i, score in enumerate([10, 9, 9, 6]):
        body = {"answers": {"nps": score}, "customer": {"user_id": f"u{i}"}}
        url = f"/api/v1/surveys/{survey_id}/responses"
        assert live.client.post(url, json=body, headers=write).status_code == 201
    return journey_id


def get(live: Live, path: str, **params: Any) -> Any:
    return live.api(path, **(RANGE | params))


def test_scorecards_count_what_was_just_sent(live: Live, shop: uuid.UUID) -> None:
    response = get(live, "/api/v1/touchpoints/scorecards", journey_id=str(shop), lang="vi")
    assert response.status_code == 200, response.text
    body = response.json()
    cards = {c["key"]: c for c in body["items"]}
    assert list(cards) == ["product_page", "checkout", "delivery", "support"]
    page = cards["product_page"]
    assert (page["volume"], page["reach"], page["responses"]) == (5, 5, 0)
    assert (page["name"], page["stage"], page["stage_name"]) == (
        "Trang sản phẩm",
        "consideration",
        "Cân nhắc",
    )
    assert page["names"]["th"] == "หน้าสินค้า"
    assert page["conversion"]["next_stage"] == "purchase"
    assert (page["conversion"]["customers"], page["conversion"]["rate"]) == (2, 0.4)
    checkout = cards["checkout"]
    # four checkouts and four responses tagged checkout
    assert (checkout["volume"], checkout["reach"], checkout["responses"]) == (8, 4, 4)
    assert checkout["nps"]["nps"] == -50.0
    assert checkout["nps"]["ci_low"] < -50 < checkout["nps"]["ci_high"]
    assert checkout["small_sample"] is True  # under the default 30
    assert checkout["conversion"] == {
        "next_stage": "delivery",
        "customers": 1,
        "rate": 0.25,
        "window_days": 30.0,
    }
    delivery = cards["delivery"]
    # the survey's responses are attributed through survey_ids
    assert (delivery["volume"], delivery["responses"], delivery["nps"]["nps"]) == (5, 4, 50.0)
    assert delivery["conversion"]["next_stage"] is None
    assert body["journey"]["responses"] == 9
    assert body["journey"]["nps"]["n"] == 9


def test_the_ranking_says_why_in_three_languages(live: Live, shop: uuid.UUID) -> None:
    details, rules = {}, {}
    for lang in ("en", "vi", "th"):
        response = get(
            live, "/api/v1/touchpoints/ranking", journey_id=str(shop), min_responses=3, lang=lang
        )
        assert response.status_code == 200, response.text
        body = response.json()
        details[lang] = [i["reason"]["detail"] for i in body["items"]]
        rules[lang] = body["order"]
    assert body["metric"] == "nps"
    assert body["ranked"] == 2
    assert "upper end of the 95% interval of NPS" in rules["en"]
    assert "cận trên của khoảng tin cậy 95%" in rules["vi"]
    assert "ขอบบนของช่วงความเชื่อมั่น" in rules["th"]
    items = body["items"]
    assert [(i["key"], i["rank"]) for i in items] == [
        ("checkout", 1),
        ("delivery", 2),
        ("product_page", None),
        ("support", None),
    ]
    assert items[0]["reason"]["code"] == "lowest_nps"
    assert items[0]["scorecard"]["name"] == "ชำระเงิน"
    assert items[0]["reason"]["vs_journey"]["measure"] == "nps"
    assert items[0]["reason"]["vs_next"]["difference"] == 100.0
    assert items[2]["reason"]["code"] == "insufficient_sample"
    assert items[3]["n"] == 1
    assert details["en"][0].startswith("NPS -50 (95% CI ")
    assert "lowest of 2 touchpoints with at least 3 responses" in details["en"][0]
    assert "thấp nhất trong 2 điểm chạm" in details["vi"][0]
    assert "ต่ำที่สุดใน 2 จุดสัมผัส" in details["th"][0]
    assert details["en"][3] == "NPS n=1, fewer than the 3 responses needed to rank it"
    assert details["vi"][2].startswith("chưa có phản hồi nào có điểm NPS")
    assert details["th"][3].startswith("NPS n=1 น้อยกว่า 3 คำตอบ")


def test_ranking_by_csat_without_scores_ranks_nobody(live: Live, shop: uuid.UUID) -> None:
    response = get(live, "/api/v1/touchpoints/ranking", journey_id=str(shop), metric="csat")
    assert response.status_code == 200, response.text
    assert response.json()["ranked"] == 0
    assert {i["reason"]["code"] for i in response.json()["items"]} == {"insufficient_sample"}


def test_without_a_journey_the_responses_name_the_touchpoints(live: Live, shop: uuid.UUID) -> None:
    response = get(live, "/api/v1/touchpoints/ranking", min_responses=2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["journey_id"] is None
    assert [(i["key"], i["rank"]) for i in body["items"]] == [("checkout", 1), ("support", None)]
    assert body["items"][0]["scorecard"]["conversion"] is None


def test_one_touchpoint_with_its_weekly_trend(live: Live, shop: uuid.UUID) -> None:
    response = get(live, "/api/v1/touchpoints/checkout", journey_id=str(shop))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scorecard"]["key"] == "checkout"
    assert body["scorecard"]["conversion"]["customers"] == 1
    weeks = body["trend"]
    assert sum(w["volume"] for w in weeks) == 8
    assert sum(w["nps"]["n"] for w in weeks) == 4
    assert all(datetime.fromisoformat(w["week"]).weekday() == 0 for w in weeks)


def test_paths_between_touchpoints_and_between_events(live: Live, shop: uuid.UUID) -> None:
    read = {"Authorization": f"Bearer {live.read_key}"}
    body = {"journey_id": str(shop), "anchor": "product_page", "steps": 2, "lang": "th", **RANGE}
    response = live.client.post("/api/v1/analytics/paths", json=body, headers=read)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["customers"] == 5
    first, second = result["steps"]
    assert [(i["key"], i["customers"]) for i in first["items"]] == [("checkout", 4), ("support", 1)]
    assert first["items"][0]["label"] == "ชำระเงิน"
    # the survey's responses are delivery too
    assert [(i["key"], i["customers"]) for i in second["items"]] == [("delivery", 4)]
    nodes = result["sankey"]["nodes"]
    assert nodes[0]["id"] == "0:product_page"
    assert {
        (nodes[link["source"]]["key"], nodes[link["target"]]["key"], link["value"])
        for link in result["sankey"]["links"]
    } == {
        ("product_page", "checkout", 4),
        ("product_page", "support", 1),
        ("checkout", "delivery", 4),
    }
    events = {"anchor": {"event": "Order Completed"}, "steps": 1, "top": 1, **RANGE}
    response = live.client.post("/api/v1/analytics/paths", json=events, headers=read)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["customers"] == 2
    # u0 had the delivery next, u1 the survey; the tie goes to the name, the rest to (other)
    assert [(i["key"], i["customers"]) for i in result["steps"][0]["items"]] == [
        ("Order Delivered", 1),
        ("(other)", 1),
    ]
    assert result["steps"][0]["items"][1]["label"] == "Other"


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        (
            "/api/v1/touchpoints/scorecards",
            {"journey_id": str(uuid.uuid4())},
            404,
            "journey_not_found",
        ),
        ("/api/v1/touchpoints/nowhere", {"journey_id": "SHOP"}, 404, "touchpoint_not_found"),
        ("/api/v1/touchpoints/nowhere", {}, 404, "touchpoint_not_found"),
        ("/api/v1/touchpoints/ranking", {"metric": "rating"}, 422, "validation_error"),
        ("/api/v1/touchpoints/ranking", {"min_responses": 0}, 422, "validation_error"),
        (
            "/api/v1/touchpoints/ranking",
            {"from": "2026-12-01", "to": "2026-11-01"},
            422,
            "validation_error",
        ),
        ("/api/v1/touchpoints/scorecards", {"window_days": 0}, 422, "validation_error"),
        ("/api/v1/touchpoints/scorecards", {"journey_id": "not-a-uuid"}, 422, "validation_error"),
    ],
)
def test_bad_reads_name_the_problem(
    live: Live, shop: uuid.UUID, path: str, params: dict[str, Any], status: int, code: str
) -> None:
    if params.get("journey_id") == "SHOP":
        params = params | {"journey_id": str(shop)}
    response = live.api(path, **params)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    if status == 422:
        named = {str(loc[-1]) for loc in (e["loc"] for e in body["errors"])}
        assert named & {"metric", "min_responses", "from", "window_days", "journey_id"}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"journey_id": "SHOP", "anchor": "nowhere"}, ["anchor"]),
        ({"anchor": "checkout"}, ["anchor"]),
        ({"anchor": {"type": "track"}}, ["anchor", "event"]),
        ({"anchor": {"event": "x"}, "steps": 6}, ["body", "steps"]),
        ({"anchor": {"event": "x"}, "direction": "sideways"}, ["body", "direction"]),
        ({"anchor": {"event": "x"}, "stepz": 2}, ["body", "stepz"]),
        ({"steps": 2}, ["body", "anchor"]),
    ],
)
def test_bad_paths_are_422_naming_the_field(
    live: Live, shop: uuid.UUID, body: dict[str, Any], loc: list[Any]
) -> None:
    if body.get("journey_id") == "SHOP":
        body = body | {"journey_id": str(shop)}
    read = {"Authorization": f"Bearer {live.read_key}"}
    response = live.client.post("/api/v1/analytics/paths", json=body, headers=read)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["error"] == "validation_error"
    assert loc in [e["loc"] for e in payload["errors"]]


def test_another_workspaces_journey_is_not_found(live: Live, shop: uuid.UUID) -> None:
    with transaction(live.factory) as session:
        other = make_workspace(session, "elsewhere")
        theirs = Journey(workspace_id=other.id, name="Theirs", stages=stages(uuid.uuid4()))
        session.add(theirs)
        session.flush()
        theirs_id = theirs.id
    for path in ("/api/v1/touchpoints/ranking", "/api/v1/touchpoints/checkout"):
        response = get(live, path, journey_id=str(theirs_id))
        assert response.status_code == 404
        assert response.json()["error"] == "journey_not_found"
    read = {"Authorization": f"Bearer {live.read_key}"}
    body = {"journey_id": str(theirs_id), "anchor": "checkout"}
    response = live.client.post("/api/v1/analytics/paths", json=body, headers=read)
    assert response.status_code == 404


def test_a_read_key_is_needed(live: Live) -> None:
    assert live.client.get("/api/v1/touchpoints/ranking").status_code == 401
    assert live.client.post("/api/v1/analytics/paths", json={"anchor": "x"}).status_code == 401
