"""Ready-made surveys in Vietnamese, Thai and English."""

from __future__ import annotations

from typing import Any

from cxloop.surveys.schemas import SurveyCreate, TemplateRead

_NPS: dict[str, Any] = {
    "name": "Net Promoter Score",
    "status": "draft",
    "default_language": "en",
    "languages": ["vi", "th", "en"],
    "intro": {
        "vi": "Chúng tôi rất muốn nghe ý kiến của bạn. Khảo sát chỉ mất chưa đến một phút.",
        "th": "เราอยากฟังความคิดเห็นของคุณ แบบสอบถามนี้ใช้เวลาไม่ถึงหนึ่งนาที",
        "en": "We would love to hear from you. This takes less than a minute.",
    },
    "thank_you": {
        "vi": "Cảm ơn bạn đã dành thời gian góp ý!",
        "th": "ขอบคุณที่สละเวลาแสดงความคิดเห็น",
        "en": "Thank you for taking the time to tell us!",
    },
    "questions": [
        {
            "id": "nps",
            "type": "nps",
            "title": {
                "vi": "Bạn sẵn lòng giới thiệu chúng tôi với bạn bè hoặc đồng nghiệp đến mức nào?",
                "th": "คุณมีแนวโน้มที่จะแนะนำเราให้กับเพื่อนหรือเพื่อนร่วมงานมากน้อยเพียงใด",
                "en": "How likely are you to recommend us to a friend or colleague?",
            },
            "description": {
                "vi": "0 = hoàn toàn không, 10 = chắc chắn sẽ giới thiệu",
                "th": "0 = ไม่แนะนำเลย, 10 = แนะนำอย่างแน่นอน",
                "en": "0 = not at all likely, 10 = extremely likely",
            },
        },
        {
            "id": "detractor_reason",
            "type": "single_choice",
            "required": False,
            "show_if": {"question": "nps", "op": "lte", "value": 6},
            "title": {
                "vi": "Rất tiếc vì trải nghiệm chưa tốt. Điều gì làm bạn không hài lòng nhất?",
                "th": "ขออภัยที่ทำให้คุณผิดหวัง อะไรคือสิ่งที่คุณไม่พอใจมากที่สุด",
                "en": "We are sorry to hear that. What disappointed you most?",
            },
            "choices": [
                {
                    "id": "delivery",
                    "label": {"vi": "Giao hàng", "th": "การจัดส่ง", "en": "Delivery"},
                },
                {
                    "id": "product",
                    "label": {
                        "vi": "Chất lượng sản phẩm",
                        "th": "คุณภาพสินค้า",
                        "en": "Product quality",
                    },
                },
                {"id": "price", "label": {"vi": "Giá cả", "th": "ราคา", "en": "Price"}},
                {
                    "id": "service",
                    "label": {
                        "vi": "Chăm sóc khách hàng",
                        "th": "การบริการลูกค้า",
                        "en": "Customer service",
                    },
                },
                {
                    "id": "website_app",
                    "label": {
                        "vi": "Trang web hoặc ứng dụng",
                        "th": "เว็บไซต์หรือแอป",
                        "en": "Website or app",
                    },
                },
                {
                    "id": "other",
                    "label": {"vi": "Lý do khác", "th": "อื่น ๆ", "en": "Something else"},
                },
            ],
        },
        {
            "id": "detractor_comment",
            "type": "text",
            "show_if": {"question": "nps", "op": "lte", "value": 6},
            "title": {
                "vi": "Bạn có thể cho chúng tôi biết chuyện gì đã xảy ra không?",
                "th": "ช่วยเล่าให้เราฟังหน่อยได้ไหมว่าเกิดอะไรขึ้น",
                "en": "Could you tell us what went wrong?",
            },
        },
        {
            "id": "passive_improve",
            "type": "text",
            "show_if": {"question": "nps", "op": "in", "value": [7, 8]},
            "title": {
                "vi": "Chúng tôi có thể làm gì để bạn chấm 10 điểm?",
                "th": "เราควรปรับปรุงอะไรเพื่อให้คุณให้คะแนนเต็ม 10",
                "en": "What is the one thing that would make it a 10?",
            },
        },
        {
            "id": "promoter_highlight",
            "type": "text",
            "show_if": {"question": "nps", "op": "gte", "value": 9},
            "title": {
                "vi": "Thật tuyệt! Bạn thích điều gì nhất ở chúng tôi?",
                "th": "ยินดีมากเลย คุณชอบอะไรในตัวเรามากที่สุด",
                "en": "Wonderful! What did you like most?",
            },
        },
        {
            "id": "promoter_review",
            "type": "single_choice",
            "required": False,
            "show_if": {"question": "nps", "op": "gte", "value": 9},
            "title": {
                "vi": "Bạn có sẵn lòng viết một đánh giá công khai về chúng tôi không?",
                "th": "คุณยินดีเขียนรีวิวให้เราแบบสาธารณะไหม",
                "en": "Would you write a public review about us?",
            },
            "choices": [
                {
                    "id": "yes",
                    "label": {"vi": "Có, tôi sẵn lòng", "th": "ยินดี", "en": "Yes, happy to"},
                },
                {
                    "id": "later",
                    "label": {"vi": "Để lúc khác", "th": "ไว้คราวหน้า", "en": "Maybe later"},
                },
            ],
        },
    ],
}

_NAMES = {
    "nps": {
        "vi": "Chỉ số sẵn lòng giới thiệu (NPS)",
        "th": "ดัชนีการแนะนำต่อ (NPS)",
        "en": "Net Promoter Score (NPS)",
    }
}


def nps_template() -> SurveyCreate:
    """An NPS survey that asks detractors what went wrong, passives what would make it a
    10, and promoters what they liked and whether they would write a review."""
    return SurveyCreate.model_validate(_NPS)


def templates() -> list[TemplateRead]:
    return [TemplateRead(key="nps", name=_NAMES["nps"], survey=nps_template())]
