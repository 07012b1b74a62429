"""The dependency direction of CONVENTIONS.md, checked by import-linter on every run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv(
        "PYTHONPATH", str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0


def test_no_function_level_imports_in_the_package() -> None:
    """A cycle means the direction is wrong; an import inside a function only hides it."""
    offenders = []
    for path in (ROOT / "src" / "cxloop").rglob("*.py"):
        if "migrations/versions" in str(path):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.lstrip()
            indented = len(line) > len(stripped)
            is_import = stripped.startswith("import ") or (
                stripped.startswith("from ") and " import " in stripped
            )
            if indented and is_import and "TYPE_CHECKING" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    assert offenders == []
