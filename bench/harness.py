"""Shared plumbing for the benchmarks: statistics, loopback ports, child processes, token counting.

Every server a benchmark starts is a child process on 127.0.0.1 in its own process group, started
through ``spawn`` (a context manager) so that it is killed - group and all - when the benchmark
ends, whether it finished, failed or timed out. Nothing here talks to any address but loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import anyio
import httpx2

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PYTHON = sys.executable
LOOPBACK = "127.0.0.1"

# ---------------------------------------------------------------------------------------------
# statistics


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def p95(samples: Sequence[float]) -> float:
    """Nearest-rank 95th percentile (no interpolation: with few samples it is the slowest ones)."""
    ordered = sorted(samples)
    rank = max(1, -(-95 * len(ordered) // 100))  # ceil(0.95 n)
    return float(ordered[rank - 1])


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def spread(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """Median and min-max of one figure over its runs (every headline figure is reported so)."""
    return {
        "median": round(median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": len(values),
    }


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------------------------------------
# tokens


_ENCODING: Any = None


def tokens(text: str) -> int:
    """o200k_base token count (bpe-openai ships the encoding, so this works offline)."""
    global _ENCODING
    if _ENCODING is None:
        from bpe_openai import get_encoding

        _ENCODING = get_encoding("o200k_base")
    return len(_ENCODING.encode(text))


def compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def pretty(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def size(text: str) -> dict[str, int]:
    return {"bytes": len(text.encode()), "tokens": tokens(text)}


# ---------------------------------------------------------------------------------------------
# processes and ports


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a server child: no VTEX_* variables leak in from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEX_")}
    env.update(extra)
    return env


@contextlib.contextmanager
def spawn(args: Sequence[str], env: dict[str, str], log: TextIO) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` in a new process group; on exit terminate the group (then kill it)."""
    proc = subprocess.Popen(
        list(args), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
    )
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


async def wait_http(
    url: str, proc: subprocess.Popen[bytes], *, timeout: float = 60.0, headers: dict[str, str] | None = None
) -> None:
    """Poll ``url`` until it answers anything at all (any status), the child dies, or ``timeout``."""
    deadline = time.monotonic() + timeout
    async with httpx2.AsyncClient(timeout=2.0, headers=headers) as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: server exited with code {proc.returncode} before answering")
            try:
                await http.get(url)
                return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: no answer within {timeout:.0f} s")
            await anyio.sleep(0.05)


def children(pid: int | None = None) -> list[int]:
    """The ids of ``pid``'s child processes (default: this process's), from /proc."""
    parent = os.getpid() if pid is None else pid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")).decode(errors="replace")
    except OSError:
        return ""


def pinned(core: int | None, args: Sequence[str]) -> list[str]:
    """``args`` run on one CPU core (``taskset -c``), or as they are when ``core`` is None."""
    return list(args) if core is None else ["taskset", "-c", str(core), *args]


def cores() -> tuple[int | None, int | None]:
    """(server core, client core): two different cores when the machine has two and taskset,
    else (None, None) and the two share the machine (the report says which)."""
    import shutil

    usable = sorted(os.sched_getaffinity(0))
    if len(usable) >= 2 and shutil.which("taskset"):
        return usable[0], usable[1]
    return None, None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), for server-side cost per call."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15 of stat)


@contextlib.contextmanager
def scratch(prefix: str = "vtex-bench-") -> Iterator[Path]:
    """A temporary folder for state dirs and child logs; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        yield Path(folder)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
