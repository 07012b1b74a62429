"""Why a touchpoint ranks where it does, in a sentence in English, Vietnamese or Thai.

The numbers come from :mod:`cxloop.analytics.touchpoints`; this module only words them.
"""

from __future__ import annotations

from cxloop.analytics.feedback import Metric
from cxloop.analytics.feedback.figures import Difference
from cxloop.analytics.touchpoints import INSUFFICIENT, Ranked

Texts = dict[str, str]

_TEXTS: dict[str, Texts] = {
    "figure": {
        "en": "{value} (95% CI {low} to {high}, n={n})",
        "vi": "{value} (KTC 95% {low} đến {high}, n={n})",
        "th": "{value} (ช่วงความเชื่อมั่น 95% {low} ถึง {high}, n={n})",
    },
    "figure_open": {  # one answer: no interval
        "en": "{value} (n={n})",
        "vi": "{value} (n={n})",
        "th": "{value} (n={n})",
    },
    "lowest": {
        "en": "lowest of {count} touchpoints with at least {min} responses",
        "vi": "thấp nhất trong {count} điểm chạm có ít nhất {min} phản hồi",
        "th": "ต่ำที่สุดใน {count} จุดสัมผัสที่มีคำตอบอย่างน้อย {min} รายการ",
    },
    "rank": {
        "en": "rank {rank} of {count} touchpoints with at least {min} responses",
        "vi": "xếp thứ {rank}/{count} điểm chạm có ít nhất {min} phản hồi",
        "th": "อันดับ {rank} จาก {count} จุดสัมผัสที่มีคำตอบอย่างน้อย {min} รายการ",
    },
    "below": {
        "en": "significantly below the rest of the journey ({rest}; difference {diff}, "
        "95% CI {low} to {high})",
        "vi": "thấp hơn có ý nghĩa thống kê so với phần còn lại của hành trình ({rest}; "
        "chênh lệch {diff}, KTC 95% {low} đến {high})",
        "th": "ต่ำกว่าส่วนที่เหลือของเส้นทางอย่างมีนัยสำคัญทางสถิติ ({rest}; ต่างกัน {diff}, "
        "ช่วงความเชื่อมั่น 95% {low} ถึง {high})",
    },
    "above": {
        "en": "significantly above the rest of the journey ({rest}; difference {diff}, "
        "95% CI {low} to {high})",
        "vi": "cao hơn có ý nghĩa thống kê so với phần còn lại của hành trình ({rest}; "
        "chênh lệch {diff}, KTC 95% {low} đến {high})",
        "th": "สูงกว่าส่วนที่เหลือของเส้นทางอย่างมีนัยสำคัญทางสถิติ ({rest}; ต่างกัน {diff}, "
        "ช่วงความเชื่อมั่น 95% {low} ถึง {high})",
    },
    "in_line": {
        "en": "not significantly different from the rest of the journey ({rest}, p={p})",
        "vi": "không khác biệt có ý nghĩa thống kê so với phần còn lại của hành trình "
        "({rest}, p={p})",
        "th": "ไม่ต่างจากส่วนที่เหลือของเส้นทางอย่างมีนัยสำคัญทางสถิติ ({rest}, p={p})",
    },
    "no_rest": {
        "en": "too few other responses in the journey to compare with",
        "vi": "phần còn lại của hành trình có quá ít phản hồi để so sánh",
        "th": "ส่วนที่เหลือของเส้นทางมีคำตอบน้อยเกินไปที่จะเปรียบเทียบ",
    },
    "tied_next": {
        "en": "cannot be told apart from the touchpoint ranked after it (p={p})",
        "vi": "chưa thể phân biệt với điểm chạm xếp sau (p={p})",
        "th": "ยังแยกไม่ออกจากจุดสัมผัสอันดับถัดไป (p={p})",
    },
    "few": {
        "en": "{metric} n={n}, fewer than the {min} responses needed to rank it",
        "vi": "{metric} n={n}, ít hơn {min} phản hồi cần có để xếp hạng",
        "th": "{metric} n={n} น้อยกว่า {min} คำตอบที่ต้องมีเพื่อจัดอันดับ",
    },
    "none": {
        "en": "no {metric} scores yet; {min} responses are needed to rank it",
        "vi": "chưa có phản hồi nào có điểm {metric}; cần ít nhất {min} phản hồi để xếp hạng",
        "th": "ยังไม่มีคำตอบที่ให้คะแนน {metric} ต้องมีอย่างน้อย {min} คำตอบจึงจะจัดอันดับได้",
    },
    "other": {"en": "Other", "vi": "Khác", "th": "อื่น ๆ"},
    "order": {
        "en": "Touchpoints with at least {min} scored responses, by the upper end of the 95% "
        "interval of {metric}, lowest first (then the lower score, then the larger sample); "
        "the others follow in journey order, unranked.",
        "vi": "Các điểm chạm có ít nhất {min} phản hồi có điểm được xếp theo cận trên của "
        "khoảng tin cậy 95% của {metric}, thấp nhất trước (sau đó theo điểm thấp hơn, rồi "
        "theo mẫu lớn hơn); các điểm chạm còn lại theo thứ tự hành trình, không xếp hạng.",
        "th": "จุดสัมผัสที่มีคำตอบที่ให้คะแนนอย่างน้อย {min} รายการ เรียงตามขอบบนของช่วงความเชื่อมั่น "
        "95% ของ {metric} จากต่ำไปสูง (จากนั้นตามคะแนนที่ต่ำกว่า แล้วตามขนาดตัวอย่างที่ใหญ่กว่า) "
        "จุดสัมผัสอื่นตามมาตามลำดับของเส้นทางโดยไม่จัดอันดับ",
    },
}

_DIGITS = {Metric.NPS: 0, Metric.CSAT: 0, Metric.CES: 1}
_UNIT = {Metric.NPS: "", Metric.CSAT: "%", Metric.CES: ""}


def text(key: str, lang: str, **values: object) -> str:
    texts = _TEXTS[key]
    return texts.get(lang, texts["en"]).format(**values)


def number(value: float, metric: Metric, *, signed: bool = False) -> str:
    """A figure as the sentences show it: NPS and CSAT whole, CES to one decimal."""
    shown = f"{value:+.{_DIGITS[metric]}f}" if signed else f"{value:.{_DIGITS[metric]}f}"
    if float(shown) == 0:  # never "-0"
        shown = f"{0:.{_DIGITS[metric]}f}"
    return shown + _UNIT[metric]


def p_value(p: float | None) -> str:
    if p is None:
        return "?"
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def order(metric: Metric, min_n: int, lang: str) -> str:
    """The ordering rule of the ranking, in words."""
    return text("order", lang, min=min_n, metric=_name(metric))


def _name(metric: Metric) -> str:
    return metric.value.upper()


def _figure(item: Ranked, metric: Metric, lang: str) -> str:
    value = f"{_name(metric)} {number(item.value or 0.0, metric)}"
    if item.ci_low is None or item.ci_high is None:
        return text("figure_open", lang, value=value, n=item.n)
    low, high = number(item.ci_low, metric), number(item.ci_high, metric)
    return text("figure", lang, value=value, low=low, high=high, n=item.n)


def _versus(item: Ranked, metric: Metric, lang: str) -> str:
    test = item.vs_journey
    if test is None or test.refused or test.difference is None or item.value is None:
        return text("no_rest", lang)
    rest = f"{_name(metric)} {number(item.value - test.difference, metric)}"
    if not test.significant:
        return text("in_line", lang, rest=rest, p=p_value(test.p_value))
    return text(
        "below" if test.difference < 0 else "above",
        lang,
        rest=rest,
        diff=number(test.difference, metric, signed=True),
        low=number(test.ci_low or 0.0, metric, signed=True),
        high=number(test.ci_high or 0.0, metric, signed=True),
    )


def _tied(test: Difference | None, lang: str) -> str | None:
    if test is None or test.refused or test.significant:
        return None
    return text("tied_next", lang, p=p_value(test.p_value))


def detail(item: Ranked, metric: Metric, ranked: int, min_n: int, lang: str) -> str:
    """The reason as a sentence: the figure, the place, and how it compares."""
    if item.code == INSUFFICIENT or item.rank is None:
        key = "few" if item.n else "none"
        return text(key, lang, n=item.n, metric=_name(metric), min=min_n)
    place = (
        text("lowest", lang, count=ranked, min=min_n)
        if item.rank == 1
        else text("rank", lang, rank=item.rank, count=ranked, min=min_n)
    )
    parts = [f"{_figure(item, metric, lang)}, {place}", _versus(item, metric, lang)]
    tied = _tied(item.vs_next, lang)
    if tied is not None:
        parts.append(tied)
    return "; ".join(parts)
