"""How a KPI's value reads on its tile, in each unit and language."""

from __future__ import annotations

import pytest

from cxloop.dashboard.kpi_views import value_text


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
