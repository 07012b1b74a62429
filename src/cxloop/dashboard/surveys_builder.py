"""The survey builder's form: what it shows, reading it back, and its errors.

The builder is one HTML form whose field names are the paths of the surveys API, e.g.
``questions.2.title.th`` or ``questions.2.show_if.0.value``, so that a problem the surveys
service reports at ``["questions", 2, "show_if", 0, "value"]`` lands next to the field it
names. Without JavaScript the form still does everything: its buttons (add a question, move
one up, add a choice...) post the form back and the page comes back changed; the script
does the same in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from cxloop.core.i18n import translate
from cxloop.surveys import definitions
from cxloop.surveys.schemas import (
    CHOICE_TYPES,
    LANGUAGES,
    SCORE_TYPES,
    SurveyCreate,
    SurveyDefinition,
    SurveyUpdate,
)

Form = Mapping[str, list[str]]
Errors = dict[str, list[str]]
QUESTION_TYPES = ("nps", "csat", "ces", "rating", "single_choice", "multiple_choice", "text")
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "answered")
STAGES = (
    "awareness",
    "consideration",
    "purchase",
    "onboarding",
    "retention",
    "expansion",
    "advocacy",
)
MAX_QUESTIONS = 100
MAX_ROWS = 50  # choices of a question, conditions of a question
_SLUG = re.compile(r"[^a-z0-9]+")
OTHER = "builder.problem.other"  # a problem given in the service's words
ADDRESS = "dist.problem.address"  # a problem of one address among several


@dataclass
class ConditionRow:
    question: str = ""
    op: str = "eq"
    value: str = ""


@dataclass
class ChoiceRow:
    id: str = ""
    label: dict[str, str] = field(default_factory=dict)


@dataclass
class QuestionRow:
    id: str = ""
    type: str = "nps"
    required: str = ""  # "" (by type: scores are required), "yes" or "no"
    title: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    scale: str = ""
    style: str = ""
    max_length: str = ""
    choices: list[ChoiceRow] = field(default_factory=list)
    conditions: list[ConditionRow] = field(default_factory=list)

    @property
    def is_blank(self) -> bool:
        texts = [*self.title.values(), *self.description.values()]
        return not self.id and not any(t.strip() for t in texts) and not self.choices


@dataclass
class BuilderState:
    """Everything the builder shows: the survey's settings and its questions, as text."""

    name: str = ""
    touchpoint: str = ""
    stage: str = ""
    default_language: str = ""
    languages: list[str] = field(default_factory=list)
    response_limit: str = ""
    closes_at: str = ""  # datetime-local, in the workspace's time zone
    intro: dict[str, str] = field(default_factory=dict)
    thank_you: dict[str, str] = field(default_factory=dict)
    questions: list[QuestionRow] = field(default_factory=list)
    preview_language: str = "vi"


# -- from a survey ------------------------------------------------------------------------------


def state_of(
    survey: Mapping[str, Any], definition: SurveyDefinition, timezone: str
) -> BuilderState:
    """The builder's state for a stored survey (``survey_detail``'s fields)."""
    closes_at = survey.get("closes_at")
    return BuilderState(
        name=survey.get("name") or "",
        touchpoint=survey.get("touchpoint") or "",
        stage=survey.get("stage") or "",
        default_language=survey.get("default_language") or "",
        languages=list(survey.get("languages") or []),
        response_limit=str(survey["response_limit"]) if survey.get("response_limit") else "",
        closes_at=local_input(closes_at, timezone) if closes_at else "",
        intro={str(k): v for k, v in (definition.intro or {}).items()},
        thank_you={str(k): v for k, v in (definition.thank_you or {}).items()},
        questions=[_question_row(q.model_dump(mode="json")) for q in definition.questions],
        preview_language=survey.get("default_language") or "vi",
    )


def state_of_payload(payload: Mapping[str, Any], timezone: str) -> BuilderState:
    """The builder's state for a survey given as the API's JSON (a template)."""
    definition = SurveyDefinition.model_validate(
        {k: payload.get(k) for k in ("questions", "intro", "thank_you")}
    )
    return state_of(payload, definition, timezone)


def _question_row(data: Mapping[str, Any]) -> QuestionRow:
    show_if = data.get("show_if")
    conditions = show_if if isinstance(show_if, list) else [show_if] if show_if else []
    required = data.get("required")
    return QuestionRow(
        id=data["id"],
        type=data["type"],
        required="" if required is None else "yes" if required else "no",
        title=dict(data.get("title") or {}),
        description=dict(data.get("description") or {}),
        scale=str(data.get("scale") or ""),
        style=data.get("style") or "",
        max_length=str(data.get("max_length") or ""),
        choices=[ChoiceRow(c["id"], dict(c.get("label") or {})) for c in data.get("choices") or []],
        conditions=[
            ConditionRow(c["question"], c["op"], _value_text(c.get("value"))) for c in conditions
        ],
    )


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def local_input(moment: datetime, timezone: str) -> str:
    """A time as a ``datetime-local`` input shows it, in ``timezone``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(_zone(timezone)).strftime("%Y-%m-%dT%H:%M")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# -- from a posted form -------------------------------------------------------------------------


def read_form(form: Form) -> BuilderState:
    """The builder's state as posted; rows left wholly blank are dropped."""

    def one(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    def texts(prefix: str) -> dict[str, str]:
        return {lang: one(f"{prefix}.{lang}") for lang in LANGUAGES if one(f"{prefix}.{lang}")}

    questions = []
    for i in _indexes(form, "questions", MAX_QUESTIONS):
        at = f"questions.{i}"
        row = QuestionRow(
            id=one(f"{at}.id"),
            type=one(f"{at}.type") or "nps",
            required=one(f"{at}.required"),
            title=texts(f"{at}.title"),
            description=texts(f"{at}.description"),
            scale=one(f"{at}.scale"),
            style=one(f"{at}.style"),
            max_length=one(f"{at}.max_length"),
        )
        for j in _indexes(form, f"{at}.choices", MAX_ROWS):
            choice = ChoiceRow(one(f"{at}.choices.{j}.id"), texts(f"{at}.choices.{j}.label"))
            if choice.id or choice.label:
                row.choices.append(choice)
        for k in _indexes(form, f"{at}.show_if", MAX_ROWS):
            condition = ConditionRow(
                one(f"{at}.show_if.{k}.question"),
                one(f"{at}.show_if.{k}.op") or "eq",
                one(f"{at}.show_if.{k}.value"),
            )
            if condition.question:
                row.conditions.append(condition)
        if not row.is_blank:
            questions.append(row)
    # the preview's language buttons post their value after the form's own field
    preview = ((form.get("preview_language") or [""])[-1]).strip()
    return BuilderState(
        name=one("name"),
        touchpoint=one("touchpoint"),
        stage=one("stage"),
        default_language=one("default_language"),
        languages=[lang for lang in LANGUAGES if lang in (form.get("languages") or [])],
        response_limit=one("response_limit"),
        closes_at=one("closes_at"),
        intro=texts("intro"),
        thank_you=texts("thank_you"),
        questions=questions,
        preview_language=preview if preview in LANGUAGES else "vi",
    )


def _indexes(form: Form, prefix: str, limit: int) -> list[int]:
    """The row numbers posted under ``prefix`` (``prefix.<n>.…``), in order, at most ``limit``."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d{{1,4}})\.")
    found = {int(m.group(1)) for name in form if (m := pattern.match(name))}
    return sorted(found)[:limit]


def new_question(state: BuilderState) -> QuestionRow:
    """A blank question to add: NPS first, free text after; its id already given."""
    kind = "text" if state.questions else "nps"
    return QuestionRow(id=_free(kind, {q.id for q in state.questions}), type=kind)


def apply(state: BuilderState, op: str) -> bool:
    """Carry out a button of the form that changes only the form (``add_question``,
    ``remove_question:2``, ``up:2``, ``down:2``, ``add_choice:2``, ``add_condition:2``,
    ``remove_choice:2:0``, ``remove_condition:2:0``); False when ``op`` is none of them."""
    name, *args = op.split(":")
    if name == "add_question":
        if len(state.questions) < MAX_QUESTIONS:
            state.questions.append(new_question(state))
        return True
    numbers = [int(a) for a in args if a.isdigit() and len(a) < 5]
    if len(numbers) != len(args) or not numbers or numbers[0] >= len(state.questions):
        return False
    i, questions = numbers[0], state.questions
    question = questions[i]
    if name == "remove_question":
        del questions[i]
    elif name == "up":
        if i > 0:
            questions[i - 1], questions[i] = questions[i], questions[i - 1]
    elif name == "down":
        if i + 1 < len(questions):
            questions[i + 1], questions[i] = questions[i], questions[i + 1]
    elif name == "add_choice":
        if len(question.choices) < MAX_ROWS:
            question.choices.append(ChoiceRow())
    elif name == "add_condition":
        if len(question.conditions) < MAX_ROWS:
            question.conditions.append(ConditionRow())
    elif name in ("remove_choice", "remove_condition") and len(numbers) == 2:
        rows: list[Any] = question.choices if name == "remove_choice" else question.conditions
        if numbers[1] < len(rows):
            del rows[numbers[1]]
    else:
        return False
    return True


# -- to the surveys service ---------------------------------------------------------------------


def fill_ids(state: BuilderState) -> None:
    """Give questions and choices without an id one made from their type or label."""
    taken = {q.id for q in state.questions if q.id}
    for question in state.questions:
        if not question.id:
            question.id = _free(question.type, taken)
            taken.add(question.id)
        used = {c.id for c in question.choices if c.id}
        for j, choice in enumerate(question.choices, start=1):
            if not choice.id:
                base = _SLUG.sub("_", choice.label.get("en", "").lower()).strip("_")[:40]
                base = base if base[:1].isalpha() else f"choice_{j}"
                choice.id = _free(base, used)
                used.add(choice.id)


def _free(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def payload(state: BuilderState, timezone: str) -> tuple[dict[str, Any], Errors]:
    """The API's JSON for the state, and the errors of fields that cannot even be read
    (a close date that is no date)."""
    errors: Errors = {}
    closes_at: str | None = None
    if state.closes_at:
        try:
            moment = datetime.fromisoformat(state.closes_at)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=_zone(timezone))
            closes_at = moment.isoformat()
        except ValueError:
            errors["closes_at"] = ["builder.problem.date"]
    kinds = {q.id: q.type for q in state.questions}
    body: dict[str, Any] = {
        "name": state.name,
        "touchpoint": state.touchpoint or None,
        "stage": state.stage or None,
        "default_language": state.default_language or None,
        "languages": state.languages or None,
        "response_limit": state.response_limit or None,
        "closes_at": closes_at,
        "intro": state.intro or None,
        "thank_you": state.thank_you or None,
        "questions": [_question(q, kinds) for q in state.questions],
    }
    return body, errors


def _question(row: QuestionRow, kinds: Mapping[str, str]) -> dict[str, Any]:
    question: dict[str, Any] = {"id": row.id, "type": row.type, "title": row.title}
    if row.required:
        question["required"] = row.required == "yes"
    if row.description:
        question["description"] = row.description
    if row.type in CHOICE_TYPES:
        question["choices"] = [{"id": c.id, "label": c.label} for c in row.choices]
    if row.type == "rating":
        question["scale"] = row.scale or None
        question["style"] = row.style or None
    if row.type == "text" and row.max_length:
        question["max_length"] = row.max_length
    if row.conditions:
        question["show_if"] = [_condition(c, kinds) for c in row.conditions]
    return question


def _condition(row: ConditionRow, kinds: Mapping[str, str]) -> dict[str, Any]:
    condition: dict[str, Any] = {"question": row.question, "op": row.op}
    if row.op == "answered":
        return condition
    scored = kinds.get(row.question) in SCORE_TYPES

    def typed(text: str) -> int | str:
        return int(text) if scored and re.fullmatch(r"-?\d{1,6}", text) else text

    if row.op == "in":
        condition["value"] = [typed(v.strip()) for v in row.value.split(",") if v.strip()]
    elif row.value:
        condition["value"] = typed(row.value)
    return condition


def validate_create(body: Mapping[str, Any]) -> tuple[SurveyCreate | None, Errors]:
    """The body as a new draft, or the errors of its fields."""
    try:
        return SurveyCreate.model_validate({**body, "status": "draft"}), {}
    except ValidationError as exc:
        return None, validation_errors(exc)


def validate_update(body: Mapping[str, Any]) -> tuple[SurveyUpdate | None, Errors]:
    try:
        return SurveyUpdate.model_validate(body), {}
    except ValidationError as exc:
        return None, validation_errors(exc)


def validate_definition(body: Mapping[str, Any]) -> tuple[SurveyDefinition | None, Errors]:
    """Only the questions and texts (what the preview shows)."""
    wanted = {k: body.get(k) for k in ("questions", "intro", "thank_you")}
    try:
        return SurveyDefinition.model_validate(wanted), {}
    except ValidationError as exc:
        return None, validation_errors(exc)


def definition_problems(body: Mapping[str, Any]) -> Errors:
    """What saving would say of the questions alone: their fields, then the rules across
    them (unique ids, skip logic that names earlier questions, values that fit)."""
    definition, errors = validate_definition(body)
    if definition is None:
        return errors
    return problem_errors(definitions.check_definition(definitions.normalise(definition)))


def merged(*found: Errors) -> Errors:
    out: Errors = {}
    for errors in found:
        for name, keys in errors.items():
            out.setdefault(name, []).extend(k for k in keys if k not in out[name])
    return out


# -- errors -------------------------------------------------------------------------------------

# pydantic's error types -> the builder's message keys
_TYPES = {
    "missing": "builder.problem.required",
    "string_too_short": "builder.problem.required",
    "too_short": "builder.problem.too_few",
    "too_long": "builder.problem.too_many",
    "string_too_long": "builder.problem.too_long",
    "string_pattern_mismatch": "builder.problem.slug",
    "int_parsing": "builder.problem.number",
    "int_from_float": "builder.problem.number",
    "greater_than_equal": "builder.problem.at_least",
    "less_than_equal": "builder.problem.at_most",
    "literal_error": "builder.problem.choose",
    "enum": "builder.problem.choose",
    "datetime_from_date_parsing": "builder.problem.date",
    "datetime_parsing": "builder.problem.date",
}

# the surveys service's problems (English sentences) -> message keys, with their values
_PROBLEMS = [
    (r"needs a text in at least one of vi, th and en", "builder.problem.text_needed"),
    (r"give a text in at least one of vi, th and en", "builder.problem.text_needed"),
    (r"'(?P<id>[^']*)' is already the id of question (?P<n>\d+)", "builder.problem.duplicate"),
    (r"a \w+ question needs at least two choices", "builder.problem.two_choices"),
    (r"'(?P<id>[^']*)' is listed twice", "builder.problem.duplicate_choice"),
    (r"no question '(?P<id>[^']*)' in this survey", "builder.problem.no_question"),
    (r"a question cannot depend on its own answer", "builder.problem.self"),
    (r"'(?P<id>[^']*)' comes later", "builder.problem.later"),
    (r"'answered' takes no value", "builder.problem.no_value"),
    (r"'\w+' needs a value to compare with", "builder.problem.value_needed"),
    (r"'\w+' compares scores", "builder.problem.scores_only"),
    (r"'in' needs a non-empty list of values", "builder.problem.value_needed"),
    (r"'\w+' compares with one value", "builder.problem.one_value"),
    (
        r"'[^']*' is answered with a whole number from (?P<low>\d+) to (?P<high>\d+)",
        "builder.problem.range",
    ),
    (r"'(?P<value>[^']*)' is not a choice of", "builder.problem.not_a_choice"),
    (r"'[^']*' is answered with text", "builder.problem.text_answer"),
    (r"is in the past", "builder.problem.past"),
    (r"the survey already has (?P<n>\d+) responses", "builder.problem.limit"),
    (r"'(?P<lang>\w+)' is not among the languages", "builder.problem.default_language"),
    (r"a closed survey keeps the questions", "builder.problem.closed"),
    (r"'[^']*' was a (?P<type>\w+) question in version (?P<n>\d+)", "builder.problem.type_kept"),
    (r"'[^']*' was rated 1-(?P<high>\d+) in version (?P<n>\d+)", "builder.problem.scale_kept"),
    (r"only \w+ questions have", "builder.problem.not_for_type"),
]


def validation_errors(exc: ValidationError) -> Errors:
    errors: Errors = {}
    for error in exc.errors(include_url=False):
        if "Condition" in error["loc"]:
            continue  # the form always sends a list of conditions: not the single one
        context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
        key = _TYPES.get(error["type"], "builder.problem.invalid")
        message = key if not context else f"{key}|{_pack(context)}"
        errors.setdefault(path(error["loc"]), []).append(message)
    return errors


def problem_errors(problems: Sequence[tuple[Sequence[str | int], str]]) -> Errors:
    """The surveys service's problems by field, as message keys with their values."""
    errors: Errors = {}
    for loc, reason in problems:
        errors.setdefault(path(loc), []).append(problem_key(reason))
    return errors


def problem_key(reason: str) -> str:
    for pattern, key in _PROBLEMS:
        found = re.search(pattern, reason)
        if found:
            values = {k: v for k, v in found.groupdict().items() if v is not None}
            if key == "builder.problem.duplicate":  # the service counts questions from 0
                values["n"] = str(int(values["n"]) + 1)
            return f"{key}|{_pack(values)}" if values else key
    return f"{OTHER}|{_pack({'reason': reason})}"


def _pack(values: Mapping[str, str]) -> str:
    return "\x1f".join(f"{k}={v}" for k, v in values.items())


_ANCHORS = [
    re.compile(p)
    for p in (
        r"(name|touchpoint|stage|default_language|languages|response_limit|closes_at)",
        r"(intro|thank_you)(\.(vi|th|en))?",
        r"questions(\.\d+)?",
        r"questions\.\d+\.(id|type|required|scale|style|max_length|title|description)",
        r"questions\.\d+\.(title|description)\.(vi|th|en)",
        r"questions\.\d+\.(choices|show_if)(\.\d+)?",
        r"questions\.\d+\.choices\.\d+\.(id|label)",
        r"questions\.\d+\.choices\.\d+\.label\.(vi|th|en)",
        r"questions\.\d+\.show_if\.\d+\.(question|op|value)",
    )
]


def anchored(errors: Errors) -> Errors:
    """The errors moved to the field of the form that shows them: ``…show_if.0.value.1``
    (the second value listed) to ``…show_if.0.value``; ``_form`` when no field fits."""
    out: Errors = {}
    for name, keys in errors.items():
        parts = name.split(".")
        while parts and not any(p.fullmatch(".".join(parts)) for p in _ANCHORS):
            parts.pop()
        out.setdefault(".".join(parts) or "_form", []).extend(keys)
    return out


def path(loc: Sequence[str | int]) -> str:
    """A location as the name of the form field: union branches (``list[Condition]``) out."""
    parts = [str(p) for p in loc if isinstance(p, int) or _is_field(p)]
    return ".".join(parts)


def _is_field(part: str) -> bool:
    return bool(re.fullmatch(r"[a-z_][a-z0-9_]*", part)) and part not in ("int", "str", "none")


def message(key: str, lang: str) -> str:
    """One error in ``lang``: ``key`` and its values as :func:`problem_key` packed them."""
    name, _, packed = key.partition("|")
    values = dict(item.split("=", 1) for item in packed.split("\x1f") if "=" in item)
    if "reason" in values and values["reason"].startswith("builder.problem."):
        values["reason"] = message(values["reason"], lang)  # a problem about one of several
    if name == OTHER:  # a sentence of the service that no key names: shown as it is
        return values.get("reason", "")
    if name == ADDRESS:
        return f"{values.get('address', '')}: {values.get('reason', '')}"
    text = translate(name, lang)
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text


def localised(errors: Errors, lang: str) -> dict[str, list[str]]:
    return {name: [message(k, lang) for k in keys] for name, keys in errors.items()}
