"""Contact-fatigue rules: across surveys, per survey, and the suppression list."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.models import InvitationStatus, Scope
from cxloop.surveys import fatigue, widget
from cxloop.surveys.distribution import invitations, suppressions
from cxloop.surveys.distribution.schemas import DistributionUpdate, InvitationCreate
from tests.fixtures.factories import auth, make_customer, make_key, make_workspace
from tests.fixtures.mail import Clock, SmtpServer, run_due
from tests.fixtures.surveys import make_survey, respond


def test_one_survey_per_customer_per_window_across_surveys(session: Session, clock: Clock) -> None:
    workspace = make_workspace(session)
    first, second = make_survey(session, workspace), make_survey(session, workspace, name="2")
    profile = make_customer(session, workspace, user_id="u1", email="lan@example.com")
    by_email = {"email": "lan@example.com"}
    assert fatigue.allowed(session, workspace.id, second.id, by_email) == fatigue.ALLOWED

    fatigue.record_contact(session, workspace.id, first.id, {"profile_id": str(profile)}, "widget")
    # the same customer by another of their identifiers
    for who in (by_email, {"user_id": "u1"}, {"profile_id": str(profile)}):
        decision = fatigue.allowed(session, workspace.id, second.id, who)
        assert decision == fatigue.Decision(False, "recently_contacted")
    assert fatigue.allowed(session, workspace.id, second.id, {"email": "x@example.com"}).allowed

    assert not widget.eligible(session, workspace.id, second.id, by_email)  # the widget's hook
    clock.advance(days=31)
    assert fatigue.allowed(session, workspace.id, second.id, by_email).allowed
    clock.advance(days=-20)
    fatigue.set_policy(session, workspace.id, 0)
    assert fatigue.allowed(session, workspace.id, second.id, by_email).allowed


def test_a_customer_answers_a_survey_at_most_once_per_cooldown(
    session: Session, clock: Clock
) -> None:
    workspace = make_workspace(session)
    fatigue.set_policy(session, workspace.id, 0)
    survey = make_survey(session, workspace)
    respond(session, survey, customer={"email": "ann@example.com"})
    decision = fatigue.allowed(session, workspace.id, survey.id, {"email": "ann@example.com"})
    assert decision == fatigue.Decision(False, "recently_answered")
    other = make_survey(session, workspace, name="other")
    assert fatigue.allowed(session, workspace.id, other.id, {"email": "ann@example.com"}).allowed

    invitations.update_distribution(
        session, workspace.id, survey.id, DistributionUpdate(answer_cooldown_days=10)
    )
    clock.advance(days=11)
    assert fatigue.allowed(session, workspace.id, survey.id, {"email": "ann@example.com"}).allowed


def test_suppressed_customers_are_not_allowed(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    suppressions.add(session, workspace.id, "email", "Ann@Example.com", "manual")
    decision = fatigue.allowed(session, workspace.id, survey.id, {"email": "ann@example.com"})
    assert decision == fatigue.Decision(False, "unsubscribed")


def test_invitations_skip_with_the_reason_when_sent(
    client: TestClient,
    session: Session,
    mail_settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    workspace = make_workspace(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    assert (
        client.get("/api/v1/contact-policy", headers=auth(token)).json()["days_between_surveys"]
        == 30
    )
    first, second = make_survey(session, workspace), make_survey(session, workspace, name="2")
    body = InvitationCreate.model_validate({"customers": [{"email": "lan@example.com"}]})
    invitations.create_invitations(session, workspace.id, first.id, body, mail_settings)
    run_due(session, mail_settings)
    (late,) = invitations.create_invitations(
        session, workspace.id, second.id, body, mail_settings
    ).items
    run_due(session, mail_settings)
    session.refresh(late)
    assert (late.status, late.skip_reason) == (InvitationStatus.SKIPPED, "recently_contacted")
    assert len(smtp.inbox.messages) == 1

    changed = client.put(
        "/api/v1/contact-policy", json={"days_between_surveys": 0}, headers=auth(token)
    )
    assert changed.status_code == 200, changed.text
    invitations.create_invitations(session, workspace.id, second.id, body, mail_settings)
    run_due(session, mail_settings)
    assert len(smtp.inbox.messages) == 2
