"""Sending email through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from cxloop.config import Settings
from cxloop.core import mail
from tests.fixtures.mail import SmtpServer, free_port


def test_a_multipart_email_keeps_thai_and_vietnamese(
    mail_settings: Settings, smtp: SmtpServer
) -> None:
    sent_id = mail.send(
        mail.Email(
            to="khach@example.com",
            subject="ร้านของเรา อยากฟังความคิดเห็นของคุณ · Cửa hàng Hoa Sen",
            text="Xin chào, cảm ơn bạn! ขอบคุณที่เลือกใช้บริการ",
            html="<p>Trả lời khảo sát — ตอบแบบสอบถาม</p>",
            from_name="Cửa hàng Hoa Sen",
            message_id=mail.message_id_for("invitation-1-0", mail_settings),
            unsubscribe_url="https://cx.shop.example/u/abc",
        ),
        mail_settings,
    )

    assert sent_id == "<invitation-1-0@shop.example>"
    (message,) = smtp.inbox.messages
    assert message["Subject"] == "ร้านของเรา อยากฟังความคิดเห็นของคุณ · Cửa hàng Hoa Sen"
    assert message["From"].addresses[0].display_name == "Cửa hàng Hoa Sen"
    assert message["From"].addresses[0].addr_spec == "surveys@shop.example"
    assert message["Message-ID"] == sent_id
    assert message["List-Unsubscribe"] == "<https://cx.shop.example/u/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert text.get_content().strip() == "Xin chào, cảm ơn bạn! ขอบคุณที่เลือกใช้บริการ"
    assert "Trả lời khảo sát — ตอบแบบสอบถาม" in html.get_content()
    assert smtp.inbox.envelopes == [("surveys@shop.example", ["khach@example.com"])]


def test_an_unreachable_server_is_a_temporary_failure(settings: Settings) -> None:
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    with pytest.raises(mail.MailError) as raised:
        mail.send(mail.Email(to="a@example.com", subject="s", text="t"), down)
    assert not raised.value.permanent


def test_a_refused_recipient_is_a_permanent_failure(
    mail_settings: Settings, smtp: SmtpServer
) -> None:
    smtp.inbox.refuse.add("gone@example.com")
    with pytest.raises(mail.MailError) as raised:
        mail.send(mail.Email(to="gone@example.com", subject="s", text="t"), mail_settings)
    assert raised.value.permanent
    assert "550" in str(raised.value)
    assert smtp.inbox.messages == []
