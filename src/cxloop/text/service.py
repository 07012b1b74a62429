"""The text domain: analysis with the workspace's taxonomy, models, training and evaluation."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from cxloop.config import Settings
from cxloop.core.errors import InvalidInput
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
