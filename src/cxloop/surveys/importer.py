"""Import of historical survey responses from CSV.

One row is one response: columns for the customer's identifiers, ``submitted_at``,
``touchpoint``, ``channel``, ``language`` and one column per question id (``--map`` renames
columns). Rows are checked like responses sent to the API and recorded as ``Survey
Responded`` events, a chunk per transaction. A rejected row goes, with its line number and
reasons, to a file beside the input; the valid rows are kept. A row's response key is
derived from the survey and the row's content, so importing the same file again adds
nothing.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

import orjson
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from cxloop.core.db import transaction
from cxloop.core.errors import CxloopError, InvalidInput
from cxloop.ingest import service as ingest
from cxloop.models import ResponseSource
from cxloop.surveys import errors, service
from cxloop.surveys.definitions import Problem
from cxloop.surveys.schemas import SCORE_TYPES, ResponseCreate, SurveyDefinition

FIELDS = ("submitted_at", "started_at", "touchpoint", "channel", "language", "response_id")
# columns named like these are the customer's identifiers without a mapping
IDENTIFIER_COLUMNS = ("email", "phone", "user_id", "anonymous_id", "line_id", "zalo_id")
SKIP = "-"
_KEY_NAMESPACE = uuid.UUID("0f5bd0e4-8c5b-4d43-a4f1-6f2b8e2d7c31")


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_path: Path | None = None


@dataclass
class Columns:
    """What each column of the file holds: (``field``|``customer``|``answer``, name)."""

    targets: dict[str, tuple[str, str]] = field(default_factory=dict)


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``COLUMN=FIELD`` pairs: a field, ``customer.KIND``, ``answers.QUESTION``, a question
    id, or ``-`` to leave the column out."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, target = item.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise InvalidInput("map", f"{item!r} is not COLUMN=FIELD (e.g. score=nps)")
        mapping[column.strip()] = target.strip()
    return mapping


def plan_columns(
    header: list[str], mapping: dict[str, str], definition: SurveyDefinition, version: int
) -> Columns:
    """Decide what each column holds; a column that is nothing known is an error, so that
    no answer is dropped without anyone noticing."""
    columns = Columns()
    for column in header:
        target = mapping.get(column, column)
        if target == SKIP:
            continue
        head, _, rest = target.partition(".")
        if target in FIELDS:
            columns.targets[column] = ("field", target)
        elif target in IDENTIFIER_COLUMNS or (head == "customer" and rest):
            columns.targets[column] = ("customer", rest if head == "customer" else target)
        elif definition.question(rest if head == "answers" else target) is not None:
            columns.targets[column] = ("answer", rest if head == "answers" else target)
        else:
            raise InvalidInput(
                "map",
                f"column {column!r} is neither a question of version {version} nor one of "
                f"{', '.join(FIELDS + IDENTIFIER_COLUMNS)}; map it with --map "
                f"'{column}=FIELD' (customer.KIND, a question id) or --map '{column}=-'",
            )
    return columns


def row_payload(
    columns: Columns, cells: dict[str, str], definition: SurveyDefinition
) -> tuple[ResponseCreate | None, list[Problem]]:
    """A row as a response; cells are text, so scores become numbers and a multiple
    choice is split on ``;`` or ``|``."""
    body: dict[str, Any] = {"customer": {}, "answers": {}}
    problems: list[Problem] = []
    for column, (kind, name) in columns.targets.items():
        text = (cells.get(column) or "").strip()
        if not text:
            continue
        if kind == "field":
            body[name] = text.lower() if name in ("channel", "language") else text
        elif kind == "customer":
            body["customer"][name] = text
        else:
            value, reason = _cell_answer(definition, name, text)
            if reason is not None:
                problems.append((["answers", name], reason))
            body["answers"][name] = value
    try:
        return ResponseCreate.model_validate(body), problems
    except ValidationError as exc:
        problems += [(list(e["loc"]), e["msg"]) for e in exc.errors()]
        return None, problems


def _cell_answer(
    definition: SurveyDefinition, question_id: str, text: str
) -> tuple[Any, str | None]:
    question = definition.question(question_id)
    kind = question.type if question is not None else "text"
    if kind in SCORE_TYPES:
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return None, f"{text[:40]!r} is not a number"
        return (int(number), None) if number.is_integer() else (None, f"{text!r} is not whole")
    if kind == "multiple_choice":
        return [part.strip() for part in text.replace("|", ";").split(";") if part.strip()], None
    return text, None


def response_key(survey_id: uuid.UUID, cells: dict[str, str]) -> uuid.UUID:
    """The same row of the same survey always gets the same key."""
    content = orjson.dumps(cells, option=orjson.OPT_SORT_KEYS).decode()
    return uuid.uuid5(_KEY_NAMESPACE, f"{survey_id}\n{content}")


def read_rows(handle: BinaryIO) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and the rows of a CSV file with their line numbers."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    header = [name for name in (reader.fieldnames or []) if name]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for record in reader:
            cells = {k: v for k, v in record.items() if k and isinstance(v, str)}
            yield reader.line_num, cells
        text.detach()

    return header, rows()


@dataclass
class Rejection:
    line: int
    cells: dict[str, str]
    problems: list[Problem]


@dataclass
class ChunkResult:
    imported: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def import_rows(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    version: int,
    columns: Columns,
    rows: list[tuple[int, dict[str, str]]],
) -> ChunkResult:
    """Store the valid rows of ``rows`` as responses and record their events in one go;
    each row is tried in a savepoint, so a bad one loses nothing else."""
    survey = service.get_survey(session, workspace_id, survey_id)
    definition = service.definition_of(
        service.get_version(session, workspace_id, survey_id, version)
    )
    result = ChunkResult()
    messages: list[dict[str, Any]] = []
    for line, cells in rows:
        payload, problems = row_payload(columns, cells, definition)
        if payload is None or problems:
            result.rejected.append(Rejection(line, cells, problems))
            continue
        payload.version = payload.version or version
        try:
            with session.begin_nested():
                prepared = service.prepare_response(
                    session,
                    survey,
                    payload,
                    source=ResponseSource.IMPORT,
                    response_key=response_key(survey.id, cells),
                    historical=True,
                )
        except errors.Problems as exc:
            result.rejected.append(Rejection(line, cells, exc.problems))
            continue
        except CxloopError as exc:
            result.rejected.append(Rejection(line, cells, [([], exc.detail)]))
            continue
        if prepared.message is None:
            result.duplicates += 1
        else:
            messages.append(prepared.message)
            result.imported += 1
    if messages:
        ingest.record(session, workspace_id, messages)
    return result


def run(
    factory: sessionmaker[Session],
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    handle: BinaryIO,
    *,
    mapping: dict[str, str],
    rejected_path: Path,
    version: int | None = None,
    chunk_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the responses of a CSV file, one transaction per ``chunk_size`` rows;
    rejected rows go to ``rejected_path`` with their line number and reasons."""
    with transaction(factory) as session:
        survey = service.get_survey(session, workspace_id, survey_id)
        number = version or survey.current_version
        definition = service.definition_of(
            service.get_version(session, workspace_id, survey_id, number)
        )
    header, rows = read_rows(handle)
    columns = plan_columns(header, mapping, definition, number)
    report = ImportReport(rejected_path=rejected_path)
    with _RejectedFile(rejected_path) as rejected:
        chunk: list[tuple[int, dict[str, str]]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_size:
                _load(factory, workspace_id, survey_id, number, columns, chunk, report, rejected)
                chunk = []
                if progress is not None:
                    progress(report.rows)
        if chunk:
            _load(factory, workspace_id, survey_id, number, columns, chunk, report, rejected)
    if progress is not None:
        progress(report.rows)
    if report.rejected == 0:
        report.rejected_path = None
    return report


def _load(
    factory: sessionmaker[Session],
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    version: int,
    columns: Columns,
    chunk: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    rejected: _RejectedFile,
) -> None:
    with transaction(factory) as session:
        result = import_rows(session, workspace_id, survey_id, version, columns, chunk)
    report.rows += len(chunk)
    report.imported += result.imported
    report.duplicates += result.duplicates
    report.rejected += len(result.rejected)
    for rejection in result.rejected:
        rejected.write(rejection)


class _RejectedFile:
    """JSON lines of the rejected rows, opened when the first one comes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> _RejectedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()

    def write(self, rejection: Rejection) -> None:
        if self.handle is None:
            self.handle = self.path.open("wb")
        entry = {
            "line": rejection.line,
            "errors": [{"loc": loc, "msg": msg} for loc, msg in rejection.problems],
            "error": "; ".join(
                f"{'.'.join(map(str, loc))}: {msg}" if loc else msg
                for loc, msg in rejection.problems
            ),
            "row": rejection.cells,
        }
        self.handle.write(orjson.dumps(entry) + b"\n")
