"""The text domain: analysis with the workspace's taxonomy, models, training and evaluation,
and the analyses stored for customers' survey answers, reviews and messages."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.errors import InvalidInput
from cxloop.core.time import utcnow
from cxloop.jobs import enqueue
from cxloop.models import TextAnalysis, TextSource
from cxloop.text import errors
from cxloop.text.analyzer import Analysis, Analyzer
from cxloop.text.classifier import TextClassifier
from cxloop.text.discovery import DiscoveredTheme, discover
from cxloop.text.taxonomy import DEFAULT_TAXONOMY, Taxonomy

DEFAULT_MODEL_DIR = Path(__file__).parent / "models" / "default"
_taxonomy_lock = threading.Lock()


@lru_cache(maxsize=8)
def _load(directory: str) -> TextClassifier:
    path = Path(directory)
    if not (path / "model.json").is_file():
        raise errors.ModelNotFound(f"no cxloop text model in {path}")
    return TextClassifier.load(path)


def load_model(directory: Path | None = None) -> TextClassifier:
    """A model read from ``directory`` (the shipped default when None), read once per process."""
    return _load(str((directory or DEFAULT_MODEL_DIR).resolve()))


def sentiment_model(settings: Settings) -> TextClassifier:
    return load_model(settings.text_model_dir)


@lru_cache(maxsize=8)
def _version(directory: str) -> str:
    path = Path(directory)
    digest = hashlib.sha256((path / "model.json").read_bytes()).hexdigest()[:12]
    return f"{path.name}-{digest}"


def model_version(settings: Settings) -> str:
    """The name and a digest of the sentiment model, stored with each analysis."""
    sentiment_model(settings)  # the same error as analysing when there is no model
    return _version(str((settings.text_model_dir or DEFAULT_MODEL_DIR).resolve()))


# -- taxonomy (a JSON file per workspace under DATA_DIR/text/taxonomy) -----------------------


def _taxonomy_path(settings: Settings, workspace_id: uuid.UUID) -> Path:
    return settings.data_dir / "text" / "taxonomy" / f"{workspace_id}.json"


def get_taxonomy(settings: Settings, workspace_id: uuid.UUID) -> Taxonomy:
    """The workspace's taxonomy, or the default one."""
    path = _taxonomy_path(settings, workspace_id)
    if not path.is_file():
        return DEFAULT_TAXONOMY
    try:
        return Taxonomy.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return DEFAULT_TAXONOMY


def set_taxonomy(settings: Settings, workspace_id: uuid.UUID, taxonomy: Taxonomy) -> Taxonomy:
    """Replace the workspace's taxonomy; analyses from now on use it."""
    ids = [theme.id for theme in taxonomy.themes]
    if len(ids) != len(set(ids)):
        raise InvalidInput("themes", "theme ids must be unique")
    path = _taxonomy_path(settings, workspace_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _taxonomy_lock:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(taxonomy.model_dump_json(indent=2), encoding="utf-8")
        temporary.replace(path)
    return taxonomy


def reset_taxonomy(settings: Settings, workspace_id: uuid.UUID) -> Taxonomy:
    _taxonomy_path(settings, workspace_id).unlink(missing_ok=True)
    return DEFAULT_TAXONOMY


# -- analysis -------------------------------------------------------------------------------


def analyze(settings: Settings, workspace_id: uuid.UUID, texts: Sequence[str]) -> list[Analysis]:
    """Language, sentiment, themes and aspect sentiment of each text."""
    if len(texts) > settings.text_max_batch:
        raise InvalidInput("texts", f"at most {settings.text_max_batch} texts per request")
    if not texts:
        return []
    analyzer = Analyzer(sentiment_model(settings), get_taxonomy(settings, workspace_id))
    return analyzer.analyze(texts)


def discover_themes(
    settings: Settings, workspace_id: uuid.UUID, texts: Sequence[str], max_themes: int
) -> list[DiscoveredTheme]:
    """Themes among the texts that match none of the workspace's themes."""
    if len(texts) > settings.text_max_batch * 20:
        raise InvalidInput("texts", f"at most {settings.text_max_batch * 20} texts per request")
    analyzer = Analyzer(sentiment_model(settings), get_taxonomy(settings, workspace_id))
    unthemed = [t for t in texts if not analyzer.matcher.find(t)]
    return discover(unthemed, max_themes=max_themes)


# -- stored analyses ------------------------------------------------------------------------

ANALYZE_JOB = "text.analyze_feedback"


def enqueue_analysis(
    session: Session,
    workspace_id: uuid.UUID,
    source_kind: TextSource,
    source_id: str,
    texts: Mapping[str, str],
    profile_id: uuid.UUID | None = None,
) -> None:
    """Have the texts of one source (``{field: text}``) analysed and stored in the background,
    in the caller's transaction. An empty text, or none, removes the field's analysis."""
    payload = {
        "workspace_id": str(workspace_id),
        "source_kind": source_kind.value,
        "source_id": source_id,
        "profile_id": None if profile_id is None else str(profile_id),
        "texts": dict(texts),
    }
    enqueue(session, ANALYZE_JOB, payload, workspace_id=workspace_id)


def store_analyses(
    session: Session,
    settings: Settings,
    workspace_id: uuid.UUID,
    source_kind: TextSource,
    source_id: str,
    texts: Mapping[str, str],
    profile_id: uuid.UUID | None = None,
) -> list[TextAnalysis]:
    """Analyse the texts of one source and store them, replacing what was stored for it:
    running it again with the same texts changes nothing but the analysis time."""
    wanted = {field: text.strip() for field, text in texts.items() if text and text.strip()}
    fields = sorted(wanted)
    found = analyze(settings, workspace_id, [wanted[f] for f in fields]) if fields else []
    stored = {
        row.field: row
        for row in session.scalars(
            select(TextAnalysis).where(
                TextAnalysis.workspace_id == workspace_id,
                TextAnalysis.source_kind == source_kind,
                TextAnalysis.source_id == source_id,
            )
        )
    }
    for field, row in stored.items():
        if field not in wanted:
            session.delete(row)
    version, now, rows = model_version(settings) if fields else "", utcnow(), []
    for field, analysis in zip(fields, found, strict=True):
        row = stored.get(field) or TextAnalysis(
            workspace_id=workspace_id, source_kind=source_kind, source_id=source_id, field=field
        )
        row.profile_id = profile_id or row.profile_id
        row.language, row.sentiment, row.score = (
            analysis.language,
            analysis.sentiment,
            analysis.score,
        )
        row.polarity, row.themes = analysis.polarity, list(analysis.themes)
        row.aspects = [asdict(aspect) for aspect in analysis.aspects]
        row.model_version, row.analysed_at = version, now
        if field not in stored:
            session.add(row)
        rows.append(row)
    session.flush()
    return rows


def link_profile(
    session: Session,
    workspace_id: uuid.UUID,
    source_kind: TextSource,
    source_ids: Sequence[str],
    profile_id: uuid.UUID,
) -> None:
    """Give the analyses of sources whose customer became known that customer."""
    if not source_ids:
        return
    session.execute(
        update(TextAnalysis)
        .where(
            TextAnalysis.workspace_id == workspace_id,
            TextAnalysis.source_kind == source_kind,
            TextAnalysis.source_id.in_(list(source_ids)),
        )
        .values(profile_id=profile_id)
        .execution_options(synchronize_session=False)
    )
