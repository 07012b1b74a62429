"""The unsubscribe page of survey emails: ``/u/{token}``.

Opening the link shows one button; pressing it (a POST) unsubscribes. Mail clients that
offer their own unsubscribe button POST ``List-Unsubscribe=One-Click`` to the same address
(RFC 8058). A GET changes nothing, because mail scanners open every link of an email.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cxloop.accounts import service as accounts
from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.surveys.distribution import emails, errors, suppressions
from cxloop.web.templating import page_language

router = APIRouter(include_in_schema=False)


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_form(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    try:
        invitation = suppressions.invitation_of(session, token, settings)
    except errors.UnsubscribeLinkInvalid:
        return _invalid(request)
    workspace = accounts.get_workspace(session, invitation.workspace_id)
    page = emails.unsubscribe_page(
        invitation.language,
        workspace=workspace.display_name or workspace.name,
        address=invitation.email or "",
        action=suppressions.UNSUBSCRIBE_PREFIX + token,
        done=invitation.unsubscribed_at is not None,
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    try:
        invitation = suppressions.unsubscribe(session, token, settings)
    except errors.UnsubscribeLinkInvalid:
        return _invalid(request)
    workspace = accounts.get_workspace(session, invitation.workspace_id)
    page = emails.unsubscribe_page(
        invitation.language,
        workspace=workspace.display_name or workspace.name,
        address=invitation.email or "",
        action=suppressions.UNSUBSCRIBE_PREFIX + token,
        done=True,
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


def _invalid(request: Request) -> HTMLResponse:
    page = emails.unsubscribe_page(
        page_language(request), workspace="", address="", action="", invalid=True
    )
    return HTMLResponse(page, status_code=400)
