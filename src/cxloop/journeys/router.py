"""Journeys API: funnels, retention cohorts and churn over the customers' events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from cxloop.accounts.deps import ReadPrincipal
from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.eventstore.service import events_root
from cxloop.ingest.deps import Settled
from cxloop.journeys import schemas, service

router = APIRouter(prefix="/api/v1", tags=["journeys"])


def get_reader(
    _: Settled,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReadPrincipal,
) -> service.Reader:
    return service.Reader(session, events_root(settings), principal.workspace_id)


ReaderDep = Annotated[service.Reader, Depends(get_reader)]


@router.post("/analytics/funnel", response_model=schemas.FunnelRead)
def run_funnel(body: schemas.FunnelQuery, reader: ReaderDep) -> object:
    """Customers through ordered steps within a conversion window: conversion, time to
    convert, drop-offs and who dropped, optionally broken down."""
    return service.funnel(reader, body)


@router.post("/analytics/retention", response_model=schemas.RetentionRead)
def run_retention(body: schemas.RetentionQuery, reader: ReaderDep) -> object:
    """Weekly or monthly cohorts and the share of each that came back, period by period."""
    return service.cohorts(reader, body)


@router.post("/analytics/churn", response_model=schemas.ChurnRead)
def run_churn(body: schemas.ChurnQuery, reader: ReaderDep) -> object:
    """Churn rate over a period (and per week or month): active customers who went quiet."""
    return service.churn(reader, body)
