"""Text analytics API: analyse texts, read and replace the workspace's theme taxonomy."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from cxloop.accounts.deps import AdminPrincipal, ReadPrincipal
from cxloop.core.deps import SettingsDep
from cxloop.text import schemas, service
from cxloop.text.taxonomy import Taxonomy

router = APIRouter(prefix="/api/v1/text", tags=["text"])


@router.post("/analyze", response_model=schemas.AnalyzeResponse)
def analyze(
    body: schemas.AnalyzeRequest, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """Language, sentiment, themes and aspect sentiment of each text, in order."""
    found = service.analyze(settings, principal.workspace_id, body.texts)
    return {"items": [asdict(item) for item in found]}


@router.post("/themes/discover", response_model=schemas.DiscoverResponse)
def discover_themes(
    body: schemas.DiscoverRequest, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """Groups of texts about something the taxonomy does not name yet, with readable labels."""
    found = service.discover_themes(settings, principal.workspace_id, body.texts, body.max_themes)
    return {"items": [asdict(item) for item in found]}


@router.get("/taxonomy", response_model=Taxonomy)
def read_taxonomy(settings: SettingsDep, principal: ReadPrincipal) -> object:
    return service.get_taxonomy(settings, principal.workspace_id)


@router.put("/taxonomy", response_model=Taxonomy)
def replace_taxonomy(body: Taxonomy, settings: SettingsDep, principal: AdminPrincipal) -> object:
    """Replace the workspace's themes; analyses from now on use them."""
    return service.set_taxonomy(settings, principal.workspace_id, body)


@router.delete("/taxonomy", response_model=Taxonomy)
def reset_taxonomy(settings: SettingsDep, principal: AdminPrincipal) -> object:
    """Go back to the default themes."""
    return service.reset_taxonomy(settings, principal.workspace_id)
