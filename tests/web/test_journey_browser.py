"""The journey map and a touchpoint in Debian's Chromium against a real ``cxloop serve``
holding the synthetic shop: an admin creates the map from the default template with the
button of the empty page, then both pages are read in English, Vietnamese and Thai, on a
desktop (stages side by side) and on a phone (stages one under the other, nothing wider
than the screen), with no raw translation key and no console error.

Set ``CXLOOP_SCREENSHOTS=docs/screenshots`` to keep ``journeys.png`` and ``touchpoint.png``
(English, desktop); the other screenshots go to the test's temporary folder.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
from tests.fixtures.shop import DAYS

require_chromium()

LANGS = ("en", "vi", "th")
TODAY = datetime.now(UTC).date()
# the shop's whole history: enough answers at its touchpoints to rank them
PERIOD = f"from={(TODAY - timedelta(days=DAYS)).isoformat()}&to={TODAY.isoformat()}"
STAGES = {
    "en": ("Awareness", "Advocacy"),
    "vi": ("Nhận thức", "Ủng hộ"),
    "th": ("การรับรู้", "การบอกต่อ"),
}


def stage_boxes(page: Any) -> list[dict[str, float]]:
    boxes: list[dict[str, float]] = page.eval_on_selector_all(
        "ol.jm-map > li",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width}; })",
    )
    return boxes


@pytest.fixture(scope="module")
def journey(dashboard_site: DashboardSite, chromium_browser: Browser) -> str:
    """The map's address: made by the admin with the empty page's button."""
    context = chromium_browser.new_context(viewport=DESKTOP)
    watched = Watched(context.new_page())
    page = watched.page
    dashboard_site.sign_in(page, "en")
    page.click("nav.side a[href='/app/journeys']")
    assert page.inner_text("#empty-heading") == "No journey map yet"
    page.click("form[action='/app/journeys'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/app/journeys/[0-9a-f-]{36}$"))
    assert page.inner_text("main h1") == "Customer journey"
    assert watched.errors == []
    address = page.url.removeprefix(dashboard_site.base)
    context.close()
    return address


def test_the_map_shows_the_template_stages_and_links_to_its_touchpoints(
    dashboard_site: DashboardSite, chromium_browser: Browser, journey: str
) -> None:
    context = chromium_browser.new_context(viewport=DESKTOP)
    watched = Watched(context.new_page())
    page = watched.page
    dashboard_site.sign_in(page, "en")
    page.goto(f"{dashboard_site.base}{journey}?{PERIOD}")
    assert page.locator("ol.jm-map > li").count() == 7
    assert page_problems(watched, catalog_keys()) == []
    # the shop's checkout answers are scored: a number and n beside the colour
    checkout = page.locator("li.jm-tp", has=page.locator("a", has_text="Checkout"))
    assert re.search(r"NPS \u2212?\d+", checkout.inner_text())  # a minus sign when below 0
    assert re.search(r"n = \d+", checkout.inner_text())
    checkout.locator("a").click()
    page.wait_for_url(re.compile(r".*/app/touchpoints/checkout\?.*"))
    assert page.inner_text("main h1") == "Checkout"
    assert page.is_visible("#rank-heading")
    assert page_problems(watched, catalog_keys()) == []
    page.click("p.crumbs a")  # back to the map, same period
    page.wait_for_url(re.compile(r".*/app/journeys/.*from=.*"))
    context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_both_pages_in_every_language_on_a_desktop_and_a_phone(
    dashboard_site: DashboardSite, chromium_browser: Browser, journey: str, lang: str
) -> None:
    keys = catalog_keys()
    for viewport in (DESKTOP, PHONE):
        phone = viewport is PHONE
        context = chromium_browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
        watched = Watched(context.new_page())
        page = watched.page
        dashboard_site.sign_in(page)
        page.goto(f"{dashboard_site.base}{journey}?{PERIOD}&lang={lang}")
        assert page.get_attribute("html", "lang") == lang
        assert page_problems(watched, keys) == [], f"map, {lang}, {viewport}"
        first, last = STAGES[lang]
        assert page.inner_text("ol.jm-map > li:first-child h3").endswith(first)
        assert page.inner_text("ol.jm-map > li:last-child h3").endswith(last)
        boxes = stage_boxes(page)
        if phone:  # one under the other, each as wide as the screen allows
            assert len({round(b["x"]) for b in boxes}) == 1
            assert all(b["y"] < after["y"] for b, after in itertools.pairwise(boxes))
        else:  # side by side, in journey order
            assert boxes[1]["x"] > boxes[0]["x"]
            assert boxes[1]["y"] == boxes[0]["y"]
        link = page.get_attribute("li.jm-tp a >> nth=0", "href")  # ?lang= holds for one page
        page.goto(f"{dashboard_site.base}{link}&lang={lang}")
        assert page.inner_text("main h1")
        assert page.get_attribute("html", "lang") == lang
        assert page_problems(watched, keys) == [], f"touchpoint, {lang}, {viewport}"
        context.close()


def test_screenshots(
    dashboard_site: DashboardSite, chromium_browser: Browser, journey: str, tmp_path: Path
) -> None:
    kept = os.environ.get("CXLOOP_SCREENSHOTS")
    for device, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = chromium_browser.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        dashboard_site.sign_in(page)
        for lang in LANGS:
            page.goto(f"{dashboard_site.base}{journey}?{PERIOD}&lang={lang}")
            shots = {"journeys": page.url}
            weakest = page.locator(".jm-weakest-name a")
            link = weakest if weakest.count() else page.locator("li.jm-tp a >> nth=0")
            href = link.first.get_attribute("href")
            shots["touchpoint"] = f"{dashboard_site.base}{href}&lang={lang}"
            for name, url in shots.items():
                page.goto(url)
                target = tmp_path / f"{name}-{lang}-{device}.png"
                page.screenshot(path=str(target))  # the first screen, as a person sees it
                assert target.stat().st_size > 10_000
                if kept and lang == "en" and device == "desktop":
                    Path(kept).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(target, Path(kept) / f"{name}.png")
        context.close()
