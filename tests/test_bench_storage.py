"""The storage benchmark still runs: ``bench/run.py --quick --only storage`` starts its own
PostgreSQL server, redeems approvals on both stores and reports both side by side. (Figures are
not asserted: bench/ is for quiet machines.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.e2e
def test_the_storage_benchmark_measures_both_stores(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--only", "storage", "--out", str(out)],
                          capture_output=True, text=True, timeout=150)  # fmt: skip
    assert proc.returncode == 0, f"bench failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-4000:]}"
    data = json.loads(out.read_text())["results"]["storage"]["data"]
    for store in ("postgres", "sqlite"):
        for kind in ("redeem_ms", "claim_ms"):
            assert 0 < data[store][kind]["median"] <= data[store][kind]["p95"], (store, kind)
    assert "approval redemption, PostgreSQL" in proc.stdout and "SQLite" in proc.stdout
