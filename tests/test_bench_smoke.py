"""The benchmark harness still runs: `bench/run.py --quick` end to end, plus its pure helpers.

Targets are deliberately not asserted (they are for `python bench/run.py` on a quiet machine,
never for shared CI); what is asserted is that every measurement was actually taken: servers
started, calls answered, pages fetched, tokens counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from harness import p95  # noqa: E402
from paging import per_page_for  # noqa: E402


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert proc.returncode == 0, f"bench failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-4000:]}"
    assert "tools/list tokens" in proc.stdout  # the table was printed
    return json.loads(out.read_text())


def test_report_shape(quick: dict) -> None:
    assert quick["mode"] == "quick"
    assert quick["machine"]["nproc"] >= 1 and quick["machine"]["cpu"] and quick["machine"]["python"]
    assert set(quick["results"]) == {"sizes", "overhead", "coldstart", "throughput", "paging"}
    assert all("error" not in r for r in quick["results"].values())
    assert len(quick["summary"]) == 7
    for row in quick["summary"]:
        assert isinstance(row["value"], int | float) and row["value"] > 0, row
        assert row["met"] in (True, False) and row["target"], row


def test_sizes_measured(quick: dict) -> None:
    data = quick["results"]["sizes"]["data"]
    tl, go = data["tools_list"], data["get_order"]
    assert tl["tools"] >= 36
    assert 0 < tl["compact"]["tokens"] < tl["pretty"]["tokens"]
    assert tl["compact"]["bytes"] > tl["compact"]["tokens"]
    assert len(tl["top_tools"]) == 5 and tl["top_tools"][0]["tokens"] >= tl["top_tools"][-1]["tokens"]
    assert "inputSchema" in tl["tokens_by_field"]
    assert go["order_id"] == "v502556llux-01"
    assert 0 < go["text"]["tokens"] < go["raw_pretty"]["tokens"]


def test_latency_measurements_taken(quick: dict) -> None:
    over = quick["results"]["overhead"]["data"]
    assert over["iterations"] == 6
    assert over["ours_ms"]["median"] > 0 and over["noop_ms"]["median"] > 0 and over["get_ms"]["median"] > 0
    assert over["floor_ms"]["median"] >= over["noop_ms"]["median"]

    cold = quick["results"]["coldstart"]["data"]
    assert cold["tools_listed"]["ours"] >= 36 and cold["tools_listed"]["floor"] == 1
    assert cold["ours_ms"]["median"] > 0 and cold["floor_ms"]["median"] > 0


def test_throughput_and_paging_taken(quick: dict) -> None:
    tp = quick["results"]["throughput"]["data"]
    for side in ("ours", "floor"):
        assert tp[side]["calls"] > 0 and tp[side]["errors"] == 0
        assert tp[side]["server_cpu_ms_per_call"] >= 0

    pg = quick["results"]["paging"]["data"]
    assert pg["pages"] == 15 and pg["orders"] > 0
    # Every page of both runs (concurrent and sequential) went through the latency fault.
    assert pg["pages_delayed"] == 2 * 15 * pg["repeats"]
    assert pg["sequential_ms"] >= 15 * pg["latency_ms_per_page"]


def test_per_page_for_gives_exact_page_count() -> None:
    for total in (150, 500, 1000, 1499):
        size = per_page_for(total, 15)
        assert -(-total // size) == 15 and (size == 1 or -(-total // (size - 1)) != 15)
    with pytest.raises(ValueError):
        per_page_for(5000, 15)  # would need more than 100 a page


def test_p95_nearest_rank() -> None:
    assert p95([5.0]) == 5.0
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert p95([1.0, 2.0, 3.0]) == 3.0
