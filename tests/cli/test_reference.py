"""docs/reference/ is generated from the code; this fails when someone forgets to regenerate."""

from pathlib import Path

import typer

from cxloop.cli.main import app
from cxloop.cli.reference import documents

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"


def test_reference_documents_match_the_code() -> None:
    for name, text in documents(typer.main.get_command(app)).items():
        on_disk = (REFERENCE / name).read_text(encoding="utf-8")
        assert on_disk == text, f"docs/reference/{name} is stale: run `cxloop reference --write`"


def test_the_cli_reference_names_every_command_group() -> None:
    text = (REFERENCE / "cli.md").read_text(encoding="utf-8")
    for command in [
        "cxloop serve",
        "cxloop worker",
        "cxloop workspace create",
        "cxloop key create",
        "cxloop key list",
        "cxloop key revoke",
        "cxloop user create",
        "cxloop db check",
        "cxloop jobs retry",
    ]:
        assert f"`{command}`" in text
