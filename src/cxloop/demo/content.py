"""The demo shop's surveys (in Vietnamese, Thai and English) and its journey map, whose
touchpoints are the demo's own events and surveys."""

from __future__ import annotations

import uuid
from typing import Any

from cxloop.journeys.map_schemas import JourneyCreate
from cxloop.surveys.schemas import SurveyCreate
from cxloop.surveys.templates import nps_template

JOURNEY_NAME = "Demo shop journey"
# order value (USD) from which an order counts as buying more
EXPANSION_REVENUE = 60


def _texts(en: str, vi: str, th: str) -> dict[str, str]:
    return {"en": en, "vi": vi, "th": th}


_THANKS = _texts(
    "Thank you! Your answer helps us do better.",
    "Cảm ơn bạn! Ý kiến của bạn giúp chúng tôi làm tốt hơn.",
    "ขอบคุณมาก ความคิดเห็นของคุณช่วยให้เราพัฒนาได้ดียิ่งขึ้น",
)
_COMMENT = _texts(
    "Anything you would like to tell us?",
    "Bạn có muốn góp ý thêm điều gì không?",
    "มีอะไรอยากบอกเราเพิ่มเติมไหม",
)


def _csat(title: dict[str, str]) -> dict[str, Any]:
    return {
        "id": "csat",
        "type": "csat",
        "title": title,
        "description": _texts(
            "1 = very dissatisfied, 5 = very satisfied",
            "1 = rất không hài lòng, 5 = rất hài lòng",
            "1 = ไม่พอใจมาก, 5 = พอใจมาก",
        ),
    }


def _comment() -> dict[str, Any]:
    return {"id": "comment", "type": "text", "required": False, "title": _COMMENT}


def _survey(
    name: str, touchpoint: str, stage: str, questions: list[dict[str, Any]]
) -> SurveyCreate:
    return SurveyCreate.model_validate(
        {
            "name": name,
            "touchpoint": touchpoint,
            "stage": stage,
            "default_language": "en",
            "languages": ["vi", "th", "en"],
            "thank_you": _THANKS,
            "questions": questions,
        }
    )


def surveys() -> dict[str, SurveyCreate]:
    """The demo's surveys by the key the simulator's answers name them with."""
    nps = nps_template()
    relationship = nps.model_copy(
        update={
            "name": "Relationship NPS (quarterly)",
            "status": "active",
            "touchpoint": "relationship",
            "stage": "retention",
        }
    )
    delivery_nps = nps.questions[0].model_dump(exclude_none=True)
    return {
        "relationship": relationship,
        "delivery": _survey(
            "Post-delivery feedback",
            "delivery",
            "onboarding",
            [
                _csat(
                    _texts(
                        "How satisfied are you with the delivery of your order?",
                        "Bạn hài lòng thế nào với việc giao đơn hàng này?",
                        "คุณพอใจกับการจัดส่งคำสั่งซื้อนี้มากน้อยเพียงใด",
                    )
                ),
                delivery_nps,
                _comment(),
            ],
        ),
        "support_chat": _survey(
            "Support chat satisfaction",
            "support_chat",
            "retention",
            [
                _csat(
                    _texts(
                        "How satisfied are you with the help you got in the chat?",
                        "Bạn hài lòng thế nào với sự hỗ trợ qua chat?",
                        "คุณพอใจกับความช่วยเหลือทางแชทมากน้อยเพียงใด",
                    )
                ),
                _comment(),
            ],
        ),
        "app_onboarding": _survey(
            "App onboarding",
            "app_onboarding",
            "onboarding",
            [
                _csat(
                    _texts(
                        "How satisfied are you with getting started in our app?",
                        "Bạn hài lòng thế nào với trải nghiệm bắt đầu dùng ứng dụng?",
                        "คุณพอใจกับการเริ่มต้นใช้งานแอปของเรามากน้อยเพียงใด",
                    )
                ),
                _comment(),
            ],
        ),
    }


def _touchpoint(
    key: str,
    names: dict[str, str],
    channel: str,
    matchers: list[dict[str, Any]],
    survey: uuid.UUID | None = None,
) -> dict[str, Any]:
    found = {"key": key, "name": names, "channel": channel, "matchers": matchers}
    if survey is not None:
        found["survey_ids"] = [str(survey)]
    return found


def journey(survey_ids: dict[str, uuid.UUID]) -> JourneyCreate:
    """The shop's journey map: the seven stages, with the demo's events and surveys as
    touchpoints."""
    tp = _touchpoint
    stages: list[dict[str, Any]] = [
        {
            "key": "awareness",
            "name": _texts("Awareness", "Nhận thức", "การรับรู้"),
            "entry": [{"type": "page"}, {"type": "screen"}, {"event": "Application Installed"}],
            "touchpoints": [
                tp(
                    "website_visit",
                    _texts("Website visit", "Truy cập website", "การเข้าชมเว็บไซต์"),
                    "web",
                    [{"type": "page"}],
                ),
                tp(
                    "app_install",
                    _texts("App install", "Cài đặt ứng dụng", "การติดตั้งแอป"),
                    "app",
                    [{"event": "Application Installed"}],
                ),
                tp(
                    "newsletter",
                    _texts("Newsletter", "Bản tin email", "จดหมายข่าว"),
                    "email",
                    [{"event": "Email Opened"}, {"event": "Email Link Clicked"}],
                ),
            ],
        },
        {
            "key": "consideration",
            "name": _texts("Consideration", "Cân nhắc", "การพิจารณา"),
            "entry": [{"event": "Product Viewed"}, {"event": "Product Added"}],
            "touchpoints": [
                tp(
                    "product_page",
                    _texts("Product page", "Trang sản phẩm", "หน้าสินค้า"),
                    "web",
                    [{"event": "Product Viewed"}],
                ),
                tp(
                    "recommendations",
                    _texts("Recommendations", "Gợi ý sản phẩm", "สินค้าแนะนำ"),
                    "app",
                    [{"event": "Product List Viewed"}, {"event": "Product Clicked"}],
                ),
                tp(
                    "cart",
                    _texts("Cart", "Giỏ hàng", "ตะกร้าสินค้า"),
                    "web",
                    [{"event": "Product Added"}, {"event": "Cart Viewed"}],
                ),
                tp(
                    "showroom",
                    _texts("Showroom", "Cửa hàng trưng bày", "โชว์รูม"),
                    "store",
                    [{"event": "Store Visited"}],
                ),
            ],
        },
        {
            "key": "purchase",
            "name": _texts("Purchase", "Mua hàng", "การซื้อ"),
            "entry": [{"event": "Order Completed"}],
            "touchpoints": [
                tp(
                    "checkout",
                    _texts("Checkout", "Thanh toán", "การชำระเงิน"),
                    "web",
                    [{"event": "Checkout Started"}, {"event": "Order Completed"}],
                ),
                tp(
                    "cancellation",
                    _texts("Cancellation", "Hủy đơn", "การยกเลิกคำสั่งซื้อ"),
                    "web",
                    [{"event": "Order Cancelled"}],
                ),
            ],
        },
        {
            "key": "onboarding",
            "name": _texts("Onboarding", "Làm quen", "การเริ่มต้นใช้งาน"),
            "entry": [{"event": "Signed Up"}, {"event": "Order Delivered"}],
            "touchpoints": [
                tp(
                    "sign_up",
                    _texts("Sign-up", "Đăng ký tài khoản", "การสมัครสมาชิก"),
                    "web",
                    [{"event": "Signed Up"}],
                ),
                tp(
                    "app_onboarding",
                    _texts("App onboarding", "Bắt đầu dùng ứng dụng", "การเริ่มใช้งานแอป"),
                    "app",
                    [{"event": "Signed Up", "channel": "app"}, {"event": "Application Crashed"}],
                    survey_ids["app_onboarding"],
                ),
                tp(
                    "delivery",
                    _texts("Delivery", "Giao hàng", "การจัดส่ง"),
                    "delivery",
                    [{"event": "Order Shipped"}, {"event": "Order Delivered"}],
                    survey_ids["delivery"],
                ),
            ],
        },
        {
            "key": "retention",
            "name": _texts("Retention", "Giữ chân khách hàng", "การรักษาลูกค้า"),
            "entry": [{"event": "Order Completed", "count": 2}],
            "touchpoints": [
                tp(
                    "support_chat",
                    _texts("Support chat", "Chat hỗ trợ", "แชทฝ่ายบริการลูกค้า"),
                    "chat",
                    [{"event": "Support Chat Started"}, {"event": "Support Chat Ended"}],
                    survey_ids["support_chat"],
                ),
                tp(
                    "refund",
                    _texts("Refund", "Hoàn tiền", "การคืนเงิน"),
                    "delivery",
                    [{"event": "Order Refunded"}],
                ),
                tp(
                    "mobile_app",
                    _texts("Mobile app", "Ứng dụng di động", "แอปมือถือ"),
                    "app",
                    [{"event": "Application Opened"}],
                ),
                tp(
                    "relationship",
                    _texts("Relationship NPS", "Khảo sát NPS định kỳ", "แบบสำรวจ NPS รายไตรมาส"),
                    "email",
                    [],
                    survey_ids["relationship"],
                ),
            ],
        },
        {
            "key": "expansion",
            "name": _texts("Expansion", "Mở rộng", "การซื้อเพิ่ม"),
            "entry": [
                {"event": "Order Completed", "where": {"revenue": {"gte": EXPANSION_REVENUE}}},
                {"event": "Order Completed", "count": 4},
            ],
            "touchpoints": [
                tp(
                    "sale_orders",
                    _texts("Sale-day orders", "Đơn hàng ngày sale", "คำสั่งซื้อวันลดราคา"),
                    "web",
                    [{"event": "Order Completed", "where": {"coupon": {"exists": True}}}],
                ),
            ],
        },
        {
            "key": "advocacy",
            "name": _texts("Advocacy", "Ủng hộ", "การบอกต่อ"),
            "entry": [
                {"event": "Product Reviewed"},
                {"event": "Referral Sent"},
                {"event": "Survey Responded", "where": {"nps": {"gte": 9}}},
            ],
            "touchpoints": [
                tp(
                    "product_review",
                    _texts("Product review", "Đánh giá sản phẩm", "รีวิวสินค้า"),
                    "web",
                    [{"event": "Product Reviewed"}],
                ),
                tp(
                    "referral",
                    _texts("Referral", "Giới thiệu bạn bè", "การแนะนำเพื่อน"),
                    "app",
                    [{"event": "Referral Sent"}],
                ),
            ],
        },
    ]
    milestones = [
        {
            "key": "first_order",
            "name": _texts("First order", "Đơn hàng đầu tiên", "คำสั่งซื้อแรก"),
            "matcher": {"event": "Order Completed"},
        },
        {
            "key": "second_order",
            "name": _texts("Second order", "Đơn hàng thứ hai", "คำสั่งซื้อที่สอง"),
            "matcher": {"event": "Order Completed"},
            "count": 2,
        },
        {
            "key": "fifth_order",
            "name": _texts("Fifth order", "Đơn hàng thứ năm", "คำสั่งซื้อที่ห้า"),
            "matcher": {"event": "Order Completed"},
            "count": 5,
        },
        {
            "key": "first_referral",
            "name": _texts("First referral", "Lần giới thiệu đầu tiên", "การแนะนำครั้งแรก"),
            "matcher": {"event": "Referral Sent"},
        },
    ]
    return JourneyCreate.model_validate(
        {
            "name": JOURNEY_NAME,
            "description": "The demo shop's journey from the first visit to advocacy: web, "
            "app, email, chat, showroom and delivery touchpoints with their surveys.",
            "stages": stages,
            "milestones": milestones,
        }
    )
