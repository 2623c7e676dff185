"""Approval redemption latency on the two stores, PostgreSQL and SQLite, side by side in one run.

Two servers built in this process, identical but for the store: one on SQLite in a state
directory (``synchronous=FULL``, the embedded default), one on a PostgreSQL server this module
starts for the run (tests/pg_support.py's throwaway cluster, here with fsync and synchronous
commit on, as a real database runs). Each has its own in-process sandbox. Each iteration asks
both for an approval on the approval page (``add_order_interaction`` with a unique note), then
times the human's decision, alternating which store goes first:

* redemption: ``Approvals.decide`` from the click to the write sent and its outcome recorded (the
  single-use claim, the audit rows around the execution, the outcome; the sandbox's own time is
  the same on both sides);
* claim: the single-use statement alone (``Store.decide_approval`` on a fresh approval).

Reported in milliseconds (median and p95), PostgreSQL next to SQLite. No target: the row says
what a shared, network-reachable store costs a redemption over the embedded file.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import REPO_DIR, median, ms, p95

ORDER = "v502556llux-01"


def rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary rows of this measurement (bench/run.py's ``judge``)."""
    pg, sq = data["postgres"], data["sqlite"]
    return [
        {"metric": "approval redemption, PostgreSQL (ms, median)", "value": pg["redeem_ms"]["median"],
         "compare": f"SQLite {sq['redeem_ms']['median']} ms; p95 {pg['redeem_ms']['p95']} vs "
                    f"{sq['redeem_ms']['p95']} ms; {data['iterations']} decisions each", "target": "info"},
        {"metric": "single-use claim alone, PostgreSQL (ms, median)", "value": pg["claim_ms"]["median"],
         "compare": f"SQLite {sq['claim_ms']['median']} ms; p95 {pg['claim_ms']['p95']} vs {sq['claim_ms']['p95']} ms",
         "target": "info"},
    ]  # fmt: skip


async def measure(work: Path, *, iterations: int = 200, warmup: int = 20) -> dict[str, Any]:
    sys.path.insert(0, str(REPO_DIR / "tests"))
    from pg_support import Cluster

    cluster = Cluster(durable=True).start()
    try:
        return await _measure(work, cluster.database(), iterations, warmup)
    finally:
        cluster.stop()


async def _measure(work: Path, url: str, iterations: int, warmup: int) -> dict[str, Any]:
    from mcp import Client

    from vtex_orders_mcp.config import Settings
    from vtex_orders_mcp.sandbox import Sandbox
    from vtex_orders_mcp.server import build_server

    env = {"VTEX_MCP_SECRET": "bench-storage-secret-0123456789"}
    apps = {
        "sqlite": build_server(Settings.from_env(env, state_dir=work / "state-sqlite"), sandbox=Sandbox(orders=40)),
        "postgres": build_server(
            Settings.from_env({**env, "VTEX_MCP_DATABASE_URL": url}, state_dir=work / "state-pg"),
            sandbox=Sandbox(orders=40),
        ),
    }
    samples: dict[str, dict[str, list[float]]] = {name: {"redeem": [], "claim": []} for name in apps}
    try:
        async with Client(apps["sqlite"].server) as sqlite_client, Client(apps["postgres"].server) as pg_client:
            clients = {"sqlite": sqlite_client, "postgres": pg_client}
            for i in range(warmup + iterations):
                order = ("sqlite", "postgres") if i % 2 == 0 else ("postgres", "sqlite")
                for name in order:
                    redeem, claim = await _one(apps[name], clients[name], i)
                    if i >= warmup:
                        samples[name]["redeem"].append(redeem)
                        samples[name]["claim"].append(claim)
    finally:
        for app in apps.values():
            await app.aclose()
    result: dict[str, Any] = {"iterations": iterations}
    for name, got in samples.items():
        result[name] = {
            f"{kind}_ms": {"median": ms(median(values)), "p95": ms(p95(values))} for kind, values in got.items()
        }
    return result


async def _one(app: Any, client: Any, i: int) -> tuple[float, float]:
    """(seconds to redeem one page approval, seconds for the claim statement alone)."""
    asked = await client.call_tool(
        "add_order_interaction", {"order_id": ORDER, "source": "bench", "message": f"bench note {i}"}
    )
    approval_id = asked.structured_content["approval"]["id"]
    started = time.perf_counter()
    decision = await app.guard.approvals.decide(approval_id, approve=True, by="page")
    redeem = time.perf_counter() - started
    if not decision.taken or decision.approval is None or decision.approval.status != "done":
        raise RuntimeError(f"the approval did not run: {decision.message}")
    fresh = replace(decision.approval, id=uuid.uuid4().hex, status="pending", decided_by=None, decided_at=None,
                    outcome=None, expires_at=time.time() + 600)  # fmt: skip
    await app.store.create_approval(fresh)
    started = time.perf_counter()
    claimed = await app.store.decide_approval(fresh.id, approve=True, by="page", now=time.time())
    claim = time.perf_counter() - started
    if claimed is None:
        raise RuntimeError("the claim did not take the approval")
    return redeem, claim
