"""The hosted page and the widget in a real browser (Debian Chromium driven by Playwright)
against a real ``cxloop serve``: Thai and Vietnamese, without JavaScript, by keyboard only,
and the widget on another site. Set ``CXLOOP_SCREENSHOTS=docs/screenshots`` to keep the
screenshots the last test takes."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI
from tests.fixtures.databases import fresh_database
from tests.fixtures.factories import auth
from tests.fixtures.served import Server, Tenant, make_tenant, wait_for

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

if not CHROMIUM.exists():
    reason = "Debian chromium is not installed (apt-get install chromium fonts-thai-tlwg)"
    if IN_CI:
        pytest.fail(f"browser tests need {CHROMIUM} in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
Browser = Any
Page = Any


@dataclass
class Site:
    server: Server
    tenant: Tenant

    def api(self, method: str, path: str, key: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, self.server.base + path, headers=auth(key), timeout=10, **kwargs
        )
        assert response.status_code < 300, response.text
        return response.json()

    def survey(self, **page: Any) -> str:
        """A new active NPS survey (the vi/th/en template); ``page`` sets its page settings."""
        template = self.api("GET", "/api/v1/surveys/templates", self.tenant.read_key)
        body = {**template["items"][0]["survey"], "status": "active"}
        survey_id: str = self.api("POST", "/api/v1/surveys", self.tenant.write_key, json=body)["id"]
        if page:
            self.api("PUT", f"/api/v1/surveys/{survey_id}/page", self.tenant.write_key, json=page)
        return survey_id

    def responses(self, survey_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api(
            "GET", f"/api/v1/surveys/{survey_id}/responses", self.tenant.read_key
        )["items"]
        return items


@pytest.fixture(scope="module")
def site(pg_server_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("browser")
    with fresh_database(pg_server_url, tmp, "browser") as url:
        env = {
            **os.environ,
            "CXLOOP_DATA_DIR": str(tmp / "data"),
            "CXLOOP_DATABASE_URL": url,
            "CXLOOP_SURVEY_PAGE_RATE_LIMIT": "0",
            "CXLOOP_LOADER_INTERVAL": "0.1",
        }
        server = Server(env=env, log_path=tmp / "serve.log")
        server.start()
        try:
            yield Site(server, make_tenant(server, "browser-shop"))
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def choose(page: Page, question: str, value: object) -> None:
    page.click(f"label[for='a-{question}-{value}']")


def test_a_thai_customer_answers_and_is_counted(site: Site, page: Page) -> None:
    survey_id = site.survey()
    page.goto(f"{site.server.base}/s/{survey_id}?lang=th&tp=checkout")
    assert page.get_attribute("html", "lang") == "th"
    assert page.is_hidden("#q-promoter_highlight")
    choose(page, "nps", 10)
    page.wait_for_selector("#q-promoter_highlight", state="visible")  # skip logic in place
    page.fill("#a-promoter_highlight", "ส่งของเร็วมากและพนักงานสุภาพ")
    choose(page, "promoter_review", "yes")
    page.click("button[type=submit]")
    page.wait_for_selector("text=ขอบคุณที่สละเวลาแสดงความคิดเห็น")
    (response,) = site.responses(survey_id)
    assert response["is_complete"] is True
    assert response["language"] == "th"
    assert response["source"] == "page"
    assert response["touchpoint"] == "checkout"
    assert response["answers"] == {
        "nps": 10,
        "promoter_highlight": "ส่งของเร็วมากและพนักงานสุภาพ",
        "promoter_review": "yes",
    }
    check_counted(site, survey_id, promoters=1)


def check_counted(site: Site, survey_id: str, **expected: int) -> None:
    """The NPS figures include the response, once the metrics API is part of the server."""
    paths = httpx.get(f"{site.server.base}/api/v1/openapi.json").json()["paths"]
    if "/api/v1/metrics/nps" not in paths:
        return

    def counted() -> dict[str, Any] | None:
        response = httpx.get(
            f"{site.server.base}/api/v1/metrics/nps",
            params={"survey_id": survey_id},
            headers=auth(site.tenant.read_key),
        )
        body: dict[str, Any] = response.json()
        text = str(body)
        return body if response.status_code == 200 and "'responses': 0" not in text else None

    body = wait_for(counted, timeout=20, what="the response to reach the NPS figures")
    for name, value in expected.items():
        assert f"'{name}': {value}" in str(body), body


def test_a_vietnamese_detractor_gets_the_follow_ups(site: Site, page: Page) -> None:
    survey_id = site.survey()
    page.goto(f"{site.server.base}/s/{survey_id}", wait_until="load")
    page.click("a[hreflang=vi]")
    assert page.get_attribute("html", "lang") == "vi"
    choose(page, "nps", 3)
    page.wait_for_selector("#q-detractor_reason", state="visible")
    assert page.is_hidden("#q-promoter_highlight")
    choose(page, "detractor_reason", "delivery")
    page.fill("#a-detractor_comment", "Giao hàng trễ ba ngày, đóng gói cẩu thả.")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Cảm ơn bạn đã dành thời gian góp ý!")
    (response,) = site.responses(survey_id)
    assert response["language"] == "vi"
    assert response["answers"]["detractor_comment"] == "Giao hàng trễ ba ngày, đóng gói cẩu thả."
    assert response["answers"]["detractor_reason"] == "delivery"
    check_counted(site, survey_id, detractors=1)


def test_without_javascript_the_form_still_submits_step_by_step(
    site: Site, browser: Browser
) -> None:
    survey_id = site.survey()
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{site.server.base}/s/{survey_id}?lang=vi")
        assert page.is_hidden("#q-passive_improve")
        choose(page, "nps", 7)
        page.click("button[type=submit]")
        page.wait_for_selector("#a-passive_improve")
        (partial,) = site.responses(survey_id)
        assert partial["is_complete"] is False  # the NPS counts even if they leave now
        page.fill("#a-passive_improve", "Thêm nhiều phương thức thanh toán hơn")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Cảm ơn bạn")
    finally:
        context.close()
    (response,) = site.responses(survey_id)
    assert response["is_complete"] is True
    assert response["answers"] == {
        "nps": 7,
        "passive_improve": "Thêm nhiều phương thức thanh toán hơn",
    }


def test_the_survey_can_be_answered_with_the_keyboard_alone(site: Site, page: Page) -> None:
    survey_id = site.survey()
    page.goto(f"{site.server.base}/s/{survey_id}?lang=en")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "a.nps":
            break
    else:
        pytest.fail("Tab never reached the NPS scale")
    outline = page.evaluate(
        "getComputedStyle(document.querySelector(`label[for='${document.activeElement.id}']`))"
        ".outlineStyle"
    )
    assert outline != "none"  # the focused option shows it
    page.keyboard.press("Space")
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") == "9"
    page.wait_for_selector("#q-promoter_highlight", state="visible")
    page.keyboard.press("Tab")
    page.keyboard.type("Fast delivery")
    while page.evaluate("document.activeElement.type") != "submit":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Thank you for taking the time to tell us!")
    (response,) = site.responses(survey_id)
    assert response["answers"] == {"nps": 9, "promoter_highlight": "Fast delivery"}


class _ShopPage(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def shop(site: Site) -> Iterator[tuple[str, str]]:
    """Another site (its own origin) embedding the widget, and the survey it shows."""
    survey_id = site.survey(
        widget={"url_contains": "/checkout/done", "event": "Order Completed", "delay_seconds": 0}
    )
    key = site.api("GET", f"/api/v1/surveys/{survey_id}/page", site.tenant.read_key)["widget_key"]
    handler = type(
        "Shop",
        (_ShopPage,),
        {
            "html": (
                '<!doctype html><html lang="vi"><body><h1>Đặt hàng thành công</h1>'
                "<button id=buy onclick=\"cxloop('track','Order Completed')\">OK</button>"
                f'<script src="{site.server.base}/widget.js" data-key="{key}" async></script>'
                "</body></html>"
            ).encode()
        },
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/checkout/done", survey_id
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_widget_shows_after_the_event_and_submits(
    site: Site, page: Page, shop: tuple[str, str]
) -> None:
    url, survey_id = shop
    page.goto(url)
    page.wait_for_function("typeof window.cxloop === 'function'")
    assert page.locator("[data-cxloop-widget]").count() == 0  # waits for its event
    page.wait_for_timeout(300)
    page.click("#buy")
    frame = page.frame_locator("[data-cxloop-widget] iframe")
    frame.locator("label[for='a-nps-9']").click()
    frame.locator("button[type=submit]").click()
    frame.locator("text=Cảm ơn bạn đã dành thời gian góp ý!").wait_for()
    anonymous_id = page.evaluate("JSON.parse(localStorage.getItem('ajs_anonymous_id'))")
    (response,) = site.responses(survey_id)
    assert response["source"] == "widget"
    assert response["anonymous_id"] == anonymous_id
    assert response["language"] == "vi"
    assert response["touchpoint"] == "/checkout/done"
    page.reload()
    page.wait_for_function("typeof window.cxloop === 'function'")
    page.click("#buy")
    page.wait_for_timeout(500)
    assert page.locator("[data-cxloop-widget]").count() == 0  # answered: not asked again


def test_screenshots_in_every_language(site: Site, browser: Browser, tmp_path: Path) -> None:
    survey_id = site.survey(
        theme={"brand_color": "#c2185b"}, review_url="https://example.com/review"
    )
    shots: list[Path] = []
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=size, device_scale_factor=1)
        page = context.new_page()
        for lang in ("vi", "th", "en"):
            page.goto(f"{site.server.base}/s/{survey_id}?lang={lang}")
            choose(page, "nps", 4)
            page.wait_for_selector("#q-detractor_reason", state="visible")
            path = tmp_path / f"survey-{lang}-{size_name}.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
        context.close()
    assert all(p.stat().st_size > 10_000 for p in shots)
    keep = os.environ.get("CXLOOP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, Path(keep) / shot.name)
