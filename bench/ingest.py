"""Ingestion benchmarks, each figure printed beside a baseline measured in the same run.

1. HTTP throughput of one ``cxloop serve`` (``POST /v1/batch``, 100 events a request) against a
   bare FastAPI app on the same uvicorn settings whose endpoint only parses the JSON body;
2. bulk import (``cxloop import events``) against DuckDB alone turning the same file into
   Parquet, the cost floor of parsing and writing;
3. freshness: seconds from the 200 answer until the event is readable through DuckDB over the
   current event files, at a sustained 5,000 events/s, against the latency of that query;
4. peak memory of importing 5 million events against that of ``cxloop version``.

    .venv/bin/python -m bench.ingest [--quick] [--database-url postgresql://postgres@host/]

Progress goes to stderr, the table of figures to stdout (and to docs/benchmarks.md with
``--write-docs``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import math
import multiprocessing as mp
import os
import platform
import queue
import re
import secrets
import selectors
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import uvicorn
from bench import synth
from bench.report import Figure, details, replace_section, table
from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from cxloop.analytics import events as store
from cxloop.core.db import normalise_url

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cxloop.cli"]
BATCH = 100  # events per HTTP request
EVENTS_PER_CUSTOMER = 25  # 200,000 customers per 5 million events
# Every request stamps its own id over this in all its messageIds, so no event repeats.
PLACEHOLDER = b"QQQQQQQQQQQQQQQQ"
DUCKDB_COPY = (
    "import sys, duckdb\n"
    'src, dst = (p.replace("\'", "\'\'") for p in sys.argv[1:3])\n'
    "duckdb.sql(f\"COPY (SELECT * FROM read_json('{src}')) TO '{dst}' (FORMAT parquet)\")\n"
)


# The peak RSS that wait4 reports for a child is at least its parent's RSS when it was forked
# (Linux folds the memory before exec into it), so a small helper starts the measured command.
RSS_HELPER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
with open(sys.argv[1][:-4] + ".pid", "w") as f:
    f.write(str(child.pid))
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


# -- the figures ----------------------------------------------------------------------------


# -- instances: a fresh data dir and database, cxloop pointed at them -----------------------


@dataclass
class Instance:
    data_dir: Path
    url: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run a ``cxloop`` command; its stdout, stripped."""
        done = subprocess.run(
            [*CLI, *args], env=self.env, cwd=REPO, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"cxloop {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout.strip()

    def reader(self, stack: ExitStack) -> Engine:
        """An engine for reading beside the server. Not ``make_engine``: on SQLite that begins
        every transaction with BEGIN IMMEDIATE, and a reader would then queue for the write lock
        the server's writers need."""
        engine = create_engine(normalise_url(self.url))
        stack.callback(engine.dispose)
        return engine


@contextmanager
def postgres_database(server_url: str, label: str) -> Iterator[str]:
    """A new database on the server of ``server_url``; dropped afterwards."""
    admin_url = normalise_url(server_url)
    name = f"cxloop_bench_{label}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# ``--set NAME=VALUE``: cxloop settings for every cxloop process of the run (experiments).
SETTINGS: dict[str, str] = {}
# the HTTP rounds measure what one process can take; the default per-key limit would cap them
UNLIMITED = {"CXLOOP_INGEST_RATE_LIMIT": "0"}


def new_instance(stack: ExitStack, root: Path, label: str, server_url: str | None) -> Instance:
    data_dir = root / f"{label}-{secrets.token_hex(3)}"
    data_dir.mkdir(parents=True)
    stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
    # only what the bench sets: a CXLOOP_* of the caller's shell would skew the comparison
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")}
    env.update(SETTINGS)
    env["CXLOOP_DATA_DIR"] = str(data_dir)
    if server_url:
        url = stack.enter_context(postgres_database(server_url, label))
        env["CXLOOP_DATABASE_URL"] = url
    else:
        url = f"sqlite:///{(data_dir / 'cxloop.db').resolve()}"  # cxloop's default
    return Instance(data_dir, url, env)


def database_label(server_url: str | None) -> str:
    if not server_url:
        return f"SQLite {sqlite3.sqlite_version} (the default, in the data dir)"
    engine = create_engine(normalise_url(server_url))
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()
    return f"PostgreSQL {version}"


# -- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def served(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[ServerProc]:
    """Start ``command --host 127.0.0.1 --port P``; yield once ``/healthz`` answers; stop it."""
    port = free_port()
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not _healthy(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.1)
            yield ServerProc(proc, port)
        finally:
            stop(proc)


@dataclass
class ServerProc:
    proc: subprocess.Popen[bytes]
    port: int

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the API process (all its threads)."""
        return _cpu_of(self.proc.pid)

    def worker_cpu_seconds(self) -> float:
        """The same for its children: the worker process ``cxloop serve`` starts."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        children = path.read_text().split() if path.exists() else []
        return sum(_cpu_of(int(pid)) for pid in children)


def _cpu_of(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def serve_bare(host: str, port: int) -> None:
    """The HTTP baseline: FastAPI on uvicorn as ``cxloop serve`` runs it (``uvicorn.run(app,
    host, port, log_level="info")``), parsing the body and doing nothing else."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/batch")
    async def batch(request: Request) -> Response:
        await request.json()
        return Response(b'{"success":true}', media_type="application/json")

    uvicorn.run(app, host=host, port=port, log_level="info")


# -- raw HTTP/1.1 over keep-alive sockets ---------------------------------------------------


def live_events(n: int, customers: int, seed: int, prefix: str) -> Iterator[dict[str, Any]]:
    """Synthetic events stamped with the current time, as live SDK traffic is (synth spreads
    them over a year, and one request would then touch twelve monthly partitions)."""
    now = datetime.now(UTC)
    for i, message in enumerate(synth.events(n, customers, seed, prefix)):
        message["timestamp"] = (now - timedelta(milliseconds=n - i)).isoformat()
        yield message


def http_request(port: int, key: str, body: bytes) -> bytes:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    head = (
        f"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.sent_at = 0.0
        self.idle_since = time.monotonic()
        self.tag = -1

    def send(self, data: bytes, tag: int = -1) -> None:
        self.tag = tag
        self.sent_at = time.monotonic()
        self.sock.sendall(data)

    def receive(self) -> tuple[int, bytes, bool] | None:
        """(status, body, server closes) once a whole response is in; None until then."""
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            raise ConnectionError("a response without Content-Length")
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop > 0 else len(head)])
        total = end + 4 + length
        if len(self.buf) < total:
            return None
        body = bytes(self.buf[end + 4 : total])
        del self.buf[:total]
        return int(head[9:12]), body, b"\r\nconnection: close" in head

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True)
class Load:
    """What one load-generating process does: ``connections`` requests in flight, each
    answer followed at once by the next request, from ``start`` for warmup + duration."""

    port: int
    key: str
    client: int
    connections: int
    warmup: float
    duration: float
    customers: int


def _templates(load: Load, count: int = 64) -> list[bytes]:
    prefix = PLACEHOLDER.decode()
    messages = list(live_events(count * BATCH, load.customers, 1000 + load.client, prefix))
    return [
        http_request(load.port, load.key, orjson.dumps({"batch": messages[i : i + BATCH]}))
        for i in range(0, len(messages), BATCH)
    ]


def load_client(load: Load, ready: Any, go: Any, start: Any, acked: Any, out: Any) -> None:
    """A load-generating process (spawned): report what it saw on ``out``."""
    try:
        out.put(_drive(load, ready, go, start, acked))
    except KeyboardInterrupt:
        return


def _drive(load: Load, ready: Any, go: Any, start: Any, acked: Any) -> dict[str, Any]:
    requests = _templates(load)
    ready.put(load.client)
    go.wait()
    begin = start.value
    measure_from, measure_to = begin + load.warmup, begin + load.warmup + load.duration
    time.sleep(max(0.0, begin - time.monotonic()))
    cpu = os.times()
    stamp = b"%02d" % load.client
    seq = 0
    ok = 0
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    samples: dict[int, str] = {}
    latencies: list[float] = []
    sel = selectors.DefaultSelector()

    def fire(conn: Connection) -> None:
        nonlocal seq
        conn.send(requests[seq % len(requests)].replace(PLACEHOLDER, stamp + b"%014d" % seq))
        seq += 1

    def open_one() -> None:
        conn = Connection(load.port)
        sel.register(conn.sock, selectors.EVENT_READ, conn)
        fire(conn)

    def drop(conn: Connection) -> None:
        sel.unregister(conn.sock)
        conn.close()

    for _ in range(load.connections):
        open_one()
    while sel.get_map() and time.monotonic() < measure_to + 30:
        for key, _ in sel.select(0.2):
            conn: Connection = key.data
            try:
                reply = conn.receive()
            except OSError as exc:
                errors[type(exc).__name__ + ": " + str(exc)] += 1
                drop(conn)
                if time.monotonic() < measure_to:
                    open_one()
                continue
            if reply is None:
                continue
            status, body, closing = reply
            done = time.monotonic()
            statuses[status] += 1
            if status == 200:
                acked.value += BATCH
                if measure_from <= done <= measure_to:
                    ok += 1
                    latencies.append(done - conn.sent_at)
            else:
                samples.setdefault(status, body[:300].decode(errors="replace"))
            if closing or done >= measure_to:
                drop(conn)
                if done < measure_to:
                    open_one()
            else:
                fire(conn)
    used = os.times()
    return {
        "ok": ok,
        "statuses": dict(statuses),
        "errors": dict(errors),
        "samples": samples,
        "latencies": latencies,
        "cpu": used.user + used.system - cpu.user - cpu.system,
    }


# -- 1. HTTP throughput ---------------------------------------------------------------------


@dataclass
class LoadResult:
    events_per_s: float
    statuses: Counter[int]
    errors: Counter[str]
    samples: dict[int, str]
    latencies: list[float]
    client_cpu: float
    server_cpu: float
    duration: float
    worker_cpu: float = 0.0

    def bad(self) -> str:
        """The answers that were not 200, or "none"."""
        parts = [f"{n:,} x {s}" for s, n in sorted(self.statuses.items()) if s != 200]
        parts += [f"{n:,} x {e}" for e, n in self.errors.items()]
        return ", ".join(parts) or "none"


def run_load(server: ServerProc, key: str, label: str, args: argparse.Namespace) -> LoadResult:
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    start = ctx.RawValue("d", 0.0)
    counters = [ctx.RawValue("q", 0) for _ in range(args.clients)]
    warmup = 1.0
    procs = []
    with ExitStack() as stack:
        for i in range(args.clients):
            load = Load(
                server.port, key, i, args.connections, warmup, args.duration, args.customers
            )
            proc = ctx.Process(
                target=load_client, args=(load, ready, go, start, counters[i], out), daemon=True
            )
            proc.start()
            stack.callback(_end_process, proc)
            procs.append(proc)
        collect(ready, procs, len(procs), 120, "load client")
        start.value = time.monotonic() + 0.2
        go.set()
        measure_from = start.value + warmup
        measure_to = measure_from + args.duration
        time.sleep(max(0.0, measure_from - time.monotonic()))
        cpu_from, acked_from = server.cpu_seconds(), sum(c.value for c in counters)
        worker_from = server.worker_cpu_seconds()
        last, last_acked = time.monotonic(), acked_from
        while (now := time.monotonic()) < measure_to:
            time.sleep(min(1.0, measure_to - now))
            check_alive(server, procs)
            acked = sum(c.value for c in counters)
            rate = (acked - last_acked) / max(time.monotonic() - last, 1e-9)
            say(f"  {label}: {acked - acked_from:,} events acknowledged, {rate:,.0f}/s")
            last, last_acked = time.monotonic(), acked
        server_cpu = server.cpu_seconds() - cpu_from
        worker_cpu = server.worker_cpu_seconds() - worker_from
        results = collect(out, procs, len(procs), 90, "load client")
        for proc in procs:
            proc.join(timeout=30)
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    samples: dict[int, str] = {}
    latencies: list[float] = []
    for r in results:
        statuses.update(r["statuses"])
        errors.update(r["errors"])
        samples.update(r["samples"])
        latencies.extend(r["latencies"])
    ok = sum(r["ok"] for r in results)
    return LoadResult(
        events_per_s=ok * BATCH / args.duration,
        statuses=statuses,
        errors=errors,
        samples=samples,
        latencies=latencies,
        client_cpu=sum(r["cpu"] for r in results),
        server_cpu=server_cpu,
        duration=args.duration,
        worker_cpu=worker_cpu,
    )


def collect(channel: Any, procs: Sequence[Any], count: int, timeout: float, what: str) -> list[Any]:
    """``count`` items from ``channel``; fail at once when the processes died instead."""
    items: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(items) < count:
        try:
            items.append(channel.get(timeout=0.5))
        except queue.Empty:
            if not any(p.is_alive() for p in procs):
                raise RuntimeError(f"the {what} processes ended early (see above)") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"waited {timeout:g} s for the {what} processes") from None
    return items


def check_alive(server: ServerProc, procs: Sequence[Any]) -> None:
    if server.proc.poll() is not None:
        raise RuntimeError(f"the server exited with {server.proc.returncode} during the run")
    if any(p.exitcode not in (None, 0) for p in procs):
        raise RuntimeError("a load-generating process failed (see above)")


def _end_process(proc: Any) -> None:
    if proc.is_alive():
        proc.terminate()
    proc.join(timeout=10)


def bench_http(args: argparse.Namespace, root: Path) -> Figure:
    say(
        f"== HTTP throughput: {args.rounds} round(s) of {args.duration:g} s, {args.clients} "
        f"client processes x {args.connections} connections, {BATCH} events a request"
    )
    ours: list[LoadResult] = []
    bare: list[LoadResult] = []
    backlog_notes = []
    for round_no in range(1, args.rounds + 1):
        result, backlog = load_cxloop(args, root, f"cxloop round {round_no}", UNLIMITED)
        ours.append(result)
        backlog_notes.append(backlog)
        with ExitStack() as stack:
            log = root / f"bare-{round_no}.log"
            command = [sys.executable, "-m", "bench.ingest", "--serve-bare"]
            server = stack.enter_context(served(command, dict(os.environ), log))
            bare.append(run_load(server, "bench", f"bare FastAPI round {round_no}", args))
    # where the time goes: the API alone, without the loader of the embedded worker
    alone, _ = load_cxloop(
        args, root, "cxloop --no-worker", {**UNLIMITED, "CXLOOP_RUN_WORKER_IN_SERVER": "0"}
    )
    value = statistics.median(r.events_per_s for r in ours)
    base = statistics.median(r.events_per_s for r in bare)
    ratio = value / base if base else 0.0
    bad_ours = "; ".join(r.bad() for r in ours)
    bad_bare = "; ".join(r.bad() for r in bare)
    notes = [
        "events/s per round: cxloop "
        + ", ".join(f"{r.events_per_s:,.0f}" for r in ours)
        + "; bare "
        + ", ".join(f"{r.events_per_s:,.0f}" for r in bare)
        + " (median reported)",
        f"load: {args.clients} client processes x {args.connections} keep-alive connections, "
        f"pre-built {BATCH}-event requests, {args.duration:g} s measured after 1 s warm-up; "
        f"the {os.cpu_count()} cores are shared by the server and the clients",
        "the per-key rate limit (`ingest_rate_limit`, 100,000 events/s by default) is off in "
        "these rounds: the figure is what one process can take, not a policy's ceiling",
        "request latency cxloop p50 / p99 / max: " + _latency(ours),
        "request latency bare p50 / p99 / max: " + _latency(bare),
        "CPU while measuring (core-seconds per second): cxloop API process "
        + ", ".join(f"{r.server_cpu / r.duration:.2f}" for r in ours)
        + "; cxloop worker process "
        + ", ".join(f"{r.worker_cpu / r.duration:.2f}" for r in ours)
        + "; bare server "
        + ", ".join(f"{r.server_cpu / r.duration:.2f}" for r in bare)
        + "; all clients "
        + ", ".join(f"{r.client_cpu / r.duration:.2f}" for r in [*ours, *bare]),
        f"answers other than 200: cxloop {bad_ours}; bare {bad_bare}",
        *backlog_notes,
        f"for comparison, the API alone (`--no-worker`: nothing loads the inbox) took "
        f"{alone.events_per_s:,.0f} events/s (latency p50 / p99 / max {_latency([alone])}; "
        f"answers other than 200: {alone.bad()})",
    ]
    for status, sample in {**_samples(bare), **_samples(ours)}.items():
        notes.append(f"sample {status} answer: `{sample[:200]}`")
    clean = all(r.bad() == "none" for r in [*ours, *bare])
    return Figure(
        name="HTTP ingest, one `cxloop serve`, 100-event batches (events/s)",
        value=f"{value:,.0f}",
        baseline=f"{base:,.0f} (bare FastAPI, parse only)",
        ratio=ratio,
        target=">= 10,000 and ratio >= 0.5 (aim 30,000)",
        met=value >= 10_000 and ratio >= 0.5 and clean,
        notes=notes,
    )


def load_cxloop(
    args: argparse.Namespace, root: Path, label: str, extra: dict[str, str] | None = None
) -> tuple[LoadResult, str]:
    """One round against a fresh ``cxloop serve``; the result and where its loader got."""
    with ExitStack() as stack:
        inst = new_instance(stack, root, "http", args.database_url)
        inst.env.update(extra or {})
        log = inst.data_dir / "serve.log"
        server = stack.enter_context(served([*CLI, "serve"], inst.env, log))
        inst.cli("workspace", "create", "bench")
        key = inst.cli("key", "create", "--workspace", "bench", "--scope", "write")
        result = run_load(server, key, label, args)
        return result, _backlog(inst.reader(stack), result, label)


def _latency(results: Sequence[LoadResult]) -> str:
    values = [v for r in results for v in r.latencies]
    if not values:
        return "n/a"
    return " / ".join(f"{percentile(values, q) * 1000:,.0f}" for q in (50, 99, 100)) + " ms"


def _samples(results: Sequence[LoadResult]) -> dict[int, str]:
    merged: dict[int, str] = {}
    for r in results:
        merged.update(r.samples)
    return merged


def _backlog(engine: Engine, result: LoadResult, label: str) -> str:
    """How far the in-process loader got while the API took events as fast as it could."""
    with engine.connect() as conn:
        waiting = conn.execute(
            text("SELECT count(*), coalesce(sum(event_count), 0) FROM ingest_inbox")
        ).one()
        loaded = conn.execute(
            text("SELECT coalesce(sum(row_count), 0) FROM event_file WHERE replaced_at IS NULL")
        ).scalar()
    acked = result.statuses.get(200, 0) * BATCH
    return (
        f"loader after {label}: {int(loaded or 0):,} of {acked:,} acknowledged events "
        f"in event files, {int(waiting[1]):,} still in the inbox ({int(waiting[0]):,} rows)"
    )


# -- 2 and 4. bulk import and its memory ----------------------------------------------------


def write_events(path: Path, n: int) -> None:
    """``n`` synthetic events as JSON lines, streamed to ``path``."""
    customers = max(1, n // EVENTS_PER_CUSTOMER)
    say(f"  writing {n:,} events of {customers:,} customers to {path.name}")
    started = time.monotonic()
    with path.open("wb") as handle:
        chunk: list[bytes] = []
        for i, message in enumerate(synth.events(n, customers, seed=7, prefix=path.stem)):
            chunk.append(orjson.dumps(message, option=orjson.OPT_APPEND_NEWLINE))
            if len(chunk) == 20_000:
                handle.write(b"".join(chunk))
                chunk.clear()
            if (i + 1) % 500_000 == 0:
                say(f"  {i + 1:,} events written ({time.monotonic() - started:.0f} s)")
        handle.write(b"".join(chunk))
    size = path.stat().st_size / 2**20
    say(f"  {path.name}: {size:,.0f} MiB in {time.monotonic() - started:.0f} s")


@dataclass
class Timed:
    seconds: float
    max_rss_mib: float
    stdout: str


def timed(
    cmd: list[str],
    env: dict[str, str],
    label: str,
    log: Path,
    watch: Path | None,
    timeout: float = 600,
) -> Timed:
    """Run ``cmd`` to the end; its wall time and peak RSS (``wait4`` in a small helper)."""
    out_path, rss_path = log.with_suffix(".out"), log.with_suffix(".rss")
    with log.open("wb") as err, out_path.open("wb") as out:
        started = time.monotonic()
        helper = [sys.executable, "-c", RSS_HELPER, str(rss_path), *cmd]
        proc = subprocess.Popen(helper, env=env, cwd=REPO, stdout=out, stderr=err)
        child = 0
        try:
            beat = started + 5
            while proc.poll() is None:
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"{label} still running after {timeout:,.0f} s; stopped")
                if not child and rss_path.with_suffix(".pid").exists():
                    child = int(rss_path.with_suffix(".pid").read_text() or 0)
                if child and time.monotonic() >= beat:
                    say(f"  {label}: {time.monotonic() - started:.0f} s{_status(child, watch)}")
                    beat += 5
                time.sleep(0.02)
            seconds = time.monotonic() - started
        finally:
            if proc.returncode is None:
                if child:
                    with suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
                proc.kill()
                proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed ({proc.returncode}):\n{log.read_text()[-3000:]}")
    return Timed(seconds, int(rss_path.read_text()) / 1024, out_path.read_text())


def _status(pid: int, watch: Path | None) -> str:
    """Where the child is in ``watch`` and its memory now, from /proc."""
    parts = []
    try:
        if watch is not None:
            size = watch.stat().st_size
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                if os.readlink(fd) == str(watch):
                    info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                    pos = int(re.search(r"pos:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
                    parts.append(f"{pos / size:.0%} of the file read")
        status = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        parts.append(f"RSS {rss / 1024:,.0f} MiB")
    except (OSError, AttributeError):
        pass
    return ", " + ", ".join(parts) if parts else ""


def import_file(inst: Instance, path: Path, n: int, label: str) -> Timed:
    inst.cli("workspace", "create", "bench")
    cmd = [*CLI, "import", "events", str(path), "--workspace", "bench"]
    # fail rather than hang when an import crawls (slower than ~10,000 events/s)
    limit = 300 + n / 10_000
    run = timed(cmd, inst.env, label, inst.data_dir / "import.log", path, limit)
    match = re.search(r"([\d,]+) events imported", run.stdout)
    imported = int(match.group(1).replace(",", "")) if match else -1
    if imported != n:
        raise RuntimeError(f"{label}: expected {n:,} events imported, got: {run.stdout}")
    return run


def bench_import(args: argparse.Namespace, root: Path) -> Figure:
    n = args.events
    say(f"== Bulk import of {n:,} events")
    path = root / f"import{n}.jsonl"
    write_events(path, n)
    size = path.stat().st_size / 2**20
    with ExitStack() as stack:
        inst = new_instance(stack, root, "import", args.database_url)
        ours = import_file(inst, path, n, "cxloop import")
    say(f"  cxloop import: {ours.seconds:.1f} s; now DuckDB alone")
    parquet = root / "baseline.parquet"
    cmd = [sys.executable, "-c", DUCKDB_COPY, str(path), str(parquet)]
    base = timed(cmd, dict(os.environ), "DuckDB COPY", root / "duckdb.log", path)
    with duckdb.connect() as con:
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(parquet)]).fetchall()
    if rows[0][0] != n:
        raise RuntimeError(f"DuckDB wrote {rows[0][0]:,} rows, expected {n:,}")
    parquet.unlink()
    path.unlink()
    value, floor = n / ours.seconds, n / base.seconds
    return Figure(
        name=f"Bulk import `cxloop import events`, {n:,} events (events/s)",
        value=f"{value:,.0f}",
        baseline=f"{floor:,.0f} (DuckDB `read_json` -> Parquet)",
        ratio=value / floor,
        target=">= 100,000",
        met=value >= 100_000,
        notes=[
            f"cxloop {ours.seconds:.1f} s (peak RSS {ours.max_rss_mib:,.0f} MiB); DuckDB "
            f"{base.seconds:.1f} s (peak RSS {base.max_rss_mib:,.0f} MiB); both timed as "
            "whole processes, start-up included",
            f"{n // EVENTS_PER_CUSTOMER:,} customers ({EVENTS_PER_CUSTOMER} events each), "
            f"{size:,.0f} MiB of JSON lines",
        ],
    )


def bench_memory(args: argparse.Namespace, root: Path) -> Figure:
    n = args.memory_events
    say(f"== Peak memory importing {n:,} events")
    path = root / f"memory{n}.jsonl"
    write_events(path, n)
    size = path.stat().st_size / 2**20
    with ExitStack() as stack:
        inst = new_instance(stack, root, "memory", args.database_url)
        ours = import_file(inst, path, n, "cxloop import")
        base = timed([*CLI, "version"], inst.env, "cxloop version", root / "version.log", None)
    path.unlink()
    notes = [
        f"peak RSS of the import process from wait4 (ru_maxrss); the file is {size:,.0f} MiB",
        f"the import took {ours.seconds:.1f} s: {n / ours.seconds:,.0f} events/s",
    ]
    if n != 5_000_000:
        notes.insert(0, f"run with {n:,} events, not 5,000,000 (--quick or --memory-events)")
    return Figure(
        name=f"Peak RSS importing {n:,} events (MiB)",
        value=f"{ours.max_rss_mib:,.0f}",
        baseline=f"{base.max_rss_mib:,.0f} (`cxloop version`)",
        ratio=ours.max_rss_mib / base.max_rss_mib,
        target="< 1,024",
        met=ours.max_rss_mib < 1024,
        notes=notes,
    )


# -- 3. freshness ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Paced:
    port: int
    key: str
    rate: int  # requests per second
    duration: float
    customers: int
    max_connections: int = 64


def paced_sender(spec: Paced, ready: Any, go: Any, start: Any, progress: Any, out: Any) -> None:
    """Send ``rate`` requests a second on schedule (spawned); request k carries the marker
    ``mark-k``; report when each was answered."""
    try:
        out.put(_pace(spec, ready, go, start, progress))
    except KeyboardInterrupt:
        return


def _pace(spec: Paced, ready: Any, go: Any, start: Any, progress: Any) -> dict[str, Any]:
    total = int(spec.rate * spec.duration)
    requests = []
    for k in range(total):
        messages = list(live_events(BATCH, spec.customers, k, f"fresh{k}"))
        messages[0]["messageId"] = f"mark-{k:06d}"
        requests.append(http_request(spec.port, spec.key, orjson.dumps({"batch": messages})))
    ready.put(0)
    go.wait()
    begin = start.value
    sel = selectors.DefaultSelector()
    idle: list[Connection] = []
    opened = 0
    acks: dict[int, tuple[float, int]] = {}
    sent_at: dict[int, float] = {}
    failures: Counter[str] = Counter()
    late = 0.0
    k = 0
    while time.monotonic() < begin + spec.duration + 60:
        now = time.monotonic()
        while k < total and now >= begin + k / spec.rate:
            # uvicorn closes a connection idle for 5 s; a request sent just then would be reset
            for conn in [c for c in idle if now - c.idle_since > 3]:
                idle.remove(conn)
                sel.unregister(conn.sock)
                conn.close()
                opened -= 1
            if not idle and opened < spec.max_connections:
                conn = Connection(spec.port)
                sel.register(conn.sock, selectors.EVENT_READ, conn)
                idle.append(conn)
                opened += 1
            if not idle:
                break
            late = max(late, now - (begin + k / spec.rate))
            idle.pop().send(requests[k], tag=k)
            sent_at[k] = time.monotonic()
            k += 1
            progress[0] = k
        if k >= total and len(idle) == len(sel.get_map()):
            break
        wait = begin + k / spec.rate - time.monotonic() if k < total else 0.2
        for key, _ in sel.select(min(max(wait, 0.0), 0.2)):
            conn = key.data
            try:
                reply = conn.receive()
            except OSError as exc:
                if conn in idle:  # closed by the server after its keep-alive timeout
                    idle.remove(conn)
                else:
                    failures[f"{type(exc).__name__}: {exc}"] += 1
                sel.unregister(conn.sock)
                conn.close()
                opened -= 1
                continue
            if reply is None:
                continue
            acks[conn.tag] = (time.monotonic(), reply[0])
            progress[1] = len(acks)
            if reply[2]:
                sel.unregister(conn.sock)
                conn.close()
                opened -= 1
            else:
                conn.idle_since = time.monotonic()
                idle.append(conn)
    return {
        "acks": acks,
        "sent_at": sent_at,
        "begin": begin,
        "failures": dict(failures),
        "late": late,
        "sent": k,
    }


def bench_freshness(args: argparse.Namespace, root: Path) -> Figure:
    rate, seconds = 50, args.fresh_seconds
    say(f"== Freshness at {rate * BATCH:,} events/s for {seconds:g} s")
    ctx = mp.get_context("spawn")
    with ExitStack() as stack:
        inst = new_instance(stack, root, "fresh", args.database_url)
        server = stack.enter_context(served([*CLI, "serve"], inst.env, inst.data_dir / "serve.log"))
        inst.cli("workspace", "create", "bench")
        key = inst.cli("key", "create", "--workspace", "bench", "--scope", "write")
        engine = inst.reader(stack)
        events_dir = inst.data_dir / "events"
        ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
        start = ctx.RawValue("d", 0.0)
        progress = ctx.RawArray("q", 2)
        spec = Paced(server.port, key, rate, seconds, args.customers)
        sender = ctx.Process(
            target=paced_sender, args=(spec, ready, go, start, progress, out), daemon=True
        )
        sender.start()
        stack.callback(_end_process, sender)
        collect(ready, [sender], 1, 120, "sender")
        start.value = time.monotonic() + 0.2
        go.set()
        visible: dict[int, float] = {}
        poll_times: list[float] = []
        poll_errors: Counter[str] = Counter()
        beat = start.value + 1
        backlog = 0
        result: dict[str, Any] | None = None
        give_up = start.value + seconds + 90
        while time.monotonic() < give_up:
            began = time.monotonic()
            try:
                _poll(engine, events_dir, visible)
            except (duckdb.Error, OSError) as exc:  # a file compacted away between list and read
                poll_errors[type(exc).__name__] += 1
            poll_times.append(time.monotonic() - began)
            if result is None and not out.empty():
                result = out.get()
            if result is None:
                check_alive(server, [sender])
            if result is not None and all(
                k in visible for k, (_, status) in result["acks"].items() if status == 200
            ):
                break
            if time.monotonic() >= beat:
                waiting = _inbox(engine)
                backlog = max(backlog, waiting)
                say(
                    f"  sent {progress[0] * BATCH:,}, acknowledged {progress[1] * BATCH:,}, "
                    f"visible {len(visible) * BATCH:,} events; inbox {waiting:,} events"
                )
                beat += 1
            time.sleep(max(0.0, 0.1 - (time.monotonic() - began)))
        if result is None:
            result = collect(out, [sender], 1, 60, "sender")[0]
        sender.join(timeout=30)
    acks = {k: t for k, (t, status) in result["acks"].items() if status == 200}
    statuses = Counter(status for _, status in result["acks"].values())
    lags = [visible[k] - t for k, t in acks.items() if k in visible]
    missing = len(acks) - len(lags)
    if not lags:
        raise RuntimeError("no acknowledged marker became visible")
    p50, p95, worst = (percentile(lags, q) for q in (50, 95, 100))
    answer = [t - result["sent_at"][k] for k, t in acks.items()]
    span = max(acks.values()) - result["begin"] if acks else 0.0
    achieved = len(acks) * BATCH / span if span else 0.0
    # the figure only means something if the server took the offered load on schedule
    sustained = result["late"] <= 1.0 and result["sent"] == int(rate * seconds)
    scheduled = [visible[k] - (result["begin"] + k / rate) for k in acks if k in visible]
    q50, q95 = percentile(poll_times, 50), percentile(poll_times, 95)
    bad = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()) if s != 200)
    bad += ", ".join(f"{n} x {e}" for e, n in result["failures"].items())
    return Figure(
        name=f"Freshness at {rate * BATCH:,} events/s: acknowledged -> queryable, p95 (s)",
        value=f"{p95:.2f} (p50 {p50:.2f}, max {worst:.2f})",
        baseline=f"{q95:.3f} (p95 of the poll query itself; p50 {q50:.3f})",
        ratio=p95 / q95 if q95 else None,
        target="p95 <= 5",
        met=p95 <= 5 and missing == 0 and not bad and sustained,
        notes=[
            f"{result['sent']:,} requests of {BATCH} events paced at {rate}/s for {seconds:g} s "
            f"(latest send {result['late'] * 1000:,.0f} ms behind schedule); each carries a "
            "marker messageId; freshness = when a poll first saw the marker minus when its "
            "200 arrived",
            "the poller reads the current file list from the database and queries the marker "
            f"ids with DuckDB every ~100 ms ({len(poll_times):,} polls; failed polls: "
            f"{', '.join(f'{n} x {e}' for e, n in poll_errors.items()) or 'none'}); the "
            "baseline is that poll's own latency, so a freshness near it means the loader "
            "itself adds little",
            f"acknowledged markers never seen: {missing}; answers other than 200: {bad or 'none'}",
            f"offered {rate * BATCH:,} events/s, acknowledged {achieved:,.0f} events/s "
            f"(all acknowledged events / time to the last 200); "
            + ("sustained" if sustained else "**not sustained: sends fell behind schedule**"),
            f"largest inbox backlog seen (sampled each second): {backlog:,} events",
            f"time to the 200 answer p50 / p95 / max: {_spread(answer)}; from the moment a "
            f"request was due (open loop) to its marker being queryable: {_spread(scheduled)}",
        ],
    )


def _spread(values: Sequence[float]) -> str:
    return " / ".join(f"{percentile(values, q):.2f}" for q in (50, 95, 100)) + " s"


def _poll(engine: Engine, events_dir: Path, visible: dict[int, float]) -> None:
    with engine.connect() as conn:
        paths = conn.execute(
            text("SELECT path FROM event_file WHERE replaced_at IS NULL")
        ).scalars()
        files = [str(events_dir / p) for p in paths]
    seen_at = time.monotonic()  # every file registered by now is in ``files``
    rows = store.query(
        files, {}, "SELECT message_id FROM events WHERE starts_with(message_id, 'mark-')"
    )
    for row in rows:
        visible.setdefault(int(row["message_id"][5:]), seen_at)


def _inbox(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT coalesce(sum(event_count), 0) FROM ingest_inbox")).scalar()
            or 0
        )


# -- the run --------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} x {model}, {mem:,.0f} GiB RAM, Linux {platform.release()}"


DOCS_HEAD = """# Benchmarks

Written by `python -m bench.ingest --write-docs` (see `bench/README.md` for what each figure
measures and how). Every figure has its baseline measured in the same run on the same machine:
compare ratios across machines, not raw figures. Each database keeps its own section; a run
replaces the section of its database.
"""


def write_docs(figures: Sequence[Figure], args: argparse.Namespace, db: str, code: str) -> Path:
    """Put this run's section into docs/benchmarks.md, keeping other databases' sections."""
    path = REPO / "docs" / "benchmarks.md"
    kind = "postgresql" if args.database_url else "sqlite"
    begin, end = f"<!-- bench.ingest {kind} -->", f"<!-- /bench.ingest {kind} -->"
    argv = [
        make_url(a).render_as_string(hide_password=True) if a == args.database_url else a
        for a in sys.argv[1:]
    ]
    section = (
        f"{begin}\n"
        f"## Ingestion on {'PostgreSQL' if args.database_url else 'SQLite'}\n\n"
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- machine: {machine()}\n"
        f"- database: {db}\n"
        f"- cxloop: {code}\n"
        f"- Python {platform.python_version()}, DuckDB {duckdb.__version__}\n"
        f"- run: {'quick' if args.quick else 'full'}, "
        f"`python -m bench.ingest {' '.join(argv)}`\n\n"
        f"{table(figures)}\n\n"
        "### Details\n\n"
        f"{details(figures)}\n"
        f"{end}\n"
    )
    return replace_section(path, begin, end, section, DOCS_HEAD)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Shorter runs, smaller files.")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL (e.g. postgresql://postgres@127.0.0.1:5432/); a fresh "
        "database is created and dropped for each phase. Default: SQLite in the data dir.",
    )
    parser.add_argument("--write-docs", action="store_true", help="Write docs/benchmarks.md.")
    parser.add_argument(
        "--only", default="http,import,freshness,memory", help="Comma-separated phases to run."
    )
    parser.add_argument("--duration", type=float, help="HTTP seconds measured (10; quick 3).")
    parser.add_argument("--rounds", type=int, help="HTTP rounds, median kept (3; quick 1).")
    parser.add_argument("--clients", type=int, default=2, help="Load-generating processes.")
    parser.add_argument("--connections", type=int, default=8, help="Connections per client.")
    parser.add_argument("--events", type=int, help="Events to import (1,000,000; quick 200,000).")
    parser.add_argument(
        "--memory-events", type=int, help="Events of the memory run (5,000,000; quick 1,000,000)."
    )
    parser.add_argument("--fresh-seconds", type=float, help="Freshness run (20 s; quick 8 s).")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="A cxloop setting for every cxloop process, e.g. --set run_worker_in_server=false "
        "(repeatable; the default is cxloop's defaults).",
    )
    parser.add_argument("--tmp-dir", help="Where the temporary data goes (default: $TMPDIR).")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (3.0 if quick else 10.0)
    args.rounds = args.rounds or (1 if quick else 3)
    args.events = args.events or (200_000 if quick else 1_000_000)
    args.memory_events = args.memory_events or (1_000_000 if quick else 5_000_000)
    args.fresh_seconds = args.fresh_seconds or (8.0 if quick else 20.0)
    args.customers = 20_000  # customers in the live traffic of phases 1 and 3
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set wants NAME=VALUE, not {item!r}")
        SETTINGS["CXLOOP_" + name.upper().removeprefix("CXLOOP_")] = value
    args.phases = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.phases) - {"http", "import", "freshness", "memory"}
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return args


PHASES = {
    "http": bench_http,
    "import": bench_import,
    "freshness": bench_freshness,
    "memory": bench_memory,
}


TITLES = {
    "http": "HTTP ingest (events/s)",
    "import": "Bulk import (events/s)",
    "freshness": "Freshness at 5,000 events/s, p95 (s)",
    "memory": "Peak RSS of a big import (MiB)",
}


def run_phase(name: str, phase: Any, args: argparse.Namespace, root: Path) -> Figure:
    """A phase's figure; a failed phase becomes a failed row and the run goes on."""
    try:
        figure: Figure = phase(args, root)
    except Exception as exc:
        say(f"{name} failed: {type(exc).__name__}: {exc}")
        return Figure(
            name=TITLES[name],
            value="**failed**",
            baseline="",
            ratio=None,
            target="",
            met=False,
            notes=[f"{type(exc).__name__}: {str(exc)[:600]}"],
        )
    return figure


def describe_code() -> str:
    """The cxloop code measured: its commit, and a digest of uncommitted changes in src/."""
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run(
            [*git, "log", "-1", "--format=%h %ad %s", "--date=short"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        diff = subprocess.run(
            [*git, "diff", "HEAD", "--", "src"], capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown (no git)"
    if not diff:
        return head
    return f"{head} + uncommitted changes in src/ (diff {hashlib.sha256(diff).hexdigest()[:8]})"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_bare:
        serve_bare(args.host, args.port)
        return 0

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # clean up on SIGTERM as on Ctrl-C
    db = database_label(args.database_url)
    say(f"machine: {machine()}; database: {db}; {'quick' if args.quick else 'full'} run")
    code = describe_code()
    say(f"cxloop at {code}")
    figures: list[Figure] = []
    with ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="cxloop-bench-", dir=args.tmp_dir))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        try:
            for name, phase in PHASES.items():
                if name in args.phases:
                    figures.append(run_phase(name, phase, args, root))
        except KeyboardInterrupt:
            say("interrupted; stopping servers and removing temporary files")
            if figures:
                print(f"\n(interrupted: the figures so far)\n\n{table(figures)}")
            return 130
    if describe_code() != code:  # someone changed the code while the bench ran
        code += "; **the code changed during the run**, now: " + describe_code()
        say(f"warning: cxloop changed during the run; measured {code}")
    print(f"\ncxloop at {code}\n\n{table(figures)}\n\n{details(figures)}")
    if args.write_docs:
        say(f"wrote {write_docs(figures, args, db, code)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
