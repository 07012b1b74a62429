"""The default journey map: seven stages from first visit to advocacy, in vi, th and en.

Stages follow the customer-experience model of Awareness (Nhận thức, การรับรู้),
Consideration (Cân nhắc, การพิจารณา), Purchase (Mua hàng, การซื้อ), Onboarding (Làm quen,
การเริ่มต้นใช้งาน), Retention (Giữ chân khách hàng, การรักษาลูกค้า), Expansion (Mở rộng,
การซื้อเพิ่ม) and Advocacy (Ủng hộ, การบอกต่อ). Entry rules and touchpoints read Segment's
semantic event names (``Product Viewed``, ``Order Completed``, ``Signed Up``, …) and the
``Survey Responded`` event every survey response becomes, so a shop that sends the spec's
events gets a working map at once; each rule is an ordinary matcher to edit.
"""

from __future__ import annotations

from typing import Any

from cxloop.journeys.documents import JourneyDoc, Names

DEFAULT = "default"
# An order at least this large counts as expansion; set it in the shop's own currency.
EXPANSION_REVENUE = 1000


def _names(en: str, vi: str, th: str) -> dict[str, str]:
    return {"en": en, "vi": vi, "th": th}


def _touchpoint(
    key: str, names: dict[str, str], channel: str, *matchers: dict[str, Any]
) -> dict[str, Any]:
    return {"key": key, "name": names, "channel": channel, "matchers": list(matchers)}


_STAGES: list[dict[str, Any]] = [
    {
        "key": "awareness",
        "name": _names("Awareness", "Nhận thức", "การรับรู้"),
        "entry": [{"type": "page"}, {"type": "screen"}],
        "touchpoints": [
            _touchpoint(
                "website_visit",
                _names("Website visit", "Truy cập website", "การเข้าชมเว็บไซต์"),
                "web",
                {"type": "page"},
            ),
            _touchpoint(
                "marketing_email",
                _names("Marketing email", "Email tiếp thị", "อีเมลการตลาด"),
                "email",
                {"event": "Email Opened"},
                {"event": "Email Link Clicked"},
            ),
            _touchpoint(
                "app_visit",
                _names("App visit", "Mở ứng dụng", "การเปิดแอป"),
                "app",
                {"type": "screen"},
            ),
        ],
    },
    {
        "key": "consideration",
        "name": _names("Consideration", "Cân nhắc", "การพิจารณา"),
        "entry": [
            {"event": "Product Viewed"},
            {"event": "Product Added"},
            {"event": "Products Searched"},
        ],
        "touchpoints": [
            _touchpoint(
                "product_page",
                _names("Product page", "Trang sản phẩm", "หน้าสินค้า"),
                "web",
                {"event": "Product Viewed"},
            ),
            _touchpoint(
                "search",
                _names("Search", "Tìm kiếm", "การค้นหา"),
                "web",
                {"event": "Products Searched"},
            ),
            _touchpoint(
                "cart",
                _names("Cart", "Giỏ hàng", "ตะกร้าสินค้า"),
                "web",
                {"event": "Product Added"},
                {"event": "Cart Viewed"},
            ),
        ],
    },
    {
        "key": "purchase",
        "name": _names("Purchase", "Mua hàng", "การซื้อ"),
        "entry": [{"event": "Order Completed"}],
        "touchpoints": [
            _touchpoint(
                "checkout",
                _names("Checkout", "Thanh toán", "การชำระเงิน"),
                "web",
                {"event": "Checkout Started"},
                {"event": "Payment Info Entered"},
                {"event": "Order Completed"},
            ),
        ],
    },
    {
        "key": "onboarding",
        "name": _names("Onboarding", "Làm quen", "การเริ่มต้นใช้งาน"),
        "entry": [{"event": "Signed Up"}, {"event": "Order Delivered"}],
        "touchpoints": [
            _touchpoint(
                "sign_up",
                _names("Sign-up", "Đăng ký tài khoản", "การสมัครสมาชิก"),
                "web",
                {"event": "Signed Up"},
            ),
            _touchpoint(
                "delivery",
                _names("Delivery", "Giao hàng", "การจัดส่ง"),
                "delivery",
                {"event": "Order Shipped"},
                {"event": "Order Delivered"},
            ),
            _touchpoint(
                "app_install",
                _names("App install", "Cài đặt ứng dụng", "การติดตั้งแอป"),
                "app",
                {"event": "Application Installed"},
            ),
        ],
    },
    {
        "key": "retention",
        "name": _names("Retention", "Giữ chân khách hàng", "การรักษาลูกค้า"),
        "entry": [{"event": "Order Completed", "count": 2}],
        "touchpoints": [
            _touchpoint(
                "support_chat",
                _names("Support chat", "Chat hỗ trợ", "แชทฝ่ายบริการลูกค้า"),
                "chat",
                {"event": "Live Chat Conversation Started"},
                {"event": "Message Received"},
            ),
            _touchpoint(
                "mobile_app",
                _names("Mobile app", "Ứng dụng di động", "แอปมือถือ"),
                "app",
                {"event": "Application Opened"},
            ),
            _touchpoint(
                "csat_survey",
                _names("Satisfaction survey", "Khảo sát mức độ hài lòng", "แบบสำรวจความพึงพอใจ"),
                "email",
                {"event": "Survey Responded", "where": {"csat": {"exists": True}}},
            ),
        ],
    },
    {
        "key": "expansion",
        "name": _names("Expansion", "Mở rộng", "การซื้อเพิ่ม"),
        "entry": [
            {"event": "Order Completed", "where": {"revenue": {"gte": EXPANSION_REVENUE}}},
            {"event": "Subscription Upgraded"},
        ],
        "touchpoints": [
            _touchpoint(
                "upsell_offer",
                _names("Upsell offer", "Ưu đãi mua thêm", "ข้อเสนอซื้อเพิ่ม"),
                "email",
                {"event": "Promotion Viewed"},
                {"event": "Promotion Clicked"},
            ),
            _touchpoint(
                "plan_upgrade",
                _names("Plan upgrade", "Nâng cấp gói", "การอัปเกรดแพ็กเกจ"),
                "web",
                {"event": "Subscription Upgraded"},
            ),
        ],
    },
    {
        "key": "advocacy",
        "name": _names("Advocacy", "Ủng hộ", "การบอกต่อ"),
        "entry": [
            {"event": "Review Submitted"},
            {"event": "Product Reviewed"},
            {"event": "Referral Sent"},
            {"event": "Survey Responded", "where": {"nps": {"gte": 9}}},
        ],
        "touchpoints": [
            _touchpoint(
                "nps_survey",
                _names("NPS survey", "Khảo sát NPS", "แบบสำรวจ NPS"),
                "email",
                {"event": "Survey Responded", "where": {"nps": {"exists": True}}},
            ),
            _touchpoint(
                "app_store_review",
                _names("App store review", "Đánh giá trên kho ứng dụng", "รีวิวบนแอปสโตร์"),
                "app",
                {"event": "Review Submitted", "where": {"source": ["app_store", "google_play"]}},
            ),
            _touchpoint(
                "product_review",
                _names("Product review", "Đánh giá sản phẩm", "รีวิวสินค้า"),
                "web",
                {"event": "Product Reviewed"},
            ),
            _touchpoint(
                "referral",
                _names("Referral", "Giới thiệu bạn bè", "การแนะนำเพื่อน"),
                "social",
                {"event": "Referral Sent"},
            ),
        ],
    },
]

_MILESTONES: list[dict[str, Any]] = [
    {
        "key": "first_order",
        "name": _names("First order", "Đơn hàng đầu tiên", "คำสั่งซื้อแรก"),
        "matcher": {"event": "Order Completed"},
    },
    {
        "key": "third_order",
        "name": _names("Third order", "Đơn hàng thứ ba", "คำสั่งซื้อที่สาม"),
        "matcher": {"event": "Order Completed"},
        "count": 3,
    },
    {
        "key": "first_referral",
        "name": _names("First referral", "Lần giới thiệu đầu tiên", "การแนะนำครั้งแรก"),
        "matcher": {"event": "Referral Sent"},
    },
]

_DEFAULT: dict[str, Any] = {
    "name": "Customer journey",
    "stages": _STAGES,
    "milestones": _MILESTONES,
}

_TEMPLATES = {DEFAULT: _DEFAULT}
_NAMES = {DEFAULT: _names("Customer journey", "Hành trình khách hàng", "เส้นทางของลูกค้า")}
_DESCRIPTIONS = {
    DEFAULT: _names(
        "Seven stages from the first visit to advocacy. Expansion counts orders of at least "
        f"{EXPANSION_REVENUE} in revenue: set the threshold in your own currency.",
        "Bảy giai đoạn từ lần ghé thăm đầu tiên đến khi khách hàng ủng hộ thương hiệu. Giai "
        f"đoạn Mở rộng tính các đơn hàng có doanh thu từ {EXPANSION_REVENUE} trở lên: hãy đặt "
        "ngưỡng theo đơn vị tiền tệ của bạn.",
        "เจ็ดขั้นตอนตั้งแต่การเข้าชมครั้งแรกจนถึงการบอกต่อ ขั้นการซื้อเพิ่มนับคำสั่งซื้อที่มีรายได้"
        f"ตั้งแต่ {EXPANSION_REVENUE} ขึ้นไป โปรดตั้งเกณฑ์ตามสกุลเงินของคุณ",
    )
}


def template(key: str = DEFAULT, language: str = "en") -> JourneyDoc:
    """A fresh copy of a template's journey document, described in ``language``."""
    description = Names.model_validate(_DESCRIPTIONS[key]).get(language)
    return JourneyDoc.model_validate({**_TEMPLATES[key], "description": description})


def templates() -> list[tuple[str, Names, Names, JourneyDoc]]:
    """Every template: its key, its name and description in each language, its document."""
    return [
        (
            key,
            Names.model_validate(_NAMES[key]),
            Names.model_validate(_DESCRIPTIONS[key]),
            template(key),
        )
        for key in _TEMPLATES
    ]
