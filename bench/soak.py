"""Soak: many concurrent streamable HTTP sessions for minutes; errors and server memory over time.

``vtex-orders-mcp serve --transport http`` (bearer token, stateful sessions, embedded sandbox,
its default 500 orders) runs as a child process on loopback. This process opens ``sessions``
SDK clients to it (64 in the full profile), alternating the two protocol eras real clients speak
(even sessions negotiate 2026-07-28, odd ones force the 2025-11-25 handshake), none with an
elicitation callback. Each session loops over a support agent's mix of calls, ``MIX``: get_order
(compact view), list_orders (a page, sometimes filtered by status), get_order_conversation,
get_payment_transaction, a read of the ``vtex://orders/{orderId}`` resource, and now and then a
cancel_order that must end in ``approval_required`` (an approval link, since the client cannot
elicit), or be refused before anyone is asked when VTEX's rules forbid it (an invoiced order).
Nobody approves: nothing is written to the sandbox.

Pacing. The embedded sandbox enforces VTEX's 6,000 requests a minute, and 64 sessions calling
back to back would exceed it; the server's client would then sleep through ``Retry-After`` and
the soak would measure the rate limiter. So the sessions are paced: together they aim at ``rate``
calls a second (80 in the full profile, 4,800 a minute, 80 % of the limit; each call of the mix
is one sandbox request, which the log probe below counts rather than assumes). Each session
calls on a fixed schedule every ``sessions / rate`` seconds, staggered; a session that falls
behind calls again at once but never bursts to catch up, so ``rate`` is an upper bound. Any
rate-limit answer that still gets through is counted apart from real errors, as ``rate_limited``.

Error kinds: ``tool_error`` (a result with isError), ``rate_limited`` (isError or a JSON-RPC
error whose text says VTEX rate limited the call), ``protocol_error`` (a JSON-RPC error,
``MCPError``), ``transport_error`` (any other exception: HTTP, stream, session),
``timeout`` (no answer within ``call_timeout``), ``unexpected_result`` (the write did not answer
approval_required, or the resource read was not JSON). Up to three messages of each kind are kept.
Not an error: get_payment_transaction on a Fulfillment order, which VTEX refuses with a 400 (about
one order in ten in the sandbox); the server relays that refusal, counted as ``expected_refusals``.

Memory. After ``warmup`` seconds of the same mix (not counted), the server's resident set
(``VmRSS`` in /proc/<pid>/status) is read every ``sample_every`` seconds (more often in a soak
shorter than a minute, so that each half holds at least six samples). Reported: RSS at the
start of the measured phase, at the end, the maximum, growth in MB (2^20 bytes) and %, and the
least-squares slope over each half in MB/min: warm-up effects (caches, arenas, the first GC
generations) flatten out in the first half, so a second-half slope that stays up is growth.

The embedded sandbox keeps requests in its request log (tests and evals assert on it): its newest
10,000 as shipped (unbounded before the first soak showed it was the server's only growth). Two
measurements separate the log from a leak:

* a control arm: after the soak proper, a fresh server gets the same load (new sessions, same
  count, mix, rate and warm-up) for ``control_minutes``, differing in one thing: its sandbox's log
  keeps only the last ``CONTROL_LOG_KEEP`` entries (this module run as a script:
  ``serve_with_bounded_log``).
  Its second-half slope is what the server grows by apart from the log: the memory target;
* the log's cost per entry: the same mix runs in-process against a ``build_server`` app under
  ``tracemalloc``; the memory ``sandbox.clear_log()`` frees, divided by the entries cleared, is
  one entry in Python objects. The slope the log adds to RSS (shipped minus control) is larger:
  it includes the allocator's overhead. Both are reported.

The audit log is SQLite on disk (``audit_db_kb``); its page cache is bounded (SQLite's default).

Everything is bounded: the session count, every call (``call_timeout``), the whole soak
(``time_limit``); the server is a child in its own process group, killed when the soak ends,
whether it finished or failed, and the sessions close with it.
"""

from __future__ import annotations

import collections
import gc
import random
import sys
import time
import tracemalloc
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from harness import LOOPBACK, PYTHON, child_env, cpu_seconds, free_port, median, p95, spawn, tail, wait_http
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from sizes import SEED_ORDER
from throughput import TOKEN

MIB = 1024 * 1024
SANDBOX_LIMIT_PER_MINUTE = 6000  # sandbox/access.py, VTEX's documented limit
ORDERS = 500  # the server's default sandbox size
CONTROL_LOG_KEEP = 1000  # the control arm's sandbox keeps only its last 1,000 requests
# (kind, weight): mostly reads, as support work is; about one call in thirty is a guarded write.
MIX: tuple[tuple[str, int], ...] = (
    ("get_order", 30),
    ("list_orders", 15),
    ("get_order_conversation", 15),
    ("get_payment_transaction", 15),
    ("read_order_resource", 22),
    ("cancel_order_unconfirmed", 3),
)
KINDS = [kind for kind, _ in MIX]
WEIGHTS = [weight for _, weight in MIX]
LIST_STATUSES = ("ready-for-handling", "handling", "invoiced", "payment-pending", "canceled")
ERROR_KINDS = ("tool_error", "rate_limited", "protocol_error", "transport_error", "timeout", "unexpected_result")
# VTEX refuses payment-transaction queries for Fulfillment orders with a 400 (the sandbox too,
# sandbox/oms.py); about one order in ten is one. A correct answer relayed, so not an error.
FULFILLMENT_REFUSAL = "does not support Fulfillment payment queries"
PRECONDITION_REFUSAL = "nothing was asked or sent"  # the guard: VTEX's rules refuse this cancel
MODES = ("auto", "legacy")  # 2026-07-28 and 2025-11-25, alternating by session


def time_limit(*, minutes: float, control_minutes: float, warmup: float, **_: Any) -> float:
    """Seconds the whole soak may take: both arms plus start-ups, connects and the log probe."""
    return 60 * (minutes + control_minutes) + 2 * warmup + 360


# ---------------------------------------------------------------------------------------------
# one call of the mix


def _is_rate_limited(message: str) -> bool:
    # errors.py: VtexRateLimited reads "... VTEX answered 429 ...; VTEX is rate limiting this account".
    text = message.lower()
    return "rate limit" in text or "answered 429" in text


def _request(kind: str, order_id: str, rng: random.Random) -> tuple[str, dict[str, Any]]:
    if kind == "list_orders":
        if rng.random() < 0.3:
            return "list_orders", {"status": rng.choice(LIST_STATUSES)}
        return "list_orders", {"page": rng.randint(1, 5)}
    if kind == "cancel_order_unconfirmed":
        return "cancel_order", {"order_id": order_id, "reason": "soak test: never to be confirmed"}
    return kind, {"order_id": order_id}


async def call_once(client: Client, kind: str, order_id: str, rng: random.Random) -> tuple[str, str] | None:
    """Make one call of the mix: None when it answered as expected, else (error kind, message).

    Exceptions are the caller's to classify (see ``timed_call``)."""
    if kind == "read_order_resource":
        read = await client.read_resource(f"vtex://orders/{order_id}")
        text = getattr(read.contents[0], "text", "") if read.contents else ""
        return None if text.startswith("{") else ("unexpected_result", f"resource read answered {text[:80]!r}")
    tool, args = _request(kind, order_id, rng)
    result = await client.call_tool(tool, args)
    if result.is_error:
        message = " ".join(getattr(c, "text", "") for c in result.content)
        if kind == "get_payment_transaction" and FULFILLMENT_REFUSAL in message:
            return ("expected_refusal", message)
        if kind == "cancel_order_unconfirmed" and PRECONDITION_REFUSAL in message:
            return ("expected_refusal", message)
        return ("rate_limited" if _is_rate_limited(message) else "tool_error", message)
    if kind == "cancel_order_unconfirmed":
        status = (result.structured_content or {}).get("status")
        if status != "approval_required":
            return ("unexpected_result", f"cancel_order without elicitation answered {status!r}")
    return None


async def timed_call(client: Client, kind: str, order_id: str, rng: random.Random,
                     call_timeout: float) -> tuple[float, tuple[str, str] | None]:  # fmt: skip
    """``call_once`` under a time limit, every failure classified; (seconds, error or None)."""
    started = time.perf_counter()
    try:
        with anyio.fail_after(call_timeout):
            error = await call_once(client, kind, order_id, rng)
    except TimeoutError:
        error = ("timeout", f"{kind}: no answer within {call_timeout:g} s")
    except MCPError as exc:
        error = ("rate_limited" if _is_rate_limited(exc.message) else "protocol_error", f"{exc.code}: {exc.message}")
    except Exception as exc:  # a broken session must be counted, not end the soak
        error = ("transport_error", f"{type(exc).__name__}: {exc}")
    return time.perf_counter() - started, error


@dataclass
class Tally:
    """Calls, errors and latencies of one phase, over all sessions."""

    calls: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    by_mode: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODES, 0))
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_KINDS, 0))
    expected_refusals: int = 0
    messages: dict[str, list[str]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    seconds_by_kind: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def record(self, kind: str, mode: str, seconds: float, error: tuple[str, str] | None) -> None:
        self.calls += 1
        self.by_kind[kind] += 1
        self.by_mode[mode] += 1
        self.seconds.append(seconds)
        self.seconds_by_kind[kind].append(seconds)
        if error is not None and error[0] == "expected_refusal":
            self.expected_refusals += 1
        elif error is not None:
            self.errors[error[0]] += 1
            seen = self.messages.setdefault(error[0], [])
            message = " ".join(error[1].split())[:300]  # one line: it ends up in a Markdown list
            if len(seen) < 3 and message not in seen:
                seen.append(message)

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())


@dataclass
class Session:
    client: Client
    mode: str
    rng: random.Random


async def paced_loop(session: Session, ids: list[str], tally: Tally, *, interval: float, offset: float,
                     until: float, call_timeout: float) -> None:  # fmt: skip
    """Call on a fixed schedule (every ``interval`` s from ``offset``) until ``until`` (monotonic)."""
    due = time.monotonic() + offset
    while due < until:
        delay = due - time.monotonic()
        if delay > 0:
            await anyio.sleep(delay)
        kind = session.rng.choices(KINDS, WEIGHTS)[0]
        seconds, error = await timed_call(session.client, kind, session.rng.choice(ids), session.rng, call_timeout)
        tally.record(kind, session.mode, seconds, error)
        due = max(due + interval, time.monotonic())  # behind schedule: go on at once, never burst


async def run_phase(sessions: list[Session], ids: list[str], *, seconds: float, rate: float,
                    call_timeout: float, pid: int | None = None, sample_every: float = 5.0,
                    ) -> tuple[Tally, float, list[tuple[float, float]]]:  # fmt: skip
    """Every session loops for ``seconds``; (tally, elapsed seconds, RSS samples (t, MB) if ``pid``)."""
    tally = Tally()
    samples: list[tuple[float, float]] = []
    interval = len(sessions) / rate
    started = time.monotonic()
    until = started + seconds

    async def sampler() -> None:
        assert pid is not None
        while True:
            now = time.monotonic()
            samples.append((round(now - started, 2), rss_mb(pid)))
            if now + sample_every >= until:
                return
            # max: a slow sample under load must not make the next delay negative (anyio refuses it)
            await anyio.sleep(max(0.0, started + len(samples) * sample_every - time.monotonic()))

    async with anyio.create_task_group() as tg:
        if pid is not None:
            tg.start_soon(sampler)
        for n, session in enumerate(sessions):
            tg.start_soon(lambda s=session, n=n: paced_loop(s, ids, tally, interval=interval, offset=n / rate,
                                                             until=until, call_timeout=call_timeout))  # fmt: skip
    elapsed = time.monotonic() - started
    if pid is not None:
        samples.append((round(elapsed, 2), rss_mb(pid)))
    return tally, elapsed, samples


# ---------------------------------------------------------------------------------------------
# memory


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """A memory figure of a live process from /proc/<pid>/status (kB there), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return round(int(line.split()[1]) / 1024, 2)
    raise RuntimeError(f"no {field_name} in /proc/{pid}/status")


def slope_per_minute(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) samples, in MB per minute; None under 3 samples."""
    if len(samples) < 3:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_y = sum(y for _, y in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (y - mean_y) for t, y in samples)
    return round(60 * cov / var, 3) + 0.0  # + 0.0: no "-0.0" in the report


async def log_entry_cost(state_dir: Path, *, calls: int, orders: int) -> dict[str, Any]:
    """What the sandbox's request log costs: requests per call of the mix, bytes per entry.

    The mix runs in-process (same server code, same sandbox, same requests) under tracemalloc;
    the memory ``clear_log()`` frees, divided by the entries it cleared, is one entry's cost."""
    from vtex_orders_mcp.config import Settings
    from vtex_orders_mcp.server import build_server

    app = build_server(Settings.from_env({}, state_dir=state_dir, sandbox_orders=orders))
    sandbox = app.sandbox
    rng = random.Random(1)
    try:
        async with Client(app.server, cache=None) as client:
            ids = list(sandbox.store.orders)[:100]
            for _ in range(20):  # warm-up: first-call costs are not the log's
                await call_once(client, rng.choices(KINDS, WEIGHTS)[0], rng.choice(ids), rng)
            sandbox.clear_log()
            gc.collect()
            tracemalloc.start()
            try:
                for _ in range(calls):
                    await call_once(client, rng.choices(KINDS, WEIGHTS)[0], rng.choice(ids), rng)
                entries = len(sandbox.requests)
                gc.collect()
                with_log = tracemalloc.get_traced_memory()[0]
                sandbox.clear_log()
                gc.collect()
                freed = with_log - tracemalloc.get_traced_memory()[0]
            finally:
                tracemalloc.stop()
    finally:
        await app.aclose()
    return {"calls": calls, "entries": entries, "requests_per_call": round(entries / calls, 3),
            "bytes_per_entry": round(freed / max(1, entries))}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the soak


async def _connect(stack: AsyncExitStack, url: str, count: int) -> list[Session]:
    sessions = []
    for n in range(count):
        http = await stack.enter_async_context(
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30.0)
        )
        mode = MODES[n % len(MODES)]
        client = await stack.enter_async_context(
            Client(streamable_http_client(url, http_client=http), cache=None, mode=mode)
        )
        sessions.append(Session(client=client, mode=mode, rng=random.Random(1000 + n)))
    return sessions


async def _order_ids(client: Client, orders: int) -> list[str]:
    """Every order id of the sandbox, read through the server itself (100 a page)."""
    ids = [SEED_ORDER]
    for page in range(1, -(-orders // 100) + 1):
        result = await client.call_tool("list_orders", {"page": page, "per_page": 100})
        if result.is_error:
            raise RuntimeError(f"list_orders page {page} failed: {result.content}")
        ids += [row["orderId"] for row in (result.structured_content or {}).get("orders", [])]
    return list(dict.fromkeys(ids))


def _memory(samples: list[tuple[float, float]]) -> dict[str, Any]:
    """RSS figures of one arm from its (seconds, MB) samples."""
    rss = [mb for _, mb in samples]
    start, end = rss[0], rss[-1]
    half = samples[-1][0] / 2
    return {
        "start": start, "end": end, "max": max(rss), "growth": round(end - start, 2),
        "growth_pct": round(100 * (end - start) / start, 1),
        "slope_first_half_mb_per_min": slope_per_minute([s for s in samples if s[0] <= half]),
        "slope_second_half_mb_per_min": slope_per_minute([s for s in samples if s[0] >= half]),
    }  # fmt: skip


def _latency(seconds: list[float]) -> dict[str, float] | None:
    return {"p50": round(1000 * median(seconds), 1), "p95": round(1000 * p95(seconds), 1)} if seconds else None


async def run_arm(work: Path, name: str, server: list[str], *, sessions: int, minutes: float, rate: float,
                  warmup: float, sample_every: float, call_timeout: float) -> dict[str, Any]:  # fmt: skip
    """One server, ``sessions`` sessions, warm-up then ``minutes`` measured; the arm's figures."""
    # A short arm samples more often, so each half still has enough samples for a slope.
    sample_every = min(sample_every, 60 * minutes / 12)
    port = free_port()
    state_dir = work / f"state-{name}"
    state_dir.mkdir(exist_ok=True)
    cmd = [*server, "serve", "--transport", "http", "--host", LOOPBACK, "--port", str(port), "--http-token", TOKEN]
    env = child_env(VTEX_MCP_STATE_DIR=str(state_dir), VTEX_SANDBOX_ORDERS=str(ORDERS))
    log_path = work / f"{name}-server.log"
    with open(log_path, "w") as log, spawn(cmd, env, log) as proc:
        try:
            with anyio.fail_after(60 * minutes + warmup + 120):
                await wait_http(f"http://{LOOPBACK}:{port}/healthz", proc)
                async with AsyncExitStack() as stack:
                    connect_started = time.perf_counter()
                    pool = await _connect(stack, f"http://{LOOPBACK}:{port}/mcp", sessions)
                    connect_s = time.perf_counter() - connect_started
                    ids = await _order_ids(pool[0].client, ORDERS)
                    warm, _, _ = await run_phase(pool, ids, seconds=warmup, rate=rate, call_timeout=call_timeout)
                    cpu_before = cpu_seconds(proc.pid)
                    tally, elapsed, samples = await run_phase(
                        pool,
                        ids,
                        seconds=60 * minutes,
                        rate=rate,
                        call_timeout=call_timeout,
                        pid=proc.pid,
                        sample_every=sample_every,
                    )
                    cpu = cpu_seconds(proc.pid) - cpu_before
                    peak = rss_mb(proc.pid, "VmHWM")
                    alive = proc.poll() is None
        except BaseException as exc:
            raise RuntimeError(f"soak ({name}) failed: {exc!r}\nserver log:\n{tail(log_path)}") from exc
        server_log = log_path.read_text(errors="replace")
    return {
        "minutes": minutes,
        "sample_every_s": sample_every,
        "connect_s": round(connect_s, 2),
        "orders_in_rotation": len(ids),
        "warmup": {"calls": warm.calls, "errors": warm.error_total, "errors_by_kind": warm.errors},
        "calls": tally.calls,
        "elapsed_s": round(elapsed, 1),
        "calls_per_s": round(tally.calls / elapsed, 1),
        "calls_by_kind": tally.by_kind,
        "calls_by_mode": tally.by_mode,
        "errors": tally.error_total,
        "errors_by_kind": tally.errors,
        "error_messages": tally.messages,
        "expected_refusals": tally.expected_refusals,
        "latency_ms": _latency(tally.seconds),
        "latency_ms_by_kind": {k: _latency(v) for k, v in tally.seconds_by_kind.items()},
        "server_cpu_ms_per_call": round(1000 * cpu / max(1, tally.calls), 3),
        "server_cpu_share": round(cpu / elapsed, 3),
        "server_alive_at_end": alive,
        "server_log_errors": sum(1 for line in server_log.splitlines() if " ERROR " in line or "Traceback" in line),
        "audit_db_kb": round(sum(p.stat().st_size for p in state_dir.glob("audit.sqlite3*")) / 1024),
        "rss_mb": {**_memory(samples), "peak_vmhwm": peak},
        "rss_samples": [list(s) for s in samples],
    }


async def measure(work: Path, *, sessions: int, minutes: float, rate: float, warmup: float, sample_every: float,
                  control_minutes: float, call_timeout: float = 30.0, log_probe_calls: int = 400,
                  ) -> dict[str, Any]:  # fmt: skip
    if not 1 <= sessions <= 256:
        raise ValueError("sessions must be 1..256")
    arm = dict(sessions=sessions, rate=rate, warmup=warmup, sample_every=sample_every, call_timeout=call_timeout)
    shipped = await run_arm(work, "shipped", [PYTHON, "-m", "vtex_orders_mcp"], minutes=minutes, **arm)
    control = await run_arm(work, "bounded-log", [PYTHON, str(Path(__file__).resolve())], minutes=control_minutes,
                            **arm)  # fmt: skip
    log_cost = await log_entry_cost(work / "state-log-probe", calls=log_probe_calls, orders=ORDERS)
    return report(shipped, control, log_cost, sessions=sessions, rate=rate, warmup=warmup)


def report(shipped: dict[str, Any], control: dict[str, Any], log_cost: dict[str, Any], *, sessions: int,
           rate: float, warmup: float) -> dict[str, Any]:  # fmt: skip
    """The soak's figures: the shipped arm's at the top level, the control's under ``control``,
    and what the request log costs, in Python objects (tracemalloc) and in RSS (shipped slope
    minus control slope)."""
    entries_per_min = shipped["calls_per_s"] * 60 * log_cost["requests_per_call"]
    entries = round(shipped["calls"] * log_cost["requests_per_call"])
    slope, control_slope = (arm["rss_mb"]["slope_second_half_mb_per_min"] for arm in (shipped, control))
    attributed = None if slope is None or control_slope is None else round(slope - control_slope, 3) + 0.0
    return {
        "sessions": sessions,
        "sessions_by_mode": {m: sum(1 for n in range(sessions) if MODES[n % len(MODES)] == m) for m in MODES},
        "warmup_s": warmup,
        "pacing": {
            "target_calls_per_s": rate,
            "per_session_interval_s": round(sessions / rate, 3),
            "sandbox_limit_per_minute": SANDBOX_LIMIT_PER_MINUTE,
            "target_share_of_limit": round(rate * 60 * log_cost["requests_per_call"] / SANDBOX_LIMIT_PER_MINUTE, 3),
        },
        **shipped,
        "control": {"log_keep": CONTROL_LOG_KEEP, **control},
        "request_log": {
            **log_cost,
            "entries_during_soak": entries,
            "python_mb": round(entries * log_cost["bytes_per_entry"] / MIB, 2),
            "python_slope_mb_per_min": round(entries_per_min * log_cost["bytes_per_entry"] / MIB, 3),
            "rss_slope_mb_per_min": attributed,
            "rss_bytes_per_entry": (
                round(attributed * MIB / entries_per_min) if attributed is not None and entries_per_min else None
            ),
        },
    }


# ---------------------------------------------------------------------------------------------
# the control arm's server


def bound_sandbox_log(keep: int = CONTROL_LOG_KEEP) -> None:
    """From now on, every Sandbox built in this process keeps only its last ``keep`` requests."""
    from vtex_orders_mcp.sandbox import core

    original = core.Sandbox.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.requests = collections.deque(maxlen=keep)  # append, clear, iterate: all the log needs

    core.Sandbox.__init__ = init  # type: ignore[method-assign]


def serve_with_bounded_log(argv: list[str]) -> int:
    """The control arm's server: ``vtex-orders-mcp`` with the embedded sandbox's log bounded."""
    from vtex_orders_mcp.cli import main

    bound_sandbox_log()
    return main(argv)


if __name__ == "__main__":
    sys.exit(serve_with_bounded_log(sys.argv[1:]))
