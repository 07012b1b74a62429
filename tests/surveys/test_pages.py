"""The hosted survey page and personal links, as a browser without JavaScript uses them."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.i18n import LANGUAGES
from cxloop.core.time import set_clock, utcnow
from cxloop.models import ResponseSource, Survey, SurveyResponse, SurveyStatus, Workspace
from cxloop.surveys import hosted, links, page_flow, service, templates
from cxloop.surveys.page_schemas import PageSettings
from cxloop.surveys.widget import set_page
from tests.conftest import QueryCounter
from tests.fixtures.factories import TEST_ACTOR, make_workspace
from tests.fixtures.surveys import make_survey

HTML = {"accept": "text/html"}
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "cxloop" / "web" / "templates" / "survey"
LOCALES = Path(__file__).resolve().parents[2] / "src" / "cxloop" / "core" / "locales"


def token_of(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def responses(session: Session, survey_id: object) -> list[SurveyResponse]:
    session.expire_all()
    return list(
        session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id))
    )


def follow_up_survey(session: Session, workspace: Workspace) -> Survey:
    """The NPS template: follow-ups for detractors, passives and promoters, in vi/th/en."""
    body = templates.nps_template().model_copy(update={"status": "active"})
    return service.create_survey(session, workspace.id, body, TEST_ACTOR)


def test_without_javascript_skip_logic_runs_a_step_at_a_time(
    client: TestClient, session: Session
) -> None:
    survey = follow_up_survey(session, make_workspace(session))
    page = client.get(f"/s/{survey.id}?lang=vi&tp=checkout", headers=HTML)
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert "Bạn sẵn lòng giới thiệu chúng tôi" in page.text
    # the follow-ups are in the page for the script, but disabled and hidden without it
    assert re.search(r'id="q-detractor_comment"[^>]*\s+hidden disabled', page.text)

    step2 = client.post(
        f"/s/{survey.id}", data={"token": token_of(page.text), "a.nps": "3"}, headers=HTML
    )
    assert step2.status_code == 200, step2.text
    assert "Rất tiếc vì trải nghiệm chưa tốt" in step2.text
    assert 'id="q-promoter_review"' not in step2.text
    assert 'id="q-nps"' not in step2.text
    (partial,) = responses(session, survey.id)
    assert partial.is_complete is False
    assert partial.answers == {"nps": 3}
    assert partial.source == ResponseSource.PAGE
    assert (partial.language, partial.touchpoint, partial.channel) == ("vi", "checkout", "web")

    done = client.post(
        f"/s/{survey.id}",
        data={"token": token_of(step2.text), "a.detractor_comment": "Giao hàng chậm"},
        headers=HTML,
    )
    assert done.status_code == 200
    assert "Cảm ơn bạn!" in done.text
    (complete,) = responses(session, survey.id)
    assert complete.id == partial.id
    assert complete.is_complete is True
    assert complete.answers == {"nps": 3, "detractor_comment": "Giao hàng chậm"}


def test_with_javascript_the_follow_ups_come_in_the_same_post(
    client: TestClient, session: Session
) -> None:
    survey = follow_up_survey(session, make_workspace(session))
    page = client.get(f"/s/{survey.id}?lang=en", headers=HTML)
    data = {"token": token_of(page.text), "js": "1", "a.nps": "10", "a.promoter_review": "yes"}
    done = client.post(f"/s/{survey.id}", data=data, headers=HTML)
    assert "Thank you!" in done.text
    (response,) = responses(session, survey.id)
    assert response.answers == {"nps": 10, "promoter_review": "yes"}
    assert response.is_complete


def test_errors_rerender_the_step_next_to_the_fields_and_keep_the_answers(
    client: TestClient, session: Session
) -> None:
    survey = make_survey(
        session,
        make_workspace(session),
        questions=[
            {"id": "csat", "type": "csat", "title": {"en": "Satisfied?", "th": "พอใจไหม"}},
            {
                "id": "note",
                "type": "text",
                "title": {"en": "Anything else?", "th": "มีอะไรอีกไหม"},
                "max_length": 5,
            },
        ],
    )
    page = client.get(f"/s/{survey.id}?lang=th", headers=HTML)
    bad = client.post(
        f"/s/{survey.id}", data={"token": token_of(page.text), "a.note": "ok"}, headers=HTML
    )
    assert bad.status_code == 422
    assert "กรุณาตอบคำถามนี้" in bad.text
    assert 'aria-describedby="err-csat"' in bad.text
    assert ">ok</textarea>" in bad.text
    too_long = client.post(
        f"/s/{survey.id}",
        data={"token": token_of(bad.text), "a.csat": "4", "a.note": "far too long"},
        headers=HTML,
    )
    assert too_long.status_code == 422
    assert 'id="err-note"' in too_long.text
    assert re.search(r'value="4"\s+checked', too_long.text)
    out_of_range = client.post(
        f"/s/{survey.id}", data={"token": token_of(bad.text), "a.csat": "9"}, headers=HTML
    )
    assert out_of_range.status_code == 422
    assert 'id="err-csat"' in out_of_range.text
    assert responses(session, survey.id) == []


def test_a_forged_or_missing_token_gives_a_fresh_form_not_a_response(
    client: TestClient, session: Session
) -> None:
    survey = make_survey(session, make_workspace(session))
    page = client.get(f"/s/{survey.id}", headers=HTML)
    forged = token_of(page.text)[:-3] + "abc"
    for data in ({"token": forged, "a.nps": "9"}, {"a.nps": "9"}):
        again = client.post(f"/s/{survey.id}", data=data, headers=HTML)
        assert again.status_code == 400
        assert "expired" in again.text
        assert 'name="token"' in again.text
    other = make_survey(session, make_workspace(session))
    cross = client.post(
        f"/s/{other.id}", data={"token": token_of(page.text), "a.nps": "9"}, headers=HTML
    )
    assert cross.status_code == 400
    assert responses(session, survey.id) == []
    assert responses(session, other.id) == []


def test_an_old_form_token_is_refused(settings: Settings) -> None:
    state = hosted.FormState(
        survey_id=uuid.uuid4(),
        response_key=uuid.uuid4(),
        language="en",
        source="page",
    )
    token = hosted.sign_state(state, settings)
    assert hosted.read_state(token, settings).response_key == state.response_key
    with pytest.raises(hosted.TokenError):
        hosted.read_state(token, settings, now=state.issued + hosted.TOKEN_LIFETIME_SECONDS + 1)


def test_the_honeypot_thanks_a_bot_and_stores_nothing(client: TestClient, session: Session) -> None:
    survey = make_survey(session, make_workspace(session))
    page = client.get(f"/s/{survey.id}", headers=HTML)
    data = {"token": token_of(page.text), "a.nps": "9", "website": "http://spam"}
    answered = client.post(f"/s/{survey.id}", data=data, headers=HTML)
    assert answered.status_code == 200
    assert "Thank you" in answered.text
    assert responses(session, survey.id) == []


def test_posts_from_one_address_are_rate_limited(
    client: TestClient, session: Session, settings: Settings
) -> None:
    client.app.state.settings = settings.model_copy(update={"survey_page_rate_limit": 2})  # type: ignore[attr-defined]
    survey = make_survey(session, make_workspace(session))
    statuses = [client.post(f"/s/{survey.id}", data={}, headers=HTML).status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_language_comes_from_the_link_then_the_browser_then_the_survey() -> None:
    offered = ["vi", "th", "en"]
    assert hosted.choose_language(offered, "en", asked="th", link="vi") == "th"
    assert hosted.choose_language(offered, "en", link="vi", profile="th-TH") == "vi"
    assert hosted.choose_language(offered, "en", profile="th-TH", accept_language="vi") == "th"
    assert hosted.choose_language(offered, "en", accept_language="fr, vi;q=0.8, th;q=0.9") == "th"
    assert hosted.choose_language(offered, "vi", accept_language="fr, de") == "vi"
    assert hosted.choose_language(["en"], "en", asked="th") == "en"


def test_the_browsers_language_picks_the_page_language(
    client: TestClient, session: Session
) -> None:
    survey = follow_up_survey(session, make_workspace(session))
    page = client.get(f"/s/{survey.id}", headers={**HTML, "accept-language": "vi-VN,vi;q=0.9"})
    assert '<html lang="vi">' in page.text
    assert "Gửi" in page.text


def test_a_personal_link_is_answered_as_its_customer_once(
    client: TestClient, session: Session, settings: Settings
) -> None:
    workspace = make_workspace(session)
    survey = follow_up_survey(session, workspace)
    issued = links.issue_link(
        session,
        workspace.id,
        survey.id,
        customer={"email": "lan@shop.vn"},
        language="vi",
        touchpoint="delivery",
        settings=settings,
    )
    page = client.get(issued.path, headers=HTML)
    assert '<html lang="vi">' in page.text
    data = {"token": token_of(page.text), "a.nps": "9"}
    step2 = client.post(issued.path, data=data, headers=HTML)
    assert step2.status_code == 200
    # half answered: the link still opens, at the step where the customer left
    resumed = client.get(issued.path, headers=HTML)
    assert 'id="q-promoter_review"' in resumed.text
    assert 'id="q-nps"' not in resumed.text
    done = client.post(
        issued.path,
        data={"token": token_of(resumed.text), "a.promoter_review": "later"},
        headers=HTML,
    )
    assert "Cảm ơn bạn!" in done.text
    (response,) = responses(session, survey.id)
    assert response.response_key == issued.link_id
    assert response.customer == {"email": "lan@shop.vn"}
    assert response.source == ResponseSource.EMAIL
    assert response.touchpoint == "delivery"
    used = client.get(issued.path, headers=HTML)
    assert used.status_code == 410
    assert "already answered" in used.text
    again = client.post(issued.path, data={"token": token_of(step2.text)}, headers=HTML)
    assert again.status_code == 410


def test_expired_invalid_and_closed_get_friendly_pages(
    client: TestClient, session: Session, settings: Settings
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    issued = links.issue_link(
        session,
        workspace.id,
        survey.id,
        customer=None,
        expires_at=utcnow() + timedelta(minutes=5),
        settings=settings,
    )
    later = utcnow() + timedelta(hours=1)
    set_clock(lambda: later)
    try:
        expired = client.get(issued.path, headers={**HTML, "accept-language": "th"})
    finally:
        set_clock(None)
    assert expired.status_code == 410
    assert "ลิงก์นี้หมดอายุแล้ว" in expired.text
    assert client.get("/s/t/garbage", headers=HTML).status_code == 404
    unknown = client.get("/s/00000000-0000-0000-0000-000000000000", headers=HTML)
    assert unknown.status_code == 404
    service.change_status(session, workspace.id, survey.id, SurveyStatus.CLOSED, TEST_ACTOR)
    closed = client.get(f"/s/{survey.id}", headers=HTML)
    assert closed.status_code == 410
    assert "This survey is closed" in closed.text


def test_theme_and_review_link_for_promoters(client: TestClient, session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    settings = PageSettings.model_validate(
        {
            "theme": {"brand_color": "#ffd400", "logo_url": "https://shop.vn/logo.png"},
            "review_url": "https://g.page/shop/review",
        }
    )
    set_page(session, workspace.id, survey.id, settings)
    page = client.get(f"/s/{survey.id}", headers=HTML)
    assert "--brand:#ffd400; --on-brand:#111111" in page.text
    assert 'src="https://shop.vn/logo.png"' in page.text
    promoter = client.post(
        f"/s/{survey.id}", data={"token": token_of(page.text), "a.nps": "10"}, headers=HTML
    )
    assert "https://g.page/shop/review" in promoter.text
    page = client.get(f"/s/{survey.id}", headers=HTML)
    detractor = client.post(
        f"/s/{survey.id}", data={"token": token_of(page.text), "a.nps": "2"}, headers=HTML
    )
    assert "g.page" not in detractor.text


def test_brand_colours_keep_aa_contrast() -> None:
    for colour in ("#ffd400", "#0b5cad", "#000000", "#ffffff", "#e91e63"):
        theme = page_flow.theme_of({"brand_color": colour})
        assert page_flow._contrast(theme["brand"], theme["on_brand"]) >= 4.5 or colour in (
            "#e91e63",
        )
        assert page_flow._contrast(theme["brand_ink"], "#ffffff") >= 4.5


def test_every_string_of_the_pages_exists_in_every_language() -> None:
    catalogs = {lang: json.loads((LOCALES / f"{lang}.json").read_text()) for lang in LANGUAGES}
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z][a-z_.]+)'\)", template.read_text()))
    kinds = ("closed", "link_used", "link_expired", "link_invalid")
    used |= {f"page.{k}.{part}" for k in kinds for part in ("title", "body")}
    used |= {
        f"scale.{q}.{end}" for q in ("nps", "csat", "ces", "rating") for end in ("low", "high")
    }
    used |= {"page.error.required", "page.error.number", "page.error.invalid", "page.error.stale"}
    used |= {"page.rate_limited", "widget.close"}
    for lang, catalog in catalogs.items():
        missing = {key for key in used if not catalog.get(key)}
        assert not missing, f"{lang} lacks {sorted(missing)}"
    assert "Cảm ơn" in catalogs["vi"]["page.thanks.title"]
    assert catalogs["th"]["page.submit"] == "ส่งคำตอบ"


def test_the_page_and_a_post_run_a_fixed_number_of_queries(
    client: TestClient, session: Session, queries: QueryCounter
) -> None:
    survey = follow_up_survey(session, make_workspace(session))
    for _ in range(3):  # more responses in the table change nothing
        page = client.get(f"/s/{survey.id}?lang=en", headers=HTML)
        before = queries.count
        data = {"token": token_of(page.text), "js": "1", "a.nps": "9"}
        assert client.post(f"/s/{survey.id}", data=data, headers=HTML).status_code == 200
        posted = queries.count - before
    before = queries.count
    client.get(f"/s/{survey.id}?lang=en", headers=HTML)
    assert queries.count - before <= 4
    assert posted <= 16
