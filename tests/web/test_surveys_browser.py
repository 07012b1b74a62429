"""The survey and text pages in Debian's Chromium against a real ``cxloop serve``: every page
in English, Vietnamese and Thai with no raw translation key, no console error and no sideways
scroll on a phone; a survey built in the builder (NPS and a follow-up for detractors, texts in
Vietnamese and Thai, the live preview), activated, answered on its hosted page in Thai, and
found in its results; and the builder without JavaScript.

Set ``CXLOOP_SCREENSHOTS=docs/screenshots`` to keep screenshots of the builder and the results.
"""

from __future__ import annotations

import os
import random
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.browser import (
    DESKTOP,
    PHONE,
    Browser,
    DashboardSite,
    Watched,
    catalog_keys,
    page_problems,
    require_chromium,
)
from tests.fixtures.factories import auth

require_chromium()

LANGS = ("en", "vi", "th")
COMMENTS = {
    "vi": "Giao hàng chậm quá, đợi cả tuần mới nhận được",
    "th": "ส่งของช้ามาก รอเป็นอาทิตย์กว่าจะได้ของ",
    "en": "The parcel arrived late and the box was damaged",
}
PRAISE = {
    "vi": "Nhân viên hỗ trợ nhiệt tình, trả lời nhanh",
    "th": "พนักงานสุภาพและตอบเร็วมาก",
    "en": "The support team answered quickly and kindly",
}
THAI_COMMENT = "พนักงานส่งของมาช้าและไม่โทรบอกล่วงหน้า"


def post(site: DashboardSite, path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(
        site.base + path, json=body, headers=auth(site.tenant.write_key), timeout=30
    )
    assert response.status_code < 300, response.text
    return response.json()


@pytest.fixture(scope="module")
def survey_id(dashboard_site: DashboardSite) -> str:
    """An active NPS survey (the vi/th/en template) with 45 answers over ten weeks, at three
    touchpoints, half of them with a comment."""
    template = dashboard_site.api("/api/v1/surveys/templates")["items"][0]["survey"]
    body = {**template, "name": "Sau giao hàng", "touchpoint": "delivery", "stage": "purchase"}
    found: str = post(dashboard_site, "/api/v1/surveys", {**body, "status": "active"})["id"]
    rng = random.Random(7)
    now = datetime.now(UTC)
    for i in range(45):
        lang = ("vi", "th", "en")[i % 3]
        score = rng.choice([0, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10, 10])
        answers: dict[str, Any] = {"nps": score}
        if i % 2 == 0 and score <= 6:
            answers["detractor_comment"] = COMMENTS[lang]
        elif i % 2 == 0 and score >= 9:
            answers["promoter_highlight"] = PRAISE[lang]
        post(
            dashboard_site,
            f"/api/v1/surveys/{found}/responses",
            {
                "answers": answers,
                "language": lang,
                "customer": {"email": f"s{i}@shop.vn"},
                "touchpoint": ("delivery", "checkout", "support_chat")[i % 3],
                "channel": ("web", "app", "email")[rng.randrange(3)],
                "submitted_at": (now - timedelta(days=70 - i * 1.5)).isoformat(),
            },
        )
    return found


def pages(survey: str) -> list[str]:
    return [
        "/app/surveys",
        f"/app/surveys/{survey}",
        "/app/surveys/new",
        "/app/surveys/new?template=nps",
        f"/app/surveys/{survey}/edit",
        f"/app/surveys/{survey}/distribution",
        "/app/text",
    ]


def signed_in(site: DashboardSite, browser: Browser, **options: Any) -> Watched:
    context = browser.new_context(**{"viewport": DESKTOP, **options})
    watched = Watched(context.new_page())
    site.sign_in(watched.page)
    return watched


def with_lang(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_survey_and_text_page_in_every_language(
    dashboard_site: DashboardSite, chromium_browser: Browser, survey_id: str, lang: str
) -> None:
    watched = signed_in(dashboard_site, chromium_browser)
    page = watched.page
    keys = catalog_keys()
    for path in pages(survey_id):
        page.goto(dashboard_site.base + with_lang(path, lang))
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("html", "lang") == lang, path
        assert page_problems(watched, keys) == [], path
    page.context.close()


def test_phones_show_the_survey_pages_without_sideways_scroll(
    dashboard_site: DashboardSite, chromium_browser: Browser, survey_id: str
) -> None:
    # not emulated as a mobile browser, which would zoom out to fit a page too wide
    watched = signed_in(dashboard_site, chromium_browser, viewport=PHONE, has_touch=True)
    keys = catalog_keys()
    for lang in ("th", "vi"):
        for path in pages(survey_id):
            watched.page.goto(dashboard_site.base + with_lang(path, lang))
            watched.page.wait_for_load_state("networkidle")
            assert page_problems(watched, keys) == [], f"{path} in {lang}"
    watched.page.context.close()


def preview_text(page: Any) -> str:
    return str(page.frame_locator("iframe[data-preview]").locator("body").inner_text())


def test_a_survey_built_in_the_builder_is_answered_in_thai_and_found_in_its_results(
    dashboard_site: DashboardSite, chromium_browser: Browser
) -> None:
    watched = signed_in(dashboard_site, chromium_browser)
    page = watched.page
    base = dashboard_site.base
    page.goto(base + "/app/surveys/new?lang=en")
    page.fill("#f-name", "Giao hàng tuần này")
    page.fill("#f-touchpoint", "delivery")
    page.select_option("#f-stage", "purchase")
    # the first question is an NPS question already; its texts in Vietnamese and Thai
    page.fill("[name='questions.0.title.vi']", "Bạn có sẵn lòng giới thiệu chúng tôi không?")
    page.fill("[name='questions.0.title.th']", "คุณจะแนะนำเราให้เพื่อนไหม")
    # a second question, added in place: free text
    page.click("button[data-op=add_question]")
    second = page.locator("[data-question]").nth(1)
    assert second.locator("select[name='questions.1.type']").input_value() == "text"
    assert second.locator("input[name='questions.1.id']").input_value() == "text"
    # moved up and down again, its fields follow its place
    second.locator("button[data-op=up]").click()
    first = page.locator("[data-question]").nth(0)
    assert first.locator("select[name='questions.0.type']").input_value() == "text"
    first.locator("button[data-op=down]").click()
    second = page.locator("[data-question]").nth(1)
    second.locator("[name='questions.1.title.vi']").fill("Điều gì chưa tốt?")
    second.locator("[name='questions.1.title.th']").fill("มีอะไรที่เราทำได้ไม่ดี")
    # the English text is empty: its field says what English readers see instead
    placeholder = second.locator("[name='questions.1.title.en']").get_attribute("placeholder")
    assert placeholder is not None
    assert "Điều gì chưa tốt?" in placeholder
    # skip logic: ask it only of detractors
    second.locator("button[data-op=add_condition]").click()
    second.locator("select[name='questions.1.show_if.0.question']").select_option("nps")
    second.locator("select[name='questions.1.show_if.0.op']").select_option("lte")
    second.locator("input[name='questions.1.show_if.0.value']").fill("6")
    # the live preview: the real hosted page, in Thai
    page.click("button[data-preview-language=th]")
    page.wait_for_function(
        "() => document.querySelector('iframe[data-preview]').srcdoc.includes('ไม่ดี')"
    )
    assert "คุณจะแนะนำเราให้เพื่อนไหม" in preview_text(page)
    page.click("button[name=op][value=save]")
    page.wait_for_url(re.compile(r".*/app/surveys/[0-9a-f-]+/edit\?saved=new(&lang=en)?$"))
    survey = page.url.split("/app/surveys/")[1].split("/")[0]
    page.click("form.status-form button[value=active]")
    page.wait_for_selector(".badge.status-active")
    assert watched.errors == []

    stored = dashboard_site.api(f"/api/v1/surveys/{survey}")
    assert stored["status"] == "active"
    questions = stored["definition"]["questions"]
    assert [q["type"] for q in questions] == ["nps", "text"]
    assert questions[1]["show_if"] == [{"question": "nps", "op": "lte", "value": 6}]
    assert questions[1]["title"] == {"vi": "Điều gì chưa tốt?", "th": "มีอะไรที่เราทำได้ไม่ดี"}

    # a customer answers on the hosted page, in Thai
    customer = page.context.new_page()
    customer.goto(f"{base}/s/{survey}?lang=th")
    customer.click("label[for='a-nps-3']")
    customer.wait_for_selector("#q-text", state="visible")
    customer.fill("#a-text", THAI_COMMENT)
    customer.click("button[type=submit]")
    customer.wait_for_selector("[data-state=done]")

    # the results: the detractor counts, and the comment comes with its analysis
    def shown() -> bool:
        page.goto(f"{base}/app/surveys/{survey}?lang=th")
        return THAI_COMMENT in page.inner_text("#comments") and "1" in page.inner_text("#tile-nps")

    deadline = time.monotonic() + 90
    while not shown():
        assert time.monotonic() < deadline, page.inner_text("main")
        time.sleep(1)
    assert page.inner_text("#tile-nps .big").strip() == "\N{MINUS SIGN}100.0"
    comment = page.locator("#comments li.comment").first
    assert comment.locator("blockquote").get_attribute("lang") == "th"
    assert page_problems(watched, catalog_keys()) == []
    page.context.close()


def test_the_builder_works_without_javascript(
    dashboard_site: DashboardSite, chromium_browser: Browser
) -> None:
    watched = signed_in(dashboard_site, chromium_browser, java_script_enabled=False)
    page = watched.page
    page.goto(dashboard_site.base + "/app/surveys/new?lang=vi")
    page.fill("#f-name", "Không có JavaScript")
    page.fill("[name='questions.0.title.th']", "พอใจแค่ไหน")
    page.select_option("[name='questions.0.type']", "csat")
    # the button posts the form; the page comes back with a second question
    page.click("button[name=op][value=add_question]")
    page.wait_for_selector("[name='questions.1.type']")
    assert page.input_value("[name='questions.0.title.th']") == "พอใจแค่ไหน"
    page.select_option("[name='questions.1.type']", "single_choice")
    page.fill("[name='questions.1.title.vi']", "Bạn mua ở đâu?")
    page.click("button[name=op][value='add_choice:1']")
    page.fill("[name='questions.1.choices.0.label.vi']", "Cửa hàng")
    # one choice only: saving is refused, and the problem is shown at the question's choices
    page.click("button[name=op][value=save]")
    error = page.locator("#f-questions-1-choices .field-error")
    assert "hai lựa chọn" in error.inner_text()
    assert "hai lựa chọn" in page.inner_text("#error-summary")
    # the refused form comes back as 422, which the browser notes in its console
    assert watched.errors == [
        "console: Failed to load resource: the server responded with a status of 422 "
        "(Unprocessable Entity)"
    ]
    watched.errors.clear()
    page.click("button[name=op][value='add_choice:1']")
    page.fill("[name='questions.1.choices.1.label.vi']", "Trên mạng")
    page.click("button[name=op][value=save]")
    page.wait_for_url(re.compile(r".*/edit\?saved=new(&lang=vi)?$"))
    survey = page.url.split("/app/surveys/")[1].split("/")[0]
    stored = dashboard_site.api(f"/api/v1/surveys/{survey}")
    assert stored["status"] == "draft"
    choices = stored["definition"]["questions"][1]["choices"]
    assert [c["label"] for c in choices] == [{"vi": "Cửa hàng"}, {"vi": "Trên mạng"}]
    assert watched.errors == []
    page.context.close()


@pytest.fixture
def screenshots() -> Path | None:
    folder = os.environ.get("CXLOOP_SCREENSHOTS")
    return Path(folder) if folder else None


def test_screenshots_of_the_builder_and_the_results(
    dashboard_site: DashboardSite,
    chromium_browser: Browser,
    survey_id: str,
    screenshots: Path | None,
) -> None:
    if screenshots is None:
        pytest.skip("set CXLOOP_SCREENSHOTS to a folder to keep the screenshots")
    screenshots.mkdir(parents=True, exist_ok=True)
    for device, options in (
        ("desktop", {"viewport": DESKTOP}),
        ("phone", {"viewport": PHONE, "is_mobile": True, "has_touch": True}),
    ):
        watched = signed_in(dashboard_site, chromium_browser, **options)
        page = watched.page
        for lang in LANGS:
            for name, path in (
                ("builder", f"/app/surveys/{survey_id}/edit"),
                ("results", f"/app/surveys/{survey_id}"),
            ):
                page.goto(dashboard_site.base + with_lang(path, lang))
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(500)  # the preview's frame settles
                # the builder is long: its first screen shows the settings and the preview
                page.screenshot(
                    path=str(screenshots / f"survey-{name}-{device}-{lang}.png"),
                    full_page=name == "results",
                )
        page.context.close()
