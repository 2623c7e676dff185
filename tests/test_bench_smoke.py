"""The benchmark harness still runs: `bench/run.py --quick` end to end, the soak's few-second
variant (`--quick --only soak`), plus their pure helpers (statistics, failure kinds, merging).

Targets are deliberately not asserted (they are for `python bench/run.py` on a quiet machine,
never for shared CI); what is asserted is that every measurement was actually taken: servers
started, calls answered, pages fetched, tokens counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import soak  # noqa: E402
from harness import p95  # noqa: E402


# The tests reading a run's report are marked e2e: the harness starts servers. pytest-xdist runs
# this module on one worker (--dist loadfile), so each of the two runs happens once.
@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=300,  # the peer's first `npm ci` included
    )  # fmt: skip
    assert proc.returncode == 0, f"bench failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-4000:]}"
    assert "tools/list tokens" in proc.stdout  # the table was printed
    return json.loads(out.read_text())


@pytest.mark.e2e
def test_report_shape(quick: dict) -> None:
    assert quick["mode"] == "quick"
    assert quick["machine"]["nproc"] >= 1 and quick["machine"]["cpu"] and quick["machine"]["python"]
    assert set(quick["results"]) == {"sizes", "percall", "coldstart", "throughput", "sandbox", "paging"}
    assert all("error" not in r for r in quick["results"].values())
    assert len(quick["summary"]) == 13
    assert all(quick["results"][name]["loadavg"]["start"] for name in quick["results"])
    for row in quick["summary"]:
        assert isinstance(row["value"], int | float) and row["value"] > 0, row
        assert row["target"] == "info" or row["met"] in (True, False), row


@pytest.mark.e2e
def test_sizes_measured(quick: dict) -> None:
    data = quick["results"]["sizes"]["data"]
    tl, go = data["tools_list"], data["get_order"]
    assert tl["tools"] >= 36
    assert 0 < tl["compact"]["tokens"] < tl["pretty"]["tokens"]
    assert tl["compact"]["bytes"] > tl["compact"]["tokens"]
    assert len(tl["top_tools"]) == 5 and tl["top_tools"][0]["tokens"] >= tl["top_tools"][-1]["tokens"]
    assert "inputSchema" in tl["tokens_by_field"]
    # the two breakdowns are parts of the whole, each smaller than it
    assert 0 < tl["model_visible"]["tokens"] < tl["compact"]["tokens"]
    assert 0 < tl["without_input_typing"]["tokens"] < tl["compact"]["tokens"]
    assert 0 < tl["support_desk"]["tokens"] < tl["compact"]["tokens"] and 0 < tl["support_desk"]["tools"] < tl["tools"]
    assert [r["tool"] for r in data["reads"]] == [
        "list_orders",
        "get_order_group",
        "get_order_conversation",
        "get_payment_transaction",
    ]
    assert all(0 < r["answer"]["tokens"] < r["raw_pretty"]["tokens"] for r in data["reads"]), data["reads"]
    assert go["order_id"] == "v502556llux-01"
    assert 0 < go["text"]["tokens"] < go["raw_pretty"]["tokens"]


@pytest.mark.e2e
def test_latency_measurements_taken(quick: dict) -> None:
    pc = quick["results"]["percall"]["data"]
    assert pc["runs"] == 1 and pc["calls_per_run"] == 4
    # ours, the TypeScript peer (installed by the bench), the pass-through floor and the no-op all answered
    assert set(pc["p50_ms"]) == {"ours", "peer", "floor", "noop"}
    assert all(pc["p50_ms"][name]["median"] > 0 for name in pc["p50_ms"])
    assert all(pc["cpu_ms_per_call"][name]["median"] >= 0 for name in pc["cpu_ms_per_call"])
    assert pc["latency_vs_peer"]["min"] <= pc["latency_vs_peer"]["median"] <= pc["latency_vs_peer"]["max"]

    cold = quick["results"]["coldstart"]["data"]
    assert cold["tools_listed"]["ours"] >= 36 and cold["tools_listed"]["floor"] == 2
    assert cold["ours_ms"]["median"] > 0 and cold["floor_ms"]["median"] > 0


@pytest.mark.e2e
def test_throughput_sandbox_and_paging_taken(quick: dict) -> None:
    tp = quick["results"]["throughput"]["data"]
    for side in ("ours", "floor"):
        assert tp[side]["calls"] > 0 and tp[side]["errors"] == 0
        assert tp[side]["server_cpu_ms_per_call"]["median"] >= 0

    sb = quick["results"]["sandbox"]["data"]
    assert sb["small_orders"] == 50 and sb["large_orders"] == 200
    for size in ("small", "large"):
        assert sb[size]["startup_s"]["median"] > 0 and sb[size]["list_p50_ms"]["median"] > 0
        assert sb[size]["rss_mb"]["median"] > 0

    pg = quick["results"]["paging"]["data"]
    assert pg["orders"] == 60 and pg["pages"] == 3
    # Every page of both runs (all_pages and page by page) went through the latency fault.
    assert pg["pages_delayed"] == 2 * 3 * pg["runs"]
    assert pg["page_by_page_ms"]["median"] >= 3 * pg["latency_ms_per_page"]


def test_p95_nearest_rank() -> None:
    assert p95([5.0]) == 5.0
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert p95([1.0, 2.0, 3.0]) == 3.0


# --- the soak: not in the default run; a few seconds, four sessions ----------------------------


@pytest.fixture(scope="module")
def quick_soak(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("soak") / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--only", "soak", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, f"soak failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-4000:]}"
    assert "soak errors" in proc.stdout
    return json.loads(out.read_text())


@pytest.mark.e2e
def test_soak_calls_made_errors_counted_rss_sampled(quick_soak: dict) -> None:
    assert set(quick_soak["results"]) == {"soak"}
    data = quick_soak["results"]["soak"]["data"]
    assert data["sessions"] == 4 and data["sessions_by_mode"] == {"auto": 2, "legacy": 2}
    assert data["calls"] > 0 and data["calls"] == sum(data["calls_by_kind"].values())
    assert all(data["calls_by_mode"][mode] > 0 for mode in ("auto", "legacy"))
    # Errors are counted by kind (none expected: the sessions are paced under the sandbox's limit).
    assert set(data["errors_by_kind"]) == set(soak.ERROR_KINDS)
    assert data["errors"] == sum(data["errors_by_kind"].values()) == 0, data["error_messages"]
    assert data["latency_ms"]["p50"] > 0 and data["latency_ms"]["p95"] >= data["latency_ms"]["p50"]
    assert data["server_alive_at_end"] and data["server_log_errors"] == 0
    # RSS: sampled from /proc through the measured phase, start and end included.
    samples = data["rss_samples"]
    assert len(samples) >= 4 and samples[0][0] == 0 and all(mb > 10 for _, mb in samples)
    rss = data["rss_mb"]
    assert rss["start"] == samples[0][1] and rss["end"] == samples[-1][1] and rss["max"] >= rss["end"]
    assert rss["slope_second_half_mb_per_min"] is not None
    # The control arm (the sandbox's log bounded) ran the same load and was sampled the same way.
    control = data["control"]
    assert control["calls"] > 0 and control["errors"] == 0 and control["server_alive_at_end"]
    assert len(control["rss_samples"]) >= 4 and control["rss_mb"]["slope_second_half_mb_per_min"] is not None
    # The request log's cost was measured: one entry per call of the mix, two for a payment read
    # (it also reads its order's store format, for the money).
    log = data["request_log"]
    payment_share = dict(soak.MIX)["get_payment_transaction"] / sum(soak.WEIGHTS)
    assert 1.0 < log["requests_per_call"] <= 1.0 + payment_share + 0.05 and log["bytes_per_entry"] > 100
    assert log["entries_during_soak"] >= data["calls"] and log["rss_slope_mb_per_min"] is not None
    assert [row["metric"].split(",")[0] for row in quick_soak["summary"]] == [
        "soak errors", "soak RSS slope without the request log (MB/min)"]  # fmt: skip
    from run import markdown

    text = markdown(quick_soak)
    assert "Soak: 4 streamable HTTP sessions" in text and "Soak memory, as shipped: server RSS" in text


async def _tool_error_result(*_: object) -> tuple[str, str] | None:
    return ("tool_error", "Error executing tool get_order:\nboom")


@pytest.mark.anyio
async def test_soak_classifies_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp.shared.exceptions import MCPError

    async def raises(exc: BaseException) -> None:
        raise exc

    cases = {
        MCPError(-32603, "VTEX is rate limiting this account; wait 3 s"): "rate_limited",
        MCPError(-32602, "Unknown order"): "protocol_error",
        ConnectionResetError("peer went away"): "transport_error",
    }
    for exc, kind in cases.items():
        monkeypatch.setattr(soak, "call_once", lambda *_, exc=exc: raises(exc))
        _, error = await soak.timed_call(None, "get_order", "v1-01", None, 5.0)  # type: ignore[arg-type]
        assert error is not None and error[0] == kind, (exc, error)

    async def hangs(*_: object) -> None:
        await anyio.sleep(10)

    monkeypatch.setattr(soak, "call_once", hangs)
    _, error = await soak.timed_call(None, "get_order", "v1-01", None, 0.05)  # type: ignore[arg-type]
    assert error is not None and error[0] == "timeout"

    tally = soak.Tally()
    monkeypatch.setattr(soak, "call_once", _tool_error_result)
    for _ in range(5):
        seconds, error = await soak.timed_call(None, "get_order", "v1-01", None, 5.0)  # type: ignore[arg-type]
        tally.record("get_order", "auto", seconds, error)
    assert tally.errors["tool_error"] == 5 and tally.error_total == 5
    assert tally.messages["tool_error"] == ["Error executing tool get_order: boom"]  # one line, once
    # VTEX's refusal of a Fulfillment order's payment transaction is the right answer, not an error.
    tally.record("get_payment_transaction", "auto", 0.01, ("expected_refusal", soak.FULFILLMENT_REFUSAL))
    assert tally.expected_refusals == 1 and tally.error_total == 5
    # An order id containing 429 is not a rate limit.
    assert not soak._is_rate_limited("failed to get payment transaction 2342960773702-01: VTEX answered 400")
    assert soak._is_rate_limited("failed to get order v1-01: VTEX answered 429: VTEX is rate limiting this account")


def test_control_arm_bounds_the_sandbox_log(monkeypatch: pytest.MonkeyPatch) -> None:
    from vtex_orders_mcp.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Sandbox, core

    monkeypatch.setattr(core.Sandbox, "__init__", core.Sandbox.__init__)  # restored after the test
    soak.bound_sandbox_log(keep=2)
    sandbox = Sandbox(orders=10)
    headers = {"X-VTEX-API-AppKey": SANDBOX_APP_KEY, "X-VTEX-API-AppToken": SANDBOX_APP_TOKEN}

    async def three_reads() -> None:
        import httpx2

        async with httpx2.AsyncClient(transport=sandbox.transport(), base_url="http://sandbox", headers=headers) as c:
            for page in (1, 2, 3):
                assert (await c.get("/api/oms/pvt/orders", params={"page": page})).status_code == 200

    anyio.run(three_reads)
    assert [r.query["page"] for r in sandbox.requests] == [["2"], ["3"]]  # still logged, only the last two


def test_slope_per_minute() -> None:
    assert soak.slope_per_minute([(0.0, 100.0), (30.0, 101.0), (60.0, 102.0)]) == 2.0
    assert soak.slope_per_minute([(0.0, 100.0), (30.0, 100.0), (60.0, 100.0)]) == 0.0
    assert soak.slope_per_minute([(0.0, 100.0), (5.0, 100.0)]) is None  # too few samples


def test_merge_keeps_other_measurements() -> None:
    from run import METRICS, merge

    def report(generated: str, names: list[str], mode: str = "full") -> dict:
        results = {n: {"data": {}, "rows": [{"metric": n}], "run": {"generated": generated}} for n in names}
        return {"generated": generated, "mode": mode, "command": generated, "profile": {n: {} for n in names},
                "summary": [r for n in names for r in results[n]["rows"]], "results": results}  # fmt: skip

    default = list(METRICS)
    full = report("t1", default)
    with_soak = merge(full, report("t2", ["soak"]))
    assert list(with_soak["results"]) == [*default, "soak"] and with_soak["generated"] == "t1"
    assert with_soak["results"]["soak"]["run"]["generated"] == "t2"
    assert [r["metric"] for r in with_soak["summary"]] == [*default, "soak"]
    # A later default run keeps the soak and gives the header.
    again = merge(with_soak, report("t3", default))
    assert again["generated"] == "t3" and again["results"]["soak"]["run"]["generated"] == "t2"
    assert again["results"]["sizes"]["run"]["generated"] == "t3"
    # A quick run replaces full results; so does a missing or broken file.
    assert list(merge(with_soak, report("t4", ["soak"], mode="quick"))["results"]) == ["soak"]
    assert merge(None, full) is full
