"""End-to-end fixtures: the server as a real process, reached by clients this project did not write.

Every server runs as ``python -m vtex_orders_mcp`` in a subprocess with a fresh state directory
and an environment cleaned of any ``VTEX_*`` variable the developer may have exported (a real
store's credentials must never reach a test). HTTP servers bind a free loopback port and are
ready when ``/healthz`` answers; their combined output is kept in a file so tests can read the
whole session's logs. The MCP Inspector CLI is fetched through ``npx`` with a pinned version,
once a session, then run from npx's cache with ``node``; a missing ``npx`` fails the tests that
need it, with the command that fixes it.

Every test in this folder is marked ``e2e`` (``pytest -m "not e2e"`` runs the rest of the suite).
The Inspector's tests share a module, which pytest-xdist (``--dist loadfile``) runs on one worker:
one fetch a run, and never two workers filling npx's cache at the same time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from ports import free_port

SERVER = [sys.executable, "-m", "vtex_orders_mcp"]
ORDER = "v502556llux-01"  # the seed example order: in "handling", cancellable
# 0.15.0 is the newest Inspector that runs on Node 20 (later ones need Node >= 22.7.5); pinned
# so CI does not change CLI under the tests when the registry moves on.
INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"
NPX_MISSING = (
    "npx is not on PATH: the MCP Inspector CLI tests need Node.js with npm (tested with Node 20). "
    "Debian/Ubuntu: apt-get install -y nodejs (and npm, if npx is still missing), then run again; "
    ".ci/run installs them when missing."
)
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is end-to-end (marked ``e2e``)."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


def clean_env(state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEX_")}
    env.update(VTEX_MCP_STATE_DIR=str(state_dir), PYTHONUNBUFFERED="1", VTEX_SANDBOX_ORDERS="100")
    env.update(extra)
    return env


@dataclass
class Process:
    """A child process whose stdout+stderr go to ``log_path``."""

    args: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> Process:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(self.args, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)  # fmt: skip
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        """Poll ``url`` until anything answers; fail with the log if the process died first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.popen is not None
            if self.popen.poll() is not None:
                pytest.fail(f"{self.args} exited with {self.popen.returncode}:\n{self.log()[-3000:]}")
            try:
                httpx2.get(url, timeout=1.0)
                return
            except httpx2.TransportError:
                time.sleep(0.1)
        pytest.fail(f"{self.args} did not answer {url} within {timeout}s:\n{self.log()[-3000:]}")

    def stop(self) -> int | None:
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._log.close()
        return self.popen.returncode


@dataclass
class HttpServer:
    process: Process
    port: int
    token: str | None
    state_dir: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def log(self) -> str:
        return self.process.log()


@pytest.fixture
def start_http(tmp_path) -> Iterator[Any]:
    """Factory: ``start_http(token=..., stateless=False, extra_args=[...], env={...})``."""
    started: list[Process] = []

    def start(*, token: str | None = "e2e-token-0123456789", stateless: bool = False,
              extra_args: list[str] = (), env: dict[str, str] | None = None, name: str = "http",
              state_dir: Path | None = None) -> HttpServer:  # fmt: skip
        port = free_port()
        state = tmp_path / f"{name}-state"
        args = [*SERVER, "serve", "--transport", "http", "--port", str(port)]
        if token:
            args += ["--http-token", token]
        if stateless:
            args.append("--stateless")
        args += list(extra_args)
        proc_env = {**clean_env(state, **(env or {})), "VTEX_MCP_STATE_DIR": str(state_dir or state)}
        proc = Process(args, proc_env, tmp_path / f"{name}.log").start()
        started.append(proc)
        proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        return HttpServer(proc, port, token, state)

    yield start
    for proc in started:
        proc.stop()


@asynccontextmanager
async def http_client(url: str, token: str | None, **client_kwargs: Any):
    """An SDK ``Client`` over streamable HTTP sending ``Authorization: Bearer <token>``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=60.0)) as hc,
        Client(streamable_http_client(url, http_client=hc), **client_kwargs) as client,
    ):
        yield client


def structured(result: Any) -> dict[str, Any]:
    """A tool result's structured content, failing with its text when it is an error."""
    assert not result.is_error, result.content[0].text if result.content else result
    return result.structured_content


def audit_events(state_dir: Path) -> list[dict[str, Any]]:
    """The audit log as the operator reads it: ``vtex-orders-mcp audit`` in a subprocess."""
    out = subprocess.run([*SERVER, "audit", "--state-dir", str(state_dir), "--limit", "200"],
                         env=clean_env(state_dir), capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


@dataclass
class Inspector:
    command: list[str]  # what starts the Inspector CLI: node and its cli.js, or npx and the package

    def run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.command, *args], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)  # fmt: skip

    def json(self, *args: str, timeout: float = 120.0) -> dict[str, Any]:
        out = self.run(*args, timeout=timeout)
        assert out.returncode == 0, f"inspector {args} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
        return json.loads(out.stdout)


def _installed_cli(npx: str) -> list[str] | None:
    """``[node, cli.js]`` of the pinned Inspector in npx's cache, fetching it there if needed.

    npx itself costs most of a second of CPU on every call; once it has the package, its ``bin``
    is started with node directly (the same file npx would run). None if it cannot be located."""
    where = subprocess.run([npx, "-y", "--package", INSPECTOR, "-c", "command -v mcp-inspector"],
                           capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)  # fmt: skip
    lines = where.stdout.strip().splitlines()
    node = shutil.which("node")
    if where.returncode != 0 or not lines or node is None or not Path(lines[-1]).is_file():
        return None
    return [node, str(Path(lines[-1]).resolve())]


@pytest.fixture(scope="session")
def inspector() -> Inspector:
    """The Inspector CLI, downloaded once per session (the first npx run fetches the package)."""
    npx = shutil.which("npx")
    if npx is None:
        pytest.fail(NPX_MISSING, pytrace=False)
    tool = Inspector(_installed_cli(npx) or [npx, "-y", INSPECTOR])
    warm = tool.run("--cli", "--help", timeout=600)
    if "--cli" not in warm.stdout + warm.stderr:
        pytest.fail(f"could not fetch {INSPECTOR} with npx:\n{warm.stdout}\n{warm.stderr}", pytrace=False)
    return tool
