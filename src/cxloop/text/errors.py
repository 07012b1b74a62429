"""Errors of the text domain."""

from __future__ import annotations

from cxloop.core.errors import BadRequest, NotFound


class BadModel(BadRequest):
    code = "bad_text_model"


class ModelNotFound(NotFound):
    code = "text_model_not_found"


class BadTable(BadRequest):
    """An input file cannot be read, or lacks a column."""

    code = "bad_text_table"
