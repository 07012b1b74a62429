"""Rendering survey emails and the unsubscribe page from the templates beside this module."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cxloop.config import Settings
from cxloop.core.mail import Email, message_id_for
from cxloop.models import Survey, SurveyInvitation, Workspace
from cxloop.surveys.distribution.texts import text

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    keep_trailing_newline=True,
)


def absolute(settings: Settings, path: str) -> str:
    return settings.public_url.rstrip("/") + path


def invitation_email(
    invitation: SurveyInvitation,
    survey: Survey,
    workspace: Workspace,
    *,
    number: int,
    survey_path: str,
    unsubscribe_path: str,
    expires_at: datetime,
    settings: Settings,
) -> Email:
    """The invitation (``number`` 0) or its ``number``-th reminder, in the invitation's
    language, with the personal link and an unsubscribe link."""
    lang = invitation.language
    values = {
        "workspace": workspace.display_name or workspace.name,
        "survey": survey.name,
        "name": invitation.name or "",
        "date": expires_at.date().isoformat(),
    }
    reminder = number > 0
    subject = text(lang, "reminder_subject" if reminder else "subject", **values)
    unsubscribe_url = absolute(settings, unsubscribe_path)
    context = {
        "lang": lang,
        "subject": subject,
        "workspace": values["workspace"],
        "greeting": text(lang, "greeting" if invitation.name else "greeting_anonymous", **values),
        "body": text(lang, "reminder_body" if reminder else "body", **values),
        "button": text(lang, "button", **values),
        "expires": text(lang, "expires", **values),
        "thanks": text(lang, "thanks", **values),
        "footer": text(lang, "footer", **values),
        "unsubscribe": text(lang, "unsubscribe", **values),
        "survey_url": absolute(settings, survey_path),
        "unsubscribe_url": unsubscribe_url,
    }
    return Email(
        to=invitation.email or "",
        subject=subject,
        text=environment.get_template("invitation.txt.j2").render(context),
        html=environment.get_template("invitation.html.j2").render(context),
        from_name=values["workspace"],
        message_id=message_id_for(f"invitation-{invitation.id}-{number}", settings),
        unsubscribe_url=unsubscribe_url,
        headers={"X-Cxloop-Invitation": str(invitation.id)},
    )


def unsubscribe_page(
    lang: str,
    *,
    workspace: str,
    address: str,
    action: str,
    done: bool = False,
    invalid: bool = False,
) -> str:
    values = {"workspace": workspace, "address": address}
    if invalid:
        message = text(lang, "page_invalid")
    elif done:
        message = text(lang, "page_done", **values)
    else:
        message = text(lang, "page_question", **values)
    return environment.get_template("unsubscribe.html.j2").render(
        lang=lang,
        title=text(lang, "page_title"),
        message=message,
        button=text(lang, "page_button"),
        action=action,
        done=done,
        invalid=invalid,
    )
