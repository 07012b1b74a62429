"""Triggers: an event in the event store invites its customer once, after the delay."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.analytics import events as store
from cxloop.config import Settings
from cxloop.core.time import utcnow
from cxloop.eventstore import service as eventstore
from cxloop.models import InvitationStatus, Scope, SurveyInvitation, Workspace
from cxloop.surveys import triggers
from cxloop.surveys.distribution.schemas import TriggerCreate
from tests.fixtures.events import ev
from tests.fixtures.factories import auth, make_customer, make_key, make_workspace
from tests.fixtures.mail import Clock, SmtpServer, run_due
from tests.fixtures.surveys import make_survey


def load(
    session: Session, workspace: Workspace, settings: Settings, rows: list[dict[str, Any]]
) -> None:
    """Put ``rows`` in the event store as one new file, as the loader does."""
    root = eventstore.events_root(settings)
    moment: datetime = rows[0]["timestamp"]
    path = eventstore.new_file_path(root, workspace.id, moment.date().replace(day=1))
    columns = {name: [row.get(name) for row in rows] for name in store.SCHEMA.names}
    stats = store.write_file(pa.table(columns, schema=store.SCHEMA), path)
    eventstore.register(session, workspace.id, root, stats)
    session.flush()


def invited(session: Session, survey_id: uuid.UUID) -> list[SurveyInvitation]:
    return list(
        session.scalars(select(SurveyInvitation).where(SurveyInvitation.survey_id == survey_id))
    )


def test_an_event_invites_its_customer_once_after_the_delay(
    session: Session, mail_settings: Settings, smtp: SmtpServer, clock: Clock
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, name="Delivery")
    trigger = triggers.create_trigger(
        session,
        workspace.id,
        survey.id,
        TriggerCreate(event="Order Delivered", where={"total": {"gte": 100}}, delay_minutes=120),
    )
    buyer = str(
        make_customer(session, workspace, email="buyer@example.com", traits={"language": "vi"})
    )
    cheap = str(make_customer(session, workspace, email="cheap@example.com"))
    clock.advance(minutes=1)
    delivered = ev(buyer, "Order Delivered", utcnow(), total=250)
    load(
        session,
        workspace,
        mail_settings,
        [
            delivered,
            ev(buyer, "Order Placed", utcnow(), total=250),
            ev(cheap, "Order Delivered", utcnow(), total=20),
        ],
    )
    clock.advance(minutes=1)

    assert triggers.evaluate(session, mail_settings) == 1
    assert triggers.evaluate(session, mail_settings) == 0  # read again: fires once
    load(session, workspace, mail_settings, [delivered])  # e.g. compacted into a new file
    assert triggers.evaluate(session, mail_settings) == 0
    (invitation,) = invited(session, survey.id)
    assert (invitation.source, invitation.trigger_id) == ("trigger", trigger.id)
    assert invitation.email == "buyer@example.com"
    assert invitation.send_at == delivered["timestamp"] + timedelta(minutes=120)

    run_due(session, mail_settings)
    assert smtp.inbox.messages == []  # not yet
    clock.advance(minutes=119)
    run_due(session, mail_settings)
    (message,) = smtp.inbox.messages
    assert message["To"] == "buyer@example.com"
    assert message["Subject"].endswith("mong nhận được ý kiến của bạn")


def test_history_does_not_fire(session: Session, mail_settings: Settings, clock: Clock) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    buyer = str(make_customer(session, workspace, email="buyer@example.com"))
    old = ev(buyer, "Order Delivered", utcnow() - timedelta(minutes=1))
    clock.advance(minutes=10)
    triggers.create_trigger(
        session, workspace.id, survey.id, TriggerCreate(event="Order Delivered")
    )
    load(session, workspace, mail_settings, [old])  # loaded now, received before the trigger
    clock.advance(minutes=1)
    assert triggers.evaluate(session, mail_settings) == 0


def test_a_triggered_invitation_respects_fatigue(
    session: Session, mail_settings: Settings, smtp: SmtpServer, clock: Clock
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    triggers.create_trigger(
        session, workspace.id, survey.id, TriggerCreate(event="Order Delivered")
    )
    buyer = str(make_customer(session, workspace, email="buyer@example.com"))
    clock.advance(minutes=1)
    load(
        session,
        workspace,
        mail_settings,
        [ev(buyer, "Order Delivered", utcnow()), ev(buyer, "Order Delivered", utcnow())],
    )
    clock.advance(minutes=1)
    assert triggers.evaluate(session, mail_settings) == 2
    run_due(session, mail_settings)
    statuses = sorted((i.status, i.skip_reason or "") for i in invited(session, survey.id))
    assert statuses == [
        (InvitationStatus.SENT, ""),
        (InvitationStatus.SKIPPED, "recently_contacted"),
    ]
    assert len(smtp.inbox.messages) == 1


def test_the_triggers_api(client: TestClient, session: Session) -> None:
    workspace = make_workspace(session)
    _, token = make_key(session, workspace, Scope.ADMIN)
    survey = make_survey(session, workspace)
    url = f"/api/v1/surveys/{survey.id}/triggers"
    made = client.post(
        url,
        json={"event": "Order Delivered", "where": {"shipping": "express"}, "delay_minutes": 60},
        headers=auth(token),
    )
    assert made.status_code == 201, made.text
    bad = client.post(
        url,
        json={"event": "Order Delivered", "where": {"total": {"about": 3}}},
        headers=auth(token),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["where", "total", "about"]
    assert [t["event"] for t in client.get(url, headers=auth(token)).json()["items"]] == [
        "Order Delivered"
    ]
    gone = client.delete(f"{url}/{made.json()['id']}", headers=auth(token))
    assert gone.status_code == 204
    assert client.get(url, headers=auth(token)).json()["items"] == []
