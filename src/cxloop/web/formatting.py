"""Numbers, dates and changes written the way each language writes them."""

from __future__ import annotations

import math
from datetime import date, datetime

# Vietnamese groups thousands with '.' and writes decimals with ','; English and Thai the
# other way round.
_SEPARATORS = {"vi": (".", ","), "en": (",", "."), "th": (",", ".")}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "th": (
        "ม.ค.",
        "ก.พ.",
        "มี.ค.",
        "เม.ย.",
        "พ.ค.",
        "มิ.ย.",
        "ก.ค.",
        "ส.ค.",
        "ก.ย.",
        "ต.ค.",
        "พ.ย.",
        "ธ.ค.",
    ),
}
DASH = "\u2013"  # an en dash stands for no value
MINUS = "\u2212"  # the minus sign, wider than a hyphen


def number(value: float | int | None, lang: str, decimals: int = 0) -> str:
    """``1234.5`` as ``1,234.5`` (en, th) or ``1.234,5`` (vi); None as a dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    group, point = _SEPARATORS.get(lang, _SEPARATORS["en"])
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", point).replace("\0", group).replace("-", MINUS)


def percent(share: float | None, lang: str, decimals: int = 1) -> str:
    """A share of 1 (0.123) as a percentage (12.3 %)."""
    return DASH if share is None else f"{number(share * 100, lang, decimals)} %"


def signed(value: float | None, lang: str, decimals: int = 1, suffix: str = "") -> str:
    """A change with its sign: ``+3.2``, ``-1.0`` (with a minus sign); None as a dash."""
    if value is None:
        return DASH
    sign = "+" if value > 0 else ""
    return f"{sign}{number(value, lang, decimals)}{suffix}"


def day(moment: date | datetime | None, lang: str) -> str:
    """A day as ``2026-03-02`` in every language: read alike everywhere, sorted as text."""
    if moment is None:
        return DASH
    return moment.date().isoformat() if isinstance(moment, datetime) else moment.isoformat()


def moment(value: datetime | None, lang: str) -> str:
    """A time to the minute, in UTC."""
    if value is None:
        return DASH
    return value.strftime("%Y-%m-%d %H:%M UTC")


def short_day(value: date, lang: str) -> str:
    """A chart's axis label: ``2 Mar``, ``2/3``, ``2 มี.ค.``."""
    if lang == "vi":
        return f"{value.day}/{value.month}"
    months = _MONTHS.get(lang, _MONTHS["en"])
    return f"{value.day} {months[value.month - 1]}"
