"""Personal survey links: signed, expiring, single use and revocable across processes."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core import secret_key
from cxloop.core.errors import InvalidInput
from cxloop.core.time import set_clock, utcnow
from cxloop.models import SurveyLink
from cxloop.surveys import errors, links
from tests.fixtures.factories import make_workspace
from tests.fixtures.surveys import make_survey

CUSTOMER = {"email": "lan@shop.vn", "user_id": "u-17"}


def test_a_link_grants_its_survey_to_its_customer(session: Session, settings: Settings) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    issued = links.issue_link(
        session,
        workspace.id,
        survey.id,
        customer=CUSTOMER,
        language="vi",
        touchpoint="post-delivery",
        settings=settings,
    )
    assert issued.path == f"/s/t/{issued.token}"
    assert "/" not in issued.token
    assert "+" not in issued.token
    assert abs(issued.expires_at - (utcnow() + links.DEFAULT_LIFETIME)) < timedelta(minutes=1)
    grant = links.read_link(session, issued.token, settings=settings)
    assert (grant.workspace_id, grant.survey_id, grant.link_id) == (
        workspace.id,
        survey.id,
        issued.link_id,
    )
    assert grant.customer == CUSTOMER
    assert (grant.channel, grant.language, grant.touchpoint) == ("email", "vi", "post-delivery")
    assert grant.response_key == issued.link_id


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "x" + t[1:],
        lambda t: t.split(".")[0],
        lambda t: "not a token",
        lambda t: "",
        lambda t: "%%%.%%%",
        lambda t: "A" * 500 + "." + "B" * 500,
    ],
)
def test_a_tampered_token_is_invalid(session: Session, settings: Settings, tamper: object) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    issued = links.issue_link(session, workspace.id, survey.id, customer=None, settings=settings)
    with pytest.raises(errors.LinkInvalid) as caught:
        links.read_link(session, tamper(issued.token), settings=settings)  # type: ignore[operator]
    assert caught.value.code == "link_invalid"


def test_another_servers_secret_does_not_sign_for_this_one(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    issued = links.issue_link(session, workspace.id, survey.id, customer=None, settings=settings)
    other = Settings(data_dir=tmp_path / "other", database_url=settings.database_url)
    with pytest.raises(errors.LinkInvalid):
        links.read_link(session, issued.token, settings=other)


def test_a_used_link_cannot_be_used_again(session: Session, settings: Settings) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    issued = links.issue_link(session, workspace.id, survey.id, customer=None, settings=settings)
    links.mark_used(session, issued.link_id)
    with pytest.raises(errors.LinkUsed) as caught:
        links.read_link(session, issued.token, settings=settings)
    assert caught.value.code == "link_used"
    with pytest.raises(errors.LinkUsed):
        links.mark_used(session, issued.link_id)


def test_an_expired_link_says_so(session: Session, settings: Settings) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    issued = links.issue_link(
        session,
        workspace.id,
        survey.id,
        customer=None,
        expires_at=utcnow() + timedelta(hours=1),
        settings=settings,
    )
    later = utcnow() + timedelta(hours=2)
    set_clock(lambda: later)
    try:
        with pytest.raises(errors.LinkExpired) as caught:
            links.read_link(session, issued.token, settings=settings)
    finally:
        set_clock(None)
    assert caught.value.code == "link_expired"


def test_a_revoked_link_is_refused(session: Session, settings: Settings) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    issued = links.issue_link(session, workspace.id, survey.id, customer=None, settings=settings)
    with pytest.raises(errors.LinkInvalid):
        links.revoke_link(session, make_workspace(session).id, issued.link_id)
    links.revoke_link(session, workspace.id, issued.link_id)
    with pytest.raises(errors.LinkRevoked) as caught:
        links.read_link(session, issued.token, settings=settings)
    assert caught.value.code == "link_revoked"
    with pytest.raises(errors.LinkRevoked):
        links.mark_used(session, issued.link_id)


def test_the_state_is_read_from_the_database_not_the_token(
    session: Session, settings: Settings
) -> None:
    """Another process marking the link used is seen at once: nothing is cached."""
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    issued = links.issue_link(session, workspace.id, survey.id, customer=None, settings=settings)
    session.expunge_all()
    row = session.get(SurveyLink, issued.link_id)
    assert row is not None
    row.used_at = utcnow()
    session.flush()
    session.expunge_all()
    with pytest.raises(errors.LinkUsed):
        links.read_link(session, issued.token, settings=settings)


def test_links_are_made_only_for_the_workspaces_own_surveys(
    session: Session, settings: Settings
) -> None:
    survey = make_survey(session, make_workspace(session))
    with pytest.raises(errors.SurveyNotFound):
        links.issue_link(
            session, make_workspace(session).id, survey.id, customer=None, settings=settings
        )


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("language", {"language": "fr"}),
        ("expires_at", {"expires_at": "past"}),
        ("channel", {"channel": ""}),
    ],
)
def test_bad_link_settings_name_the_field(
    session: Session, settings: Settings, field: str, kwargs: dict[str, object]
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    if kwargs.get("expires_at") == "past":
        kwargs = {"expires_at": utcnow() - timedelta(seconds=1)}
    with pytest.raises(InvalidInput) as caught:
        links.issue_link(
            session,
            workspace.id,
            survey.id,
            customer=None,
            settings=settings,
            **kwargs,  # type: ignore[arg-type]
        )
    assert caught.value.field == field


def test_the_secret_is_made_once_kept_private_and_shared(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "d")
    key = secret_key.server_secret(first)
    assert len(key) >= 32
    stored = tmp_path / "d" / secret_key.FILE_NAME
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    secret_key._cache.clear()
    assert secret_key.server_secret(Settings(data_dir=tmp_path / "d")) == key
    given = Settings(data_dir=tmp_path / "e", secret_key="s" * 40)  # type: ignore[arg-type]
    assert secret_key.server_secret(given) == b"s" * 40
    assert not (tmp_path / "e" / secret_key.FILE_NAME).exists()
    assert secret_key.derive(first, "a") != secret_key.derive(first, "b")
