"""The hosted page's fast path: a plain route, submissions awaiting the group committer,
survey rows kept for a few seconds, pages rendered once."""

from __future__ import annotations

import asyncio
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cxloop.core.groupcommit import GroupCommitter
from cxloop.models import SurveyResponse, SurveyStatus, Workspace
from cxloop.surveys import service
from cxloop.surveys.schemas import ResponseCreate
from tests.fixtures.factories import TEST_ACTOR, make_workspace
from tests.fixtures.surveys import make_survey

HTML = {"accept": "text/html"}


def token_of(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def test_an_address_that_is_no_survey_id_gets_the_invalid_link_page(client: TestClient) -> None:
    page = client.get("/s/not-a-survey", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<form" not in page.text
    assert client.get("/s/assets/survey.js").status_code == 200  # other /s/ routes still answer


def test_each_visitor_gets_their_own_signed_state_in_an_otherwise_kept_page(
    client: TestClient, session: Session
) -> None:
    survey = make_survey(session, make_workspace(session))
    first = client.get(f"/s/{survey.id}?lang=vi", headers=HTML).text
    second = client.get(f"/s/{survey.id}?lang=vi", headers=HTML).text
    english = client.get(f"/s/{survey.id}?lang=en", headers=HTML).text
    assert token_of(first) != token_of(second)
    assert first.replace(token_of(first), "") == second.replace(token_of(second), "")
    assert '<html lang="en">' in english
    for page, score in ((first, "3"), (second, "10")):
        done = client.post(
            f"/s/{survey.id}", data={"token": token_of(page), "a.nps": score}, headers=HTML
        )
        assert done.status_code == 200, done.text
    # a step with a problem is not mixed up with the clean one
    bad = client.post(f"/s/{survey.id}", data={"token": token_of(first), "a.nps": "12"})
    assert bad.status_code == 422
    assert "\x00" not in bad.text
    scores = sorted(
        r.answers["nps"]
        for r in session.scalars(
            select(SurveyResponse).where(SurveyResponse.survey_id == survey.id)
        )
    )
    assert scores == [3, 10]


def test_a_page_may_show_a_paused_survey_a_moment_longer_but_takes_no_answer(
    app: object, client: TestClient, session: Session
) -> None:
    app.state.settings.survey_page_cache_seconds = 60  # type: ignore[attr-defined]
    survey = make_survey(session, make_workspace(session))
    page = client.get(f"/s/{survey.id}", headers=HTML)
    service.change_status(session, survey.workspace_id, survey.id, SurveyStatus.PAUSED, TEST_ACTOR)
    again = client.get(f"/s/{survey.id}", headers=HTML)
    assert again.status_code == 200  # kept: the pause shows within the cache's time
    posted = client.post(
        f"/s/{survey.id}", data={"token": token_of(page.text), "a.nps": "9"}, headers=HTML
    )
    assert posted.status_code == 410  # the writer reads the stored status
    assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


def test_submissions_awaited_from_an_event_loop_share_commits(
    committing: sessionmaker[Session],
) -> None:
    with committing() as setup:
        workspace = make_workspace(setup)
        survey = make_survey(setup, workspace)
        setup.commit()
        workspace_id, survey_id = workspace.id, survey.id
    committer = GroupCommitter(committing)

    async def answer_all() -> list[object]:
        items = [
            service.Submission(workspace_id, survey_id, ResponseCreate(answers={"nps": n % 11}))
            for n in range(40)
        ]
        return await asyncio.gather(
            *(committer.run_batched_async(service.submit_many, i) for i in items)
        )

    results = asyncio.run(answer_all())
    committer.stop()
    assert len(results) == 40
    assert committer.changes == 40
    assert committer.batches < 40  # they waited together
    with committing() as check:
        assert check.scalar(select(func.count()).select_from(SurveyResponse)) == 40
        assert check.get(Workspace, workspace_id) is not None
