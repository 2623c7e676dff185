"""Where a get_order call's CPU goes in the server: py-spy on a get_order loop over stdio.

    python bench/profile_calls.py [--calls 2000] [--top 25] [--flame out.svg]

The standalone sandbox serves VTEX over HTTP on a loopback port; our server runs over stdio
pointed at it, with the deployed default logging, under ``py-spy record`` (sampling, on-CPU
samples only: the time the server waits for the client or the sandbox is not counted); this
process is the SDK client calling get_order in a loop. The report ranks the server's functions
by their own samples ("top costs", what BENCHMARKS.md records) and by inclusive samples for the
few places that matter per call (validation, serialization, logging). Start-up is part of the
profile, so the loop should be long (the default 2,000 calls) to make it small.

py-spy is a bench extra (``pip install -e '.[bench]'``), not a dependency of the server.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench modules

import anyio
from harness import LOOPBACK, PYTHON, child_env, free_port, scratch, spawn, wait_http
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from percall import sandbox_credentials

from sizes import SEED_ORDER

# Inclusive shares reported besides the top own-time functions: a substring of a frame.
PLACES = {
    "tool call (SDK + ours, from the request to the result)": "ToolManager.call_tool (",
    "argument check against the schema (jsonschema)": "problems (vtex_orders_mcp/arguments.py",
    "argument validation (pydantic)": "model_validate (pydantic/main.py",
    "the GET to VTEX (httpx2, client.py)": "VtexClient.send (vtex_orders_mcp/client.py",
    "view projection": "View.render (vtex_orders_mcp/views/",
    "JSON text of the result": "text (vtex_orders_mcp/results.py",
    "logging": "(logging/__init__.py",
    "result to JSON-RPC (SDK: pydantic dump + JSON)": "ServerRunner._serialize (",
    "stdout writer (SDK: a worker thread per line)": "stdout_writer (mcp/server/stdio.py",
    "stdin reader and parse (SDK)": "stdin_reader (mcp/server/stdio.py",
}
IDLE = ("EpollSelector.select (", "Condition.wait (", "Event.wait (")


def _server(base_url: str, state_dir: Path, out: Path) -> StdioServerParameters:
    creds = sandbox_credentials()
    env = child_env(
        VTEX_BASE_URL=base_url,
        VTEX_ACCOUNT_NAME="sandbox",
        VTEX_APP_KEY=creds["X-VTEX-API-AppKey"],
        VTEX_APP_TOKEN=creds["X-VTEX-API-AppToken"],
        VTEX_MCP_STATE_DIR=str(state_dir),
    )
    spy = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
    args = ["record", "--format", "raw", "--rate", "500", "--nonblocking", "-o", str(out), "--"]
    return StdioServerParameters(command=spy, args=[*args, PYTHON, "-m", "vtex_orders_mcp"], env=env)


async def profile(calls: int, out: Path) -> None:
    import mcp.client.stdio

    # py-spy writes its report after the server exits; the SDK client would end the process
    # group 2 s after closing stdin.
    mcp.client.stdio.PROCESS_TERMINATION_TIMEOUT = 60.0
    with scratch("vtex-profile-") as work:
        port = free_port()
        base_url = f"http://{LOOPBACK}:{port}"
        with open(work / "sandbox.log", "w") as slog, spawn(
            [PYTHON, "-m", "vtex_orders_mcp", "--log-level", "WARNING", "sandbox", "--host", LOOPBACK,
             "--port", str(port), "--orders", "100"],
            child_env(), slog,
        ) as proc:  # fmt: skip
            await wait_http(f"{base_url}/_sandbox/clock", proc)
            (work / "state").mkdir()
            with open(work / "server.log", "w") as errlog:
                async with Client(stdio_client(_server(base_url, work / "state", out), errlog=errlog)) as client:
                    for _ in range(calls):
                        result = await client.call_tool("get_order", {"order_id": SEED_ORDER})
                        if result.is_error:
                            raise RuntimeError(f"get_order failed: {result.content}")


def report(collapsed: Path, top: int) -> tuple[int, int, list[tuple[str, float]], dict[str, float]]:
    """From py-spy's collapsed stacks: start-up samples (imports and set-up before the server
    runs), samples of the running server, its top functions by own samples and each place's
    inclusive share (percentages of the running server's samples)."""
    own: Counter[str] = Counter()
    places: Counter[str] = Counter()
    startup = running = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n, frames = int(count), stack.split(";")
        if frames[-1].startswith(IDLE):
            continue  # a thread waiting (py-spy's idle detection misses some)
        if frames[0].startswith("_run_module_as_main") and not any("MCPServer.run (" in f for f in frames):
            startup += n
            continue
        running += n
        own[_short(frames[-1])] += n
        for label, needle in PLACES.items():
            if any(needle in f for f in frames):
                places[label] += n
    total = max(running, 1)
    ranked = [(name, round(100 * n / total, 1)) for name, n in own.most_common(top)]
    return startup, running, ranked, {label: round(100 * places[label] / total, 1) for label in PLACES}


def _short(frame: str) -> str:
    # "Class.method (package/module.py:123)" without the line: one entry per function
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--keep", type=Path, help="also keep py-spy's collapsed stacks here")
    parser.add_argument("--read", type=Path, help="only report on collapsed stacks kept earlier (--keep)")
    ns = parser.parse_args(argv)
    with scratch("vtex-profile-out-") as folder:
        out = ns.read or folder / "get_order.txt"
        if ns.read is None:
            anyio.run(profile, ns.calls, out)
        startup, running, ranked, places = report(out, ns.top)
        if ns.keep:
            shutil.copy(out, ns.keep)
    print(f"get_order x {ns.calls}: {running} on-CPU samples of the running server at 500/s "
          f"({running / 500 / ns.calls * 1000:.2f} ms a call), {startup} more in start-up")  # fmt: skip
    print("inclusive share of the running server's CPU:")
    for label, pct in places.items():
        print(f"  {pct:5.1f}%  {label}")
    print("top functions by own CPU:")
    for name, pct in ranked:
        print(f"  {pct:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
