"""A real `mo serve` in its own process, for attacks that must be measured from outside.

The in-thread server of client_fixtures.py shares the test's memory, so it cannot show what a
request costs the server. Here `python -m mo serve` runs as a subprocess over the parametrized
database (a DuckDB file, or a PostgreSQL schema), with two tenants whose API keys were made
before the server opened the file; the fixture waits for /v1/health and, on teardown,
terminates that one process. `peak_rss_bytes()` reads the server's VmHWM from /proc.

Import the fixture where needed: `from serve_process import served`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from client_fixtures import OTHER_TENANT, TENANT

ROOT = Path(__file__).resolve().parent.parent  # the worktree: its `mo` is the one served
STARTUP_SECONDS = 90.0  # 2 shared cores: importing pandas, pyarrow and FastAPI can be slow


@dataclass(frozen=True)
class ServedProcess:
    """A running `mo serve`: where it listens, the two tenants' keys and its process."""

    base_url: str
    keys: Mapping[str, str]
    process: subprocess.Popen[bytes] = field(repr=False)
    log: Path

    @property
    def attacker(self) -> str:
        return TENANT

    @property
    def bystander(self) -> str:
        return OTHER_TENANT

    def headers(self, slug: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[slug]}", **extra}

    def peak_rss_bytes(self) -> int:
        """The server's peak RSS so far (VmHWM), in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc/<pid>/status")

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-size:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    db_url: str, keys: Mapping[str, str], log: Path, env: Mapping[str, str] | None = None
) -> ServedProcess:
    """Start `mo serve` on a free loopback port; fail the test if it does not answer in time."""
    port = free_port()
    command = [sys.executable, "-m", "mo", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:  # a file, not a pipe: a chatty server never blocks on it
        process = subprocess.Popen(
            [*command, "--db-url", db_url],
            cwd=ROOT,
            env={**os.environ, "TQDM_DISABLE": "1", **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = ServedProcess(f"http://127.0.0.1:{port}", dict(keys), process, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and served.alive():
        if _answers(served.base_url):
            return served
        time.sleep(0.1)
    stop_server(served)
    pytest.fail(f"mo serve did not start:\n{served.log_tail()}")


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/v1/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def stop_server(served: ServedProcess) -> None:
    """Terminate the server this fixture started (its own pid only), then kill it if it hangs."""
    if not served.alive():
        return
    served.process.send_signal(signal.SIGTERM)
    try:
        served.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait(timeout=30)


@pytest.fixture
def served(db_url: str, api_keys: dict[str, str], tmp_path: Path) -> Iterator[ServedProcess]:
    """A real `mo serve` process over the parametrized backend, tenants acme and rival."""
    server = start_server(db_url, api_keys, tmp_path / "mo-serve.log")
    try:
        yield server
    finally:
        stop_server(server)
