"""Analytics benchmarks: a funnel, retention cohorts and the e-commerce KPI pack over the event
store, each beside a hand-written DuckDB query and a pandas implementation run on the same files
in the same run.

1. a 3-step funnel (Product Viewed, Product Added, Order Completed) with a 7-day window over
   six months of entries;
2. 12 weekly retention cohorts of first action, each followed for 12 weeks;
3. the e-commerce pack for a month, with the month before and a weekly series.

cxloop answers through the service functions the API calls (``journeys.service.funnel`` and
``cohorts``, ``kpis.service.report``): the file list from the manifest and the merge map from
an operational database (SQLite, built for the run), then the portable SQL on DuckDB. The
baselines get the same files and merge map; the three answers must agree.

    .venv/bin/python -m bench.analytics [--quick] [--write-docs]

Progress goes to stderr, the table of figures to stdout (and to docs/benchmarks.md with
``--write-docs``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from bench import analytics_baselines as base
from bench.analytics_data import Dataset, ensure
from bench.analytics_synth import Params
from bench.ingest import describe_code, machine, say
from bench.report import Figure, details, replace_section, table
from sqlalchemy.orm import Session, sessionmaker

from cxloop.analytics import events as store
from cxloop.analytics.kpis import Interval
from cxloop.core import migrate
from cxloop.core.db import bulk_write, make_engine, make_sessionmaker, read_transaction, transaction
from cxloop.core.time import utcnow
from cxloop.eventstore import index as event_index
from cxloop.eventstore.service import register
from cxloop.journeys import schemas as journey_schemas
from cxloop.journeys import service as journeys
from cxloop.kpis import service as kpis
from cxloop.models import MarketingSpend, Profile, Workspace

REPO = Path(__file__).resolve().parents[1]
GIB = 2**30
RATIO = 1.5  # cxloop / hand-written DuckDB at most
SPEED_UP = 10.0  # pandas / cxloop at least
MEMORY = 4 * GIB


# -- the operational store: the manifest, the merge map and the spend, as the API reads them --


def operational_store(folder: Path, data: Dataset) -> str:
    """A migrated SQLite database holding the workspace, its files, profiles and spend."""
    url = f"sqlite:///{folder / 'cxloop.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    now = utcnow()
    merged = data.merge_map
    try:
        with transaction(make_sessionmaker(engine)) as session:
            ws = data.workspace_id
            session.add(Workspace(id=ws, name="bench-analytics", display_name="Analytics bench"))
            session.flush()
            for f in data.files:
                stats = store.FileStats(
                    path=data.root / f.path,
                    rows=f.rows,
                    bytes=f.bytes,
                    min_timestamp=datetime.fromisoformat(f.min_timestamp),
                    max_timestamp=datetime.fromisoformat(f.max_timestamp),
                )
                register(session, ws, data.root, stats)
            bulk_write(
                session, Profile.__table__, (_profile(p, ws, merged, now) for p in data.profiles)
            )
            session.add_all(
                MarketingSpend(
                    workspace_id=ws,
                    spent_on=datetime.fromisoformat(day).date(),
                    channel=channel,
                    campaign="",
                    amount=Decimal(amount),
                    currency="VND",
                )
                for day, channels in data.spend.items()
                for channel, amount in channels.items()
            )
    finally:
        engine.dispose()
    return url


def _profile(
    profile: str, workspace_id: uuid.UUID, merged: dict[str, str], now: datetime
) -> dict[str, Any]:
    into = merged.get(profile)
    return {
        "id": uuid.UUID(profile),
        "workspace_id": workspace_id,
        "merged_into_id": uuid.UUID(into) if into else None,
        "merged_at": now if into else None,
        "first_seen_at": None,
        "last_seen_at": None,
        "traits": {},
        "trait_times": {},
        "channels": {},
        "counters": {},
        "event_count": 0,
        "merge_count": 0,
        "updated_at": now,
        "created_at": now,
    }


@dataclass
class Context:
    data: Dataset
    plan: base.Plan
    factory: sessionmaker[Session]

    @property
    def glob(self) -> str:
        return str(self.data.root / f"workspace={self.data.workspace_id}" / "month=*" / "*.parquet")

    def reader(self, session: Session) -> journeys.Reader:
        return journeys.Reader(session, self.data.root, self.data.workspace_id)


# -- cxloop, as the API calls it ----------------------------------------------------------------


def ours_funnel(ctx: Context) -> base.Answer:
    query = journey_schemas.FunnelQuery.model_validate(
        {
            "steps": [{"event": s} for s in base.STEPS],
            "window_days": ctx.plan.window_days,
            "from": ctx.plan.funnel_from,
            "to": ctx.plan.funnel_to,
        }
    )
    with read_transaction(ctx.factory) as session:
        steps = journeys.funnel(ctx.reader(session), query)["steps"]
    return {
        "customers": [s["customers"] for s in steps],
        "median": [s["median_seconds_to_convert"] for s in steps],
        "p90": [s["p90_seconds_to_convert"] for s in steps],
        "dropped": [s["dropped_sample"] for s in steps],
    }


def ours_retention(ctx: Context) -> base.Answer:
    query = journey_schemas.RetentionQuery.model_validate(
        {
            "period": "week",
            "periods": ctx.plan.periods,
            "from": ctx.plan.cohorts_from,
            "to": ctx.plan.cohorts_to,
        }
    )
    with read_transaction(ctx.factory) as session:
        cohorts = journeys.cohorts(ctx.reader(session), query)["cohorts"]
    rows = [(c["start"], -1, c["customers"]) for c in cohorts]
    rows += [
        (c["start"], cell["period"], cell["customers"])
        for c in cohorts
        for cell in c["cells"]
        if cell["customers"]
    ]
    return base.retention_answer(rows)


def ours_kpis(ctx: Context) -> base.Answer:
    with read_transaction(ctx.factory) as session:
        found = kpis.report(
            session,
            ctx.data.root,
            ctx.data.workspace_id,
            pack="ecommerce",
            start=ctx.plan.kpi_from,
            end=ctx.plan.kpi_to,
            interval=Interval.WEEK,
        )
    return {
        k["id"]: {
            "value": k["value"],
            "previous": k["previous"],
            "series": [p["value"] for p in k["series"]],
        }
        for k in found["kpis"]
    }


Run = Callable[[Context], base.Answer]


@dataclass
class Query:
    title: str
    ours: Run
    duckdb: Run
    pandas: Run
    describe: Callable[[base.Answer], str]


def _describe_funnel(a: base.Answer) -> str:
    c = a["customers"]
    return (
        f"{c[0]:,} entered, {c[1]:,} added to cart, {c[2]:,} ordered within 7 days "
        f"({c[2] / max(c[0], 1):.1%}); median time to order {a['median'][2] or 0:,.0f} s"
    )


def _describe_retention(a: base.Answer) -> str:
    sizes = a["sizes"]
    week = [sum(v for k, v in a["cells"].items() if k.endswith(f"+{p}")) for p in (1, 4, 12)]
    total = sum(sizes.values())
    return (
        f"{len(sizes)} cohorts, {total:,} customers; retained in week 1 / 4 / 12 (of all "
        f"cohorts): {week[0]:,} / {week[1]:,} / {week[2]:,}"
    )


def _describe_kpis(a: base.Answer) -> str:
    shown = ("conversion_rate", "cart_abandonment", "average_cart_size", "cac", "virality")
    return "; ".join(
        f"{k} {a[k]['value']:.4g} (before {a[k]['previous']:.4g})"
        for k in shown
        if a[k]["value"] is not None and a[k]["previous"] is not None
    )


QUERIES = {
    "funnel": Query(
        "3-step funnel, 7-day window, six months of entries",
        ours_funnel,
        lambda c: base.funnel_duckdb(c.glob, c.data.merge_map, c.plan),
        lambda c: base.funnel_pandas(c.data.paths, c.data.merge_map, c.plan),
        _describe_funnel,
    ),
    "retention": Query(
        "12 weekly retention cohorts, 12 weeks each",
        ours_retention,
        lambda c: base.retention_duckdb(c.glob, c.data.merge_map, c.plan),
        lambda c: base.retention_pandas(c.data.paths, c.data.merge_map, c.plan),
        _describe_retention,
    ),
    "kpis": Query(
        "E-commerce KPI pack, a month with the month before and a weekly series",
        ours_kpis,
        lambda c: base.kpis_duckdb(c.glob, c.data.merge_map, c.plan, c.data.spend_by_day()),
        lambda c: base.kpis_pandas(c.data.paths, c.data.merge_map, c.plan, c.data.spend_by_day()),
        _describe_kpis,
    ),
}


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    ours: list[float] = field(default_factory=list)
    duckdb: list[float] = field(default_factory=list)
    pandas: list[float] = field(default_factory=list)
    ours_cpu: list[float] = field(default_factory=list)
    duckdb_cpu: list[float] = field(default_factory=list)
    pandas_cpu: list[float] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    answer: base.Answer = field(default_factory=dict)
    peak_ours: int | None = None  # bytes
    peak_duckdb: int | None = None

    @property
    def agree(self) -> bool:
        return not self.mismatches


def timed(run: Run, ctx: Context, cpu: list[float] | None = None) -> tuple[float, base.Answer]:
    """Wall seconds of one run; its CPU seconds (every thread of the process) go to ``cpu``."""
    gc.collect()
    started, used = time.perf_counter(), time.process_time()
    answer = run(ctx)
    if cpu is not None:
        cpu.append(time.process_time() - used)
    return time.perf_counter() - started, answer


def measure(name: str, ctx: Context, args: argparse.Namespace) -> Outcome:
    query = QUERIES[name]
    out = Outcome(name)

    def check(label: str, theirs: base.Answer) -> None:
        found = base.differences(out.answer, theirs)
        if found:
            out.mismatches.extend(f"{label}: {d}" for d in found[:10])
            say(f"  {name}: cxloop and {label} differ: {'; '.join(found[:3])}")

    say(f"{name}: warm-up")
    _, out.answer = timed(query.ours, ctx)
    check("hand-written DuckDB", timed(query.duckdb, ctx)[1])
    order = [
        ("cxloop", query.ours, out.ours, out.ours_cpu),
        ("duckdb", query.duckdb, out.duckdb, out.duckdb_cpu),
    ]
    for i in range(args.runs):
        for label, run, into, cpu in order if i % 2 == 0 else order[::-1]:
            seconds, answer = timed(run, ctx, cpu)
            into.append(seconds)
            if label == "duckdb":
                check("hand-written DuckDB", answer)
            else:
                check("cxloop (another run)", answer)
        say(
            f"  run {i + 1}/{args.runs}: cxloop {out.ours[-1]:.3f} s, DuckDB {out.duckdb[-1]:.3f} s"
        )
    if args.pandas_runs:
        say(f"{name}: pandas warm-up")  # its first run pays for imports the others paid before
        check("pandas", timed(query.pandas, ctx)[1])
    for i in range(args.pandas_runs):
        seconds, answer = timed(query.pandas, ctx, out.pandas_cpu)
        out.pandas.append(seconds)
        check("pandas", answer)
        say(f"  pandas {i + 1}/{args.pandas_runs}: {seconds:.2f} s")
    if args.memory:
        out.peak_ours = peak(args, ctx, "ours", name)
        out.peak_duckdb = peak(args, ctx, "duckdb", name)
        mib = (out.peak_ours / 2**20, out.peak_duckdb / 2**20)
        say(f"  peak RSS: cxloop {mib[0]:,.0f} MiB, DuckDB {mib[1]:,.0f} MiB")
    return out


def peak(args: argparse.Namespace, ctx: Context, impl: str, name: str) -> int:
    """Peak RSS of one run in a fresh process (VmHWM: its own, not its parent's)."""
    command = [
        sys.executable,
        "-m",
        "bench.analytics",
        "--peak-of",
        f"{impl}:{name}",
        "--db",
        str(ctx.factory.kw["bind"].url),
        *_data_args(args),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"peak run of {impl}:{name} failed: {done.stderr[-2000:]}")
    return int(json.loads(done.stdout.strip().splitlines()[-1])["peak"])


def _data_args(args: argparse.Namespace) -> list[str]:
    return [
        "--events",
        str(args.events),
        "--customers",
        str(args.customers),
        "--seed",
        str(args.seed),
        "--data-dir",
        str(args.data_dir),
    ]


def _own_peak() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_peak(args: argparse.Namespace) -> int:
    impl, name = args.peak_of.split(":")
    data = ensure(args.data_dir, Params(args.events, args.customers, args.seed), lambda _: None)
    engine = make_engine(args.db)
    ctx = Context(data, base.Plan.of(data.params.start, data.params.end), make_sessionmaker(engine))
    query = QUERIES[name]
    (query.ours if impl == "ours" else query.duckdb)(ctx)
    engine.dispose()
    print(json.dumps({"peak": _own_peak()}))
    return 0


# -- the figures --------------------------------------------------------------------------------


def figures_of(
    outcomes: Sequence[Outcome], data: Dataset, args: argparse.Namespace
) -> list[Figure]:
    out = []
    for o in outcomes:
        q = QUERIES[o.name]
        ours, duck = statistics.median(o.ours), statistics.median(o.duckdb)
        cpu = [statistics.median(c) if c else 0.0 for c in (o.ours_cpu, o.duckdb_cpu, o.pandas_cpu)]
        ratio = ours / duck
        agree = "equal" if o.agree else "**different**: " + "; ".join(o.mismatches[:5])
        out.append(
            Figure(
                name=f"{q.title} (s, median of {args.runs})",
                value=f"{ours:.3f}",
                baseline=f"{duck:.3f} (hand-written DuckDB SQL)",
                ratio=ratio,
                target=f"ratio <= {RATIO}",
                met=ratio <= RATIO and o.agree,
                notes=[
                    "seconds per run: cxloop "
                    + ", ".join(f"{s:.3f}" for s in o.ours)
                    + "; DuckDB "
                    + ", ".join(f"{s:.3f}" for s in o.duckdb)
                    + " (alternating, after one warm-up run each); CPU seconds (all threads): "
                    f"cxloop {cpu[0]:.3f}, DuckDB {cpu[1]:.3f} (medians)",
                    f"answer: {q.describe(o.answer)}",
                    f"cxloop, hand-written DuckDB and pandas answers: {agree}",
                ],
            )
        )
        if o.pandas:
            slow = statistics.median(o.pandas)
            out.append(
                Figure(
                    name=f"{q.title}: against pandas (s)",
                    value=f"{ours:.3f}",
                    baseline=f"{slow:.2f} (pandas {pd.__version__})",
                    ratio=ours / slow,
                    target=f"ratio <= {1 / SPEED_UP:.2f} ({SPEED_UP:.0f}x faster)",
                    met=slow / ours >= SPEED_UP and o.agree,
                    notes=[
                        f"pandas is {slow / ours:,.1f}x slower; seconds per pandas run: "
                        + ", ".join(f"{s:.2f}" for s in o.pandas)
                        + f"; CPU seconds (all threads): pandas {cpu[2]:.2f}, cxloop "
                        f"{cpu[0]:.3f} ({cpu[2] / cpu[0]:,.1f}x)"
                    ],
                )
            )
    peaks = [o for o in outcomes if o.peak_ours is not None]
    if peaks:
        top = max(peaks, key=lambda o: o.peak_ours or 0)
        theirs = max(o.peak_duckdb or 0 for o in peaks)
        out.append(
            Figure(
                name="Peak RSS of one cxloop query in a fresh process (MiB)",
                value=f"{(top.peak_ours or 0) / 2**20:,.0f}",
                baseline=f"{theirs / 2**20:,.0f} (the hand-written queries, the same way)",
                ratio=(top.peak_ours or 0) / theirs if theirs else None,
                target=f"< {MEMORY / 2**20:,.0f}",
                met=(top.peak_ours or 0) < MEMORY,
                notes=[
                    "VmHWM of a process that loads the data set's description, runs one query "
                    "and exits (interpreter and imports included); per query, cxloop / "
                    "DuckDB: "
                    + "; ".join(
                        f"{o.name} {(o.peak_ours or 0) / 2**20:,.0f} / "
                        f"{(o.peak_duckdb or 0) / 2**20:,.0f}"
                        for o in peaks
                    )
                ],
            )
        )
    setup = (
        f"{data.events:,} events of {data.params.customers:,} customers "
        f"({len(data.profiles):,} profiles, {len(data.merge_map):,} of them merged into "
        f"another) over {data.params.days} days from {data.params.start}; {len(data.files)} "
        f"monthly files, {data.bytes / 2**20:,.0f} MiB (generated in {data.seconds:.0f} s)"
    )
    if out:
        out[0].notes.insert(0, setup)
        if getattr(args, "index_note", None):
            out[0].notes.insert(1, args.index_note)
    return out


# -- the run -------------------------------------------------------------------------------------


def write_docs(figures: Sequence[Figure], args: argparse.Namespace, code: str, load: str) -> Path:
    """Put this run's section into docs/benchmarks.md, keeping the other sections."""
    path = REPO / "docs" / "benchmarks.md"
    begin, end = "<!-- bench.analytics -->", "<!-- /bench.analytics -->"
    section = (
        f"{begin}\n"
        "## Analytics: funnels, retention, KPI packs\n\n"
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- machine: {machine()}; load average before the run: {load}\n"
        f"- cxloop: {code}\n"
        f"- Python {platform.python_version()}, DuckDB {duckdb.__version__}, pandas "
        f"{pd.__version__}, DuckDB memory limit {store.MEMORY_LIMIT} (cxloop's, for both)\n"
        f"- run: {'quick' if args.quick else 'full'}, "
        f"`python -m bench.analytics {' '.join(sys.argv[1:])}`\n\n"
        f"{table(figures)}\n\n"
        "### Details\n\n"
        f"{details(figures)}\n"
        f"{end}\n"
    )
    return replace_section(path, begin, end, section)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000,000 events, 20,000 customers.")
    parser.add_argument("--events", type=int, help="Events (10,000,000; quick 1,000,000).")
    parser.add_argument("--customers", type=int, help="Customers (200,000; quick 20,000).")
    parser.add_argument("--seed", type=int, default=17, help="Seed of the synthetic shop.")
    parser.add_argument("--runs", type=int, default=3, help="Timed runs of cxloop and DuckDB.")
    parser.add_argument(
        "--pandas-runs", type=int, default=3, help="Timed runs of pandas (after a warm-up)."
    )
    parser.add_argument("--only", default=",".join(QUERIES), help="Comma-separated queries.")
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="Skip peak RSS.")
    parser.add_argument("--write-docs", action="store_true", help="Write docs/benchmarks.md.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "cxloop-bench-analytics",
        help="Where generated data sets are cached, one folder per set of parameters.",
    )
    parser.add_argument("--peak-of", help=argparse.SUPPRESS)  # IMPL:QUERY in a fresh process
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.events = args.events or (1_000_000 if args.quick else 10_000_000)
    args.customers = args.customers or (20_000 if args.quick else 200_000)
    args.queries = [q.strip() for q in args.only.split(",") if q.strip()]
    unknown = set(args.queries) - set(QUERIES)
    if unknown:
        parser.error(f"unknown queries: {', '.join(sorted(unknown))}")
    return args


def run(args: argparse.Namespace) -> tuple[list[Outcome], Dataset]:
    say(f"data set: {args.events:,} events of {args.customers:,} customers")
    data = ensure(args.data_dir, Params(args.events, args.customers, args.seed), say)
    folder = Path(tempfile.mkdtemp(prefix="cxloop-bench-analytics-db-"))
    try:
        say("operational store: migrations, workspace, manifest, profiles, spend")
        url = operational_store(folder, data)
        engine = make_engine(url)
        ctx = Context(
            data, base.Plan.of(data.params.start, data.params.end), make_sessionmaker(engine)
        )
        index = None
        try:
            # the customer-event index, as the worker's indexer builds it after a load
            began = time.perf_counter()
            index = event_index.build(ctx.factory, data.workspace_id, data.root)
            assert index is not None
            args.index_note = (
                f"the customer-event index of these events was built in "
                f"{time.perf_counter() - began:.1f} s ({index.byte_size / 2**20:,.0f} MiB), "
                "as the worker builds it once a workspace's events outgrow the last one; "
                "funnels and the KPI pack's first purchases read it, "
                "the baselines read the event files"
            )
            say(args.index_note)
            return [measure(name, ctx, args) for name in args.queries], data
        finally:
            engine.dispose()
            if index is not None:
                (data.root / index.path).unlink(missing_ok=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.peak_of:
        return run_peak(args)
    code = describe_code()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    kind = "quick" if args.quick else "full"
    say(f"machine: {machine()}; load {load}; {kind} run; cxloop at {code}")
    try:
        outcomes, data = run(args)
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    if describe_code() != code:
        code += "; **the code changed during the run**, now: " + describe_code()
    figures = figures_of(outcomes, data, args)
    print(f"\ncxloop at {code}\n\n{table(figures)}\n\n{details(figures)}")
    if args.write_docs:
        say(f"wrote {write_docs(figures, args, code, load)}")
    return 0 if all(o.agree for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
