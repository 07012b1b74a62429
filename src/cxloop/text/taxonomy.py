"""Themes customers talk about, with keywords in Vietnamese, Thai and English.

A workspace may replace the default taxonomy with its own (same shape). Vietnamese keywords
are written with diacritics; text typed without them still matches (see ``find_themes``).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

from cxloop.text.normalize import strip_accents

_VI_MARKED = re.compile("[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ\u1ea0-\u1ef9]", re.IGNORECASE)
_LATIN_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Vietnamese keywords whose bare form is an everyday English word (thẻ -> the) match only
# with their diacritics.
_EN_COMMON = frozenset(
    [
        "the",
        "do",
        "to",
        "an",
        "on",
        "in",
        "at",
        "be",
        "he",
        "me",
        "we",
        "no",
        "so",
        "go",
        "of",
        "or",
        "it",
        "is",
        "as",
        "by",
        "us",
    ]
)


class Theme(BaseModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Stable identifier.")
    label: dict[str, str] = Field(description="Readable name per language (en, vi, th).")
    keywords: dict[str, list[str]] = Field(
        description="Keywords per language; Thai ones match inside words, others whole words."
    )
    examples: list[str] = Field(default_factory=list, description="Sentences about the theme.")

    @field_validator("keywords")
    @classmethod
    def _lower(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {
            lang: [k.strip().lower() for k in words if k.strip()] for lang, words in value.items()
        }


class Taxonomy(BaseModel):
    themes: list[Theme] = Field(max_length=200)


def _theme(theme_id: str, en: str, vi: str, th: str, keywords: dict[str, str]) -> Theme:
    return Theme(
        id=theme_id,
        label={"en": en, "vi": vi, "th": th},
        keywords={lang: [k.strip() for k in words.split(",")] for lang, words in keywords.items()},
    )


DEFAULT_TAXONOMY = Taxonomy(
    themes=[
        _theme(
            "delivery",
            "Delivery",
            "Giao hàng",
            "การจัดส่ง",
            {
                "vi": "giao hàng, giao, vận chuyển, người giao hàng, shipper, nhận hàng, "
                "chuyển phát, đơn hàng đến, giao chậm, giao nhanh",
                "th": "จัดส่ง, ส่งของ, ขนส่ง, พัสดุ, คนส่ง, ส่งช้า, ส่งเร็ว, ไรเดอร์, "
                "ได้รับสินค้า, ได้รับของ, ส่งไว, มาส่ง",
                "en": "delivery, deliver, delivered, shipping, shipped, shipment, courier, "
                "arrived, arrive, late, on time, tracking",
            },
        ),
        _theme(
            "price",
            "Price",
            "Giá cả",
            "ราคา",
            {
                "vi": "giá, giá cả, đắt, rẻ, mắc, khuyến mãi, giảm giá, đáng tiền, phí",
                "th": "ราคา, แพง, ถูกมาก, โปรโมชั่น, โปร, ลดราคา, คุ้ม, ส่วนลด",
                "en": "price, prices, pricey, expensive, cheap, cost, overpriced, value, "
                "discount, promotion, worth",
            },
        ),
        _theme(
            "product_quality",
            "Product quality",
            "Chất lượng sản phẩm",
            "คุณภาพสินค้า",
            {
                "vi": "sản phẩm, chất lượng, hàng hóa, hàng giả, hàng lỗi, hỏng, lỗi, bền, "
                "kém chất lượng, chính hãng, món hàng",
                "th": "สินค้า, คุณภาพ, ของแท้, ของปลอม, ชำรุด, พัง, ใช้ดี, ใช้งาน, ตัวเครื่อง",
                "en": "product, products, quality, item, broken, defective, works, battery, "
                "fake, durable, material, headset, phone, food",
            },
        ),
        _theme(
            "staff",
            "Staff and service",
            "Nhân viên và phục vụ",
            "พนักงานและการบริการ",
            {
                "vi": "nhân viên, thái độ, phục vụ, tư vấn, người bán, chủ shop, lễ phép",
                "th": "พนักงาน, บริการ, มารยาท, แอดมิน, เจ้าหน้าที่, คนขาย",
                "en": "staff, employee, employees, waiter, waitress, rude, friendly, service, "
                "attitude, server, manager, polite",
            },
        ),
        _theme(
            "customer_support",
            "Customer support",
            "Chăm sóc khách hàng",
            "ฝ่ายบริการลูกค้า",
            {
                "vi": "chăm sóc khách hàng, cskh, hỗ trợ, tổng đài, hotline, phản hồi, "
                "trả lời tin nhắn, khiếu nại",
                "th": "คอลเซ็นเตอร์, ติดต่อ, ตอบแชท, ตอบกลับ, ร้องเรียน, ไม่ตอบ, inbox",
                "en": "support, customer service, call center, hotline, helpdesk, reply, "
                "replied, response, complaint, contacted",
            },
        ),
        _theme(
            "app_website",
            "App and website",
            "Ứng dụng và website",
            "แอปและเว็บไซต์",
            {
                "vi": "ứng dụng, app, web, website, trang web, đăng nhập, giao diện, lag, cập nhật",
                "th": "แอป, แอพ, เว็บ, เว็บไซต์, ล็อกอิน, ระบบล่ม, อัพเดท, หน้าเว็บ",
                "en": "app, website, site, login, log in, crash, crashes, bug, interface, "
                "page, update, online",
            },
        ),
        _theme(
            "payment",
            "Payment",
            "Thanh toán",
            "การชำระเงิน",
            {
                "vi": "thanh toán, chuyển khoản, thẻ, ví điện tử, momo, cod, trừ tiền, hóa đơn",
                "th": "ชำระ, จ่ายเงิน, โอนเงิน, บัตรเครดิต, พร้อมเพย์, ตัดเงิน, เก็บเงินปลายทาง",
                "en": "payment, pay, paid, card, charged, checkout, transaction, billing, "
                "invoice, bill",
            },
        ),
        _theme(
            "refund_return",
            "Refund and return",
            "Hoàn tiền và đổi trả",
            "คืนเงินและคืนสินค้า",
            {
                "vi": "hoàn tiền, đổi trả, trả hàng, hoàn trả, bảo hành, đổi hàng",
                "th": "คืนเงิน, คืนสินค้า, เปลี่ยนสินค้า, รับประกัน, เคลม",
                "en": "refund, refunded, return, returned, exchange, warranty, money back",
            },
        ),
        _theme(
            "packaging",
            "Packaging",
            "Đóng gói",
            "บรรจุภัณฑ์",
            {
                "vi": "đóng gói, bao bì, hộp, gói hàng, móp, bọc",
                "th": "แพ็ค, แพ็ก, บรรจุภัณฑ์, กล่อง, ห่อ",
                "en": "packaging, package, packed, box, wrapping, wrapped",
            },
        ),
    ]
)


class Matcher:
    """Finds the themes of a clause; built once per taxonomy."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._marked: list[tuple[str, list[str]]] = []
        self._bare: list[tuple[str, list[str]]] = []
        self._thai: list[tuple[str, list[str]]] = []
        for theme in taxonomy.themes:
            latin = [k for lang, ks in theme.keywords.items() if lang != "th" for k in ks]
            thai = list(theme.keywords.get("th", []))
            self._marked.append((theme.id, [_pad(k) for k in latin]))
            bare = [strip_accents(k) for k in latin]
            self._bare.append(
                (theme.id, [_pad(b) for b in bare if len(b) > 2 and b not in _EN_COMMON])
            )
            self._thai.append((theme.id, thai))

    def find(self, clause: str) -> list[str]:
        """Theme ids mentioned in ``clause``: with diacritics if it has any, else without."""
        low = clause.lower()
        marked = bool(_VI_MARKED.search(low))
        padded = _pad(low) if marked else _pad(strip_accents(low))
        table = self._marked if marked else self._bare
        found = []
        for (theme_id, keys), (_, thai) in zip(table, self._thai, strict=True):
            if any(k in padded for k in keys) or any(k in low for k in thai):
                found.append(theme_id)
        return found


def _pad(text: str) -> str:
    return " " + " ".join(_LATIN_WORD.findall(text)) + " "
