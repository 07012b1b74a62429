"""Fixtures of the text tests: the shipped model is read once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxloop.text.classifier import TextClassifier
from cxloop.text.service import load_model

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def default_model() -> TextClassifier:
    return load_model()


def shared_data(folder: str) -> Path:
    """A folder of the shared data sets, or a skip saying where it was looked for."""
    path = (DATA / folder).resolve()
    if not path.is_dir():
        pytest.skip(f"shared data {path} is absent (see the data README); skipping")
    return path
