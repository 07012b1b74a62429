"""Dashboard pages: how long each page takes to render for a signed-in person, against a
static answer of the same server.

One ``cxloop serve`` on a fresh SQLite data dir holds the demo shop (``cxloop demo
--no-serve``; a synthetic shop sent through ``/v1/batch`` where the demo command is missing).
A client signs in through the form, then asks each page ``--rounds`` times in turn, one
request at a time on one keep-alive connection: every GET route under ``/app`` without a path
parameter (read from the app, so new pages are measured the day they are added), one
customer 360 (the customer with the most events) and one chart as PNG. The baseline is the
same server answering ``GET /healthz`` and the dashboard's stylesheet in the same loop.

    .venv/bin/python -m bench.pages [--quick] [--customers 2000] [--rounds 30]
    .venv/bin/python -m bench.pages --data-dir DIR   # keep (or reuse) the loaded data dir

Progress goes to stderr, the figures to stdout. Target: p95 <= 1 s for every page.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from bench.ingest import describe_code, machine, percentile, say, served
from bench.report import Figure, details, table
from tests.fixtures.shop import batches

from cxloop.dashboard.router import page_paths

CLI = [sys.executable, "-m", "cxloop.cli"]
TARGET = 1.0  # seconds, p95
PASSWORD = "bench-pages-password"  # noqa: S105 (a throwaway user of a throwaway data dir)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SIGN_IN = re.compile(r"Sign in:\s+(\S+)\s+Password:\s+(\S+)", re.S)


@dataclass
class Login:
    email: str
    password: str


def cli(env: dict[str, str], *args: str, timeout: float = 7200) -> str:
    done = subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"cxloop {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def has_demo(env: dict[str, str]) -> bool:
    done = subprocess.run([*CLI, "demo", "--help"], env=env, capture_output=True, check=False)
    return done.returncode == 0 and b"--no-serve" in done.stdout


def load_demo(env: dict[str, str], customers: int) -> Login:
    say(f"loading the demo shop ({customers:,} customers; this takes minutes)")
    out = cli(env, "demo", "--no-serve", "--customers", str(customers))
    found = _SIGN_IN.search(out)
    if found is None:
        raise RuntimeError(f"cxloop demo printed no sign-in:\n{out[-2000:]}")
    say(out.strip().splitlines()[0])
    return Login(found.group(1), found.group(2))


def load_synthetic(env: dict[str, str], base: str, customers: int) -> Login:
    say(f"no `cxloop demo`: sending a synthetic shop of {customers:,} customers")
    cli(env, "workspace", "create", "bench-shop")
    key = cli(env, "key", "create", "--workspace", "bench-shop", "--scope", "write").strip()
    email = "bench@shop.example"
    cli(env, "user", "create", "--email", email, "--workspace", "bench-shop", "--role", "owner",
        "--password", PASSWORD)  # fmt: skip
    sent = 0
    with httpx.Client(base_url=base, auth=(key, ""), timeout=120) as http:
        for batch in batches(customers):
            http.post("/v1/batch", json={"batch": batch}).raise_for_status()
            sent += len(batch)
    say(f"sent {sent:,} messages; waiting for the loader")
    time.sleep(5 + sent / 5000)
    return Login(email, PASSWORD)


def sign_in(http: httpx.Client, login: Login) -> None:
    page = http.get("/login")
    token = _CSRF.search(page.text)
    assert token, "no sign-in form"
    reply = http.post(
        "/login", data={"csrf": token.group(1), "email": login.email, "password": login.password}
    )
    if reply.status_code != 303:
        raise RuntimeError(f"could not sign in as {login.email}: {reply.status_code}")


def busiest_customer(http: httpx.Client) -> str | None:
    """The 360 of the customer with the most events among the latest seen."""
    ids = re.findall(r'href="/app/customers/([0-9a-f-]{36})"', http.get("/app/customers").text)
    reply = http.get("/app/customers", params={"format": "csv", "table": "customers"})
    reply.raise_for_status()
    rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))[1:]
    if not ids or len(rows) != len(ids):
        return None
    events = [int(row[5] or 0) for row in rows]  # the "events" column
    return f"/app/customers/{ids[events.index(max(events))]}"


_SURVEY_LINK = re.compile(r'href="(/app/surveys/[0-9a-f-]{36})"')
_TOUCHPOINT_LINK = re.compile(r'class="jm-weakest-name"><a href="([^"]+)"')


def targets(http: httpx.Client) -> tuple[list[str], dict[str, float]]:
    """The pages to measure, and how long the first request took of those asked for while
    finding the others (``/app/customers`` before it is warm is not among them)."""
    pages = [p for p in page_paths() if "{" not in p and not p.endswith(".csv")]
    first: dict[str, float] = {}

    def first_view(path: str) -> str:
        start = time.perf_counter()
        reply = http.get(path)
        first[path] = time.perf_counter() - start
        return reply.text

    # one page of each kind addressed by an id: a survey's results, the weakest touchpoint
    survey = _SURVEY_LINK.search(first_view("/app/surveys"))
    weakest = _TOUCHPOINT_LINK.search(first_view("/app/journeys"))
    customer = busiest_customer(http)
    pages += [customer] if customer else []
    pages += [survey.group(1)] if survey else []
    pages += [weakest.group(1).replace("&amp;", "&")] if weakest else []
    pages.append("/app?format=png&chart=nps-trend")
    return pages, first


def timed(http: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    reply = http.get(path)
    elapsed = time.perf_counter() - start
    if reply.status_code != 200:
        raise RuntimeError(f"GET {path}: {reply.status_code} {reply.text[:300]}")
    return elapsed


def measure(
    http: httpx.Client, paths: Sequence[str], rounds: int, first: dict[str, float]
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Each path ``rounds`` times, in turn (so drift hits every page alike), after a first
    request of each, timed apart: the first view after the server started, before anything
    the server keeps between requests holds it."""
    first = {path: first[path] if path in first else timed(http, path) for path in paths}
    samples: dict[str, list[float]] = {path: [] for path in paths}
    for n in range(rounds):
        for path in paths:
            samples[path].append(timed(http, path))
        if (n + 1) % max(1, rounds // 5) == 0:
            say(f"round {n + 1}/{rounds}")
    return first, samples


def figures(
    first: dict[str, float], samples: dict[str, list[float]], baselines: Sequence[str]
) -> list[Figure]:
    base = [t for path in baselines for t in samples[path]]
    base_p50, base_p95 = statistics.median(base), percentile(base, 95)
    baseline = f"p50 {base_p50 * 1000:.1f} ms, p95 {base_p95 * 1000:.1f} ms"
    out = []
    for path, times in samples.items():
        if path in baselines:
            continue
        p50, p95 = statistics.median(times), percentile(times, 95)
        out.append(
            Figure(
                name=f"`{path}`",
                value=f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms",
                baseline=baseline,
                ratio=p95 / base_p95,
                target="p95 <= 1 s",
                met=p95 <= TARGET,
                notes=[
                    f"{len(times)} requests, max {max(times) * 1000:.0f} ms; the first request "
                    f"after the server started (not counted): {first[path] * 1000:,.0f} ms"
                ],
            )
        )
    return out


@dataclass
class Setup:
    env: dict[str, str]
    data_dir: Path
    reuse: bool


def setup(stack: ExitStack, args: argparse.Namespace) -> Setup:
    if args.data_dir:
        data_dir = Path(args.data_dir).resolve()
        reuse = (data_dir / "bench-login").exists()
    else:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pages-")))
        reuse = False
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CXLOOP_DATA_DIR": str(data_dir),
        "CXLOOP_DATABASE_URL": f"sqlite:///{data_dir / 'cxloop.db'}",
    }
    env.pop("CXLOOP_SECRET_KEY", None)
    return Setup(env, data_dir, reuse)


def run(args: argparse.Namespace) -> list[Figure]:
    with ExitStack() as stack:
        where = setup(stack, args)
        login_file = where.data_dir / "bench-login"
        login: Login | None = None
        if where.reuse:
            email, password = login_file.read_text().split("\n")[:2]
            login = Login(email, password)
            say(f"reusing the data in {where.data_dir}")
        elif has_demo(where.env):
            login = load_demo(where.env, args.customers)
        log = where.data_dir / "serve.log"
        server = stack.enter_context(served([*CLI, "serve"], where.env, log))
        base = f"http://127.0.0.1:{server.port}"
        if login is None:
            login = load_synthetic(where.env, base, args.customers)
        login_file.write_text(f"{login.email}\n{login.password}\n")
        with httpx.Client(base_url=base, timeout=60, headers={"Accept": "text/html"}) as http:
            sign_in(http, login)
            paths, first = targets(http)
            baselines = ["/healthz", "/static/app.css"]
            say(
                f"measuring {len(paths)} pages and {len(baselines)} baselines, {args.rounds} rounds"
            )
            first, samples = measure(http, [*paths, *baselines], args.rounds, first)
        return figures(first, samples, baselines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="300 customers, 10 rounds")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--data-dir", help="load into (or reuse) this data dir")
    args = parser.parse_args(argv)
    if args.quick:
        args.customers, args.rounds = min(args.customers, 300), min(args.rounds, 10)
    return args


def lines(found: Sequence[Figure], args: argparse.Namespace, data: str) -> Iterator[str]:
    yield f"machine: {machine()}"
    yield f"code: {describe_code()}"
    yield f"data: {data}; {args.rounds} rounds; one connection"
    yield ""
    yield table(found)
    yield ""
    yield details(found)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    reused = args.data_dir and (Path(args.data_dir) / "bench-login").exists()
    data = f"as loaded before in {args.data_dir}" if reused else f"{args.customers:,} customers"
    found = run(args)
    print("\n".join(lines(found, args, data)))
    return 0 if all(f.met for f in found) else 1


if __name__ == "__main__":
    sys.exit(main())
