"""A small polarity lexicon (vi / th / en) with negation, used next to the model on short
clauses, where a learnt model has little context and Vietnamese has no training data."""

from __future__ import annotations

from cxloop.text.normalize import strip_accents
from cxloop.text.tokenize import words

_POSITIVE = {
    "vi": "tốt tuyệt hài_lòng nhanh đẹp ổn thích yêu chuẩn xịn tận_tình nhiệt_tình chu_đáo "
    "cẩn_thận rẻ đáng_tiền ngon thân_thiện dễ_dùng ưng recommend",
    "th": "ดี ดีมาก ชอบ ประทับใจ เร็ว ไว สวย คุ้ม ถูกใจ อร่อย สุดยอด เยี่ยม ใส่ใจ สะดวก เรียบร้อย น่ารัก",
    "en": "good great excellent love loved fast quick nice perfect happy friendly helpful "
    "recommend amazing awesome best fine easy delicious polite reasonable satisfied",
}
_NEGATIVE = {
    "vi": "chậm tệ kém dở hỏng lỗi đắt mắc thất_vọng chán xấu lâu bực thô_lỗ vỡ móp rách "
    "lừa_đảo tồi sai thiếu",
    "th": "แย่ ช้า เสีย พัง ห่วย แพง ผิดหวัง โกง ไม่ดี เลว หงุดหงิด ชำรุด แตก ขาด ผิด นาน",
    "en": "bad slow terrible awful broken worst poor late rude expensive disappointed "
    "disappointing horrible hate wrong missing damaged useless waste overpriced cold",
}
_NEGATORS = frozenset(
    {"không", "chẳng", "chả", "chưa", "đừng", "khong", "chang", "chua", "dung", "ไม่", "ไม่ได้"}
    | {"มิ", "not", "no", "never", "don't", "didn't", "isn't", "wasn't", "doesn't", "won't"}
    | {"can't", "cannot"}
)


def _entries(table: dict[str, str]) -> set[str]:
    out: set[str] = set()
    for text in table.values():
        for entry in text.split():
            phrase = entry.replace("_", " ")
            out.add(phrase)
            out.add(strip_accents(phrase))
    return out


POSITIVE = _entries(_POSITIVE)
NEGATIVE = _entries(_NEGATIVE)


def signs(tokens: list[str]) -> list[float]:
    """+1 / -1 for each lexicon word among ``tokens`` (flipped after a nearby negator)."""
    found: list[float] = []
    skip = False
    for i, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        pair = f"{token} {tokens[i + 1]}" if i + 1 < len(tokens) else ""
        entry = pair if pair in POSITIVE or pair in NEGATIVE else token
        skip = entry is pair
        sign = 1.0 if entry in POSITIVE else -1.0 if entry in NEGATIVE else 0.0
        if sign:
            if any(w in _NEGATORS for w in tokens[max(0, i - 3) : i]):
                sign = -sign
            found.append(sign)
    return found


def polarity(text: str) -> tuple[float, int]:
    """(polarity in -1..1, number of lexicon hits) of a short normalised text."""
    found = signs(words(text))
    if not found:
        return 0.0, 0
    return max(-1.0, min(1.0, sum(found) / len(found))), len(found)
