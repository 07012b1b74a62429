"""Reviews and customers' messages sent as events are analysed once they are loaded."""

from __future__ import annotations

from sqlalchemy import select

from cxloop.core.db import transaction
from cxloop.models import Job, TextAnalysis, TextSource
from tests.fixtures.ingest import Live
from tests.text.test_tasks import run_text_jobs


def test_a_review_and_a_message_are_analysed_and_shown_in_the_360(live: Live) -> None:
    reply = live.send(
        "/v1/batch",
        {
            "batch": [
                {
                    "type": "track",
                    "userId": "r1",
                    "event": "Product Reviewed",
                    "messageId": "rv1",
                    "properties": {
                        "product_id": "p1",
                        "rating": 1,
                        "review_body": "giao hàng chậm quá, rất thất vọng",
                    },
                },
                {
                    "type": "track",
                    "userId": "r1",
                    "event": "Message Received",
                    "messageId": "mg1",
                    "properties": {"text": "The app keeps crashing at checkout, so annoying"},
                },
                {
                    "type": "track",
                    "userId": "r1",
                    "event": "Product Viewed",
                    "messageId": "pv1",
                    "properties": {"text": "not feedback"},
                },
                {
                    "type": "track",
                    "userId": "r1",
                    "event": "Product Reviewed",
                    "messageId": "rv2",
                    "properties": {"rating": 5},
                },
            ]
        },
    )
    assert reply.status_code == 200
    live.load()
    with transaction(live.factory) as session:
        queued = session.scalars(select(Job).where(Job.name == "text.analyze_feedback")).all()
        assert sorted(j.payload["source_id"] for j in queued) == ["mg1", "rv1"]
        assert run_text_jobs(session, live.settings) == 2
        found = {a.source_id: a for a in session.scalars(select(TextAnalysis))}
    assert found["rv1"].source_kind is TextSource.REVIEW
    assert found["rv1"].language == "vi"
    assert found["rv1"].sentiment == "negative"
    assert found["mg1"].source_kind is TextSource.MESSAGE
    assert found["mg1"].language == "en"
    customer = live.api("/api/v1/customers", user_id="r1").json()["items"][0]
    detail = live.api(f"/api/v1/customers/{customer['id']}").json()
    assert {a["source_id"] for a in detail["text_analyses"]} == {"rv1", "mg1"}

    live.load()  # loading again (nothing new) queues nothing more
    with transaction(live.factory) as session:
        assert (
            len(session.scalars(select(Job).where(Job.name == "text.analyze_feedback")).all()) == 2
        )
