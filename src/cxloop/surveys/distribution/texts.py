"""The words of survey emails and the unsubscribe page in Vietnamese, Thai and English.

Placeholders: ``{workspace}``, ``{survey}``, ``{name}``, ``{date}``, ``{address}``.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "{workspace} would like your feedback",
        "reminder_subject": "Reminder: {workspace} would like your feedback",
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "body": "Thank you for choosing {workspace}. Could you spare a minute for our short "
        "survey “{survey}”?",
        "reminder_body": "A few days ago we asked for your opinion in our short survey "
        "“{survey}”. It takes only a minute, and every answer helps {workspace} do better.",
        "button": "Answer the survey",
        "expires": "This link works until {date}.",
        "thanks": "Thank you,",
        "footer": "You receive this email because you are a customer of {workspace}. "
        "Do not want surveys from us?",
        "unsubscribe": "Unsubscribe",
        "page_title": "Unsubscribe",
        "page_question": "Stop receiving surveys from {workspace} at {address}?",
        "page_button": "Unsubscribe",
        "page_done": "Done. {workspace} will not send surveys to {address} any more.",
        "page_invalid": "This unsubscribe link is not valid.",
    },
    "vi": {
        "subject": "{workspace} mong nhận được ý kiến của bạn",
        "reminder_subject": "Nhắc lại: {workspace} mong nhận được ý kiến của bạn",
        "greeting": "Xin chào {name},",
        "greeting_anonymous": "Xin chào,",
        "body": "Cảm ơn bạn đã chọn {workspace}. Bạn có thể dành một phút để trả lời khảo "
        "sát ngắn “{survey}” không?",
        "reminder_body": "Vài ngày trước, chúng tôi đã mời bạn tham gia khảo sát ngắn "
        "“{survey}”. Chỉ mất một phút, và mỗi câu trả lời giúp {workspace} phục vụ bạn tốt hơn.",
        "button": "Trả lời khảo sát",
        "expires": "Liên kết có hiệu lực đến ngày {date}.",
        "thanks": "Trân trọng cảm ơn,",
        "footer": "Bạn nhận được email này vì bạn là khách hàng của {workspace}. "
        "Không muốn nhận khảo sát nữa?",
        "unsubscribe": "Hủy đăng ký",
        "page_title": "Hủy đăng ký",
        "page_question": "Ngừng nhận khảo sát từ {workspace} tại địa chỉ {address}?",
        "page_button": "Hủy đăng ký",
        "page_done": "Xong. {workspace} sẽ không gửi khảo sát đến {address} nữa.",
        "page_invalid": "Liên kết hủy đăng ký này không hợp lệ.",
    },
    "th": {
        "subject": "{workspace} อยากฟังความคิดเห็นของคุณ",
        "reminder_subject": "แจ้งเตือน: {workspace} อยากฟังความคิดเห็นของคุณ",
        "greeting": "สวัสดีคุณ{name}",
        "greeting_anonymous": "สวัสดี",
        "body": "ขอบคุณที่เลือกใช้บริการของ {workspace} "
        "รบกวนสละเวลาสักครู่เพื่อตอบแบบสอบถามสั้น ๆ “{survey}” ได้ไหม",
        "reminder_body": "เมื่อไม่กี่วันก่อน เราได้ขอความคิดเห็นของคุณในแบบสอบถามสั้น ๆ "
        "“{survey}” ใช้เวลาเพียงหนึ่งนาที และทุกคำตอบช่วยให้ {workspace} ดีขึ้น",
        "button": "ตอบแบบสอบถาม",
        "expires": "ลิงก์นี้ใช้ได้ถึงวันที่ {date}",
        "thanks": "ขอบคุณ",
        "footer": "คุณได้รับอีเมลนี้เพราะคุณเป็นลูกค้าของ {workspace} ไม่ต้องการรับแบบสอบถามจากเราอีก?",
        "unsubscribe": "ยกเลิกการรับอีเมล",
        "page_title": "ยกเลิกการรับอีเมล",
        "page_question": "หยุดรับแบบสอบถามจาก {workspace} ที่ {address} ใช่ไหม",
        "page_button": "ยกเลิกการรับอีเมล",
        "page_done": "เรียบร้อย {workspace} จะไม่ส่งแบบสอบถามไปที่ {address} อีก",
        "page_invalid": "ลิงก์ยกเลิกการรับอีเมลนี้ไม่ถูกต้อง",
    },
}


def text(language: str, key: str, **values: str) -> str:
    """The text ``key`` in ``language`` (English when missing), placeholders filled."""
    template = TEXTS.get(language, TEXTS["en"]).get(key) or TEXTS["en"][key]
    return template.format(**values)
