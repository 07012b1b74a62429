"""Sending email through SMTP: multipart text and HTML, a Message-ID of the caller's
choosing, and the List-Unsubscribe headers mail clients show as an unsubscribe button.

Configured by ``CXLOOP_SMTP_HOST``, ``_PORT``, ``_USERNAME``, ``_PASSWORD``, ``_STARTTLS``
and ``_FROM``. Headers and bodies are UTF-8 (RFC 2047 words in headers), so Thai and
Vietnamese survive any relay.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from cxloop.config import Settings


class MailError(Exception):
    """The message was not accepted. ``permanent``: the recipient was refused for good
    (a 5xx reply to RCPT), so trying again will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    # the display name shown beside the configured sender address
    from_name: str | None = None
    message_id: str | None = None
    # https URL; sent as List-Unsubscribe with RFC 8058 one-click
    unsubscribe_url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def sender_address(settings: Settings) -> str:
    """The bare address of ``CXLOOP_SMTP_FROM``."""
    return parseaddr(settings.smtp_from)[1] or "surveys@localhost"


def message_id_for(key: str, settings: Settings) -> str:
    """A Message-ID made from ``key``: the same message sent again keeps its id, so mail
    systems that see it twice can tell."""
    domain = sender_address(settings).rpartition("@")[2] or "localhost"
    return f"<{key}@{domain}>"


def build(email: Email, settings: Settings) -> EmailMessage:
    """The MIME message of ``email``: text first, HTML as the preferred alternative."""
    message = EmailMessage()
    name, address = parseaddr(settings.smtp_from)
    user, _, domain = (address or "surveys@localhost").partition("@")
    message["From"] = Address(display_name=email.from_name or name, username=user, domain=domain)
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = email.message_id or message_id_for(_random_key(), settings)
    if email.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for header, value in email.headers.items():
        message[header] = value
    message.set_content(email.text, charset="utf-8")
    if email.html is not None:
        message.add_alternative(email.html, subtype="html", charset="utf-8")
    return message


def send(email: Email, settings: Settings) -> str:
    """Hand ``email`` to the SMTP server; returns its Message-ID or raises :class:`MailError`."""
    message = build(email, settings)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(
            _describe(exc.recipients), permanent=_all_permanent(exc.recipients)
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"SMTP server {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc
    if refused:  # only for several recipients; kept for completeness
        raise MailError(_describe(refused), permanent=_all_permanent(refused))
    return str(message["Message-ID"])


def _describe(recipients: Mapping[str, tuple[int, bytes | str]]) -> str:
    return "; ".join(f"{to}: {code} {_text(reply)}" for to, (code, reply) in recipients.items())


def _all_permanent(recipients: Mapping[str, tuple[int, bytes | str]]) -> bool:
    return bool(recipients) and all(code >= 500 for code, _ in recipients.values())


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _random_key() -> str:
    return secrets.token_hex(16)
