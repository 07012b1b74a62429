"""`cxloop serve` as a real process: migrations first, then the API with real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cxloop.core.security import split_api_key
from tests.fixtures.databases import fresh_database

CLI = [sys.executable, "-m", "cxloop.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(pg_server_url: str | None, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with fresh_database(pg_server_url, tmp_path, "serve") as url:
        env = {**os.environ, "CXLOOP_DATA_DIR": str(tmp_path / "data"), "CXLOOP_DATABASE_URL": url}
        port = free_port()
        log = (tmp_path / "serve.log").open("w")
        process = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "cxloop serve did not start:\n" + (tmp_path / "serve.log").read_text()
                    )
                time.sleep(0.2)
            yield base, env
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_served_instance_answers_keys_by_scope_and_workspace(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    assert httpx.get(f"{base}/readyz").json()["checks"] == {"database": "ok", "migrations": "ok"}
    workspace_id = cli(env, "workspace", "create", "acme")
    admin = cli(env, "key", "create", "--workspace", "acme", "--scope", "admin")
    writer = cli(env, "key", "create", "--workspace", "acme", "--scope", "write")
    cli(env, "workspace", "create", "other")
    other = cli(env, "key", "create", "--workspace", "other", "--scope", "admin")

    ok = httpx.get(f"{base}/api/v1/workspace", headers={"Authorization": f"Bearer {admin}"})
    assert ok.status_code == 200
    assert ok.json()["id"] == workspace_id

    missing = httpx.get(f"{base}/api/v1/workspace")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert set(missing.json()) == {"error", "detail"}

    wrong = httpx.get(f"{base}/api/v1/workspace", headers={"Authorization": "Bearer cxl_x_y_z"})
    assert wrong.status_code == 401

    scoped = httpx.get(f"{base}/api/v1/keys", headers={"Authorization": f"Bearer {writer}"})
    assert scoped.status_code == 403
    assert scoped.json()["error"] == "insufficient_scope"

    keys = httpx.get(f"{base}/api/v1/keys", headers={"Authorization": f"Bearer {admin}"}).json()
    foreign = httpx.delete(
        f"{base}/api/v1/keys/{keys['items'][0]['id']}", headers={"Authorization": f"Bearer {other}"}
    )
    assert foreign.status_code == 404

    spec = httpx.get(f"{base}/api/v1/openapi.json").json()
    assert "/api/v1/keys" in spec["paths"]
    assert "Bearer" in str(spec["components"]["securitySchemes"])

    parts = split_api_key(admin)
    assert parts is not None
    prefix = parts[0]
    cli(env, "key", "revoke", "--workspace", "acme", prefix)
    revoked = httpx.get(f"{base}/api/v1/workspace", headers={"Authorization": f"Bearer {admin}"})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]


def test_pages_answer_in_three_languages(served: tuple[str, dict[str, str]]) -> None:
    base, _ = served
    titles = {"en": "cxloop is running", "vi": "cxloop đang chạy", "th": "cxloop กำลังทำงาน"}
    for lang, title in titles.items():
        page = httpx.get(f"{base}/?lang={lang}")
        assert page.status_code == 200
        assert f'<html lang="{lang}">' in page.text
        assert title in page.text
    browser = httpx.get(base + "/", headers={"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"})
    assert titles["th"] in browser.text


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended and waits to be reaped


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_the_worker_runs_beside_the_api_and_ends_with_it(
    pg_server_url: str | None, tmp_path: Path
) -> None:
    with fresh_database(pg_server_url, tmp_path, "child") as url:
        env = {**os.environ, "CXLOOP_DATA_DIR": str(tmp_path / "data"), "CXLOOP_DATABASE_URL": url}
        port = free_port()
        with (tmp_path / "serve.log").open("w") as log:
            process = subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + 90
                while not (tmp_path / "serve.log").read_text().count("worker "):
                    assert process.poll() is None, (tmp_path / "serve.log").read_text()
                    assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                    time.sleep(0.1)
                children = _children(process.pid)
                assert len(children) == 1
                # it yields the CPU to the API (worker_nice, 10 by default)
                api_nice = os.getpriority(os.PRIO_PROCESS, process.pid)
                assert os.getpriority(os.PRIO_PROCESS, children[0]) == min(api_nice + 10, 19)
                # a crash of the server must not leave the worker running on its own
                process.kill()
                process.wait(timeout=10)
                deadline = time.monotonic() + 60
                while _alive(children[0]):
                    assert time.monotonic() < deadline, "the worker outlived the server"
                    time.sleep(0.1)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
