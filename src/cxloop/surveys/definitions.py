"""The rules of survey definitions and of answers to them, free of the database.

:func:`check_definition` finds what the field-by-field validation of the schemas cannot see
(unique ids, conditions naming earlier questions, values that fit the question named, ids
that keep their meaning across versions); :func:`check_answers` checks a response against
one version, following its skip logic. Both return every problem with its path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cxloop.surveys.errors import Loc
from cxloop.surveys.schemas import (
    CHOICE_TYPES,
    SCORE_TYPES,
    Condition,
    Question,
    SurveyDefinition,
)

Problem = tuple[Loc, str]
DEFAULT_RATING_SCALE = 5
DEFAULT_TEXT_LENGTH = 2000
_ORDER_OPS = ("lt", "lte", "gt", "gte")


def normalise(definition: SurveyDefinition) -> SurveyDefinition:
    """The definition with every default spelled out, as it is stored: a version reads the
    same whatever the defaults become later."""
    questions = []
    for question in definition.questions:
        changes: dict[str, Any] = {"required": question.is_required}
        if question.type == "rating":
            changes["scale"] = question.scale or DEFAULT_RATING_SCALE
            changes["style"] = question.style or "stars"
        if question.type == "text":
            changes["max_length"] = question.max_length or DEFAULT_TEXT_LENGTH
        questions.append(question.model_copy(update=changes))
    return definition.model_copy(update={"questions": questions})


# -- definitions ------------------------------------------------------------------------------


def check_definition(
    definition: SurveyDefinition, earlier: Sequence[tuple[int, SurveyDefinition]] = ()
) -> list[Problem]:
    """Every problem of ``definition``; ``earlier`` are the survey's previous versions,
    whose question ids must keep their meaning."""
    problems: list[Problem] = []
    position = {q.id: i for i, q in reversed(list(enumerate(definition.questions)))}
    for i, question in enumerate(definition.questions):
        at: Loc = ["questions", i]
        if position[question.id] != i:
            problems.append(
                (
                    [*at, "id"],
                    f"{question.id!r} is already the id of question {position[question.id]}",
                )
            )
        if not question.title:
            problems.append(([*at, "title"], "needs a text in at least one of vi, th and en"))
        problems.extend(_check_options(question, at))
        for loc, condition in _located_conditions(question, at):
            problems.extend(_check_condition(definition, i, condition, loc))
        problems.extend(_check_history(question, at, earlier))
    for name in ("intro", "thank_you"):
        if getattr(definition, name) == {}:
            problems.append(
                ([name], "give a text in at least one of vi, th and en, or leave it out")
            )
    return problems


def _located_conditions(question: Question, at: Loc) -> list[tuple[Loc, Condition]]:
    if question.show_if is None:
        return []
    if isinstance(question.show_if, list):
        return [([*at, "show_if", k], c) for k, c in enumerate(question.show_if)]
    return [([*at, "show_if"], question.show_if)]


def _check_options(question: Question, at: Loc) -> list[Problem]:
    problems: list[Problem] = []
    kind = question.type
    if kind in CHOICE_TYPES:
        choices = question.choices or []
        if len(choices) < 2:
            problems.append(([*at, "choices"], f"a {kind} question needs at least two choices"))
        seen: set[str] = set()
        for j, choice in enumerate(choices):
            if choice.id in seen:
                problems.append(([*at, "choices", j, "id"], f"{choice.id!r} is listed twice"))
            seen.add(choice.id)
            if not choice.label:
                problems.append(
                    ([*at, "choices", j, "label"], "needs a text in at least one of vi, th and en")
                )
    elif question.choices is not None:
        problems.append(([*at, "choices"], f"only choice questions have choices, not {kind}"))
    for name, owner in (("scale", "rating"), ("style", "rating"), ("max_length", "text")):
        if getattr(question, name) is not None and kind != owner:
            problems.append(([*at, name], f"only {owner} questions have a {name}, not {kind}"))
    return problems


def _check_condition(
    definition: SurveyDefinition, index: int, condition: Condition, loc: Loc
) -> list[Problem]:
    questions = definition.questions
    target = next((j for j, q in enumerate(questions) if q.id == condition.question), None)
    if target is None:
        return [([*loc, "question"], f"no question {condition.question!r} in this survey")]
    if target == index:
        return [([*loc, "question"], "a question cannot depend on its own answer")]
    if target > index:
        return [
            (
                [*loc, "question"],
                f"{condition.question!r} comes later (question {target}); a condition may "
                "only look at earlier answers",
            )
        ]
    referred = questions[target]
    op, value = condition.op, condition.value
    if op == "answered":
        return [] if value is None else [([*loc, "value"], "'answered' takes no value")]
    if value is None:
        return [([*loc, "value"], f"{op!r} needs a value to compare with")]
    if op in _ORDER_OPS and referred.type not in SCORE_TYPES:
        return [
            (
                [*loc, "op"],
                f"{op!r} compares scores; {condition.question!r} is a {referred.type} question",
            )
        ]
    if op == "in":
        if not isinstance(value, list) or not value:
            return [([*loc, "value"], "'in' needs a non-empty list of values")]
        reasons = [_value_problem(referred, v) for v in value]
        return [([*loc, "value", k], r) for k, r in enumerate(reasons) if r is not None]
    if isinstance(value, list):
        return [([*loc, "value"], f"{op!r} compares with one value; use 'in' for a list")]
    reason = _value_problem(referred, value)
    return [] if reason is None else [([*loc, "value"], reason)]


def _value_problem(question: Question, value: int | str) -> str | None:
    """Why ``value`` can never be an answer to ``question``, or None when it can."""
    bounds = question.bounds()
    if bounds is not None:
        low, high = bounds
        if not _is_int(value) or not low <= int(value) <= high:
            return f"{question.id!r} is answered with a whole number from {low} to {high}"
        return None
    if question.type in CHOICE_TYPES:
        ids = [c.id for c in question.choices or []]
        if value not in ids:
            return f"{value!r} is not a choice of {question.id!r} ({', '.join(ids)})"
        return None
    return None if isinstance(value, str) else f"{question.id!r} is answered with text"


def _check_history(
    question: Question, at: Loc, earlier: Sequence[tuple[int, SurveyDefinition]]
) -> list[Problem]:
    for version, definition in earlier:
        before = definition.question(question.id)
        if before is None:
            continue
        if before.type != question.type:
            return [
                (
                    [*at, "type"],
                    f"{question.id!r} was a {before.type} question in version {version}; its "
                    "answers would change meaning, so give the new question a new id",
                )
            ]
        old, new = before.bounds(), question.bounds()
        if before.type == "rating" and old is not None and old != new:
            return [
                (
                    [*at, "scale"],
                    f"{question.id!r} was rated 1-{old[1]} in version {version}; "
                    "give a question with another scale a new id",
                )
            ]
    return []


# -- answers ----------------------------------------------------------------------------------


def is_answered(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != []


def holds(condition: Condition, answers: Mapping[str, Any]) -> bool:
    """Whether ``condition`` is true of the (already checked) ``answers``."""
    answer = answers.get(condition.question)
    if condition.op == "answered":
        return answer is not None
    if answer is None:
        return False
    value = condition.value
    if isinstance(answer, list):  # multiple choice: does the answer include the value?
        if condition.op == "in":
            return isinstance(value, list) and any(v in answer for v in value)
        if condition.op in ("eq", "ne"):
            return (value in answer) == (condition.op == "eq")
        return False
    match condition.op:
        case "eq":
            return bool(answer == value)
        case "ne":
            return bool(answer != value)
        case "in":
            return isinstance(value, list) and answer in value
    if not _is_int(answer) or not _is_int(value):
        return False
    a, v = int(answer), int(value)  # type: ignore[arg-type]
    return {"lt": a < v, "lte": a <= v, "gt": a > v, "gte": a >= v}[condition.op]


def describe(condition: Condition) -> str:
    if condition.op == "answered":
        return f"{condition.question!r} is answered"
    return f"{condition.question!r} {condition.op} {condition.value!r}"


def check_answers(
    definition: SurveyDefinition, version: int, answers: Mapping[str, Any], *, complete: bool
) -> tuple[dict[str, Any], list[Problem]]:
    """The answers as stored (in question order, blanks dropped) and every problem.

    A question hidden by its skip logic is not required, and answering it is an error. A
    partial response (``complete`` false) may leave required questions for later.
    """
    problems: list[Problem] = []
    for key in answers:
        if definition.question(key) is None:
            problems.append((["answers", key], f"no question {key!r} in version {version}"))
    given: dict[str, Any] = {}
    invalid: set[str] = set()
    for question in definition.questions:
        value = answers.get(question.id)
        conditions = question.conditions
        if any(c.question in invalid for c in conditions):
            continue  # shown or not depends on an answer that is itself wrong
        shown = all(holds(c, given) for c in conditions)
        answered = is_answered(value)
        if not shown:
            if answered:
                why = " and ".join(describe(c) for c in conditions)
                problems.append(
                    (["answers", question.id], f"not asked: shown only when {why}; leave it out")
                )
            continue
        if not answered:
            if complete and question.is_required:
                problems.append((["answers", question.id], "required"))
            continue
        clean, reason = _check_answer(question, value)
        if reason is not None:
            problems.append((["answers", question.id], reason))
            invalid.add(question.id)
        else:
            given[question.id] = clean
    return given, problems


def _check_answer(question: Question, value: Any) -> tuple[Any, str | None]:
    bounds = question.bounds()
    if bounds is not None:
        low, high = bounds
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_int(value) or not low <= value <= high:
            return None, f"must be a whole number from {low} to {high}"
        return value, None
    ids = [c.id for c in question.choices or []]
    if question.type == "single_choice":
        if value not in ids:
            return None, f"{_short(value)} is not one of the choices ({', '.join(ids)})"
        return value, None
    if question.type == "multiple_choice":
        if not isinstance(value, list):
            return None, "must be a list of choice ids"
        unknown = [v for v in value if v not in ids]
        if unknown:
            return None, f"{_short(unknown[0])} is not one of the choices ({', '.join(ids)})"
        if len(set(value)) != len(value):
            return None, "lists a choice twice"
        return value, None
    if not isinstance(value, str):
        return None, "must be text"
    text = value.strip()
    limit = question.max_length or DEFAULT_TEXT_LENGTH
    if len(text) > limit:
        return None, f"is {len(text)} characters long; the limit is {limit}"
    return text, None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
