"""Modules loaded when first used, for heavy libraries only some commands need.

The application includes the text routes, and the command line names the server's modules
and the domains without importing them until a command needs them; importing scikit-learn,
SciPy and the embedding model with either would add a second and about 170 MiB to every
command and every server process, a bulk import's memory included, and building the command
line with every domain, the ORM and the stores would take another second. A module that needs
one of them (or a command that needs the server or a domain) names it at module level::

    if TYPE_CHECKING:
        from sklearn import linear_model
    else:
        linear_model = deferred("sklearn.linear_model")

and the library is imported on the first attribute read, once per process.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any


class _Deferred:
    __slots__ = ("_lock", "_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None
        self._lock = threading.Lock()

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            with self._lock:
                if self._module is None:
                    self._module = importlib.import_module(self._name)
                module = self._module
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<deferred module {self._name!r} ({state})>"


def deferred(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it on first use."""
    return _Deferred(name)
