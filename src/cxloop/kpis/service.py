"""KPI packs of a workspace: settings (pack, event mapping, OMTM), marketing spend, reports.

Reports read the event files through :mod:`cxloop.analytics.kpis`; spend and settings live in
the operational store and are handed to the computation as plain values.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from cxloop.accounts.service import record_audit
from cxloop.analytics.kpis import DEFAULT_ROLES, PACK_NAMES, PACKS, Interval, KpiSpec, compute
from cxloop.analytics.kpis.compute import KpiResult
from cxloop.analytics.kpis.formulas import measures_of
from cxloop.analytics.kpis.roles import resolve
from cxloop.analytics.portable import DuckDBEngine, Matcher, SpecError, day_range, day_start
from cxloop.core.actors import Actor
from cxloop.core.time import utcnow
from cxloop.eventstore import index as event_index
from cxloop.kpis import errors, schemas
from cxloop.models import KpiSetting, MarketingSpend
from cxloop.profiles.service import merge_map

# (question, read) -> what read(session) gives, perhaps kept: see report()
Keep = Callable[[tuple[Hashable, ...], Callable[[Session], list[KpiResult]]], list[KpiResult]]
log = logging.getLogger(__name__)

DEFAULT_DAYS = 28


# -- settings -------------------------------------------------------------------------------


def get_settings(session: Session, workspace_id: uuid.UUID) -> schemas.KpiSettings:
    row = session.get(KpiSetting, workspace_id)
    if row is None:
        return schemas.KpiSettings()
    omtm = (
        schemas.Omtm.model_validate({"pack": row.omtm_pack, "kpi": row.omtm})
        if row.omtm and row.omtm_pack
        else None
    )
    return schemas.KpiSettings.model_validate(
        {
            "pack": row.pack,
            "omtm": omtm,
            "mapping": row.mapping,
            "currency": row.currency,
            "churn_days": row.churn_days,
        }
    )


def set_settings(
    session: Session, workspace_id: uuid.UUID, body: schemas.KpiSettings, actor: Actor
) -> schemas.KpiSettings:
    """Replace the settings; the OMTM must be a KPI of its pack, the mapping known roles."""
    if body.omtm is not None and body.omtm.kpi not in {k.id for k in PACKS[body.omtm.pack]}:
        raise errors.UnknownKpi(
            "omtm.kpi", f"no KPI {body.omtm.kpi!r} in the {body.omtm.pack} pack"
        )
    try:
        resolve(matchers(body))
    except SpecError as exc:
        raise errors.InvalidKpiQuery(exc.field, exc.reason) from exc
    row = session.get(KpiSetting, workspace_id)
    if row is None:
        row = KpiSetting(workspace_id=workspace_id)
        session.add(row)
    row.pack = body.pack
    row.omtm_pack = body.omtm.pack if body.omtm else None
    row.omtm = body.omtm.kpi if body.omtm else None
    row.mapping = {
        k: [m.model_dump(exclude_defaults=True) for m in v] for k, v in body.mapping.items()
    }
    row.currency = body.currency
    row.churn_days = body.churn_days
    row.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        actor,
        "kpi_settings.updated",
        workspace_id=workspace_id,
        details=body.model_dump(mode="json"),
    )
    return body


def matchers(body: schemas.KpiSettings) -> dict[str, list[Matcher]]:
    return {role: [to_matcher(m) for m in items] for role, items in body.mapping.items()}


def to_matcher(model: schemas.EventMatcher) -> Matcher:
    return Matcher(
        event=model.event, type=model.type, where=dict(model.where), channel=model.channel
    )


def packs() -> dict[str, Any]:
    """Every pack with its KPIs' definitions, and the default event of each role."""
    return {
        "items": [
            {
                "id": pack,
                "names": PACK_NAMES[pack],
                "kpis": [
                    {
                        "id": k.id,
                        "names": k.names,
                        "definition": k.definition,
                        "unit": k.unit.value,
                        "higher_is_better": k.higher_is_better,
                        "measures": sorted(measures_of(k.formula)),
                    }
                    for k in kpis
                ],
            }
            for pack, kpis in PACKS.items()
        ],
        "roles": {
            role: [
                {"event": m.event, "type": m.type, "where": dict(m.where), "channel": m.channel}
                for m in items
            ]
            for role, items in DEFAULT_ROLES.items()
        },
    }


# -- marketing spend ------------------------------------------------------------------------


def import_spend(
    session: Session, workspace_id: uuid.UUID, rows: Sequence[schemas.SpendRow], actor: Actor
) -> int:
    """Add spend rows; a row for the same day, channel, campaign and currency replaces the
    one stored, so importing a file again changes nothing."""
    keys = {(r.date, r.channel, r.campaign, r.currency): r for r in rows}
    for chunk in _chunks(list(keys), 500):
        session.execute(
            delete(MarketingSpend).where(
                MarketingSpend.workspace_id == workspace_id,
                tuple_(
                    MarketingSpend.spent_on,
                    MarketingSpend.channel,
                    MarketingSpend.campaign,
                    MarketingSpend.currency,
                ).in_(chunk),
            )
        )
    session.add_all(
        MarketingSpend(
            workspace_id=workspace_id,
            spent_on=r.date,
            channel=r.channel,
            campaign=r.campaign,
            amount=r.amount,
            currency=r.currency,
        )
        for r in keys.values()
    )
    session.flush()
    record_audit(
        session,
        actor,
        "marketing_spend.imported",
        workspace_id=workspace_id,
        details={"rows": len(keys)},
    )
    return len(keys)


def parse_spend_csv(text: str) -> list[schemas.SpendRow]:
    """CSV with a header: date, channel, amount, currency and an optional campaign.

    Every bad row is reported with its line number, and nothing is imported then."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"date", "channel", "amount", "currency"} - set(reader.fieldnames or [])
    if missing:
        raise errors.InvalidKpiQuery(
            "csv.header", f"missing column(s): {', '.join(sorted(missing))}"
        )
    rows, problems = [], []
    for line, record in enumerate(reader, start=2):
        try:
            rows.append(
                schemas.SpendRow.model_validate(
                    {
                        "date": (record.get("date") or "").strip(),
                        "channel": (record.get("channel") or "").strip(),
                        "campaign": (record.get("campaign") or "").strip(),
                        "amount": (record.get("amount") or "").strip(),
                        "currency": (record.get("currency") or "").strip().upper(),
                    }
                )
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            problems.append(f"line {line}: {'.'.join(map(str, first['loc']))}: {first['msg']}")
    if problems:
        raise errors.InvalidKpiQuery("csv", "; ".join(problems[:10]))
    return rows


def list_spend(
    session: Session, workspace_id: uuid.UUID, start: date | None, end: date | None, limit: int
) -> dict[str, Any]:
    query = select(MarketingSpend).where(MarketingSpend.workspace_id == workspace_id)
    if start is not None:
        query = query.where(MarketingSpend.spent_on >= start)
    if end is not None:
        query = query.where(MarketingSpend.spent_on <= end)
    found = session.scalars(
        query.order_by(MarketingSpend.spent_on.desc(), MarketingSpend.channel).limit(limit)
    ).all()
    total: dict[str, Decimal] = {}
    for row in found:
        total[row.currency] = total.get(row.currency, Decimal(0)) + row.amount
    return {"items": found, "total": total}


def spend_by_day(
    session: Session, workspace_id: uuid.UUID, start: date, end: date, currency: str
) -> dict[date, float]:
    rows = session.execute(
        select(MarketingSpend.spent_on, MarketingSpend.amount).where(
            MarketingSpend.workspace_id == workspace_id,
            MarketingSpend.currency == currency,
            MarketingSpend.spent_on >= start,
            MarketingSpend.spent_on <= end,
        )
    )
    out: dict[date, float] = {}
    for day, amount in rows:
        out[day] = out.get(day, 0.0) + float(amount)
    return out


# -- reports --------------------------------------------------------------------------------


def report(
    session: Session,
    root: Path,
    workspace_id: uuid.UUID,
    *,
    pack: str | None,
    start: date | None,
    end: date | None,
    interval: Interval,
    only: Sequence[str] = (),
    keep: Keep | None = None,
) -> dict[str, Any]:
    """Every KPI of a pack for a period, with the period before it and a series.

    ``keep(question, read)``: where a caller keeps what is read from the event store (the
    dashboard, see :mod:`cxloop.dashboard.memo`); ``question`` names everything the answer
    depends on besides the event files, ``read(session)`` reads it."""
    setting = get_settings(session, workspace_id)
    chosen = pack or setting.pack
    try:
        start, end = day_range(start, end, DEFAULT_DAYS, utcnow().date())
        length = end - start + timedelta(days=1)
        spec = KpiSpec(
            pack=chosen,
            start=start,
            end=end,
            interval=interval,
            mapping=matchers(setting),
            spend=spend_by_day(session, workspace_id, start - length, end, setting.currency),
            churn_days=setting.churn_days,
            only=tuple(only),
        )
        spec.check()
    except SpecError as exc:
        raise errors.InvalidKpiQuery(exc.field, exc.reason) from exc
    until = _midnight_after(end)

    def read(reading: Session) -> list[KpiResult]:
        files, index = event_index.for_query(reading, workspace_id, root, until=until)
        return compute(DuckDBEngine(files, merge_map(reading, workspace_id), index), spec)

    if keep is None:
        results = read(session)
    else:  # the spec holds every setting the figures depend on: its text names the question
        question = ("kpis", hashlib.sha256(repr(spec).encode()).hexdigest())
        results = keep(question, read)
    omtm = setting.omtm
    return {
        "pack": chosen,
        "names": PACK_NAMES[chosen],
        "from": start,
        "to": end,
        "previous_from": start - length,
        "previous_to": start - timedelta(days=1),
        "interval": interval,
        "currency": setting.currency,
        "omtm": omtm,
        "kpis": [
            {
                "id": r.kpi.id,
                "pack": chosen,
                "names": r.kpi.names,
                "definition": r.kpi.definition,
                "unit": r.kpi.unit.value,
                "higher_is_better": r.kpi.higher_is_better,
                "is_omtm": omtm is not None and omtm.pack == chosen and omtm.kpi == r.kpi.id,
                "value": r.value,
                "previous": r.previous,
                "change": r.change,
                "series": [{"start": p.start, "value": p.value} for p in r.series],
            }
            for r in results
        ],
    }


def _midnight_after(day: date) -> datetime:
    return day_start(day + timedelta(days=1))


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
