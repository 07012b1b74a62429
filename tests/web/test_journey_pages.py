"""The journey map and touchpoint pages on a live app: events and survey answers sent through
the ingestion and survey APIs and loaded, a journey of three stages, and a signed-in analyst.

The shop: 60 customers view a product, 45 of them order (checkout answers: mostly promoters),
35 of those get their order delivered (delivery survey: mostly detractors), and three who
opened a ticket answered 0 at support (the lowest score, but too few answers to rank).
"""

from __future__ import annotations

import csv
import html
import io
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.core.db import transaction
from cxloop.dashboard import memo, warm
from cxloop.eventstore.service import events_root
from cxloop.models import Journey, Role, Workspace
from tests.conftest import QueryCounter
from tests.fixtures.dashboard import HTML, SignedIn, sign_in, signed_in
from tests.fixtures.events import record_queries
from tests.fixtures.factories import make_user, make_workspace
from tests.fixtures.ingest import Live, make_live, track
from tests.fixtures.surveys import make_survey

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=2)
H = timedelta(hours=1)
PERIOD = f"from={START.date().isoformat()}&to={NOW.date().isoformat()}"
RANGE = {"from": START.date().isoformat(), "to": NOW.date().isoformat()}
STAGES = {
    "en": ["Consideration", "Purchase", "Delivery"],
    "vi": ["Cân nhắc", "Mua hàng", "Giao hàng"],
    "th": ["การพิจารณา", "การซื้อ", "การจัดส่ง"],
}
WEAKEST = {
    "en": "Weakest touchpoint by NPS",
    "vi": "Điểm chạm yếu nhất theo",
    "th": "จุดสัมผัสที่อ่อนที่สุดตาม",
}


def names(en: str, vi: str, th: str) -> dict[str, str]:
    return {"en": en, "vi": vi, "th": th}


def stages(survey_id: uuid.UUID) -> list[dict[str, Any]]:
    consideration, purchase, delivery = zip(*STAGES.values(), strict=True)
    return [
        {
            "key": "consideration",
            "name": names(*consideration),
            "entry": [{"event": "Product Viewed"}],
            "touchpoints": [
                {
                    "key": "product_page",
                    "name": names("Product page", "Trang sản phẩm", "หน้าสินค้า"),
                    "matchers": [{"event": "Product Viewed"}],
                }
            ],
        },
        {
            "key": "purchase",
            "name": names(*purchase),
            "entry": [{"event": "Order Completed"}],
            "touchpoints": [
                {
                    "key": "checkout",
                    "name": names("Checkout", "Thanh toán", "ชำระเงิน"),
                    "channel": "web",
                    "matchers": [{"event": "Checkout Started"}],
                }
            ],
        },
        {
            "key": "delivery",
            "name": names(*delivery),
            "entry": [{"event": "Order Delivered"}],
            "touchpoints": [
                {
                    "key": "delivery",
                    "name": names("Doorstep delivery", "Giao tận nhà", "ส่งถึงบ้าน"),
                    "channel": "delivery",
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


def shop_events() -> list[dict[str, Any]]:
    batch = []
    for i in range(60):
        user = f"u{i}"
        batch.append(track(user, "Product Viewed", START + i * timedelta(minutes=1)))
        if i < 45:
            batch += [
                track(user, "Checkout Started", START + H),
                track(user, "Order Completed", START + 2 * H),
            ]
        if i < 40:
            score = 8 if i % 4 == 0 else 10
            batch.append(
                track(user, "Survey Responded", START + 3 * H, response_id=f"c{i}",
                      touchpoint="checkout", nps=score)
            )  # fmt: skip
        if i < 35:
            batch.append(track(user, "Order Delivered", START + 24 * H))
    for i in (50, 51, 52):
        batch += [
            track(f"u{i}", "Ticket Opened", START + 5 * H),
            track(f"u{i}", "Survey Responded", START + 6 * H, response_id=f"s{i}",
                  touchpoint="support", nps=0),
        ]  # fmt: skip
    return batch


@dataclass
class Shop:
    live: Live
    me: SignedIn
    journey_id: uuid.UUID

    def get(self, path: str, **params: Any) -> Any:
        return self.me.get(path, params=params)

    def api(self, path: str, **params: Any) -> Any:
        response = self.live.api(path, **(RANGE | params))
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def shop(committing: sessionmaker[Session], settings: Settings) -> Iterator[Shop]:
    for live in make_live(committing, settings, "journey-shop"):
        with transaction(committing) as session:
            survey = make_survey(session, live.workspace_id, name="Delivery NPS")
            journey = Journey(workspace_id=live.workspace_id, name="Shop", stages=stages(survey.id))
            session.add(journey)
            workspace = session.get(Workspace, live.workspace_id)
            assert workspace is not None
            user = make_user(session, workspace, Role.ANALYST)
            session.flush()
            survey_id, journey_id, email = survey.id, journey.id, user.email
        assert live.send("/v1/batch", {"batch": shop_events()}).status_code == 200
        live.load()  # the customers exist before they answer the survey
        write = {"Authorization": f"Bearer {live.write_key}"}
        for i in range(35):
            body = {"answers": {"nps": 9 if i % 5 == 0 else 3}, "customer": {"user_id": f"u{i}"}}
            url = f"/api/v1/surveys/{survey_id}/responses"
            assert live.client.post(url, json=body, headers=write).status_code == 201
        live.load()
        assert sign_in(live.client, email).status_code == 303
        yield Shop(live, SignedIn(live.client, user, workspace), journey_id)


def rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("lang", ["en", "vi", "th"])
def test_the_map_shows_the_stages_in_order_and_the_weakest_touchpoint(
    shop: Shop, lang: str
) -> None:
    page = shop.get("/app/journeys", lang=lang, **RANGE)
    assert page.status_code == 200, page.text
    text = page.text
    assert f'<html lang="{lang}">' in text
    places = [text.index(f"> {name}</h3>") for name in STAGES[lang]]
    assert places == sorted(places)  # journey order
    assert WEAKEST[lang] in text
    # the weakest is the first of the API's ranking, with the API's reason in the language
    ranking = shop.api("/api/v1/touchpoints/ranking", journey_id=str(shop.journey_id), lang=lang)
    first = ranking["items"][0]
    assert (first["key"], first["rank"]) == ("delivery", 1)
    assert html.escape(first["reason"]["detail"], quote=False) in text
    weakest = text[text.index('class="card jm-weakest"') :]
    assert first["name"] in weakest[: weakest.index("</section>")]
    # support scores lowest, on 3 answers: flagged, never the weakest
    support = next(i for i in ranking["items"] if i["key"] == "support")
    assert support["rank"] is None
    assert support["n"] == 3
    card = text[text.index('jm-tp jm-band-weak jm-small">') :][:900]
    assert "/app/touchpoints/support?" in card
    assert "n = 3" in card


def test_colours_are_told_in_numbers_and_words_too(shop: Shop) -> None:
    text = shop.get("/app/journeys", **RANGE).text
    cards = shop.api("/api/v1/touchpoints/scorecards", journey_id=str(shop.journey_id))
    by_key = {c["key"]: c for c in cards["items"]}
    delivery = by_key["delivery"]["nps"]
    assert delivery["n"] == 35
    assert delivery["nps"] == pytest.approx(100 * (7 - 28) / 35)
    card = text[text.index('jm-tp jm-band-weak jm-weakest">') :][:1200]
    assert "NPS \u221260" in card
    assert "n = 35" in card
    assert "(Weak)" in card
    assert "Weakest" in card
    checkout = by_key["checkout"]["nps"]
    assert checkout["nps"] == 75
    assert checkout["n"] == 40
    card = text[text.index('jm-tp jm-band-strong">') :][:900]
    assert "NPS 75" in card
    assert "n = 40" in card
    assert "(Strong)" in card
    # no answers: said, not coloured
    card = text[text.index('jm-tp jm-band-none">') :][:700]
    assert "Product page" in card
    assert "No answers" in card
    # the table under the map holds the same figures, raw in its CSV
    table = rows(shop.get("/app/journeys", format="csv", table="touchpoints", **RANGE))
    assert table[0][:3] == ["Touchpoint", "Stage", "Score"]
    found = {r[0]: r for r in table[1:]}
    assert list(found) == ["Product page", "Checkout", "Doorstep delivery", "Support"]
    assert found["Doorstep delivery"][1:4] == ["Delivery", "NPS", "-60.0"]
    assert found["Doorstep delivery"][6:8] == ["35", "Weak"]
    assert found["Doorstep delivery"][-1] == "1"  # rank
    assert found["Support"][6] == "3"
    assert found["Support"][-1] == ""
    assert found["Product page"][2:4] == ["", ""]


def test_the_funnel_matches_the_customers(shop: Shop) -> None:
    table = rows(shop.get("/app/journeys", format="csv", table="funnel", **RANGE))
    assert table[0] == [
        "Stage",
        "Reached",
        "Conversion from the stage before",
        "Entered in the period",
        "In the stage at the end",
    ]
    # 60 viewed, 45 ordered, 35 got their order: each now in the furthest stage reached
    assert table[1:] == [
        ["Consideration", "60", "", "60", "15"],
        ["Purchase", "45", "0.75", "45", "10"],
        ["Delivery", "35", repr(round(35 / 45, 6)), "35", "35"],
    ]
    now = shop.api(f"/api/v1/journeys/{shop.journey_id}/stages")["current"]["stages"]
    assert [s["customers"] for s in now] == [15, 10, 35]
    page = shop.get("/app/journeys", **RANGE).text
    assert "45 (75 %)" in page  # the funnel chart's label
    assert 'Reached: 35 <span class="jm-nowrap">(78 %)</span>' in page
    # the distribution over time ends where the funnel does
    spread = rows(shop.get("/app/journeys", format="csv", table="stages-over-time", **RANGE))
    assert spread[0][1:] == [*STAGES["en"], "Customers in a stage"]
    assert spread[-1][1:] == ["15", "10", "35", "60"]


def test_the_charts_download_as_svg_and_png(shop: Shop) -> None:
    for chart in ("funnel", "stages-over-time"):
        svg = shop.get(f"/app/journeys/{shop.journey_id}", format="svg", chart=chart, lang="th")
        assert svg.status_code == 200
        assert svg.headers["content-type"] == "image/svg+xml"
        root = ET.fromstring(svg.content)  # noqa: S314 (our own server's answer)
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert title is not None
        assert title.text in ("กรวยระหว่างขั้นตอน", "ลูกค้าในแต่ละขั้นตามเวลา")
        png = shop.get(f"/app/journeys/{shop.journey_id}", format="png", chart=chart)
        assert png.status_code == 200
        assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
        assert "attachment" in png.headers["content-disposition"]


def test_the_touchpoint_page_shows_its_scorecard_rank_paths_and_trend(shop: Shop) -> None:
    path = f"/app/touchpoints/delivery?journey_id={shop.journey_id}&{PERIOD}"
    page = shop.me.get(path)
    assert page.status_code == 200, page.text
    text = page.text
    card = shop.api("/api/v1/touchpoints/delivery", journey_id=str(shop.journey_id))["scorecard"]
    assert "<h1>Doorstep delivery</h1>" in text
    assert f"{card['reach']:,}" in text
    assert card["reach"] == 35
    nps = card["nps"]
    low, high = f"{nps['ci_low']:.1f}", f"{nps['ci_high']:.1f}"
    assert f"95 % interval {low} to {high}".replace("-", "\u2212") in text
    assert "1 of 2" in text
    assert "Weakest" in text
    ranking = shop.api("/api/v1/touchpoints/ranking", journey_id=str(shop.journey_id))
    assert html.escape(ranking["items"][0]["reason"]["detail"], quote=False) in text
    # everyone came from checkout; nothing came after
    before = rows(shop.me.get(f"{path}&format=csv&table=previous-touchpoints"))
    assert before[1:] == [["Checkout", "35", "1.0"]]
    after = rows(shop.me.get(f"{path}&format=csv&table=next-touchpoints"))
    assert after[1:] == []
    trend = rows(shop.me.get(f"{path}&format=csv&table=nps-trend"))
    assert trend[0][:2] == ["Week of", "NPS"]
    assert sum(int(r[4]) for r in trend[1:]) == 35
    weekly = rows(shop.me.get(f"{path}&format=csv&table=weekly"))
    assert sum(int(r[1]) for r in weekly[1:]) == card["volume"]


@pytest.mark.parametrize(("lang", "words"), [("vi", "Hạng 1/2"), ("th", "อันดับ 1 จาก 2")])
def test_the_touchpoint_page_in_vietnamese_and_thai(shop: Shop, lang: str, words: str) -> None:
    # without a journey id, the journey holding the touchpoint is found
    page = shop.get("/app/touchpoints/delivery", lang=lang, **RANGE)
    assert page.status_code == 200, page.text
    assert f'<html lang="{lang}">' in page.text
    assert words in page.text
    name = {"vi": "Giao tận nhà", "th": "ส่งถึงบ้าน"}[lang]
    assert f"<h1>{name}</h1>" in page.text


def test_unknown_touchpoints_and_journeys_are_the_404_page(
    shop: Shop, committing: sessionmaker[Session]
) -> None:
    for path in (
        f"/app/touchpoints/nothing-here?journey_id={shop.journey_id}",
        "/app/touchpoints/nothing-here",
        f"/app/journeys/{uuid.uuid4()}",
        f"/app/touchpoints/delivery?journey_id={uuid.uuid4()}",
    ):
        response = shop.me.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "Page not found" in response.text
    # another workspace's journey is not found either
    with transaction(committing) as session:
        other = make_workspace(session, "other-shop")
        theirs = Journey(workspace_id=other.id, name="Theirs", stages=stages(uuid.uuid4()))
        session.add(theirs)
        session.flush()
        theirs_id = theirs.id
    assert shop.me.get(f"/app/journeys/{theirs_id}").status_code == 404
    assert shop.me.get(f"/app/touchpoints/delivery?journey_id={theirs_id}").status_code == 404


def test_signed_out_is_sent_to_sign_in(client: TestClient) -> None:
    for path in ("/app/journeys", f"/app/touchpoints/delivery?journey_id={uuid.uuid4()}"):
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/app/")


def test_an_empty_workspace_gets_the_template_from_an_admin_only(
    client: TestClient, session: Session
) -> None:
    workspace = make_workspace(session)
    analyst = signed_in(client, session, workspace, Role.ANALYST, language="vi")
    page = analyst.get("/app/journeys")
    assert page.status_code == 200
    assert "Chưa có bản đồ hành trình" in page.text
    assert 'action="/app/journeys"' not in page.text
    assert '<a href="/api/v1/openapi.json">' in page.text
    refused = analyst.post("/app/journeys", {}, csrf_from="/app/journeys")
    assert refused.status_code == 403
    admin = signed_in(TestClient(client.app), session, workspace, Role.ADMIN, language="th")
    assert 'action="/app/journeys"' in admin.get("/app/journeys").text
    made = admin.post("/app/journeys", {}, csrf_from="/app/journeys")
    assert made.status_code == 303
    journey_id = made.headers["location"].removeprefix("/app/journeys/")
    journey = session.get(Journey, uuid.UUID(journey_id))
    assert journey is not None
    assert journey.workspace_id == workspace.id
    assert journey.name == "เส้นทางของลูกค้า"  # the template's name in the admin's language
    page = admin.get("/app/journeys")
    assert page.status_code == 200
    for stage in ("การรับรู้", "การพิจารณา", "การบอกต่อ"):
        assert f"> {stage}</h3>" in page.text
    # a second one from the template has the same name: refused, nothing made
    assert admin.post("/app/journeys", {}, csrf_from="/app/journeys").status_code == 409


def test_the_map_does_not_query_per_stage_or_touchpoint(
    client: TestClient, session: Session, queries: QueryCounter
) -> None:
    workspace = make_workspace(session)
    me = signed_in(client, session, workspace)
    small = Journey(workspace_id=workspace.id, name="Small", stages=stages(uuid.uuid4())[:1])
    big = Journey(workspace_id=workspace.id, name="Big", stages=stages(uuid.uuid4()))
    session.add_all([small, big])
    session.flush()

    def count(journey: Journey) -> int:
        queries.statements.clear()
        response = me.get(f"/app/journeys/{journey.id}")
        assert response.status_code == 200, response.text
        return queries.count

    assert count(big) == count(small)


def test_each_figure_is_read_from_the_event_files_once(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The map runs two queries (the ranking, whose items carry the scorecards, and the stage
    distribution); the same map again runs none, and a touchpoint of it reuses the ranking."""
    ran = record_queries(monkeypatch)
    assert shop.get("/app/journeys", **RANGE).status_code == 200
    assert len(ran) == 2
    assert shop.get("/app/journeys", **RANGE).status_code == 200
    assert len(ran) == 2
    path = f"/app/touchpoints/delivery?journey_id={shop.journey_id}&{PERIOD}"
    assert shop.me.get(path).status_code == 200
    assert len(ran) == 5  # its weeks, and the paths before and after it
    # new events are a new state of the store: read anew
    assert (
        shop.live.send("/v1/batch", {"batch": [track("u59", "Order Completed", NOW)]}).status_code
        == 200
    )
    shop.live.load()
    page = shop.get("/app/journeys", **RANGE)
    assert len(ran) == 7
    assert 'Reached: 46 <span class="jm-nowrap">(77 %)</span>' in page.text


def test_new_events_show_the_kept_map_at_once_then_the_newest(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``dashboard_stale_seconds``, a map read from an earlier state of the store is
    shown at once, saying when it was read, while the newest is read in the background."""
    monkeypatch.setattr(shop.live.settings, "dashboard_stale_seconds", 600)
    first = shop.get("/app/journeys", **RANGE)
    assert first.status_code == 200
    assert "These figures were read at" not in first.text
    reached = 'Reached: 45 <span class="jm-nowrap">(75 %)</span>'
    assert reached in first.text
    sent = shop.live.send("/v1/batch", {"batch": [track("u59", "Order Completed", NOW)]})
    assert sent.status_code == 200
    shop.live.load()
    kept = shop.get("/app/journeys", **RANGE)
    assert reached in kept.text
    assert "These figures were read at" in kept.text
    memo.settle(60)
    newest = shop.get("/app/journeys", **RANGE)
    assert 'Reached: 46 <span class="jm-nowrap">(77 %)</span>' in newest.text
    assert "These figures were read at" not in newest.text


def test_the_maps_are_read_ahead_at_start(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    memo.forget()
    assert warm.journey_maps(shop.live.factory, events_root(shop.live.settings)) >= 1
    ran = record_queries(monkeypatch)
    page = shop.get("/app/journeys")  # the default period, as read ahead
    assert page.status_code == 200
    assert ran == []
