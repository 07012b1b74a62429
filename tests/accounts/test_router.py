"""The accounts and system HTTP API: authentication, scopes, error shapes and the audit trail."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.accounts import service
from cxloop.models import ApiKey, Scope, User, Workspace
from tests.fixtures.factories import TEST_ACTOR, auth, make_key, make_workspace

API = "/api/v1"

READ_ENDPOINTS = [("GET", f"{API}/workspace"), ("GET", f"{API}/jobs")]
ADMIN_ENDPOINTS = [
    ("GET", f"{API}/keys"),
    ("POST", f"{API}/keys"),
    ("DELETE", f"{API}/keys/{uuid.UUID(int=1)}"),
    ("GET", f"{API}/members"),
    ("POST", f"{API}/members"),
    ("GET", f"{API}/audit-events"),
]
PROTECTED_ENDPOINTS = READ_ENDPOINTS + ADMIN_ENDPOINTS

# Valid bodies, so that only authentication or authorization can make a request fail.
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", f"{API}/keys"): {"scope": "read", "name": "from-a-test"},
    ("POST", f"{API}/members"): {"email": "new.member@example.com", "password": "a long password"},
}


def ids(endpoints: list[tuple[str, str]]) -> list[str]:
    return [f"{method} {path}" for method, path in endpoints]


def prefix_of(token: str) -> str:
    """The public part of a token ``cxl_<scope>_<id>_<secret>`` (the secret may hold ``_``)."""
    return "_".join(token.split("_", 3)[:3])


def secret_of(token: str) -> str:
    return token.split("_", 3)[3]


def call(client: TestClient, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    return client.request(method, path, headers=headers, json=VALID_BODIES.get((method, path)))


@dataclass(frozen=True)
class Tenant:
    workspace: Workspace
    admin: str
    read: str
    write: str


def make_tenant(session: Session) -> Tenant:
    workspace = make_workspace(session)
    _, admin = make_key(session, workspace, Scope.ADMIN, name="admin")
    _, read = make_key(session, workspace, Scope.READ, name="read")
    _, write = make_key(session, workspace, Scope.WRITE, name="write")
    return Tenant(workspace=workspace, admin=admin, read=read, write=write)


@pytest.fixture
def tenant(session: Session) -> Tenant:
    return make_tenant(session)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def assert_unauthorized(response: Any) -> None:
    body = assert_error(response, 401, "invalid_credentials")
    assert set(body) == {"error", "detail"}
    assert response.headers["www-authenticate"] == "Bearer"


# -- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROTECTED_ENDPOINTS, ids=ids(PROTECTED_ENDPOINTS))
def test_missing_authorization_is_401_with_a_bearer_challenge(
    client: TestClient, tenant: Tenant, method: str, path: str
) -> None:
    assert_unauthorized(call(client, method, path))


def test_unauthenticated_request_with_a_bad_body_is_still_401(client: TestClient) -> None:
    # The schema of a body is not disclosed to a caller without a key.
    response = client.post(f"{API}/keys", json={"scope": "everything"})
    assert_unauthorized(response)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Basic {token}", id="basic"),
        pytest.param("Token {token}", id="token-scheme"),
        pytest.param("{token}", id="no-scheme"),
        pytest.param("Bearer", id="bearer-without-key"),
        pytest.param("Bearer    ", id="bearer-blank"),
        pytest.param("Bearer: {token}", id="bearer-colon"),
    ],
)
def test_non_bearer_authorization_is_401(client: TestClient, tenant: Tenant, header: str) -> None:
    response = client.get(
        f"{API}/workspace", headers={"Authorization": header.format(token=tenant.admin)}
    )
    assert_unauthorized(response)


def test_bearer_scheme_is_case_insensitive(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"{API}/workspace", headers={"Authorization": f"bearer {tenant.read}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-key", id="malformed"),
        pytest.param("cxl_admin_0123456789abcdef", id="no-secret"),
        pytest.param("cxl_admin_0000000000000000_" + "x" * 43, id="unknown"),
    ],
)
def test_malformed_or_unknown_key_is_401(client: TestClient, tenant: Tenant, token: str) -> None:
    assert_unauthorized(client.get(f"{API}/workspace", headers=auth(token)))


def test_right_prefix_wrong_secret_is_401(client: TestClient, tenant: Tenant) -> None:
    prefix = prefix_of(tenant.admin)
    assert_unauthorized(client.get(f"{API}/workspace", headers=auth(f"{prefix}_{'x' * 43}")))


def test_revoked_key_is_401(client: TestClient, session: Session, tenant: Tenant) -> None:
    workspace = make_workspace(session)
    key, token = make_key(session, workspace, Scope.READ)
    assert client.get(f"{API}/workspace", headers=auth(token)).status_code == 200

    service.revoke_api_key(session, workspace.id, key.prefix, TEST_ACTOR)

    assert_unauthorized(client.get(f"{API}/workspace", headers=auth(token)))


# -- authorization --------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROTECTED_ENDPOINTS, ids=ids(PROTECTED_ENDPOINTS))
def test_write_key_is_refused_on_read_and_admin_endpoints(
    client: TestClient, tenant: Tenant, method: str, path: str
) -> None:
    response = call(client, method, path, auth(tenant.write))
    body = assert_error(response, 403, "insufficient_scope")
    assert set(body) == {"error", "detail"}
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS, ids=ids(ADMIN_ENDPOINTS))
def test_read_key_is_refused_on_admin_endpoints(
    client: TestClient, tenant: Tenant, method: str, path: str
) -> None:
    response = call(client, method, path, auth(tenant.read))
    assert_error(response, 403, "insufficient_scope")


def test_refused_writes_change_nothing(
    client: TestClient, session: Session, tenant: Tenant
) -> None:
    keys_before = len(service.list_api_keys(session, tenant.workspace.id))

    for token in (tenant.read, tenant.write):
        call(client, "POST", f"{API}/keys", auth(token))
        call(client, "POST", f"{API}/members", auth(token))

    assert len(service.list_api_keys(session, tenant.workspace.id)) == keys_before
    assert session.scalar(select(User).where(User.email == "new.member@example.com")) is None


@pytest.mark.parametrize("scope", ["read", "admin"])
@pytest.mark.parametrize(("method", "path"), READ_ENDPOINTS, ids=ids(READ_ENDPOINTS))
def test_read_and_admin_keys_work_on_read_endpoints(
    client: TestClient, tenant: Tenant, scope: str, method: str, path: str
) -> None:
    token = tenant.read if scope == "read" else tenant.admin
    response = call(client, method, path, auth(token))
    assert response.status_code == 200, response.text


def test_workspace_endpoint_returns_the_keys_workspace(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"{API}/workspace", headers=auth(tenant.read))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(tenant.workspace.id)
    assert body["name"] == tenant.workspace.name
    assert body["default_language"] == "en"


def test_jobs_endpoint_lists_nothing_for_a_new_workspace(
    client: TestClient, tenant: Tenant
) -> None:
    response = client.get(f"{API}/jobs", headers=auth(tenant.read))
    assert response.status_code == 200
    assert response.json() == {"items": []}


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS, ids=ids(ADMIN_ENDPOINTS))
def test_admin_key_passes_authorization_on_admin_endpoints(
    client: TestClient, tenant: Tenant, method: str, path: str
) -> None:
    response = call(client, method, path, auth(tenant.admin))
    if method == "DELETE":
        # authorized; the key simply does not exist
        assert_error(response, 404, "api_key_not_found")
    else:
        assert response.status_code in (200, 201), response.text


# -- API keys -------------------------------------------------------------------------------


def test_create_key_returns_the_secret_once(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        f"{API}/keys", headers=auth(tenant.admin), json={"scope": "read", "name": "dashboard"}
    )

    assert response.status_code == 201, response.text
    created = response.json()
    token = created["key"]
    assert token.startswith(created["prefix"] + "_")
    secret = token[len(created["prefix"]) + 1 :]
    assert len(secret) >= 32
    assert created["scope"] == "read"
    assert created["name"] == "dashboard"
    assert created["revoked_at"] is None
    assert "secret_hash" not in created

    # the new key works, with the scope it was given
    assert client.get(f"{API}/workspace", headers=auth(token)).status_code == 200
    assert_error(client.get(f"{API}/keys", headers=auth(token)), 403, "insufficient_scope")

    listing = client.get(f"{API}/keys", headers=auth(tenant.admin))
    assert listing.status_code == 200
    assert secret not in listing.text
    assert token not in listing.text
    assert secret_of(tenant.admin) not in listing.text
    items = listing.json()["items"]
    assert created["id"] in {item["id"] for item in items}
    for item in items:
        assert "key" not in item
        assert "secret_hash" not in item


def test_list_keys_shows_only_the_workspaces_keys(
    client: TestClient, session: Session, tenant: Tenant
) -> None:
    other = make_tenant(session)

    response = client.get(f"{API}/keys", headers=auth(tenant.admin))

    assert response.status_code == 200
    prefixes = {item["prefix"] for item in response.json()["items"]}
    assert prefixes == {prefix_of(t) for t in (tenant.admin, tenant.read, tenant.write)}
    assert prefix_of(other.admin) not in prefixes


def test_no_stored_key_hash_leaks_through_the_api(
    client: TestClient, session: Session, tenant: Tenant
) -> None:
    listing = client.get(f"{API}/keys", headers=auth(tenant.admin)).text
    for key in service.list_api_keys(session, tenant.workspace.id):
        assert key.secret_hash not in listing


def test_create_key_with_a_bad_scope_is_422(client: TestClient, tenant: Tenant) -> None:
    response = client.post(f"{API}/keys", headers=auth(tenant.admin), json={"scope": "root"})

    body = assert_error(response, 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [["body", "scope"]]
    assert all({"loc", "msg", "type"} <= set(e) for e in body["errors"])


def test_create_key_without_a_body_is_422(client: TestClient, tenant: Tenant) -> None:
    response = client.post(f"{API}/keys", headers=auth(tenant.admin))

    body = assert_error(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body"]


def test_invalid_json_body_is_422_at_body(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        f"{API}/keys",
        headers={**auth(tenant.admin), "Content-Type": "application/json"},
        content=b'{"scope": "read",',
    )

    body = assert_error(response, 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [["body"]]
    assert body["errors"][0]["type"] == "json_invalid"


def test_revoked_via_api_then_the_key_is_refused(
    client: TestClient, session: Session, tenant: Tenant
) -> None:
    key, token = make_key(session, tenant.workspace, Scope.READ)
    assert client.get(f"{API}/workspace", headers=auth(token)).status_code == 200

    response = client.delete(f"{API}/keys/{key.id}", headers=auth(tenant.admin))

    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(key.id)
    assert response.json()["revoked_at"] is not None
    assert "key" not in response.json()
    assert_unauthorized(client.get(f"{API}/workspace", headers=auth(token)))

    again = client.delete(f"{API}/keys/{key.id}", headers=auth(tenant.admin))
    assert again.status_code == 200
    assert again.json()["revoked_at"] == response.json()["revoked_at"]


def test_revoke_unknown_key_is_404(client: TestClient, tenant: Tenant) -> None:
    response = client.delete(f"{API}/keys/{uuid.uuid4()}", headers=auth(tenant.admin))

    body = assert_error(response, 404, "api_key_not_found")
    assert set(body) == {"error", "detail"}


def test_revoke_a_key_of_another_workspace_is_404(
    client: TestClient, session: Session, tenant: Tenant
) -> None:
    other_workspace = make_workspace(session)
    other_key, other_token = make_key(session, other_workspace, Scope.READ)

    response = client.delete(f"{API}/keys/{other_key.id}", headers=auth(tenant.admin))

    assert_error(response, 404, "api_key_not_found")
    assert client.get(f"{API}/workspace", headers=auth(other_token)).status_code == 200


def test_revoke_with_a_non_uuid_is_422(client: TestClient, tenant: Tenant) -> None:
    prefix = prefix_of(tenant.read)
    response = client.delete(f"{API}/keys/{prefix}", headers=auth(tenant.admin))

    body = assert_error(response, 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [["path", "key_id"]]


# -- members --------------------------------------------------------------------------------


def test_create_and_list_members(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        f"{API}/members",
        headers=auth(tenant.admin),
        json={"email": "Grace@Example.com", "password": "graces password", "role": "analyst"},
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "grace@example.com"
    assert created["role"] == "analyst"
    assert created["is_active"] is True
    assert "graces password" not in response.text
    assert "password_hash" not in created

    listing = client.get(f"{API}/members", headers=auth(tenant.admin))
    assert listing.status_code == 200, listing.text
    assert [(m["email"], m["role"]) for m in listing.json()["items"]] == [
        ("grace@example.com", "analyst")
    ]
    assert "argon2" not in listing.text


def test_create_member_defaults_to_viewer(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        f"{API}/members",
        headers=auth(tenant.admin),
        json={"email": "heidi@example.com", "password": "heidis password"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "viewer"


def test_create_member_with_a_taken_email_is_409(client: TestClient, tenant: Tenant) -> None:
    body = {"email": "ivan@example.com", "password": "ivans password"}
    assert client.post(f"{API}/members", headers=auth(tenant.admin), json=body).status_code == 201

    again = client.post(f"{API}/members", headers=auth(tenant.admin), json=body)

    assert_error(again, 409, "user_exists")


def test_short_password_is_422_and_never_echoed(client: TestClient, tenant: Tenant) -> None:
    password = "Sh0rt!pw9"  # 9 characters
    response = client.post(
        f"{API}/members",
        headers=auth(tenant.admin),
        json={"email": "judy@example.com", "password": password},
    )

    body = assert_error(response, 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [["body", "password"]]
    assert password not in response.text
    assert "judy@example.com" not in response.text


def test_too_long_password_and_bad_email_are_not_echoed(client: TestClient, tenant: Tenant) -> None:
    password = "Z" * 201
    response = client.post(
        f"{API}/members",
        headers=auth(tenant.admin),
        json={"email": "not-an-email", "password": password, "role": "emperor"},
    )

    body = assert_error(response, 422, "validation_error")
    assert sorted(e["loc"] for e in body["errors"]) == [
        ["body", "email"],
        ["body", "password"],
        ["body", "role"],
    ]
    assert "Z" * 20 not in response.text
    assert "emperor" not in response.text


# -- audit log ------------------------------------------------------------------------------


def test_audit_log_shows_the_api_created_key_with_actor_and_ip(
    client: TestClient, tenant: Tenant
) -> None:
    created = client.post(
        f"{API}/keys",
        headers={**auth(tenant.admin), "User-Agent": "cxloop-tests/1.0"},
        json={"scope": "write", "name": "ingest"},
    ).json()

    response = client.get(f"{API}/audit-events", headers=auth(tenant.admin))

    assert response.status_code == 200, response.text
    [event] = [
        e
        for e in response.json()["items"]
        if e["action"] == "api_key.created" and e["target_id"] == created["id"]
    ]
    assert event["actor_type"] == "api_key"
    assert event["actor_id"] == prefix_of(tenant.admin)
    assert event["ip"] == "testclient"  # the TestClient's peer address
    assert event["user_agent"] == "cxloop-tests/1.0"
    assert event["details"]["scope"] == "write"
    assert created["key"] not in response.text
    assert secret_of(created["key"]) not in response.text


def test_audit_ip_is_the_peer_and_ignores_untrusted_forwarded_for(
    app: FastAPI, tenant: Tenant
) -> None:
    client = TestClient(app, raise_server_exceptions=False, client=("203.0.113.7", 40000))
    created = client.post(
        f"{API}/keys",
        headers={**auth(tenant.admin), "X-Forwarded-For": "198.51.100.99"},
        json={"scope": "read"},
    ).json()

    items = client.get(f"{API}/audit-events", headers=auth(tenant.admin)).json()["items"]

    [event] = [e for e in items if e["target_id"] == created["id"]]
    assert event["ip"] == "203.0.113.7"


def test_audit_log_pages_newest_first(client: TestClient, tenant: Tenant) -> None:
    everything = client.get(f"{API}/audit-events?limit=500", headers=auth(tenant.admin)).json()
    assert everything["next_cursor"] is None
    all_ids = [e["id"] for e in everything["items"]]
    assert len(all_ids) >= 4  # workspace.created + three api_key.created

    first = client.get(f"{API}/audit-events?limit=2", headers=auth(tenant.admin)).json()
    assert [e["id"] for e in first["items"]] == all_ids[:2]
    assert first["next_cursor"] == all_ids[1]

    second = client.get(
        f"{API}/audit-events",
        params={"limit": 2, "before": first["next_cursor"]},
        headers=auth(tenant.admin),
    ).json()
    assert [e["id"] for e in second["items"]] == all_ids[2:4]


def test_audit_log_shows_only_the_keys_workspace(
    client: TestClient, session: Session, tenant: Tenant
) -> None:
    other = make_tenant(session)

    items = client.get(f"{API}/audit-events", headers=auth(tenant.admin)).json()["items"]

    other_targets = {str(other.workspace.id)} | {
        str(k.id) for k in service.list_api_keys(session, other.workspace.id)
    }
    assert items
    assert not {e["target_id"] for e in items} & other_targets


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten"])
def test_bad_limit_is_422_at_query_limit(client: TestClient, tenant: Tenant, limit: str) -> None:
    response = client.get(f"{API}/audit-events?limit={limit}", headers=auth(tenant.admin))

    body = assert_error(response, 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [["query", "limit"]]


def test_bad_cursor_and_job_filters_are_422(client: TestClient, tenant: Tenant) -> None:
    cursor = client.get(f"{API}/audit-events?before=yesterday", headers=auth(tenant.admin))
    assert [e["loc"] for e in cursor.json()["errors"]] == [["query", "before"]]

    jobs = client.get(f"{API}/jobs?status=exploded&limit=0", headers=auth(tenant.read))
    body = assert_error(jobs, 422, "validation_error")
    assert sorted(e["loc"] for e in body["errors"]) == [["query", "limit"], ["query", "status"]]


# -- routing and unexpected errors ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", f"{API}/nope", f"{API}/keys/{uuid.uuid4()}/extra"])
def test_unknown_route_is_404_json(client: TestClient, path: str) -> None:
    response = client.get(path)

    body = assert_error(response, 404, "not_found")
    assert set(body) == {"error", "detail"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", f"{API}/workspace"), ("PATCH", f"{API}/keys"), ("POST", "/healthz")],
)
def test_wrong_method_is_405_json(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)

    body = assert_error(response, 405, "method_not_allowed")
    assert set(body) == {"error", "detail"}
    assert "allow" in response.headers


def test_unexpected_exception_is_a_500_that_leaks_nothing(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom-for-tests")
    def boom() -> None:
        raise RuntimeError("secret-internal-detail")

    with caplog.at_level(logging.ERROR, logger="cxloop.errors"):
        response = client.get("/boom-for-tests")

    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "detail": "something went wrong on our side; it has been logged",
    }
    assert "secret-internal-detail" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    # ... but the operator can find it
    assert any("secret-internal-detail" in (r.exc_text or "") for r in caplog.records)


# -- system endpoints -----------------------------------------------------------------------


def test_openapi_lists_the_api_paths(client: TestClient) -> None:
    response = client.get(f"{API}/openapi.json")

    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "cxloop"
    assert {
        f"{API}/workspace",
        f"{API}/keys",
        f"{API}/keys/{{key_id}}",
        f"{API}/members",
        f"{API}/audit-events",
        f"{API}/jobs",
    } <= set(spec["paths"])
    assert set(spec["paths"][f"{API}/keys"]) >= {"get", "post"}
    assert "delete" in spec["paths"][f"{API}/keys/{{key_id}}"]


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_checks_database_and_migrations(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def test_keys_created_by_the_api_are_stored_hashed(
    client: TestClient, session: Session, tenant: Tenant
) -> None:
    created = client.post(f"{API}/keys", headers=auth(tenant.admin), json={"scope": "admin"}).json()
    secret = secret_of(created["key"])

    key = session.scalar(select(ApiKey).where(ApiKey.id == uuid.UUID(created["id"])))

    assert key is not None
    assert key.scope == Scope.ADMIN
    assert secret not in key.secret_hash
    assert key.created_by == f"api_key:{prefix_of(tenant.admin)}"
