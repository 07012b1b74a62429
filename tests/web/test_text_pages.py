"""The text page and the figures of the survey pages, on a running app whose answers and
reviews went through the real ingestion path into the event store."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest

from cxloop.core.db import transaction
from cxloop.core.time import utcnow
from cxloop.models import Role, TextAnalysis, TextSource, Workspace
from tests.fixtures.dashboard import HTML, sign_in
from tests.fixtures.factories import auth, make_user
from tests.fixtures.ingest import Live

QUESTIONS = [
    {
        "id": "nps",
        "type": "nps",
        "title": {"vi": "Giới thiệu?", "th": "แนะนำไหม", "en": "Recommend?"},
    },
    {"id": "csat", "type": "csat", "title": {"vi": "Hài lòng?", "en": "Satisfied?"}},
    {"id": "ces", "type": "ces", "title": {"vi": "Dễ dàng?", "en": "Easy?"}},
    {"id": "why", "type": "text", "title": {"vi": "Vì sao?", "th": "ทำไม", "en": "Why?"}},
]
# (nps, csat, touchpoint, language, comment, sentiment, themes)
ANSWERS = [
    (10, 5, "checkout", "vi", "Nhân viên nhiệt tình", "positive", ["staff"]),
    (10, 5, "checkout", "en", "Friendly staff", "positive", ["staff"]),
    (9, 4, "checkout", "th", "พนักงานสุภาพ", "positive", ["staff"]),
    (10, 4, "delivery", "vi", None, None, []),
    (9, 5, "delivery", "en", "Fast enough", "neutral", ["delivery"]),
    (8, 4, "delivery", "vi", None, None, []),
    (7, 3, "delivery", "th", "ส่งช้านิดหน่อย", "neutral", ["delivery"]),
    (8, 3, "checkout", "en", None, None, []),
    (3, 2, "delivery", "vi", "Giao hàng chậm quá", "negative", ["delivery"]),
    (2, 1, "delivery", "th", "ส่งของช้ามาก แพงด้วย", "negative", ["delivery", "price"]),
]


class Dashboard:
    def __init__(self, live: Live) -> None:
        self.live = live
        with transaction(live.factory) as session:
            workspace = session.get(Workspace, live.workspace_id)
            assert workspace is not None
            self.email = make_user(session, workspace, Role.ANALYST).email
        assert sign_in(live.client, self.email).status_code == 303

    def get(self, path: str, **params: Any) -> Any:
        return self.live.client.get(path, params=params, headers=HTML, follow_redirects=False)

    def api(self, method: str, path: str, body: dict[str, Any]) -> Any:
        response = self.live.client.request(
            method, path, json=body, headers=auth(self.live.write_key)
        )
        assert response.status_code < 300, response.text
        return response.json()


def analysed(live: Live, kind: TextSource, source: str, field: str, row: tuple[Any, ...]) -> None:
    *_, language, _, sentiment, themes = row
    with transaction(live.factory) as session:
        session.add(
            TextAnalysis(
                workspace_id=live.workspace_id,
                source_kind=kind,
                source_id=source,
                field=field,
                language=language,
                sentiment=sentiment,
                score=0.9,
                themes=themes,
                aspects=[],
                model_version="test",
            )
        )


@pytest.fixture
def shop(live: Live) -> tuple[Dashboard, str]:
    """A survey with ten answers (seven with a comment, analysed) and a review of 20 days ago."""
    board = Dashboard(live)
    survey = board.api(
        "POST",
        "/api/v1/surveys",
        {"name": "Sau mua hàng", "questions": QUESTIONS, "stage": "purchase"},
    )["id"]
    for row in ANSWERS:
        nps, csat, touchpoint, language, comment, *_ = row
        answers: dict[str, Any] = {"nps": nps, "csat": csat, "ces": csat + 2}
        if comment:
            answers["why"] = comment
        body = {"answers": answers, "touchpoint": touchpoint, "language": language}
        response = board.api("POST", f"/api/v1/surveys/{survey}/responses", body)
        if comment:
            analysed(live, TextSource.SURVEY_RESPONSE, response["response_id"], "why", row)
    written = (utcnow() - timedelta(days=20)).isoformat()
    review = {
        "userId": "u-review",
        "event": "Product Reviewed",
        "messageId": "review-1",
        "timestamp": written,
        "properties": {"review_body": "Đóng gói đẹp nhưng giá cao", "rating": 3},
    }
    assert live.send("/v1/track", review).status_code == 200
    live.load()
    row = (0, 0, "", "vi", "", "negative", ["price", "packaging"])
    analysed(live, TextSource.REVIEW, "review-1", "", row)
    return board, survey


def test_the_results_show_each_metric_with_its_interval_and_breakdowns(
    shop: tuple[Dashboard, str],
) -> None:
    board, survey = shop
    page = board.get(f"/app/surveys/{survey}", lang="en")
    assert page.status_code == 200, page.text
    # 5 promoters, 3 passives, 2 detractors of 10: NPS 30
    assert '<p class="big">30.0</p>' in page.text
    assert "Promoters 50 %, passives 30 %, detractors 20 %" in page.text
    assert '<p class="big">60.0 %</p>' in page.text  # CSAT: 6 of 10 answered 4 or 5
    # CES (csat + 2 here): a mean of 5.60; 8 of 10 answered 5 to 7, "easy"
    assert '<p class="big">5.60</p>' in page.text
    assert "80.0 % found it easy (5\N{EN DASH}7)" in page.text
    assert "few answers" in page.text  # 10 answers are under the minimum of 30
    by_touchpoint = board.get(
        f"/app/surveys/{survey}", format="csv", table="by-touchpoint", lang="en"
    )
    lines = by_touchpoint.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("touchpoint,NPS,")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["checkout", "delivery"]
    csat_pages = board.get(
        f"/app/surveys/{survey}", metric="csat", format="csv", table="by-language"
    )
    assert csat_pages.status_code == 200
    assert "CSAT" in csat_pages.text.splitlines()[0]
    svg = board.get(f"/app/surveys/{survey}", format="svg", chart="nps-trend")
    root = ET.fromstring(svg.content)  # noqa: S314 (our own SVG)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (
        board.get(f"/app/surveys/{survey}", format="png", chart="by-channel").content[:8]
        == b"\x89PNG\r\n\x1a\n"
    )
    assert board.get(f"/app/surveys/{survey}", format="png", chart="nope").status_code == 422

    listed = board.get("/app/surveys")
    assert "<strong>30.0</strong>" in listed.text
    assert "<strong>60.0 %</strong>" in listed.text


def test_the_text_page_counts_each_text_when_it_was_written(
    shop: tuple[Dashboard, str],
) -> None:
    board, _ = shop
    page = board.get("/app/text", lang="vi")
    assert page.status_code == 200, page.text
    assert "8 văn bản đã phân tích" in page.text
    weekly = board.get("/app/text", format="csv", table="themes-weekly", lang="en")
    rows = [line.split(",") for line in weekly.text.lstrip("\ufeff").splitlines()]
    header, *weeks = rows
    price = header.index("Price")
    # the review counts in its own week, 20 days back; the answers in this week
    assert [int(week[price]) for week in weeks][-1] == 1
    assert sum(int(week[price]) for week in weeks[:-1]) == 1
    delivery = header.index("Delivery")
    assert int(weeks[-1][delivery]) == 4

    sentiment = board.get("/app/text", format="csv", table="themes-sentiment", lang="en").text
    assert "Delivery,2,2,0,4" in sentiment.replace("\r", "")
    detractors = board.get("/app/text", format="csv", table="detractor-themes", lang="en").text
    lines = detractors.lstrip("\ufeff").splitlines()
    assert lines[1].startswith("Delivery,2,100.0,")  # both detractors wrote of delivery
    assert lines[2].startswith("Price,1,50.0,")
    drivers = board.get("/app/text", format="csv", table="drivers", lang="en").text
    assert "Mentions Staff and service," in drivers
    assert "At checkout," in drivers
    assert 'lang="th">ส่งของช้ามาก แพงด้วย</blockquote>' in page.text
    assert 'lang="vi">Đóng gói đẹp nhưng giá cao</blockquote>' in page.text

    reviews = board.get("/app/text", source="review", format="csv", table="themes-sentiment")
    assert reviews.text.lstrip("\ufeff").splitlines()[1:] != []
    assert (
        "Delivery"
        not in board.get("/app/text", source="review", lang="en").text.split("Example comments")[1]
    )
    assert board.get("/app/text", source="tweets").status_code == 422


def test_the_text_page_of_a_workspace_without_texts(live: Live) -> None:
    board = Dashboard(live)
    page = board.get("/app/text", lang="th")
    assert page.status_code == 200
    assert "ไม่มีข้อความที่วิเคราะห์แล้วในช่วงเวลานี้" in page.text
    for chart in ("themes-weekly", "themes-sentiment", "detractor-themes", "drivers"):
        assert board.get("/app/text", format="svg", chart=chart).status_code == 200
    assert uuid.UUID(str(live.workspace_id))
