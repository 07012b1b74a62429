"""Every API route, called with another workspace's key, reveals and changes nothing of the first.

The walk is driven by the app's own route table, so a new route is covered the day it is added;
a new path parameter must be given a value of workspace A below, or this test fails.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.accounts.service import record_audit
from cxloop.core.actors import Actor
from cxloop.jobs import enqueue
from cxloop.models import (
    ApiKey,
    Job,
    JobStatus,
    Journey,
    KpiSetting,
    MarketingSpend,
    Role,
    Scope,
    Suppression,
    Survey,
    SurveyDistribution,
    SurveyStatus,
    SurveyTrigger,
)
from cxloop.surveys.distribution import suppressions
from cxloop.surveys.distribution.schemas import TriggerCreate
from cxloop.surveys.triggers import create_trigger
from tests.fixtures.factories import auth, make_customer, make_key, make_user, make_workspace
from tests.fixtures.surveys import make_survey, respond

# Bodies that pass validation, so the handler itself runs for the foreign key too.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/keys"): {"scope": "read", "name": "walk"},
    ("POST", "/api/v1/members"): {"email": "walker@example.com", "password": "long enough pw"},
    ("PUT", "/api/v1/identity-rules"): {"merge_cap": 7},
    ("POST", "/api/v1/text/analyze"): {"texts": ["giao hàng chậm"]},
    ("POST", "/api/v1/text/themes/discover"): {"texts": ["walk"]},
    ("PUT", "/api/v1/text/taxonomy"): {"themes": []},
    ("POST", "/api/v1/surveys"): {
        "name": "walk survey",
        "questions": [{"id": "nps", "type": "nps", "title": {"en": "Recommend us?"}}],
    },
    ("PATCH", "/api/v1/surveys/{survey_id}"): {"touchpoint": "walk"},
    ("POST", "/api/v1/surveys/{survey_id}/status"): {"status": "active"},
    ("POST", "/api/v1/surveys/{survey_id}/responses"): {"answers": {"nps": 9}},
    ("PUT", "/api/v1/surveys/{survey_id}/page"): {"widget": {"url_contains": "/"}},
    ("POST", "/api/v1/surveys/{survey_id}/links"): {"customer": {"email": "a@b.vn"}},
    ("POST", "/api/v1/surveys/{survey_id}/invitations"): {"customers": [{"email": "w@b.vn"}]},
    ("PUT", "/api/v1/surveys/{survey_id}/distribution"): {"max_reminders": 2},
    ("POST", "/api/v1/surveys/{survey_id}/triggers"): {"event": "Walked"},
    ("POST", "/api/v1/suppressions"): {"address": "walker@b.vn"},
    ("PUT", "/api/v1/contact-policy"): {"days_between_surveys": 7},
    ("POST", "/api/v1/analytics/funnel"): {"steps": [{"event": "Order Completed"}]},
    ("POST", "/api/v1/analytics/retention"): {"period": "week"},
    ("POST", "/api/v1/analytics/churn"): {"inactive_days": 30},
    ("POST", "/api/v1/journeys"): {"template": "default", "name": "walk journey"},
    ("PUT", "/api/v1/journeys/{journey_id}"): {
        "name": "walk journey",
        "stages": [{"key": "walk", "name": {"en": "Walk"}, "entry": [{"type": "page"}]}],
    },
    ("POST", "/api/v1/analytics/paths"): {"anchor": {"event": "Order Completed"}},
    ("PUT", "/api/v1/kpis/settings"): {"pack": "saas"},
    ("POST", "/api/v1/marketing-spend"): {
        "rows": [{"date": "2026-11-01", "channel": "walk", "amount": "1", "currency": "VND"}]
    },
}


@pytest.fixture
def tenant_a(session: Session) -> dict[str, Any]:
    workspace = make_workspace(session, "tenant-a-private")
    _, admin_token = make_key(session, workspace, Scope.ADMIN, name="a-admin-key")
    spare, _ = make_key(session, workspace, Scope.READ, name="a-spare-key")
    user = make_user(session, workspace, Role.ANALYST, email="only-in-a@example.com")
    job = enqueue(session, "jobs.purge_finished", {"a": "secret"}, workspace_id=workspace.id)
    job.status = JobStatus.DEAD
    record_audit(session, Actor.system(), "a.private_action", workspace_id=workspace.id)
    customer = make_customer(session, workspace, email="secret-customer@example.com")
    survey = make_survey(session, workspace, name="a-private-survey")
    respond(session, survey, customer={"email": "secret-respondent@example.com"})
    draft = make_survey(session, workspace, name="a-private-draft", status="draft")
    trigger = create_trigger(
        session, workspace.id, survey.id, TriggerCreate(event="A Private Event")
    )
    suppression = suppressions.add(
        session, workspace.id, "email", "a-suppressed@example.com", "manual"
    )
    session.add(
        MarketingSpend(
            workspace_id=workspace.id,
            spent_on=date(2026, 11, 1),
            channel="a-private-channel",
            amount=Decimal("123.45"),
            currency="VND",
        )
    )
    session.add(
        KpiSetting(
            workspace_id=workspace.id, mapping={"purchase": [{"event": "a-private-purchase"}]}
        )
    )
    stage = {
        "key": "visit",
        "name": {"en": "Visit"},
        "entry": [{"type": "page"}],
        "touchpoints": [
            {"key": "a-private-touchpoint", "name": {"en": "Walk"}, "matchers": [{"type": "page"}]}
        ],
    }
    journey = Journey(workspace_id=workspace.id, name="a-private-journey", stages=[stage])
    doomed = Journey(workspace_id=workspace.id, name="a-doomed-journey", stages=[stage])
    session.add_all([journey, doomed])
    session.flush()
    return {
        "token": admin_token,
        "params": {
            "key_id": str(spare.id),
            "job_id": str(job.id),
            "customer_id": str(customer),
            "survey_id": str(survey.id),
            "version": "1",
            "trigger_id": str(trigger.id),
            "suppression_id": str(suppression.id),
            "journey_id": str(journey.id),
            "touchpoint_key": "a-private-touchpoint",
        },
        # a route whose outcome depends on the resource's state gets a resource of its own
        "route_params": {
            ("DELETE", "/api/v1/surveys/{survey_id}"): {"survey_id": str(draft.id)},
            ("DELETE", "/api/v1/journeys/{journey_id}"): {"journey_id": str(doomed.id)},
        },
        "secrets": [
            str(workspace.id),
            workspace.name,
            spare.prefix,
            str(user.id),
            user.email,
            str(job.id),
            "a-admin-key",
            "a-spare-key",
            "a.private_action",
            str(customer),
            "secret-customer@example.com",
            str(survey.id),
            "a-private-survey",
            "secret-respondent@example.com",
            str(draft.id),
            "a-private-draft",
            "A Private Event",
            "a-suppressed@example.com",
            "a-private-channel",
            "123.45",
            "a-private-purchase",
            str(journey.id),
            "a-private-journey",
        ],
        "spare": spare,
        "job": job,
        "survey": survey,
        "draft": draft,
        "trigger": trigger,
        "suppression": suppression,
    }


HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def api_routes(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path template, path parameters) of every documented API operation."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        params = re.findall(r"{(\w+)}", path)
        routes.extend((m.upper(), path, params) for m in sorted(operations) if m in HTTP_METHODS)
    return routes


def fill(path: str, names: list[str], tenant: dict[str, Any], method: str = "GET") -> str:
    params = {**tenant["params"], **tenant["route_params"].get((method, path), {})}
    for name in names:
        assert name in params, f"{path}: give tenant A a value for path parameter '{name}' here"
        path = path.replace("{" + name + "}", params[name])
    return path


def test_another_workspaces_key_sees_and_changes_nothing(
    app: FastAPI, client: TestClient, session: Session, tenant_a: dict[str, Any]
) -> None:
    workspace_b = make_workspace(session, "tenant-b")
    _, token_b = make_key(session, workspace_b, Scope.ADMIN)
    routes = api_routes(app)
    assert len(routes) >= 8

    for method, path, names in routes:
        url = fill(path, names, tenant_a, method)
        body = BODIES.get((method, path))
        response = client.request(method, url, headers=auth(token_b), json=body)
        text = response.text
        for secret in tenant_a["secrets"]:
            assert secret not in text, f"{method} {path} leaked {secret!r} to workspace B"
        if names:
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {text}"
            assert json.loads(text)["error"].endswith("not_found")
        else:
            assert response.status_code < 400, f"{method} {path}: {response.status_code} {text}"

    session.expire_all()
    spare = session.get(ApiKey, tenant_a["spare"].id)
    assert spare is not None
    assert spare.revoked_at is None, "B revoked A's key"
    job = session.get(Job, tenant_a["job"].id)
    assert job is not None
    assert job.status == JobStatus.DEAD, "B retried A's job"
    survey = session.get(Survey, tenant_a["survey"].id)
    assert survey is not None
    assert (survey.status, survey.touchpoint, survey.response_count) == (
        SurveyStatus.ACTIVE,
        None,
        1,
    ), "B changed A's survey"
    assert session.get(Survey, tenant_a["draft"].id) is not None, "B deleted A's draft"
    assert session.get(SurveyTrigger, tenant_a["trigger"].id) is not None, "B deleted A's trigger"
    assert session.get(Suppression, tenant_a["suppression"].id) is not None, "B unsuppressed A's"
    assert session.get(SurveyDistribution, tenant_a["survey"].id) is None, "B set A's reminders"


def test_the_owner_reaches_every_route_with_a_path_parameter(
    app: FastAPI, client: TestClient, tenant_a: dict[str, Any]
) -> None:
    """Guards the walk above: a 404 for B means something only if A gets the resource."""
    for method, path, names in api_routes(app):
        if not names:
            continue
        url = fill(path, names, tenant_a, method)
        response = client.request(
            method, url, headers=auth(tenant_a["token"]), json=BODIES.get((method, path))
        )
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )


def test_unknown_ids_are_404_like_foreign_ones(
    client: TestClient, tenant_a: dict[str, Any]
) -> None:
    missing = str(uuid.uuid4())
    for url in (f"/api/v1/jobs/{missing}", f"/api/v1/keys/{missing}"):
        method = "DELETE" if "/keys/" in url else "GET"
        response = client.request(method, url, headers=auth(tenant_a["token"]))
        assert response.status_code == 404, response.text
