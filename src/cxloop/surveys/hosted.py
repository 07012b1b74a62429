"""The hosted survey page: which questions each step shows, the signed form token, the
language a respondent reads, and turning a posted form into a response.

The page works without JavaScript. Skip logic then runs on the server, one step at a time:
a step shows the questions whose conditions can be decided from the answers so far, and
every step is saved as a partial response under the same response key, so a customer who
leaves after the first question still counts. With JavaScript the follow-ups of a step are
shown in place and the form usually completes in one post.

The form token is signed (HMAC with a key derived from the server secret) and carries what
the server must not take from the form: the survey, the response key, the customer, the
source and the questions asked so far. It is the page's CSRF defence too: only a page this
server rendered can post, and a token only ever writes its own response.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.secret_key import derive
from cxloop.models import ResponseSource, Survey, SurveyResponse
from cxloop.profiles import service as profiles
from cxloop.surveys import definitions
from cxloop.surveys.schemas import SCORE_TYPES, Question, SurveyDefinition

TOKEN_LIFETIME_SECONDS = 2 * 86400
_PURPOSE = "cxloop.survey-form.v1"
LANGUAGE_TRAITS = ("language", "locale")


class TokenError(Exception):
    """A form token that was not made here, or is too old."""


@dataclass
class FormState:
    """What a rendered form promised: signed into its token, trusted when it comes back."""

    survey_id: uuid.UUID
    response_key: uuid.UUID
    language: str
    source: str
    asked: list[str] = field(default_factory=list)
    customer: dict[str, str] = field(default_factory=dict)
    touchpoint: str | None = None
    channel: str | None = None
    link_id: uuid.UUID | None = None
    issued: int = 0


def sign_state(state: FormState, settings: Settings) -> str:
    state.issued = int(time.time())
    body = orjson.dumps(
        {
            "s": str(state.survey_id),
            "r": str(state.response_key),
            "lg": state.language,
            "src": state.source,
            "a": state.asked,
            "c": state.customer,
            "tp": state.touchpoint,
            "ch": state.channel,
            "l": str(state.link_id) if state.link_id else None,
            "t": state.issued,
        }
    )
    return f"{_b64(body)}.{_b64(_mac(body, settings))}"


def read_state(token: str, settings: Settings, *, now: float | None = None) -> FormState:
    head, _, tail = token.partition(".")
    try:
        body, mac = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        raise TokenError("malformed") from None
    if not hmac.compare_digest(mac, _mac(body, settings)):
        raise TokenError("bad signature")
    data = orjson.loads(body)
    if (now or time.time()) - data["t"] > TOKEN_LIFETIME_SECONDS:
        raise TokenError("expired")
    return FormState(
        survey_id=uuid.UUID(data["s"]),
        response_key=uuid.UUID(data["r"]),
        language=data["lg"],
        source=data["src"],
        asked=list(data["a"]),
        customer=dict(data["c"]),
        touchpoint=data["tp"],
        channel=data["ch"],
        link_id=uuid.UUID(data["l"]) if data["l"] else None,
        issued=data["t"],
    )


def _mac(body: bytes, settings: Settings) -> bytes:
    return hmac.new(derive(settings, _PURPOSE), body, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if len(text) > 16_000:
        raise ValueError("too long")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- steps ------------------------------------------------------------------------------------


@dataclass
class Step:
    """The questions of one step: ``base`` ones always shown, ``follow_ups`` shown in
    place by the script when their conditions hold (without it they come next step)."""

    base: list[Question]
    follow_ups: list[Question]

    @property
    def is_empty(self) -> bool:
        return not self.base


def next_step(
    definition: SurveyDefinition, answers: Mapping[str, Any], asked: Sequence[str]
) -> Step:
    """The next step after the questions ``asked`` with these ``answers``."""
    resolved = set(asked)  # asked before, or skipped: their answers are final
    base: list[Question] = []
    for question in definition.questions:
        if question.id in resolved:
            continue
        if not {c.question for c in question.conditions} <= resolved:
            continue  # depends on an answer of this step: asked in place or next step
        if all(definitions.holds(c, answers) for c in question.conditions):
            base.append(question)
        else:
            resolved.add(question.id)
    known = resolved | {q.id for q in base}
    follow_ups: list[Question] = []
    for question in definition.questions:
        if question.id in known:
            continue
        if {c.question for c in question.conditions} <= known:
            follow_ups.append(question)
            known.add(question.id)
    return Step(base, follow_ups)


def parse_answers(
    questions: Sequence[Question], form: Mapping[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers to ``questions`` in a posted form, and an error key per bad field."""
    answers: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for question in questions:
        values = [v for v in form.get(f"a.{question.id}", []) if v.strip()]
        if question.type == "multiple_choice":
            if values:
                answers[question.id] = list(dict.fromkeys(values))
            continue
        if not values:
            continue
        value = values[0].strip()
        if question.type in SCORE_TYPES:
            try:
                answers[question.id] = int(value)
            except ValueError:
                problems[question.id] = "page.error.number"
        else:
            answers[question.id] = value
    return answers, problems


def required_missing(
    questions: Sequence[Question], answers: Mapping[str, Any], earlier: Mapping[str, Any]
) -> list[str]:
    """Required questions of a step left blank (those whose conditions hold)."""
    known = {**earlier, **answers}
    return [
        q.id
        for q in questions
        if q.is_required
        and q.id not in answers
        and all(definitions.holds(c, known) for c in q.conditions)
    ]


def stored_answers(
    session: Session, survey: Survey, response_key: uuid.UUID
) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.workspace_id == survey.workspace_id,
            SurveyResponse.survey_id == survey.id,
            SurveyResponse.response_key == response_key,
        )
    )


def source_of(name: str) -> ResponseSource:
    try:
        return ResponseSource(name)
    except ValueError:
        return ResponseSource.PAGE


# -- language ---------------------------------------------------------------------------------


def choose_language(
    offered: Sequence[str],
    default: str,
    *,
    asked: str | None = None,
    link: str | None = None,
    profile: str | None = None,
    accept_language: str | None = None,
) -> str:
    """The respondent's language: the one they picked on the page, then the link's, then
    their profile's, then their browser's; else the survey's default."""
    choices = list(offered) or [default]
    for candidate in (asked, link, _primary(profile)):
        if candidate in choices:
            return candidate
    for lang in accepted(accept_language):
        if lang in choices:
            return lang
    return default


def accepted(header: str | None) -> list[str]:
    """The primary languages of an Accept-Language header, most wanted first."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        lang = _primary(tag)
        if lang and quality > 0:
            ranked.append((-quality, i, lang))
    return [lang for *_, lang in sorted(ranked)]


def _primary(tag: str | None) -> str | None:
    if not tag:
        return None
    return tag.strip().replace("_", "-").split("-")[0].lower() or None


def profile_language(
    session: Session, workspace_id: uuid.UUID, customer: dict[str, str]
) -> str | None:
    """The language trait of the customer's profile, when cxloop knows them."""
    for kind in ("user_id", "email", "phone", *sorted(customer)):
        if kind not in customer:
            continue
        profile = profiles.find_profile(session, workspace_id, kind, customer[kind])
        if profile is not None:
            for trait in LANGUAGE_TRAITS:
                value = profile.traits.get(trait)
                if isinstance(value, str) and value:
                    return value
            return None
    return None


# -- spam -------------------------------------------------------------------------------------


class SubmissionLimiter:
    """At most ``per_minute`` form posts per address in one process (0: no limit)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        if self.per_minute <= 0:
            return True
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 50_000:
                self._seen.clear()
            tokens, stamp = self._seen.get(address, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - stamp) * rate)
            if tokens < 1:
                self._seen[address] = (tokens, now)
                return False
            self._seen[address] = (tokens - 1, now)
            return True
