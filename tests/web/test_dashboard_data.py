"""The dashboard's pages on a workspace with data (the synthetic shop, sent through the
ingestion API and loaded): the figures they show match the API's, and every table and chart
downloads as CSV, SVG and PNG."""

from __future__ import annotations

import csv
import io
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.core.db import transaction
from cxloop.dashboard import memo
from cxloop.models import Role, Workspace
from tests.fixtures.dashboard import HTML, SignedIn, sign_in
from tests.fixtures.events import record_queries
from tests.fixtures.factories import make_user
from tests.fixtures.ingest import Live, make_live
from tests.fixtures.shop import batches

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def shop(committing: sessionmaker[Session], settings: Settings) -> Iterator[tuple[Live, SignedIn]]:
    """A live app whose workspace holds 40 customers of the shop, and a signed-in analyst."""
    for live in make_live(committing, settings, "dash-shop"):
        for batch in batches(40, now=NOW):
            assert live.send("/v1/batch", {"batch": batch}).status_code == 200
        live.load()
        with transaction(committing) as session:
            workspace = session.get(Workspace, live.workspace_id)
            assert workspace is not None
            user = make_user(session, workspace, Role.ANALYST)
            email = user.email
        assert sign_in(live.client, email).status_code == 303
        yield live, SignedIn(live.client, user, workspace)


PERIOD = "from=2026-08-23&to=2026-11-20"


def parse_svg(body: bytes) -> ET.Element:
    """Fails unless ``body`` is well-formed XML (it comes from our own server)."""
    return ET.fromstring(body)  # noqa: S314


def test_the_overview_shows_the_apis_figures(shop: tuple[Live, SignedIn]) -> None:
    live, me = shop
    since, until = "2026-08-23T00:00:00Z", "2026-11-21T00:00:00Z"
    api = live.api("/api/v1/metrics/nps", **{"from": since, "to": until}).json()
    assert api["n"] > 10
    page = me.get(f"/app?{PERIOD}").text
    assert f"{api['n']} answers" in page
    shown = f"{api['nps']:,.1f}".replace("-", "\u2212")
    assert f'<p class="big">{shown}' in page
    vi = me.get(f"/app?{PERIOD}&lang=vi").text
    assert f"{api['n']} câu trả lời" in vi
    # the trend's CSV holds the same answers, week by week
    response = me.get(f"/app?{PERIOD}&format=csv&table=nps-trend")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Week of", "NPS", "95 % interval, low", "95 % interval, high", "Answers"]
    assert sum(int(r[4]) for r in rows[1:]) == api["n"]
    # the KPI tiles too, with their raw values
    tiles = me.get(f"/app?{PERIOD}&format=csv&table=kpi-tiles").content.decode("utf-8-sig")
    kpis = {r[0]: r for r in list(csv.reader(io.StringIO(tiles)))[1:]}
    assert "Conversion rate" in kpis
    assert 0 <= float(kpis["Conversion rate"][2]) <= 1


def test_every_chart_downloads_as_valid_svg_and_png(shop: tuple[Live, SignedIn]) -> None:
    _, me = shop
    for chart in ("nps-trend", "nps-mix", "csat-trend", "ces-trend"):
        svg = me.get(f"/app?{PERIOD}&format=svg&chart={chart}&lang=th")
        assert svg.status_code == 200
        assert svg.headers["content-type"] == "image/svg+xml"
        assert f"cxloop-overview-{chart}.svg" in svg.headers["content-disposition"]
        root = parse_svg(svg.content)
        assert root.tag == f"{SVG}svg"
        assert root.find(f"{SVG}title") is not None
        assert root.find(f"{SVG}desc") is not None
        assert root.attrib["role"] == "img"
        png = me.get(f"/app?{PERIOD}&format=png&chart={chart}&lang=th")
        assert png.headers["content-type"] == "image/png"
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png.content[16:24])
        assert (width, height) == (2 * int(root.attrib["width"]), 2 * int(root.attrib["height"]))


def test_csv_has_a_bom_and_the_pages_language(shop: tuple[Live, SignedIn]) -> None:
    _, me = shop
    response = me.get("/app/customers?format=csv&table=customers&lang=vi")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Tên", "Địa chỉ email"]
    names = {r[0] for r in rows[1:]}
    assert {"Nguyễn Thị Hương", "สมชาย ใจดี"} <= names
    assert len(rows) == 41


def test_the_customer_360(shop: tuple[Live, SignedIn]) -> None:
    live, me = shop
    customer = live.api("/api/v1/customers", email="customer0@shop.example").json()["items"][0]
    url = f"/app/customers/{customer['id']}"
    page = me.get(url).text
    assert "<h1>Nguyễn Thị Hương</h1>" in page
    assert "customer0@shop.example" in page
    assert "+84900000000" in page  # the phone identity, normalised
    timeline = live.api(f"/api/v1/customers/{customer['id']}/timeline", limit=25).json()
    first = timeline["items"][0]
    assert first["message_id"] not in page or first["event"] in page
    # the timeline's CSV is the page's 25 newest events, filterable by channel
    rows = list(csv.reader(io.StringIO(me.get(f"{url}?format=csv&table=timeline").text[1:])))
    assert len(rows) - 1 == min(25, customer["event_count"])
    web = list(
        csv.reader(io.StringIO(me.get(f"{url}?channel=web&format=csv&table=timeline").text[1:]))
    )
    assert {r[1] for r in web[1:]} <= {"web"}
    # survey answers are listed with their scores
    answers = list(
        csv.reader(io.StringIO(me.get(f"{url}?format=csv&table=survey-answers").text[1:]))
    )
    assert answers[0][1:5] == ["Survey", "NPS", "CSAT", "CES"]
    if len(answers) > 1:
        assert answers[1][1] == "Post-purchase survey"
        assert 0 <= int(answers[1][2]) <= 10


def test_the_timeline_pages_with_a_cursor(shop: tuple[Live, SignedIn]) -> None:
    live, me = shop
    items = live.api("/api/v1/customers", limit=50).json()["items"]
    busy = max(items, key=lambda c: c["event_count"])
    if busy["event_count"] <= 25:
        pytest.skip("no customer with more than one page of events")
    url = f"/app/customers/{busy['id']}"
    page = me.get(url).text
    assert 'rel="next"' in page
    cursor = page.split('rel="next"')[0].rsplit("cursor=", 1)[1].split('"')[0]
    second = me.get(f"{url}?cursor={cursor}")
    assert second.status_code == 200
    assert "Newest events" in second.text
    bad = live.client.get(f"{url}?cursor=nonsense", headers={"Accept": "application/json"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "bad_lookup"


def test_the_kpi_page_matches_the_api(shop: tuple[Live, SignedIn]) -> None:
    live, me = shop
    query = {"from": "2026-10-24", "to": "2026-11-20"}
    api = live.api("/api/v1/kpis", **query).json()
    conversion = next(k for k in api["kpis"] if k["id"] == "conversion_rate")
    page = me.get("/app/kpis?from=2026-10-24&to=2026-11-20").text
    assert f"{conversion['value'] * 100:.1f} %" in page
    assert "Share of active customers" in page  # the definition
    th = me.get("/app/kpis?from=2026-10-24&to=2026-11-20&lang=th").text
    assert "อัตราคอนเวอร์ชัน" in th
    assert "สัดส่วนของลูกค้าที่มีความเคลื่อนไหว" in th
    rows = list(
        csv.reader(
            io.StringIO(
                me.get("/app/kpis?from=2026-10-24&to=2026-11-20&format=csv&table=kpis").text[1:]
            )
        )
    )
    values = {r[0]: r[2] for r in rows[1:]}
    assert float(values["Conversion rate"]) == pytest.approx(conversion["value"], rel=1e-5)
    svg = me.get("/app/kpis?format=svg&chart=kpi-conversion_rate")
    assert parse_svg(svg.content).tag == f"{SVG}svg"
    other_pack = me.get("/app/kpis?pack=saas&lang=vi").text
    assert "Phần mềm dạng dịch vụ (SaaS)" in other_pack


def test_pages_answer_html_to_browsers(shop: tuple[Live, SignedIn]) -> None:
    live, me = shop
    for path in ("/app", "/app/customers", "/app/kpis"):
        response = live.client.get(path, headers=HTML)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
    css = live.client.get("/app").text.split('href="/static/app.css?v=')[1].split('"')[0]
    asset = live.client.get(f"/static/app.css?v={css}")
    assert asset.headers["content-type"].startswith("text/css")
    assert "immutable" in asset.headers["cache-control"]
    assert live.client.get("/static/secret_key").status_code == 404
    assert live.client.get("/static/app.py").status_code == 404
    assert me.get("/app").status_code == 200


def test_kpi_figures_are_read_once_per_state_and_shown_stale_while_read_again(
    shop: tuple[Live, SignedIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    live, me = shop
    ran = record_queries(monkeypatch)
    page = "/app/kpis?from=2026-10-24&to=2026-11-20"
    first = me.get(page).text
    read = len(ran)
    assert read >= 1
    assert me.get(page).text == first  # the same state of the store: nothing read again
    assert len(ran) == read
    # a new event is a new state: with a stale allowance the kept figures show at once
    monkeypatch.setattr(live.settings, "dashboard_stale_seconds", 600)
    event = {"type": "track", "event": "Order Completed", "userId": "late-buyer"}
    sent = live.send("/v1/batch", {"batch": [{**event, "timestamp": "2026-11-19T10:00:00Z"}]})
    assert sent.status_code == 200
    live.load()
    kept = me.get(page).text
    assert "These figures were read at" in kept
    memo.settle(60)
    newest = me.get(page).text
    assert "These figures were read at" not in newest
    assert len(ran) == 2 * read
