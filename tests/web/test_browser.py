"""The dashboard in Debian's Chromium against a real ``cxloop serve``: signing in, every page
in English, Vietnamese and Thai with no raw translation key and no console error, phones
without a horizontal scroll bar, the language kept on the account, and no JavaScript needed.

Set ``CXLOOP_SCREENSHOTS=docs/screenshots`` to keep the screenshots of the main pages.
"""

from __future__ import annotations

import os
from pathlib import Path

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

require_chromium()

LANGS = ("en", "vi", "th")
MINE = ["/app", "/app/customers", "/app/kpis", "/app/kpis?pack=saas"]
# the sections other pages of the dashboard fill; checked once they answer
OTHERS = ["/app/surveys", "/app/text", "/app/journeys"]
HEADINGS = {"en": "Overview", "vi": "Tổng quan", "th": "ภาพรวม"}


def pages(site: DashboardSite) -> list[str]:
    """Every page to check: this module's, a customer 360, and the other sections found."""
    customer = next(c for c in site.customers if c["traits"].get("name"))
    found = [*MINE, f"/app/customers/{customer['id']}", "/app/customers?q=Nguyễn"]
    with httpx.Client(base_url=site.base) as http:
        # signed out, a page that exists sends to the sign-in form; a missing one is a 404
        for path in OTHERS:
            if http.get(path, headers={"Accept": "text/html"}).status_code != 404:
                found.append(path)
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_in_every_language(
    dashboard_site: DashboardSite, chromium_browser: Browser, lang: str
) -> None:
    context = chromium_browser.new_context(viewport=DESKTOP)
    watched = Watched(context.new_page())
    page = watched.page
    dashboard_site.sign_in(page)
    # the switcher in the header, as a person uses it
    page.click(f"form.languages button[value={lang}]")
    page.wait_for_selector(f"html[lang={lang}]")
    assert page.inner_text("main h1") == HEADINGS[lang]
    keys = catalog_keys()
    for path in pages(dashboard_site):
        page.goto(dashboard_site.base + path)
        assert page.get_attribute("html", "lang") == lang, path
        assert page_problems(watched, keys) == [], path
    context.close()


def test_phones_scroll_no_page_sideways(
    dashboard_site: DashboardSite, chromium_browser: Browser
) -> None:
    context = chromium_browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    watched = Watched(context.new_page())
    page = watched.page
    dashboard_site.sign_in(page)
    keys = catalog_keys()
    for lang in ("th", "vi"):
        for path in pages(dashboard_site):
            page.goto(f"{dashboard_site.base}{path}{'&' if '?' in path else '?'}lang={lang}")
            assert page_problems(watched, keys) == [], f"{path} in {lang}"
            # the navigation is on the screen, not hidden away
            assert page.is_visible("nav.side a[href='/app/customers']")
    context.close()


def test_the_language_is_kept_on_the_account(
    dashboard_site: DashboardSite, chromium_browser: Browser
) -> None:
    first = chromium_browser.new_context(viewport=DESKTOP)
    page = first.new_page()
    dashboard_site.sign_in(page)
    page.click("form.languages button[value=th]")
    page.wait_for_selector("html[lang=th]")
    first.close()
    # another browser, no cookie: the account's choice wins over the browser's language
    second = chromium_browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = second.new_page()
    dashboard_site.sign_in(page)
    assert page.get_attribute("html", "lang") == "th"
    assert page.inner_text("main h1") == HEADINGS["th"]
    page.goto(dashboard_site.base + "/app?lang=en")  # ?lang= wins for one page
    assert page.inner_text("main h1") == HEADINGS["en"]
    page.goto(dashboard_site.base + "/app")
    assert page.inner_text("main h1") == HEADINGS["th"]
    page.click("form.languages button[value=en]")  # leave it as the other tests expect
    page.wait_for_selector("html[lang=en]")
    second.close()


def test_it_works_without_javascript(
    dashboard_site: DashboardSite, chromium_browser: Browser
) -> None:
    context = chromium_browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(dashboard_site.base + "/app/customers")  # sent to sign in, then back
    assert "/login" in page.url
    page.fill("#email", dashboard_site.email)
    page.fill("#password", dashboard_site.password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/app/customers")
    page.fill("#q", "customer3@shop.example")
    page.click("form.search button[type=submit]")
    page.click("table.data tbody th a")
    assert page.inner_text("main h1") == "Phạm Thu Trang"
    assert page.is_visible("#timeline-heading")
    page.click("form.signout button")
    page.wait_for_url("**/login")
    context.close()


def test_a_wrong_password_is_told_and_the_keyboard_reaches_the_content(
    dashboard_site: DashboardSite, chromium_browser: Browser
) -> None:
    context = chromium_browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(dashboard_site.base + "/login?lang=vi")
    page.fill("#email", dashboard_site.email)
    page.fill("#password", "not the password")
    page.click("form.stack button[type=submit]")
    assert page.inner_text("[role=alert]") == "Email hoặc mật khẩu không đúng."
    dashboard_site.sign_in(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    context.close()


def test_screenshots(
    dashboard_site: DashboardSite, chromium_browser: Browser, tmp_path: Path
) -> None:
    out = Path(os.environ.get("CXLOOP_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    customer = next(
        c for c in dashboard_site.customers if c["traits"].get("email") == "customer0@shop.example"
    )
    shots = {
        "overview": "/app",
        "customer": f"/app/customers/{customer['id']}",
        "kpis": "/app/kpis",
    }
    for device, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = chromium_browser.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        dashboard_site.sign_in(page)
        for lang in LANGS:
            for name, path in shots.items():
                page.goto(f"{dashboard_site.base}{path}?lang={lang}")
                target = out / f"dashboard-{name}-{lang}-{device}.png"
                page.screenshot(path=str(target))  # the first screen, as a person sees it
                assert target.stat().st_size > 10_000
        context.close()
