"""Every text the dashboard's code asks for exists in the catalogue: the keys written in the
modules, and those made from values (a KPI's definition, a unit, a sentiment, a source)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cxloop.analytics.feedback import Metric
from cxloop.analytics.kpis import PACKS
from cxloop.analytics.kpis import Interval as KpiInterval
from cxloop.analytics.kpis.definitions import Unit
from cxloop.core.i18n import LANGUAGES
from cxloop.dashboard.kpi_views import definition_of
from cxloop.models import TextSource
from cxloop.web.shell import NAVIGATION

SRC = Path(__file__).resolve().parents[2] / "src" / "cxloop"
LOCALES = SRC / "core" / "locales"
KEY_CALL = re.compile(r"""\b(?:t|translate)\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")


def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def test_keys_written_in_the_code_exist() -> None:
    keys = set(catalog("en"))
    used = {
        (path.relative_to(SRC), key)
        for folder in ("web", "dashboard")
        for path in (SRC / folder).rglob("*.py")
        for key in KEY_CALL.findall(path.read_text(encoding="utf-8"))
    }
    assert len(used) > 50
    missing = sorted(f"{path}: {key}" for path, key in used if key not in keys)
    assert missing == []


def made_keys() -> list[str]:
    every_kpi = {k.id for kpis in PACKS.values() for k in kpis}
    return [
        *(f"kpi.def.{kpi}" for kpi in sorted(every_kpi)),
        *(f"unit.{u.value}" for u in Unit if u != Unit.MONEY),
        *(f"unit.{u}" for u in ("days", "hours", "minutes")),
        *(f"source.{s.value}" for s in TextSource),
        *(f"sentiment.{label}" for label in ("positive", "negative", "neutral")),
        *(f"metric.{m.value}" for m in Metric),
        *(f"interval.{i.value}" for i in KpiInterval),
        *(f"kpis.trend.{trend}" for trend in ("better", "worse", "same")),
        *(item.label_key for item in NAVIGATION),
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_keys_made_from_values_exist(lang: str) -> None:
    texts = catalog(lang)
    missing = [key for key in made_keys() if key not in texts]
    assert missing == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_kpi_is_defined_in_its_packs_words(lang: str) -> None:
    """In English the definition is the one the KPI API gives, word for word; a pack that
    defines a KPI its own way (CAC of an app: per install) has its own text."""
    for pack, kpis in PACKS.items():
        for kpi in kpis:
            row = {"id": kpi.id, "pack": pack, "definition": "(none)"}
            text = definition_of(row, lang)
            assert text != "(none)", (pack, kpi.id)
            if lang == "en":
                assert text == kpi.definition, (pack, kpi.id)
