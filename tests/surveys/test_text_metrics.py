"""NPS next to what customers wrote: breakdowns by sentiment and theme, and drivers."""

from __future__ import annotations

from typing import Any

import pytest

from cxloop.core.db import transaction
from cxloop.models import TextAnalysis, TextSource
from tests.fixtures.ingest import Live
from tests.surveys.test_metrics import answer, get, record


def analysed(live: Live, response_id: str, sentiment: str, themes: list[str]) -> None:
    with transaction(live.factory) as session:
        session.add(
            TextAnalysis(
                workspace_id=live.workspace_id,
                source_kind=TextSource.SURVEY_RESPONSE,
                source_id=response_id,
                field="why",
                language="vi",
                sentiment=sentiment,
                score=0.9,
                themes=themes,
                aspects=[],
                model_version="test",
            )
        )


def responses(live: Live, prefix: str, scores: list[int], **kw: Any) -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(len(scores))]
    record(live, *[answer(r, nps=s, **kw) for r, s in zip(ids, scores, strict=True)])
    return ids


def test_breakdowns_by_sentiment_and_theme(live: Live) -> None:
    late = responses(live, "late", [2, 3, 10])
    rude = responses(live, "rude", [1])
    happy = responses(live, "happy", [10, 9])
    responses(live, "silent", [8, 7])
    for r in late:
        analysed(live, r, "negative", ["delivery"])
    analysed(live, rude[0], "negative", ["delivery", "staff"])
    for r in happy:
        analysed(live, r, "positive", ["staff"])

    themes = get(live, "nps", by="theme", min_n=1)
    assert themes["n"] == 8  # a response in two themes counts once in the whole
    groups = {g["key"]: (g["n"], g["promoters"], g["detractors"]) for g in themes["groups"]}
    assert groups == {"delivery": (4, 1, 3), "staff": (3, 2, 1), "(none)": (2, 0, 0)}

    sentiment = get(live, "nps", by="sentiment", interval="day")
    groups = {g["key"]: g["n"] for g in sentiment["groups"]}
    assert groups == {"negative": 4, "positive": 2, "(none)": 2}
    assert sum(b["n"] for b in sentiment["trend"]) == 8
    assert get(live, "nps", by="theme", interval="day")["trend"][0]["n"] == 8

    refused = live.api("/api/v1/metrics/nps/compare", by="theme", a="delivery", b="staff")
    assert refused.status_code == 422


def test_drivers_rank_the_theme_that_hurts_first(live: Live) -> None:
    slow = responses(live, "slow", [2] * 30 + [10] * 5 + [7] * 5, touchpoint="delivery")
    fine = responses(live, "fine", [10] * 40 + [2] * 5 + [8] * 15, touchpoint="checkout")
    for r in slow:
        analysed(live, r, "negative", ["delivery"])
    for r in fine[:50]:
        analysed(live, r, "positive", ["price"] if r.endswith("7") else [])

    body = get(live, "nps/drivers", survey_id="s1")
    first = body["items"][0]
    assert (first["kind"], first["key"]) == ("theme", "delivery")
    assert (first["n_with"], first["n_without"]) == (40, 50)
    assert first["effect"] < 0
    assert first["ci_high"] < 0
    assert first["p_value"] < 0.001
    assert first["significant"] is True
    assert first["small_sample"] is False
    assert first["sentence"].startswith("Responses mentioning delivery have NPS ")
    assert "points lower (95% CI " in first["sentence"]
    assert first["sentence"].endswith(", n=40)")
    touch = {d["key"]: d for d in body["items"] if d["kind"] == "touchpoint"}
    assert touch["delivery"]["effect"] == pytest.approx(-touch["checkout"]["effect"])
    assert (touch["checkout"]["n_with"], touch["checkout"]["n_without"]) == (60, 40)
    price = next(d for d in body["items"] if d["key"] == "price")
    assert price["small_sample"] is True
    effects = [abs(d["effect"]) for d in body["items"]]
    assert effects == sorted(effects, reverse=True)
    assert get(live, "nps/drivers", survey_id="none")["items"] == []
