"""How a KPI's value reads on its tile, in each unit and language."""

from __future__ import annotations

import pytest

from cxloop.dashboard.kpi_views import arrow_of, trend_of, value_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.3969, "1.40"),
        (0.5, "0.50"),
        (0.1, "0.10"),
        (0.04, "0.040"),
        (0.0011, "0.0011"),
        (-0.0011, "\u22120.0011"),
        (0.000000042, "0.000000"),  # six decimals at most
        (0.0, "0.00"),
    ],
)
def test_a_small_ratio_keeps_two_significant_digits(value: float, text: str) -> None:
    assert value_text(value, "number", "USD", "en") == text


def test_units_and_languages() -> None:
    assert value_text(0.0011, "number", "USD", "vi") == "0,0011"
    assert value_text(0.252, "share", "USD", "th") == "25.2 %"
    assert value_text(27.4001, "money", "USD", "en") == "27.40 USD"
    assert value_text(27400.5, "money", "VND", "vi") == "27.400 VND"
    assert value_text(1234, "count", "USD", "en") == "1,234"
    assert value_text(None, "number", "USD", "en") == "\u2013"


@pytest.mark.parametrize(
    ("change", "higher_is_better", "arrow", "trend"),
    [
        (0.10, True, "\u25b2", "better"),
        (-0.25, False, "\u25bc", "better"),  # cart abandonment down: better, and down
        (0.05, False, "\u25b2", "worse"),
        (-0.05, True, "\u25bc", "worse"),
        (0.0, True, "", "same"),
        (None, True, "", "same"),
    ],
)
def test_the_arrow_shows_the_direction_and_the_trend_the_judgement(
    change: float | None, higher_is_better: bool, arrow: str, trend: str
) -> None:
    kpi = {"change": change, "higher_is_better": higher_is_better}
    assert (arrow_of(kpi), trend_of(kpi)) == (arrow, trend)
