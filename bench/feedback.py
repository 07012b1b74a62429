"""Feedback metrics benchmarks, each figure printed beside a baseline measured in the same run.

1. NPS with a breakdown by touchpoint over 1,000,000 ``Survey Responded`` events (a few
   percent of them responses sent again), through ``cxloop.analytics.feedback``, against a
   hand-written DuckDB query computing the same counts over the same files;
2. submissions through the hosted survey pages (responses/s) by clients that fetch a form and
   post it, against the same server answering static requests (``bench/submissions.py``).

    .venv/bin/python -m bench.feedback [--quick] [--write-docs]

Progress goes to stderr, the table of figures to stdout (and to docs/benchmarks.md with
``--write-docs``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from bench import submissions
from bench.ingest import describe_code, machine, say
from bench.report import Figure, details, replace_section, table

from cxloop.analytics import events as store
from cxloop.analytics import feedback

REPO = Path(__file__).resolve().parents[1]
START = datetime(2025, 12, 1, tzinfo=UTC)
DAYS = 365
WORKSPACE = "bench"

# survey id, name, stage, touchpoints, how often it asks NPS, its own score field
SURVEYS = [
    ("srv-delivery", "After delivery", "Purchase", ["delivery", "returns"], 1.0, "csat"),
    ("srv-checkout", "Checkout", "Purchase", ["checkout", "payment"], 0.6, "csat"),
    (
        "srv-support",
        "Support",
        "Retention",
        ["live_chat", "call_centre", "email_support"],
        0.4,
        "ces",
    ),
    ("srv-onboarding", "Onboarding", "Onboarding", ["signup", "first_order"], 1.0, "ces"),
    ("srv-store", "Store visit", "Purchase", ["store_visit"], 0.5, "csat"),
    ("srv-relationship", "Quarterly NPS", "Retention", [None, "app_home"], 1.0, None),
]
SURVEY_WEIGHTS = [30, 20, 15, 10, 10, 15]
# 0..10: most answers 7-10, some touchpoints do worse
NPS_GOOD = [1, 1, 1, 1, 2, 3, 5, 10, 18, 24, 34]
NPS_POOR = [6, 3, 4, 5, 6, 9, 10, 14, 16, 12, 15]
POOR = {"returns", "call_centre", "payment"}
LANGUAGES = ["vi", "th", "en"]
LANGUAGE_WEIGHTS = [55, 30, 15]
CHANNELS = ["email", "web", "app", "sms", "line", "zalo", "store", "chat"]
CHANNEL_WEIGHTS = [30, 20, 20, 5, 10, 8, 4, 3]
COMMENTS = {
    "vi": ["Giao hàng nhanh, nhân viên thân thiện", "Đóng gói cẩn thận", "Chờ hơi lâu"],
    "th": ["จัดส่งรวดเร็วมาก", "พนักงานสุภาพ", "รอนานเกินไป"],
    "en": ["Fast delivery, friendly staff", "Well packed", "Waited too long"],
}
RESENT = 0.03  # responses sent again: completed or edited later


# -- the figures ----------------------------------------------------------------------------


# -- the data -------------------------------------------------------------------------------


@dataclass
class Dataset:
    files: list[str]
    events: int
    responses: int
    resent: int
    customers: int
    bytes: int
    seconds: float


def generate(root: Path, events: int, seed: int = 11) -> Dataset:
    """``events`` ``Survey Responded`` events, one file a month, as the loader writes them."""
    started = time.monotonic()
    rng = random.Random(seed)
    customers = max(events // 6, 1)
    people = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(customers)]
    columns: dict[str, list[Any]] = {
        k: [] for k in ("message_id", "profile_id", "user_id", "anonymous_id", "ts", "props")
    }
    columns |= {"channel": [], "context": []}
    step = DAYS * 86_400_000_000 / events
    start_us = int(START.timestamp() * 1_000_000)
    made = responses = resent = 0
    while made < events:
        responses += 1
        versions = 2 if rng.random() < RESENT and made + 1 < events else 1
        resent += versions - 1
        survey, name, stage, touchpoints, asks_nps, own = SURVEYS[
            rng.choices(range(len(SURVEYS)), SURVEY_WEIGHTS)[0]
        ]
        touchpoint = rng.choice(touchpoints)
        language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        person = rng.randrange(customers)
        response_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        at = start_us + int(made * step)
        for version in range(versions):
            weights = NPS_POOR if touchpoint in POOR else NPS_GOOD
            nps = rng.choices(range(11), weights)[0] if rng.random() < asks_nps else None
            answers: dict[str, Any] = {"nps": nps}
            scores = {"nps": nps, "csat": None, "ces": None, "rating": None}
            if own == "csat":
                scores["csat"] = answers["csat"] = max(1, min(5, round((nps or 7) / 2.2)))
            elif own == "ces":
                scores["ces"] = answers["ces"] = rng.randint(2, 7)
            if rng.random() < 0.4:
                answers["comment"] = rng.choice(COMMENTS[language])
            properties = {
                "survey_id": survey,
                "survey_name": name,
                "survey_version": 1,
                "response_id": response_id,
                "touchpoint": touchpoint,
                "stage": stage,
                "language": language,
                "channel": channel,
                "source": "link" if channel in ("email", "sms", "line", "zalo") else "widget",
                "is_complete": version == versions - 1,
                "answers": answers,
                **scores,
            }
            moment = at + version * rng.randrange(60_000_000, 3 * 86_400_000_000)
            columns["message_id"].append(f"survey-response-{response_id}-{version}")
            columns["profile_id"].append(people[person])
            columns["user_id"].append(f"user-{person}" if person % 3 else None)
            columns["anonymous_id"].append(f"anon-{person}")
            columns["ts"].append(moment)
            columns["props"].append(orjson.dumps(properties).decode())
            columns["channel"].append(channel)
            columns["context"].append(
                orjson.dumps({"channel": channel, "locale": language}).decode()
            )
            made += 1
        if responses % 100_000 == 0:
            say(f"  generated {made:,} of {events:,} events")
    files, size = _write(root, columns)
    return Dataset(files, made, responses, resent, customers, size, time.monotonic() - started)


def _write(root: Path, columns: dict[str, list[Any]]) -> tuple[list[str], int]:
    n = len(columns["message_id"])
    stamps = pa.array(columns["ts"], pa.int64()).cast(store.TS)
    given = {
        "message_id": pa.array(columns["message_id"], pa.string()),
        "type": pa.array(["track"] * n, pa.string()),
        "event": pa.array([feedback.EVENT] * n, pa.string()),
        "profile_id": pa.array(columns["profile_id"], pa.string()),
        "user_id": pa.array(columns["user_id"], pa.string()),
        "anonymous_id": pa.array(columns["anonymous_id"], pa.string()),
        "timestamp": stamps,
        "received_at": stamps,
        "channel": pa.array(columns["channel"], pa.string()),
        "properties": pa.array(columns["props"], pa.string()),
        "context": pa.array(columns["context"], pa.string()),
    }
    table = pa.table(
        {f.name: given.get(f.name, pa.nulls(n, f.type)) for f in store.SCHEMA},
        schema=store.SCHEMA,
    )
    months = pc.strftime(stamps, format="%Y-%m")
    files, size = [], 0
    for month in sorted(set(months.to_pylist())):
        path = store.partition_dir(root, WORKSPACE, month) / f"part-{month}.parquet"
        stats = store.write_file(table.filter(pc.equal(months, month)), path)
        files.append(str(path))
        size += stats.bytes
    return files, size


# -- the measurements -----------------------------------------------------------------------

# The same counts written by hand: the latest version of each response, promoters, passives
# and detractors per touchpoint; each JSON parsed once, as a careful analyst would.
BASELINE = """
WITH r AS (
    SELECT j[1] AS response_id, j[2] AS touchpoint, TRY_CAST(j[3] AS INTEGER) AS nps,
           timestamp, received_at
    FROM (SELECT json_extract_string(properties, ['$.response_id', '$.touchpoint', '$.nps'])
                 AS j, timestamp, received_at
          FROM read_parquet(?) WHERE type = 'track' AND event = 'Survey Responded')
),
latest AS (
    SELECT touchpoint, nps FROM r
    QUALIFY row_number() OVER (PARTITION BY response_id
                               ORDER BY timestamp DESC, received_at DESC) = 1
)
SELECT touchpoint,
       count(*) FILTER (WHERE nps >= 9) AS promoters,
       count(*) FILTER (WHERE nps BETWEEN 7 AND 8) AS passives,
       count(*) FILTER (WHERE nps BETWEEN 0 AND 6) AS detractors
FROM latest WHERE nps BETWEEN 0 AND 10
GROUP BY touchpoint
"""

Counts = dict[str, tuple[int, int, int]]


def ours(files: list[str]) -> Counts:
    result = feedback.measure(files, {}, feedback.Spec(feedback.Metric.NPS, by="touchpoint"))
    out: Counts = {}
    for group in result.groups:
        figure = group.figure
        assert isinstance(figure, feedback.NpsFigure)
        out[group.key] = (figure.promoters, figure.passives, figure.detractors)
    return out


def baseline(files: list[str]) -> Counts:
    con = store.connect().cursor()
    try:
        rows = con.sql(BASELINE, params=[files]).fetchall()
    finally:
        con.close()
    return {(key or feedback.NONE): (p, s, d) for key, p, s, d in rows}


def timed(run: Callable[[list[str]], Counts], files: list[str]) -> tuple[float, Counts]:
    started = time.perf_counter()
    result = run(files)
    return time.perf_counter() - started, result


def bench_query(args: argparse.Namespace, root: Path) -> Figure:
    say(f"generating {args.events:,} Survey Responded events")
    data = generate(root / "events", args.events)
    say(f"  {len(data.files)} files, {data.bytes / 2**20:,.0f} MiB in {data.seconds:.0f} s")
    timed(ours, data.files)  # warm the file cache for both
    timed(baseline, data.files)
    mine: list[float] = []
    theirs: list[float] = []
    equal = True
    for i in range(args.runs):
        results: dict[str, Counts] = {}
        order = [("cxloop", ours, mine), ("baseline", baseline, theirs)]
        for label, run, into in order if i % 2 == 0 else order[::-1]:  # alternate who goes first
            seconds, results[label] = timed(run, data.files)
            into.append(seconds)
        equal = equal and results["cxloop"] == results["baseline"]
        say(f"  run {i + 1}/{args.runs}: cxloop {mine[-1]:.3f} s, hand-written {theirs[-1]:.3f} s")
    ours_s, base_s = statistics.median(mine), statistics.median(theirs)
    ratio = ours_s / base_s
    others = _other_queries(data.files)
    return Figure(
        name=f"NPS by touchpoint over {data.events:,} responses (s, median of {args.runs})",
        value=f"{ours_s:.3f}",
        baseline=f"{base_s:.3f} (hand-written DuckDB SQL)",
        ratio=ratio,
        target="ratio <= 1.5",
        met=ratio <= 1.5 and equal,
        notes=[
            f"{data.events:,} `Survey Responded` events: {data.responses:,} responses, "
            f"{data.resent:,} of them sent a second time; {data.customers:,} customers, "
            f"{len(SURVEYS)} surveys, {sum(len(s[3]) for s in SURVEYS)} touchpoints, "
            f"{len(CHANNELS)} channels, vi/th/en; {len(data.files)} monthly files, "
            f"{data.bytes / 2**20:,.0f} MiB (generated in {data.seconds:.0f} s)",
            'cxloop: `analytics.feedback.measure(files, {}, Spec(Metric.NPS, by="touchpoint"))`'
            " (one DuckDB statement, then intervals and flags in Python); baseline: the query "
            "in `bench/feedback.py` (`BASELINE`): the same dedupe and counts, no intervals",
            "seconds per run: cxloop "
            + ", ".join(f"{s:.3f}" for s in mine)
            + "; baseline "
            + ", ".join(f"{s:.3f}" for s in theirs)
            + " (the two alternate; one warm-up run each first)",
            "promoters, passives and detractors per touchpoint: "
            + ("equal in every run" if equal else "**different**"),
            f"on the same data (one run each): {others}",
        ],
    )


def _other_queries(files: list[str]) -> str:
    specs = {
        "NPS overall with a weekly trend": feedback.Spec(
            feedback.Metric.NPS, interval=feedback.Interval.WEEK
        ),
        "CSAT by channel": feedback.Spec(feedback.Metric.CSAT, by="channel"),
        "CES of one survey by language": feedback.Spec(
            feedback.Metric.CES,
            by="language",
            filters=feedback.Filters(survey_ids=["srv-support"]),
        ),
    }
    timings = []
    for label, spec in specs.items():
        started = time.perf_counter()
        feedback.measure(files, {}, spec)
        timings.append(f"{label} {time.perf_counter() - started:.3f} s")
    middle = START + timedelta(days=DAYS // 2)
    sides = feedback.Sides(
        feedback.Period(START, middle), feedback.Period(middle, START + timedelta(days=DAYS))
    )
    started = time.perf_counter()
    feedback.compare(files, {}, feedback.Spec(feedback.Metric.NPS), sides)
    timings.append(f"NPS first half against second half {time.perf_counter() - started:.3f} s")
    return "; ".join(timings)


def bench_pages(args: argparse.Namespace, root: Path) -> Figure:
    """Submissions through the hosted survey pages (target >= 500 responses/s on one
    process): ``bench.submissions`` drives a served ``cxloop serve`` with keep-alive clients that
    each fetch a form (a fresh signed token) and post its answers, against the same server
    answering two static requests per "response"."""
    seconds = 5 if args.quick else 15
    say(f"hosted pages: {seconds} s of submissions and {seconds} s of baseline")
    result = submissions.measure(seconds=seconds, clients=16, tmp_root=str(root))
    rate, base = result.pages.rate, result.baseline.rate
    return Figure(
        name="Hosted survey pages: submissions (responses/s, one process)",
        value=f"{rate:,.0f}",
        baseline=f"{base:,.0f} (same server: GET /healthz + GET /s/assets/survey.js)",
        ratio=rate / base if base else None,
        target=">= 500",
        met=rate >= 500,
        notes=[
            f"{result.pages.done} responses in {result.pages.seconds:.1f} s "
            f"({result.pages.failed} failed), {result.clients} keep-alive clients; "
            f"each is GET /s/{{id}} then POST /s/{{id}}; {result.stored} complete responses "
            "stored (warm-up included); SQLite, worker off"
        ],
    )


PHASES = {"query": bench_query, "pages": bench_pages}


# -- the run --------------------------------------------------------------------------------


def write_docs(figures: Sequence[Figure], args: argparse.Namespace, code: str) -> Path:
    """Put this run's section into docs/benchmarks.md, keeping the other sections."""
    path = REPO / "docs" / "benchmarks.md"
    begin, end = "<!-- bench.feedback -->", "<!-- /bench.feedback -->"
    section = (
        f"{begin}\n"
        "## Feedback metrics\n\n"
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- machine: {machine()}\n"
        f"- cxloop: {code}\n"
        f"- Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"DuckDB memory limit {store.MEMORY_LIMIT} (cxloop's)\n"
        f"- run: {'quick' if args.quick else 'full'}, "
        f"`python -m bench.feedback {' '.join(sys.argv[1:])}`\n\n"
        f"{table(figures)}\n\n"
        "### Details\n\n"
        f"{details(figures)}\n"
        f"{end}\n"
    )
    return replace_section(path, begin, end, section)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.feedback", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 events, 3 runs.")
    parser.add_argument("--events", type=int, help="Events generated (1,000,000; quick 100,000).")
    parser.add_argument("--runs", type=int, help="Timed runs of each query (7; quick 3).")
    parser.add_argument("--write-docs", action="store_true", help="Write docs/benchmarks.md.")
    parser.add_argument("--only", default="query,pages", help="Comma-separated phases.")
    parser.add_argument("--tmp-dir", help="Where the generated files go (default: $TMPDIR).")
    args = parser.parse_args(argv)
    args.events = args.events or (100_000 if args.quick else 1_000_000)
    args.runs = args.runs or (3 if args.quick else 7)
    args.phases = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    code = describe_code()
    say(f"machine: {machine()}; {'quick' if args.quick else 'full'} run; cxloop at {code}")
    root = Path(tempfile.mkdtemp(prefix="cxloop-bench-feedback-", dir=args.tmp_dir))
    figures: list[Figure] = []
    try:
        for name, phase in PHASES.items():
            if name in args.phases:
                figures.append(phase(args, root))
    except KeyboardInterrupt:
        say("interrupted; removing temporary files")
        return 130
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if describe_code() != code:
        code += "; **the code changed during the run**, now: " + describe_code()
    print(f"\ncxloop at {code}\n\n{table(figures)}\n\n{details(figures)}")
    if args.write_docs:
        say(f"wrote {write_docs(figures, args, code)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
