"""The peer-shaped TypeScript server (bench/peer/server.mjs) and its set-up.

The best-known VTEX MCP server is a TypeScript server on the official SDK that passes VTEX's JSON
through, pretty-printed; its published package no longer installs, so bench/peer/ holds a server
of the same shape (the official ``@modelcontextprotocol/sdk``, the same tools, pretty JSON text).
Its dependencies are pinned by bench/peer/package-lock.json and installed here with ``npm ci``
the first time the bench needs them (node_modules/ is not committed).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness import BENCH_DIR

PEER_DIR = BENCH_DIR / "peer"
SERVER = PEER_DIR / "server.mjs"


def ensure_installed() -> str:
    """The ``node`` executable, after installing the peer's locked dependencies if needed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("the TypeScript peer needs Node.js and npm (apt-get install nodejs npm)")
    marker = PEER_DIR / "node_modules" / ".package-lock.json"
    lock = PEER_DIR / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel", "error"],
            cwd=PEER_DIR, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"npm ci in {PEER_DIR} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return node


def peer_args(node: str) -> list[str]:
    return [node, str(Path(SERVER))]
