"""What the end-to-end tests share: the server as a real process (``Process``, ``HttpServer``), a
clean environment for it, an SDK client over streamable HTTP, and readers of its answers and its
audit log. The fixtures that use them are in conftest.py; tests import these from here (a module
named ``conftest`` is ambiguous when several test folders run in one process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

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
