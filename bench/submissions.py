"""Submissions through the hosted survey page, as a browser without script makes them: each
response is ``GET /s/{id}`` (a fresh signed form token) then ``POST /s/{id}`` with the
urlencoded form. One ``cxloop serve`` process (worker off, so the figure is the page's own),
on a fresh SQLite data dir; ``--clients`` keep-alive connections from one asyncio loop.

The baseline is the same server, same client and same connections doing two requests per
"response" that touch no database: ``GET /healthz`` and ``GET /s/assets/survey.js``. It is
the ceiling that HTTP, uvicorn and this client alone allow on this machine.

    .venv/bin/python -m bench.submissions [--seconds 10] [--clients 16]

(``python -m bench.feedback`` runs it as its "pages" phase.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

CLI = [sys.executable, "-m", "cxloop.cli"]
_TOKEN = re.compile(rb'name="token" value="([^"]+)"')


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost less than the
    server it measures, and httpx in one loop would be the bottleneck here."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/html\r\n"
        if body:
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _submit(conn: Connection, survey_id: str, n: int) -> bool:
    status, page = await conn.request("GET", f"/s/{survey_id}?lang=vi&tp=bench")
    found = _TOKEN.search(page)
    if status != 200 or found is None:
        return False
    form = urlencode({"token": found.group(1).decode(), "a.nps": str(n % 11), "js": "1"})
    status, _ = await conn.request("POST", f"/s/{survey_id}", form.encode())
    return status == 200


async def _static(conn: Connection, _survey_id: str, _n: int) -> bool:
    first, _ = await conn.request("GET", "/healthz")
    second, _ = await conn.request("GET", "/s/assets/survey.js")
    return first == second == 200


@dataclass
class Run:
    done: int
    failed: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.done / self.seconds


async def _drive(
    port: int,
    survey_id: str,
    clients: int,
    seconds: float,
    one: Callable[[Connection, str, int], Awaitable[bool]],
) -> Run:
    conns = [await Connection.open(port) for _ in range(clients)]
    counts = {"done": 0, "failed": 0}
    stop = time.perf_counter() + seconds

    async def worker(conn: Connection, offset: int) -> None:
        n = offset
        while time.perf_counter() < stop:
            ok = await one(conn, survey_id, n)
            counts["done" if ok else "failed"] += 1
            n += clients

    started = time.perf_counter()
    await asyncio.gather(*(worker(c, i) for i, c in enumerate(conns)))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return Run(counts["done"], counts["failed"], elapsed)


def _cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def _free_port() -> int:

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Result:
    pages: Run
    baseline: Run
    stored: int
    clients: int


def measure(seconds: float = 10, clients: int = 16, tmp_root: str | None = None) -> Result:
    with tempfile.TemporaryDirectory(prefix="cxloop-bench-pages-", dir=tmp_root) as tmp:
        env = {
            **os.environ,
            "CXLOOP_DATA_DIR": str(Path(tmp) / "data"),
            "CXLOOP_DATABASE_URL": "",
            "CXLOOP_RUN_WORKER_IN_SERVER": "false",
            "CXLOOP_SURVEY_PAGE_RATE_LIMIT": "0",
            "CXLOOP_LOG_LEVEL": "warning",
        }
        _cli(env, "workspace", "create", "bench-shop")
        key = _cli(env, "key", "create", "--workspace", "bench-shop", "--scope", "write")
        read_key = _cli(env, "key", "create", "--workspace", "bench-shop", "--scope", "read")
        port = _free_port()
        log = (Path(tmp) / "serve.log").open("w")
        server = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            survey = {
                "name": "Bench NPS",
                "languages": ["vi", "en"],
                "questions": [
                    {
                        "id": "nps",
                        "type": "nps",
                        "title": {"vi": "Bạn sẵn lòng giới thiệu?", "en": "Recommend us?"},
                    }
                ],
            }
            created = httpx.post(
                f"{base}/api/v1/surveys", json=survey, headers={"Authorization": f"Bearer {key}"}
            )
            created.raise_for_status()
            survey_id = created.json()["id"]
            say(f"warming up ({clients} clients)")
            asyncio.run(_drive(port, survey_id, clients, 2, _submit))
            say(f"baseline: /healthz + /s/assets/survey.js for {seconds:g} s")
            baseline = asyncio.run(_drive(port, survey_id, clients, seconds, _static))
            say(f"hosted page: GET form + POST answers for {seconds:g} s")
            pages = asyncio.run(_drive(port, survey_id, clients, seconds, _submit))
            detail = httpx.get(
                f"{base}/api/v1/surveys/{survey_id}",
                headers={"Authorization": f"Bearer {read_key}"},
            )
            stored = int(detail.json()["response_count"])
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    return Result(pages, baseline, stored, clients)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.submissions", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    result = measure(args.seconds, args.clients)
    print(
        f"hosted page submissions: {result.pages.rate:,.0f} responses/s "
        f"({result.pages.done} in {result.pages.seconds:.1f} s, {result.pages.failed} failed)"
    )
    print(f"baseline (2 static requests): {result.baseline.rate:,.0f} pairs/s")
    ratio = result.pages.rate / result.baseline.rate
    print(f"ratio: {ratio:.2f}; complete responses stored: {result.stored}")


if __name__ == "__main__":
    main()
