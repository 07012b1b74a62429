"""JSON API of a survey's public faces: its page and widget settings, and personal links."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi import status as http

from cxloop.accounts.deps import ReadPrincipal, WritePrincipal
from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.models import SurveyPage
from cxloop.surveys import links, widget
from cxloop.surveys.page_schemas import LinkCreate, LinkRead, PageRead, PageSettings

router = APIRouter(prefix="/api/v1", tags=["surveys"])


def page_read(page: SurveyPage) -> PageRead:
    key = page.widget_key if page.widget is not None else None
    snippet = f'<script src="/widget.js" data-key="{key}" async></script>' if key else None
    return PageRead.model_validate(
        {
            "theme": page.theme or {},
            "review_url": page.review_url,
            "widget": page.widget,
            "survey_id": page.survey_id,
            "page_path": f"/s/{page.survey_id}",
            "widget_key": key,
            "embed_snippet": snippet,
        }
    )


@router.get("/surveys/{survey_id}/page", response_model=PageRead)
def read_page(survey_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal) -> object:
    """The survey's hosted page settings, its widget rules and the code to embed it."""
    return page_read(widget.get_page(session, principal.workspace_id, survey_id))


@router.put("/surveys/{survey_id}/page", response_model=PageRead)
def write_page(
    survey_id: uuid.UUID, body: PageSettings, session: SessionDep, principal: WritePrincipal
) -> object:
    """Set the theme, the review link for promoters and the widget rules (null: no widget)."""
    return page_read(widget.set_page(session, principal.workspace_id, survey_id, body))


@router.post(
    "/surveys/{survey_id}/links", response_model=LinkRead, status_code=http.HTTP_201_CREATED
)
def create_link(
    survey_id: uuid.UUID,
    body: LinkCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: WritePrincipal,
) -> object:
    """A personal, single-use link to the survey for one customer (valid 30 days by default)."""
    issued = links.issue_link(
        session,
        principal.workspace_id,
        survey_id,
        customer=body.customer,
        channel=body.channel,
        language=body.language,
        touchpoint=body.touchpoint,
        expires_at=body.expires_at,
        settings=settings,
    )
    return LinkRead(
        link_id=issued.link_id, token=issued.token, path=issued.path, expires_at=issued.expires_at
    )
