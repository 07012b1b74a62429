"""`python -m cxloop.cli` runs the `cxloop` command."""

from cxloop.cli.main import app

app()
