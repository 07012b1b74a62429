"""The dashboard's frame: signing in and out, the session cookie, CSRF on every form, the
language and workspace switches, the downloads' errors, customer search and tenancy."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.accounts import service as accounts
from cxloop.core.security import hash_password
from cxloop.dashboard.router import page_paths
from cxloop.kpis import service as kpi_service
from cxloop.models import Role
from cxloop.web.shell import NAVIGATION
from tests.conftest import QueryCounter
from tests.fixtures.dashboard import HTML, PASSWORD, csrf_of, sign_in, signed_in
from tests.fixtures.factories import TEST_ACTOR, make_customer, make_user, make_workspace

PAGES = ["/app", "/app/customers", "/app/kpis"]


@pytest.mark.parametrize("path", [*PAGES, "/app/customers?q=lan", "/app/kpis?pack=saas"])
def test_browsers_are_sent_to_sign_in_and_brought_back(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=/app")
    page = client.get(location, headers=HTML)
    assert page.status_code == 200
    assert 'name="next" value="/app' in page.text


def test_other_clients_get_a_json_401(client: TestClient) -> None:
    response = client.get("/app/customers", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["error"] == "sign_in_required"


def test_signing_in_sets_a_signed_http_only_cookie(client: TestClient, session: Session) -> None:
    workspace = make_workspace(session)
    user = make_user(session, workspace, Role.VIEWER)
    response = sign_in(client, user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/app"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("cxloop_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here
    assert client.get("/app", headers=HTML).status_code == 200
    assert user.last_login_at is not None
    # a cookie changed by hand is nobody's
    value = client.cookies["cxloop_session"]
    client.cookies.clear()
    client.cookies.set("cxloop_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert client.get("/app", headers=HTML, follow_redirects=False).status_code == 303


def test_over_https_the_cookie_is_secure(app: object, session: Session) -> None:
    workspace = make_workspace(session)
    user = make_user(session, workspace)
    secure = TestClient(app, base_url="https://testserver")  # type: ignore[arg-type]
    response = sign_in(secure, user.email)
    cookies = response.headers.get_list("set-cookie")
    assert all("Secure" in c for c in cookies if c.startswith("cxloop_session="))


def test_a_wrong_password_is_refused_in_the_page_language(
    client: TestClient, session: Session
) -> None:
    workspace = make_workspace(session)
    user = make_user(session, workspace)
    page = client.get("/login?lang=th", headers=HTML)
    assert 'action="/login?lang=th"' in page.text
    response = client.post(
        "/login?lang=th",
        data={"csrf": csrf_of(page.text), "email": user.email, "password": "wrong password"},
        headers=HTML,
    )
    assert response.status_code == 401
    assert "อีเมลหรือรหัสผ่านไม่ถูกต้อง" in response.text
    assert "cxloop_session" not in client.cookies
    assert f'value="{user.email}"' in response.text  # the email is kept, never the password


def test_a_user_without_a_workspace_is_told(client: TestClient, session: Session) -> None:
    user = accounts.create_user(session, "alone@example.com", PASSWORD, TEST_ACTOR)
    response = sign_in(client, user.email)
    assert response.status_code == 403
    assert "not a member of any workspace" in response.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
def test_after_sign_in_only_this_site_is_a_destination(
    client: TestClient, session: Session, target: str
) -> None:
    workspace = make_workspace(session)
    user = make_user(session, workspace)
    page = client.get("/login", headers=HTML)
    response = client.post(
        "/login",
        data={
            "csrf": csrf_of(page.text),
            "email": user.email,
            "password": PASSWORD,
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/app"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"email": "a@b.vn", "password": "x"}),
        ("/logout", {}),
        ("/app/language", {"lang": "vi"}),
        ("/app/workspace", {"workspace_id": str(uuid.uuid4())}),
        ("/app/kpis/pin", {"pack": "saas", "kpi": "mau"}),
    ],
)
def test_every_form_needs_its_csrf_token(
    client: TestClient, session: Session, path: str, data: dict[str, str]
) -> None:
    me = signed_in(client, session, make_workspace(session), Role.OWNER)
    for token in (None, "forged", csrf_of(client.get("/login?x=1", headers=HTML).text) + "x"):
        body = data if token is None else {**data, "csrf": token}
        response = client.post(path, data=body, headers=HTML, follow_redirects=False)
        assert response.status_code == 403, (path, token)
    json_response = client.post(path, data=data, headers={"Accept": "application/json"})
    assert json_response.json()["error"] == "csrf_failed"
    assert me.user.language == "en"


def test_a_token_of_another_session_does_not_pass(client: TestClient, session: Session) -> None:
    workspace = make_workspace(session)
    first = signed_in(client, session, workspace)
    token = first.csrf()
    other = TestClient(client.app)  # another browser
    signed_in(other, session, workspace)
    response = other.post("/app/language", data={"csrf": token, "lang": "th"}, headers=HTML)
    assert response.status_code == 403


def test_signing_out_ends_the_session(client: TestClient, session: Session) -> None:
    me = signed_in(client, session, make_workspace(session))
    response = me.post("/logout", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert me.get("/app").status_code == 303


def test_a_new_password_ends_every_session(client: TestClient, session: Session) -> None:
    me = signed_in(client, session, make_workspace(session))
    me.user.password_hash = hash_password("a brand new password")
    session.flush()
    assert me.get("/app").headers["location"] == "/login?next=/app"


def test_a_removed_user_is_signed_out(client: TestClient, session: Session) -> None:
    me = signed_in(client, session, make_workspace(session))
    me.user.is_active = False
    session.flush()
    assert me.get("/app/kpis").status_code == 303


def test_the_language_choice_is_kept_on_the_account_and_in_a_cookie(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session, make_workspace(session))
    response = me.post("/app/language", {"lang": "vi", "next": "/app/customers?lang=th&q=x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/app/customers?q=x"  # ?lang= would outrank it
    assert me.user.language == "vi"
    assert client.cookies["cxloop_lang"] == "vi"
    assert '<html lang="vi">' in me.get("/app/customers").text
    # ?lang= wins for one page and changes nothing
    assert '<html lang="th">' in me.get("/app/customers?lang=th").text
    assert me.user.language == "vi"
    # a new browser without the cookie still gets the account's language
    client.cookies.delete("cxloop_lang")
    assert "Tìm khách hàng" in me.get("/app/customers").text


def test_the_language_switch_names_a_bad_language(client: TestClient, session: Session) -> None:
    me = signed_in(client, session, make_workspace(session))
    response = client.post(
        "/app/language",
        data={"csrf": me.csrf(), "lang": "fr"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("lang:")


def test_signed_out_the_switch_sets_the_cookie_only(client: TestClient) -> None:
    token = csrf_of(client.get("/login", headers=HTML).text)
    response = client.post(
        "/app/language", data={"csrf": token, "lang": "th", "next": "/login"}, headers=HTML
    )
    assert response.status_code == 200
    assert '<html lang="th">' in response.text
    assert "เข้าสู่ระบบ" in response.text


def test_switching_workspaces(client: TestClient, session: Session) -> None:
    home = make_workspace(session, "home-shop")
    me = signed_in(client, session, home)
    other = make_workspace(session, "second-shop")
    accounts.add_member(session, other, me.user, Role.VIEWER, TEST_ACTOR)
    stranger = make_workspace(session, "not-mine")
    page = me.get("/app/customers").text
    assert 'id="workspace-choice"' in page
    assert "not-mine" not in page
    response = me.post("/app/workspace", {"workspace_id": str(stranger.id)})
    assert response.status_code == 422
    response = me.post("/app/workspace", {"workspace_id": str(other.id), "next": "/app/kpis"})
    assert response.headers["location"] == "/app/kpis"
    assert "selected>second-shop</option>" in me.get("/app/customers").text


def test_a_single_workspace_has_no_switcher(client: TestClient, session: Session) -> None:
    me = signed_in(client, session, make_workspace(session, "only-shop"))
    page = me.get("/app/customers").text
    assert 'id="workspace-choice"' not in page
    assert "only-shop" in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xml", "format"),
        ("format=csv", "table"),
        ("format=csv&table=nope", "table"),
        ("format=svg&chart=nope", "chart"),
        ("format=png", "chart"),
    ],
)
def test_a_bad_download_names_the_parameter(
    client: TestClient, session: Session, query: str, field: str
) -> None:
    signed_in(client, session, make_workspace(session))
    response = client.get(f"/app/customers?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["detail"].startswith(f"{field}:")
    page = client.get(f"/app/customers?{query}", headers=HTML)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/app?from=2026-05-01&to=2026-04-01", "from"),
        ("/app?from=2020-01-01&to=2026-04-01", "from"),
        ("/app?from=yesterday", "from"),
        # days whose period before, or whose default start, falls off the calendar
        ("/app?to=0001-01-02", "to"),
        ("/app/kpis?from=9999-12-30", "from"),
        ("/app/journeys?to=0001-01-01", "to"),
        ("/app/text?to=0001-01-01", "to"),
        ("/app/kpis?pack=grocery", "pack"),
        ("/app/kpis?interval=hour", "interval"),
        ("/app/customers/not-an-id", "customer_id"),
    ],
)
def test_bad_parameters_are_422_naming_them(
    client: TestClient, session: Session, path: str, field: str
) -> None:
    signed_in(client, session, make_workspace(session))
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]


def test_customers_are_found_by_email_phone_user_id_and_name(
    client: TestClient, session: Session
) -> None:
    workspace = make_workspace(session)
    hoa = make_customer(
        session, workspace, user_id="u-hoa", email="hoa@shop.vn", traits={"name": "Trần Thị Hoa"}
    )
    somchai = make_customer(
        session, workspace, user_id="u-som", traits={"name": "สมชาย ใจดี", "phone": "0812345678"}
    )
    make_customer(session, workspace, email="other@shop.vn", traits={"name": "Other Person"})
    me = signed_in(client, session, workspace)

    def found(q: str) -> set[str]:
        text = me.get("/app/customers", params={"q": q}).text
        return {name for name, cid in (("hoa", hoa), ("somchai", somchai)) if f"/{cid}" in text}

    assert found("HOA@shop.vn") == {"hoa"}
    assert found("u-som") == {"somchai"}
    assert found("thị hoa") == {"hoa"}
    assert found("สมชาย") == {"somchai"}
    assert found("nobody@shop.vn") == set()
    assert found("") == {"hoa", "somchai"}  # the latest seen
    assert "Trần Thị Hoa" in me.get("/app/customers", params={"q": "Hoa"}).text


def test_the_customers_page_does_not_query_per_customer(
    client: TestClient, session: Session, queries: QueryCounter
) -> None:
    workspace = make_workspace(session)
    me = signed_in(client, session, workspace)
    make_customer(session, workspace, user_id="first", traits={"name": "First"})

    def count() -> int:
        queries.statements.clear()
        assert me.get("/app/customers").status_code == 200
        return queries.count

    few = count()
    for n in range(20):
        make_customer(session, workspace, user_id=f"c{n}", email=f"c{n}@shop.vn")
    assert count() == few


def test_another_workspaces_customer_is_not_found(client: TestClient, session: Session) -> None:
    theirs = make_customer(session, make_workspace(session), email="secret@other.vn")
    signed_in(client, session, make_workspace(session))
    response = client.get(f"/app/customers/{theirs}", headers=HTML)
    assert response.status_code == 404
    assert "secret@other.vn" not in response.text
    listing = client.get("/app/customers", params={"q": "secret@other.vn"}, headers=HTML)
    assert f"/app/customers/{theirs}" not in listing.text
    assert "0 found" in listing.text


def test_pinning_a_kpi_needs_an_admin(client: TestClient, session: Session) -> None:
    workspace = make_workspace(session)
    viewer = signed_in(client, session, workspace, Role.VIEWER)
    assert "/app/kpis/pin" not in viewer.get("/app/kpis").text
    response = viewer.post("/app/kpis/pin", {"pack": "saas", "kpi": "mau"}, csrf_from="/app/kpis")
    assert response.status_code == 403
    admin = TestClient(client.app)
    me = signed_in(admin, session, workspace, Role.ADMIN)
    response = me.post("/app/kpis/pin", {"pack": "saas", "kpi": "nope"}, csrf_from="/app/kpis")
    assert response.status_code == 422
    response = me.post(
        "/app/kpis/pin", {"pack": "saas", "kpi": "mau", "next": "/app"}, csrf_from="/app/kpis"
    )
    assert response.status_code == 303
    omtm = kpi_service.get_settings(session, workspace.id).omtm
    assert omtm is not None
    assert (omtm.pack, omtm.kpi) == ("saas", "mau")
    # the overview shows it, measured in its own pack (the workspace's is e-commerce)
    assert 'id="kpi-tile-mau"' in me.get("/app").text


@pytest.mark.parametrize("lang", ["en", "vi", "th"])
def test_every_page_opens_on_an_empty_workspace(
    client: TestClient, session: Session, lang: str
) -> None:
    """Each GET page under /app (read from the app: new sections are covered the day they
    are added) answers 200 in each language, with the navigation to every section."""
    me = signed_in(client, session, make_workspace(session), language=lang)
    paths = [p for p in page_paths() if "{" not in p and not p.endswith(".csv")]
    assert {"/app", "/app/customers", "/app/kpis"} <= set(paths)
    for path in paths:
        response = me.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert f'<html lang="{lang}">' in response.text
        for item in NAVIGATION:
            assert f'href="{item.href}"' in response.text
