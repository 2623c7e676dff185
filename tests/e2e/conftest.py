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
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_support import INSPECTOR, NPX_MISSING, SERVER, HttpServer, Process, clean_env
from ports import free_port

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is end-to-end (marked ``e2e``)."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


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
