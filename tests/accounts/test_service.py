"""Business rules of ``cxloop.accounts.service``, run against the test's rolled-back session."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cxloop.accounts import errors, service, signals
from cxloop.core.actors import Actor
from cxloop.core.errors import InvalidInput
from cxloop.core.time import set_clock
from cxloop.models import ApiKey, AuditEvent, Membership, Role, Scope, User, Workspace
from tests.fixtures.factories import TEST_ACTOR, make_key, make_user, make_workspace

T0 = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    fake = FakeClock(T0)
    set_clock(fake)
    try:
        yield fake
    finally:
        set_clock(None)


def audit_events(session: Session, action: str, **where: Any) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return list(session.scalars(query))


def stored_last_used_at(session: Session, key: ApiKey) -> datetime | None:
    """``last_used_at`` as the database has it, not as the identity map remembers it."""
    return session.scalar(
        select(ApiKey.last_used_at)
        .where(ApiKey.id == key.id)
        .execution_options(populate_existing=True)
    )


# -- workspaces -----------------------------------------------------------------------------


def test_create_workspace_stores_the_name_and_defaults(session: Session) -> None:
    workspace = service.create_workspace(session, "acme-support", TEST_ACTOR)

    stored = session.get(Workspace, workspace.id)
    assert stored is not None
    assert stored.name == "acme-support"
    assert stored.display_name == "acme-support"
    assert stored.default_language == "en"
    assert service.get_workspace_by_name(session, "acme-support").id == workspace.id


def test_create_workspace_keeps_a_display_name_and_language(session: Session) -> None:
    workspace = service.create_workspace(
        session, "acme-vn", TEST_ACTOR, display_name="ACME Việt Nam", default_language="vi"
    )
    assert workspace.display_name == "ACME Việt Nam"
    assert workspace.default_language == "vi"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("Acme", id="upper-case"),
        pytest.param("-acme", id="leading-dash"),
        pytest.param("acme support", id="space"),
        pytest.param("acme_support", id="underscore"),
        pytest.param("acmé", id="non-ascii"),
        pytest.param("a" * 64, id="64-chars"),
        pytest.param("acme\n", id="trailing-newline"),
        pytest.param("acme/../x", id="slash"),
    ],
)
def test_create_workspace_rejects_invalid_names(session: Session, name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_workspace(session, name, TEST_ACTOR)

    assert caught.value.field == "name"
    assert caught.value.extra["errors"][0]["loc"] == ["name"]
    assert session.scalar(select(Workspace).where(Workspace.name == name)) is None


@pytest.mark.parametrize("name", ["a", "7", "a" * 63, "acme-2", "0-team"])
def test_create_workspace_accepts_valid_names(session: Session, name: str) -> None:
    assert service.create_workspace(session, name, TEST_ACTOR).name == name


def test_duplicate_workspace_name_raises_workspace_exists(session: Session) -> None:
    make_workspace(session, "dup-ws")

    with pytest.raises(errors.WorkspaceExists):
        service.create_workspace(session, "dup-ws", TEST_ACTOR)

    assert len(session.scalars(select(Workspace).where(Workspace.name == "dup-ws")).all()) == 1


def test_create_workspace_records_an_audit_event_with_the_actor(session: Session) -> None:
    actor = Actor(kind="user", id="alice@example.com", ip="198.51.100.4", user_agent="pytest")

    workspace = service.create_workspace(session, "audited-ws", actor)

    [event] = audit_events(session, "workspace.created", workspace_id=workspace.id)
    assert event.actor_type == "user"
    assert event.actor_id == "alice@example.com"
    assert event.ip == "198.51.100.4"
    assert event.user_agent == "pytest"
    assert event.target_type == "workspace"
    assert event.target_id == str(workspace.id)
    assert event.details == {"name": "audited-ws"}


def test_create_workspace_sends_the_workspace_created_signal(session: Session) -> None:
    received: list[dict[str, Any]] = []

    def receiver(**payload: Any) -> None:
        # the row exists (flushed) by the time listeners run
        workspace = payload["workspace"]
        received.append({**payload, "in_db": session.get(Workspace, workspace.id) is not None})

    signals.workspace_created.connect(receiver)
    try:
        workspace = service.create_workspace(session, "signalled-ws", TEST_ACTOR)
    finally:
        signals.workspace_created.disconnect(receiver)

    assert len(received) == 1
    assert received[0]["workspace"] is workspace
    assert received[0]["session"] is session
    assert received[0]["in_db"] is True


def test_no_signal_for_a_rejected_workspace(session: Session) -> None:
    make_workspace(session, "taken-ws")
    received: list[Workspace] = []

    def receiver(**payload: Any) -> None:
        received.append(payload["workspace"])

    signals.workspace_created.connect(receiver)
    try:
        with pytest.raises(errors.WorkspaceExists):
            service.create_workspace(session, "taken-ws", TEST_ACTOR)
        with pytest.raises(InvalidInput):
            service.create_workspace(session, "Bad Name", TEST_ACTOR)
    finally:
        signals.workspace_created.disconnect(receiver)

    assert received == []


def test_get_workspace_unknown_raises_not_found(session: Session) -> None:
    with pytest.raises(errors.WorkspaceNotFound):
        service.get_workspace(session, uuid.uuid4())
    with pytest.raises(errors.WorkspaceNotFound):
        service.get_workspace_by_name(session, "no-such-ws")


# -- API keys: creation and authentication --------------------------------------------------


def test_created_key_token_authenticates(session: Session) -> None:
    workspace = make_workspace(session)
    key, token = make_key(session, workspace, Scope.READ, name="reporting")

    assert token.startswith(key.prefix + "_")
    found = service.authenticate_key(session, token)
    assert found.id == key.id
    assert found.workspace_id == workspace.id
    assert found.scope == Scope.READ
    assert found.name == "reporting"
    assert found.created_by == f"{TEST_ACTOR.kind}:{TEST_ACTOR.id}"


def test_only_a_sha256_of_the_secret_is_stored(session: Session) -> None:
    workspace = make_workspace(session)
    key, token = make_key(session, workspace)
    secret = token[len(key.prefix) + 1 :]
    assert len(secret) >= 32

    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    # the raw row, every column, holds neither the token nor the secret
    row = session.execute(
        text("SELECT * FROM api_key WHERE prefix = :prefix"), {"prefix": key.prefix}
    ).one()
    for value in row:
        assert secret not in str(value)
        assert token not in str(value)
    # nor does the audit trail
    for event in session.scalars(select(AuditEvent).where(AuditEvent.workspace_id == workspace.id)):
        assert secret not in repr(event.details)


def test_create_key_records_an_audit_event(session: Session) -> None:
    workspace = make_workspace(session)
    key, _token = make_key(session, workspace, Scope.WRITE, name="ingest")

    [event] = audit_events(session, "api_key.created", target_id=str(key.id))
    assert event.workspace_id == workspace.id
    assert event.actor_type == TEST_ACTOR.kind
    assert event.actor_id == TEST_ACTOR.id
    assert event.details == {"scope": "write", "name": "ingest", "prefix": key.prefix}


def test_wrong_secret_is_refused(session: Session) -> None:
    workspace = make_workspace(session)
    key, token = make_key(session, workspace)
    wrong = f"{key.prefix}_{'A' * 43}"
    assert wrong != token

    with pytest.raises(errors.InvalidCredentials):
        service.authenticate_key(session, wrong)


def test_secret_of_another_key_is_refused(session: Session) -> None:
    workspace = make_workspace(session)
    key_a, _token_a = make_key(session, workspace)
    key_b, token_b = make_key(session, workspace)
    secret_b = token_b[len(key_b.prefix) + 1 :]

    with pytest.raises(errors.InvalidCredentials):
        service.authenticate_key(session, f"{key_a.prefix}_{secret_b}")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-key", id="garbage"),
        pytest.param("cxl_admin_0123456789abcdef", id="no-secret"),
        pytest.param("cxl_admin_0123456789abcdef_", id="empty-secret"),
        pytest.param("cxl__0123456789abcdef_secret", id="empty-scope"),
        pytest.param("xyz_admin_0123456789abcdef_secret", id="foreign-prefix"),
        pytest.param("cxl_admin_0000000000000000_" + "s" * 43, id="unknown-prefix"),
    ],
)
def test_malformed_or_unknown_tokens_are_refused(session: Session, token: str) -> None:
    make_key(session, make_workspace(session))

    with pytest.raises(errors.InvalidCredentials):
        service.authenticate_key(session, token)


def test_revoked_key_is_refused(session: Session) -> None:
    workspace = make_workspace(session)
    key, token = make_key(session, workspace)
    service.revoke_api_key(session, workspace.id, key.prefix, TEST_ACTOR)

    with pytest.raises(errors.InvalidCredentials):
        service.authenticate_key(session, token)


# -- API keys: revocation and lookup --------------------------------------------------------


def test_revoke_is_idempotent_and_keeps_the_first_time(session: Session, clock: FakeClock) -> None:
    workspace = make_workspace(session)
    key, _token = make_key(session, workspace)

    first = service.revoke_api_key(session, workspace.id, str(key.id), TEST_ACTOR)
    assert first.revoked_at == T0
    assert not first.is_active

    clock.advance(timedelta(hours=1))
    second = service.revoke_api_key(session, workspace.id, key.prefix, TEST_ACTOR)

    assert second.id == key.id
    assert second.revoked_at == T0
    stored = session.scalar(
        select(ApiKey.revoked_at)
        .where(ApiKey.id == key.id)
        .execution_options(populate_existing=True)
    )
    assert stored == T0
    assert len(audit_events(session, "api_key.revoked", target_id=str(key.id))) == 1


def test_revoke_records_an_audit_event(session: Session) -> None:
    workspace = make_workspace(session)
    key, _token = make_key(session, workspace)
    actor = Actor(kind="api_key", id="cxl_admin_feedfacefeedface", ip="192.0.2.1")

    service.revoke_api_key(session, workspace.id, str(key.id), actor)

    [event] = audit_events(session, "api_key.revoked", target_id=str(key.id))
    assert event.workspace_id == workspace.id
    assert event.actor_type == "api_key"
    assert event.actor_id == "cxl_admin_feedfacefeedface"
    assert event.ip == "192.0.2.1"
    assert event.target_type == "api_key"
    assert event.details == {"prefix": key.prefix}


def test_revoke_sends_the_signal_once(session: Session) -> None:
    workspace = make_workspace(session)
    key, _token = make_key(session, workspace)
    received: list[ApiKey] = []

    def receiver(**payload: Any) -> None:
        received.append(payload["api_key"])

    signals.api_key_revoked.connect(receiver)
    try:
        service.revoke_api_key(session, workspace.id, key.prefix, TEST_ACTOR)
        service.revoke_api_key(session, workspace.id, key.prefix, TEST_ACTOR)
    finally:
        signals.api_key_revoked.disconnect(receiver)

    assert [k.id for k in received] == [key.id]


def test_find_api_key_by_prefix_or_id(session: Session) -> None:
    workspace = make_workspace(session)
    key, _token = make_key(session, workspace)
    make_key(session, workspace)  # a neighbour that must not be returned

    assert service.find_api_key(session, workspace.id, key.prefix).id == key.id
    assert service.find_api_key(session, workspace.id, str(key.id)).id == key.id


@pytest.mark.parametrize("ref", ["cxl_admin_0000000000000000", "nothing", ""])
def test_find_unknown_key_raises_not_found(session: Session, ref: str) -> None:
    workspace = make_workspace(session)
    make_key(session, workspace)

    with pytest.raises(errors.ApiKeyNotFound):
        service.find_api_key(session, workspace.id, ref)
    with pytest.raises(errors.ApiKeyNotFound):
        service.find_api_key(session, workspace.id, str(uuid.uuid4()))


def test_key_of_one_workspace_cannot_be_found_or_revoked_from_another(session: Session) -> None:
    workspace_a = make_workspace(session)
    workspace_b = make_workspace(session)
    key_a, token_a = make_key(session, workspace_a)

    for ref in (key_a.prefix, str(key_a.id)):
        with pytest.raises(errors.ApiKeyNotFound):
            service.find_api_key(session, workspace_b.id, ref)
        with pytest.raises(errors.ApiKeyNotFound):
            service.revoke_api_key(session, workspace_b.id, ref, TEST_ACTOR)

    assert service.authenticate_key(session, token_a).revoked_at is None
    assert audit_events(session, "api_key.revoked", target_id=str(key_a.id)) == []


def test_list_api_keys_per_workspace_with_and_without_revoked(session: Session) -> None:
    workspace = make_workspace(session)
    other = make_workspace(session)
    live, _ = make_key(session, workspace)
    dead, _ = make_key(session, workspace)
    make_key(session, other)
    service.revoke_api_key(session, workspace.id, dead.prefix, TEST_ACTOR)

    everything = service.list_api_keys(session, workspace.id)
    active = service.list_api_keys(session, workspace.id, include_revoked=False)

    assert {k.id for k in everything} == {live.id, dead.id}
    assert [k.id for k in active] == [live.id]


# -- API keys: last_used_at -----------------------------------------------------------------


def test_last_used_at_is_throttled_by_the_touch_interval(
    session: Session, clock: FakeClock
) -> None:
    workspace = make_workspace(session)
    key, token = make_key(session, workspace)
    interval = timedelta(seconds=60)
    assert key.last_used_at is None

    service.authenticate_key(session, token, touch_interval=interval)
    assert stored_last_used_at(session, key) == T0

    clock.advance(timedelta(seconds=30))
    service.authenticate_key(session, token, touch_interval=interval)
    assert stored_last_used_at(session, key) == T0

    clock.advance(timedelta(seconds=29))  # 59 s after the first use: still inside
    service.authenticate_key(session, token, touch_interval=interval)
    assert stored_last_used_at(session, key) == T0

    clock.advance(timedelta(seconds=2))  # 61 s after the first use: outside
    service.authenticate_key(session, token, touch_interval=interval)
    assert stored_last_used_at(session, key) == T0 + timedelta(seconds=61)


def test_last_used_at_rewritten_once_the_interval_has_fully_passed(
    session: Session, clock: FakeClock
) -> None:
    workspace = make_workspace(session)
    key, token = make_key(session, workspace)
    interval = timedelta(minutes=5)

    service.authenticate_key(session, token, touch_interval=interval)
    clock.advance(interval)
    found = service.authenticate_key(session, token, touch_interval=interval)

    assert found.last_used_at == T0 + interval
    assert stored_last_used_at(session, key) == T0 + interval


def test_failed_authentication_does_not_touch_the_key(session: Session, clock: FakeClock) -> None:
    workspace = make_workspace(session)
    key, _token = make_key(session, workspace)

    with pytest.raises(errors.InvalidCredentials):
        service.authenticate_key(session, f"{key.prefix}_{'B' * 43}")

    assert stored_last_used_at(session, key) is None


# -- users and memberships ------------------------------------------------------------------


def test_create_user_normalises_the_email(session: Session) -> None:
    user = service.create_user(session, "  Alice.Smith@Example.COM ", "long enough pw", TEST_ACTOR)

    assert user.email == "alice.smith@example.com"
    assert service.get_user_by_email(session, "ALICE.SMITH@example.com").id == user.id
    [event] = audit_events(session, "user.created", target_id=str(user.id))
    assert event.workspace_id is None
    assert event.details == {"email": "alice.smith@example.com"}


@pytest.mark.parametrize("password", ["", "short", "123456789"])
def test_short_password_is_rejected_naming_the_field(session: Session, password: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_user(session, "short-pw@example.com", password, TEST_ACTOR)

    assert caught.value.field == "password"
    assert caught.value.extra["errors"][0]["loc"] == ["password"]
    if password:
        assert password not in str(caught.value)
    assert session.scalar(select(User).where(User.email == "short-pw@example.com")) is None


def test_ten_character_password_is_enough(session: Session) -> None:
    user = service.create_user(session, "ten@example.com", "0123456789", TEST_ACTOR)
    assert service.authenticate_user(session, "ten@example.com", "0123456789").id == user.id


def test_duplicate_email_raises_user_exists_ignoring_case(session: Session) -> None:
    service.create_user(session, "dup@example.com", "long enough pw", TEST_ACTOR)

    with pytest.raises(errors.UserExists):
        service.create_user(session, "DUP@Example.com", "another long pw", TEST_ACTOR)

    assert len(session.scalars(select(User).where(User.email == "dup@example.com")).all()) == 1


def test_password_is_stored_as_an_argon2id_hash(session: Session) -> None:
    password = "correct horse battery staple"
    user = service.create_user(session, "hash@example.com", password, TEST_ACTOR)

    assert user.password_hash.startswith("$argon2id$")
    assert password not in user.password_hash
    assert PasswordHasher().verify(user.password_hash, password)
    row = session.execute(
        text("SELECT * FROM user_account WHERE email = :email"), {"email": "hash@example.com"}
    ).one()
    assert all(password not in str(value) for value in row)


def test_authenticate_user_with_the_right_password(session: Session, clock: FakeClock) -> None:
    user = make_user(
        session, make_workspace(session), email="bob@example.com", password="bobs password"
    )
    assert user.last_login_at is None

    found = service.authenticate_user(session, " Bob@Example.com ", "bobs password")

    assert found.id == user.id
    assert found.last_login_at == T0


def test_wrong_password_and_unknown_email_give_the_same_error(session: Session) -> None:
    make_user(
        session, make_workspace(session), email="carol@example.com", password="carols password"
    )

    with pytest.raises(errors.InvalidCredentials) as wrong_password:
        service.authenticate_user(session, "carol@example.com", "not carols password")
    with pytest.raises(errors.InvalidCredentials) as unknown_email:
        service.authenticate_user(session, "nobody@example.com", "carols password")

    assert type(wrong_password.value) is type(unknown_email.value)
    assert wrong_password.value.detail == unknown_email.value.detail
    assert wrong_password.value.code == unknown_email.value.code == "invalid_credentials"


def test_inactive_user_is_refused_even_with_the_right_password(session: Session) -> None:
    user = make_user(
        session, make_workspace(session), email="dave@example.com", password="daves password"
    )
    user.is_active = False
    session.flush()

    with pytest.raises(errors.InvalidCredentials) as caught:
        service.authenticate_user(session, "dave@example.com", "daves password")

    with pytest.raises(errors.InvalidCredentials) as unknown:
        service.authenticate_user(session, "nobody@example.com", "daves password")
    assert caught.value.detail == unknown.value.detail
    assert user.last_login_at is None


def test_outdated_password_hash_is_upgraded_on_login(session: Session) -> None:
    user = make_user(
        session, make_workspace(session), email="erin@example.com", password="erins password"
    )
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    user.password_hash = weak.hash("erins password")
    session.flush()
    old_hash = user.password_hash

    service.authenticate_user(session, "erin@example.com", "erins password")

    assert user.password_hash != old_hash
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    assert PasswordHasher().verify(user.password_hash, "erins password")


def test_add_member_sets_then_changes_the_role(session: Session) -> None:
    workspace = make_workspace(session)
    user = service.create_user(session, "frank@example.com", "franks password", TEST_ACTOR)

    first = service.add_member(session, workspace, user, Role.VIEWER, TEST_ACTOR)
    assert first.role == Role.VIEWER

    second = service.add_member(session, workspace, user, Role.ADMIN, TEST_ACTOR)
    assert second.id == first.id
    memberships = session.scalars(
        select(Membership).where(Membership.workspace_id == workspace.id)
    ).all()
    assert [(m.user_id, m.role) for m in memberships] == [(user.id, Role.ADMIN)]

    events = audit_events(session, "member.role_set", workspace_id=workspace.id)
    assert sorted(e.details["role"] for e in events) == ["admin", "viewer"]
    assert {e.target_id for e in events} == {str(user.id)}


def test_list_members_of_one_workspace_sorted_by_email(session: Session) -> None:
    workspace = make_workspace(session)
    other = make_workspace(session)
    zoe = make_user(session, workspace, Role.OWNER, email="zoe@example.com")
    adam = make_user(session, workspace, Role.AGENT, email="adam@example.com")
    make_user(session, other, Role.ADMIN, email="outsider@example.com")

    rows = service.list_members(session, workspace.id)

    assert [(u.email, m.role) for m, u in rows] == [
        ("adam@example.com", Role.AGENT),
        ("zoe@example.com", Role.OWNER),
    ]
    assert [u.id for _m, u in rows] == [adam.id, zoe.id]
    assert all(m.workspace_id == workspace.id for m, _u in rows)


def test_a_user_may_belong_to_several_workspaces(session: Session) -> None:
    first = make_workspace(session)
    second = make_workspace(session)
    user = make_user(session, first, Role.ADMIN)
    service.add_member(session, second, user, Role.VIEWER, TEST_ACTOR)

    assert [m.role for m, _ in service.list_members(session, first.id)] == [Role.ADMIN]
    assert [m.role for m, _ in service.list_members(session, second.id)] == [Role.VIEWER]


# -- roles and scopes -----------------------------------------------------------------------

# Written out by hand so the test does not reuse the service's own ordering.
ROLE_AT_LEAST: dict[Role, set[Role]] = {
    Role.OWNER: {Role.OWNER, Role.ADMIN, Role.ANALYST, Role.AGENT, Role.VIEWER},
    Role.ADMIN: {Role.ADMIN, Role.ANALYST, Role.AGENT, Role.VIEWER},
    Role.ANALYST: {Role.ANALYST, Role.AGENT, Role.VIEWER},
    Role.AGENT: {Role.AGENT, Role.VIEWER},
    Role.VIEWER: {Role.VIEWER},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("minimum", list(Role))
def test_role_at_least_truth_table(role: Role, minimum: Role) -> None:
    assert service.role_at_least(role, minimum) is (minimum in ROLE_AT_LEAST[role])


SCOPE_ALLOWS: dict[Scope, set[Scope]] = {
    Scope.ADMIN: {Scope.ADMIN, Scope.READ, Scope.WRITE},
    Scope.READ: {Scope.READ},
    Scope.WRITE: {Scope.WRITE},
}


@pytest.mark.parametrize("scope", list(Scope))
@pytest.mark.parametrize("needed", list(Scope))
def test_scope_allows_truth_table(scope: Scope, needed: Scope) -> None:
    assert service.scope_allows(scope, needed) is (needed in SCOPE_ALLOWS[scope])


# -- audit log ------------------------------------------------------------------------------


def _record(session: Session, workspace: Workspace, n: int) -> AuditEvent:
    return service.record_audit(
        session, TEST_ACTOR, "test.event", workspace_id=workspace.id, details={"n": n}
    )


def test_record_audit_truncates_the_user_agent(session: Session) -> None:
    workspace = make_workspace(session)
    actor = Actor(kind="user", id="u", user_agent="x" * 1000)

    event = service.record_audit(session, actor, "test.ua", workspace_id=workspace.id)

    assert len(event.user_agent) == 400


def test_list_audit_is_newest_first(session: Session) -> None:
    workspace = make_workspace(session)
    created = [service.list_audit(session, workspace.id)[0]]  # workspace.created
    for n in range(4):
        time.sleep(0.003)  # entries in different milliseconds
        created.append(_record(session, workspace, n))

    listed = service.list_audit(session, workspace.id)

    assert [e.id for e in listed] == [e.id for e in reversed(created)]


def test_list_audit_is_newest_first_for_entries_made_in_quick_succession(
    session: Session,
) -> None:
    # Entries written within the same millisecond must keep their order too.
    workspace = make_workspace(session)
    created = [_record(session, workspace, n) for n in range(30)]

    listed = [e for e in service.list_audit(session, workspace.id) if e.action == "test.event"]

    assert [e.details["n"] for e in listed] == [e.details["n"] for e in reversed(created)]


def test_list_audit_pages_with_the_before_cursor(session: Session) -> None:
    workspace = make_workspace(session)
    for n in range(7):
        _record(session, workspace, n)
    everything = service.list_audit(session, workspace.id, limit=100)
    assert len(everything) == 8  # 7 + workspace.created

    pages: list[list[uuid.UUID]] = []
    before: uuid.UUID | None = None
    while True:
        page = service.list_audit(session, workspace.id, limit=3, before=before)
        if not page:
            break
        pages.append([e.id for e in page])
        before = page[-1].id
        assert len(pages) < 10, "pagination does not terminate"

    assert [len(p) for p in pages] == [3, 3, 2]
    flat = [i for p in pages for i in p]
    assert flat == [e.id for e in everything]
    assert flat == sorted(flat, reverse=True)
    assert len(set(flat)) == 8


def test_list_audit_only_shows_the_workspace_and_honours_limit(session: Session) -> None:
    workspace = make_workspace(session)
    other = make_workspace(session)
    for n in range(3):
        _record(session, workspace, n)
        _record(session, other, n)

    mine = service.list_audit(session, workspace.id)
    assert len(mine) == 4
    assert {e.workspace_id for e in mine} == {workspace.id}
    assert len(service.list_audit(session, workspace.id, limit=2)) == 2
