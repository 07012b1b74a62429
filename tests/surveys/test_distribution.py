"""Email invitations and reminders through a real SMTP server, unsubscribing, suppressions."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.jobs.registry import JobContext, registry
from cxloop.models import (
    InvitationStatus,
    Job,
    Scope,
    Suppression,
    SurveyInvitation,
    Workspace,
)
from cxloop.surveys import links
from cxloop.surveys.distribution import invitations
from cxloop.surveys.distribution.schemas import InvitationCreate
from tests.conftest import QueryCounter
from tests.fixtures.factories import auth, make_customer, make_key, make_workspace
from tests.fixtures.mail import Clock, SmtpServer, run_due
from tests.fixtures.surveys import make_survey, respond

LINK = re.compile(r"https://cx\.shop\.example(/s/t/[A-Za-z0-9_.-]+)")
UNSUBSCRIBE = re.compile(r"https://cx\.shop\.example(/u/[A-Za-z0-9_.-]+)")


def shop(session: Session) -> Workspace:
    workspace = make_workspace(session)
    workspace.display_name = "Cửa hàng Hoa Sen"
    return workspace


def invite(
    session: Session, workspace: Workspace, survey_id: uuid.UUID, settings: Settings, **body: Any
) -> list[SurveyInvitation]:
    batch = invitations.create_invitations(
        session, workspace.id, survey_id, InvitationCreate.model_validate(body), settings
    )
    return batch.items


def body_text(message: Any) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_invitations_go_out_in_each_customers_language(
    session: Session, mail_settings: Settings, smtp: SmtpServer, clock: Clock
) -> None:
    workspace = shop(session)
    survey = make_survey(session, workspace, name="Giao hàng")
    make_customer(session, workspace, email="somchai@example.com", traits={"locale": "th-TH"})
    invite(
        session,
        workspace,
        survey.id,
        mail_settings,
        customers=[
            {"email": "lan@example.com", "language": "vi", "name": "Lan"},
            {"email": "somchai@example.com"},
            {"email": "ann@example.com"},
            {"user_id": "nobody-knows-my-email"},
        ],
    )

    assert run_due(session, mail_settings) == 3
    (vi,) = smtp.inbox.to("lan@example.com")
    (th,) = smtp.inbox.to("somchai@example.com")
    (en,) = smtp.inbox.to("ann@example.com")
    assert vi["Subject"] == "Cửa hàng Hoa Sen mong nhận được ý kiến của bạn"
    assert th["Subject"] == "Cửa hàng Hoa Sen อยากฟังความคิดเห็นของคุณ"
    assert en["Subject"] == "Cửa hàng Hoa Sen would like your feedback"
    assert "Xin chào Lan," in body_text(vi)
    assert "Trả lời khảo sát" in body_text(vi)
    assert "ตอบแบบสอบถาม" in body_text(th)
    html = th.get_body(("html",))
    assert html is not None
    assert "ตอบแบบสอบถาม" in html.get_content()
    for message in (vi, th, en):
        assert message["List-Unsubscribe"].startswith("<https://cx.shop.example/u/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    match = LINK.search(body_text(th))
    assert match is not None
    grant = links.read_link(session, match.group(1).removeprefix("/s/t/"), settings=mail_settings)
    assert grant.survey_id == survey.id
    assert grant.customer["email"] == "somchai@example.com"
    assert grant.language == "th"

    rows = session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.survey_id == survey.id)
    ).all()
    by_status = {(r.email, r.status, r.skip_reason) for r in rows}
    assert (None, InvitationStatus.SKIPPED, "no_email") in by_status
    sent = [r for r in rows if r.status == InvitationStatus.SENT]
    assert len(sent) == 3
    assert all(r.message_id and r.sent_at and r.deliveries == 1 for r in sent)
    assert {m["Message-ID"] for m in smtp.inbox.messages} == {r.message_id for r in sent}


def test_an_invitation_is_sent_at_most_once(
    session: Session, mail_settings: Settings, smtp: SmtpServer, clock: Clock
) -> None:
    workspace = shop(session)
    survey = make_survey(session, workspace)
    (invitation,) = invite(
        session, workspace, survey.id, mail_settings, customers=[{"email": "a@example.com"}]
    )
    job = session.scalar(select(Job).where(Job.name == "surveys.send_invitation"))
    assert job is not None
    run_due(session, mail_settings)
    handler = registry.get("surveys.send_invitation").handler

    # the same job run again (a duplicate, a retry by hand): nothing more is sent
    context = JobContext(session, job.id, job.name, 1, workspace.id, mail_settings)
    handler(context, dict(job.payload))
    assert len(smtp.inbox.messages) == 1

    # a second attempt of a run that never recorded its outcome does not send either
    (other,) = invite(session, workspace, make_survey(session, workspace).id, mail_settings,
                      customers=[{"email": "b@example.com"}])  # fmt: skip
    run_due(session, mail_settings, attempt=2)
    assert smtp.inbox.to("b@example.com") == []
    session.refresh(other)
    assert other.status == InvitationStatus.FAILED
    assert other.last_error is not None
    assert "not sent again" in other.last_error
    session.refresh(invitation)
    assert invitation.deliveries == 1


def test_a_failing_smtp_server_is_retried_with_backoff(
    session: Session, mail_settings: Settings, smtp: SmtpServer, clock: Clock
) -> None:
    workspace = shop(session)
    survey = make_survey(session, workspace)
    smtp.stop()
    (invitation,) = invite(
        session, workspace, survey.id, mail_settings, customers=[{"email": "a@example.com"}]
    )

    assert run_due(session, mail_settings) == 1
    session.refresh(invitation)
    assert (invitation.status, invitation.attempts) == (InvitationStatus.QUEUED, 1)
    assert invitation.last_error is not None
    assert "SMTP server" in invitation.last_error
    assert run_due(session, mail_settings) == 0  # backing off

    smtp.start()
    clock.advance(seconds=80)  # the first retry waits 60-75 s
    assert run_due(session, mail_settings) == 1
    session.refresh(invitation)
    assert (invitation.status, invitation.attempts) == (InvitationStatus.SENT, 0)
    assert len(smtp.inbox.to("a@example.com")) == 1


def test_a_refused_address_bounces_and_is_suppressed(
    session: Session, mail_settings: Settings, smtp: SmtpServer, clock: Clock
) -> None:
    workspace = shop(session)
    survey = make_survey(session, workspace)
    smtp.inbox.refuse.add("gone@example.com")
    (invitation,) = invite(
        session, workspace, survey.id, mail_settings, customers=[{"email": "gone@example.com"}]
    )
    run_due(session, mail_settings)
    session.refresh(invitation)
    assert invitation.status == InvitationStatus.BOUNCED
    reasons = session.scalars(
        select(Suppression.reason).where(Suppression.workspace_id == workspace.id)
    )
    assert list(reasons) == ["bounced"]


def test_reminders_go_only_to_customers_who_have_not_answered(
    client: TestClient, session: Session, mail_settings: Settings, smtp: SmtpServer, clock: Clock
) -> None:
    workspace = shop(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    survey = make_survey(session, workspace)
    put = client.put(
        f"/api/v1/surveys/{survey.id}/distribution",
        json={"reminder_after_days": 2, "max_reminders": 2},
        headers=auth(token),
    )
    assert put.status_code == 200, put.text
    by_link, by_api, silent = invite(
        session,
        workspace,
        survey.id,
        mail_settings,
        customers=[
            {"email": "link@example.com"},
            {"email": "api@example.com"},
            {"email": "quiet@example.com"},
        ],
    )
    run_due(session, mail_settings)
    assert len(smtp.inbox.messages) == 3

    assert by_link.link_id is not None
    links.mark_used(session, by_link.link_id)  # the hosted page completed its response
    respond(session, survey, customer={"email": "api@example.com"})
    clock.advance(days=2, minutes=1)
    run_due(session, mail_settings)

    reminders = [m for m in smtp.inbox.messages if m["Subject"].startswith("Reminder:")]
    assert [m["To"] for m in reminders] == ["quiet@example.com"]
    for row in (by_link, by_api, silent):
        session.refresh(row)
    assert by_link.status == by_api.status == InvitationStatus.ANSWERED
    assert (silent.status, silent.deliveries) == (InvitationStatus.SENT, 2)

    clock.advance(days=2, minutes=1)
    run_due(session, mail_settings)
    clock.advance(days=10)
    run_due(session, mail_settings)
    assert len(smtp.inbox.to("quiet@example.com")) == 3  # the invitation and two reminders

    listed = client.get(f"/api/v1/surveys/{survey.id}/invitations", headers=auth(token)).json()
    assert sorted(i["status"] for i in listed["items"]) == ["answered", "answered", "sent"]


def test_unsubscribing_suppresses_later_sends(
    client: TestClient, session: Session, mail_settings: Settings, smtp: SmtpServer, clock: Clock
) -> None:
    client.app.state.settings = mail_settings  # type: ignore[attr-defined]
    workspace = shop(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    survey = make_survey(session, workspace)
    invite(
        session,
        workspace,
        survey.id,
        mail_settings,
        customers=[{"email": "lan@example.com", "language": "vi"}],
    )
    run_due(session, mail_settings)
    (message,) = smtp.inbox.messages
    match = UNSUBSCRIBE.search(body_text(message))
    assert match is not None
    assert message["List-Unsubscribe"] == f"<https://cx.shop.example{match.group(1)}>"

    page = client.get(match.group(1))
    assert page.status_code == 200
    assert "Ngừng nhận khảo sát từ Cửa hàng Hoa Sen" in page.text
    assert client.get("/api/v1/suppressions", headers=auth(token)).json()["items"] == []

    # what a mail client's own button sends (RFC 8058)
    one_click = client.post(
        match.group(1),
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert "Cửa hàng Hoa Sen sẽ không gửi khảo sát đến lan@example.com nữa" in one_click.text
    assert client.post(match.group(1)).status_code == 200  # again: nothing changes

    listed = client.get("/api/v1/suppressions", headers=auth(token)).json()["items"]
    assert [(s["address"], s["reason"]) for s in listed] == [("lan@example.com", "unsubscribed")]
    other = make_survey(session, workspace, name="Another")
    (again,) = invite(
        session, workspace, other.id, mail_settings, customers=[{"email": "LAN@example.com"}]
    )
    assert (again.status, again.skip_reason) == (InvitationStatus.SKIPPED, "unsubscribed")

    removed = client.delete(f"/api/v1/suppressions/{listed[0]['id']}", headers=auth(token))
    assert removed.status_code == 204
    assert client.get("/u/not-a-token").status_code == 400


def test_suppressions_can_be_added_by_hand(client: TestClient, session: Session) -> None:
    workspace = make_workspace(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    added = client.post(
        "/api/v1/suppressions", json={"address": " Ann@Example.com "}, headers=auth(token)
    )
    assert added.status_code == 201, added.text
    assert (added.json()["address"], added.json()["reason"]) == ("ann@example.com", "manual")
    bad = client.post("/api/v1/suppressions", json={"address": "not-an-email"}, headers=auth(token))
    assert bad.status_code == 422


def test_the_api_invites_and_lists_with_a_fixed_number_of_queries(
    client: TestClient, session: Session, mail_settings: Settings, queries: QueryCounter
) -> None:
    client.app.state.settings = mail_settings  # type: ignore[attr-defined]
    workspace = make_workspace(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    survey = make_survey(session, workspace)
    url = f"/api/v1/surveys/{survey.id}/invitations"
    created = client.post(
        url, json={"customers": [{"email": "a@example.com"}]}, headers=auth(token)
    )
    assert created.status_code == 201, created.text
    assert created.json()["queued"] == 1

    def count() -> int:
        queries.statements.clear()
        assert client.get(url, headers=auth(token)).status_code == 200
        return queries.count

    few = count()
    for n in range(10):
        invite(
            session, workspace, survey.id, mail_settings, customers=[{"email": f"c{n}@example.com"}]
        )
    assert count() == few
    drafts = make_survey(session, workspace, status="draft")
    refused = client.post(
        f"/api/v1/surveys/{drafts.id}/invitations",
        json={"customers": [{"email": "a@example.com"}]},
        headers=auth(token),
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "survey_not_open"
