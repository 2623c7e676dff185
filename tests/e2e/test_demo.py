"""``vtex-orders-mcp demo`` run as a user runs it, answered by flag or on stdin.

Each run gets a fresh state directory; the audit log it leaves is read back with
``vtex-orders-mcp audit`` to check that the cancel happened exactly when it was approved.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from e2e_support import SERVER, audit_events, clean_env

pytestmark = pytest.mark.e2e


def demo(state_dir, *flags: str, stdin: str | None = None) -> str:
    out = subprocess.run([*SERVER, "demo", "--state-dir", str(state_dir), *flags], input=stdin,
                         env=clean_env(state_dir), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    for line in out.stdout.splitlines():
        assert len(line) <= 80, f"wider than 80 columns: {line!r}"
    return out.stdout


def order_shown(output: str) -> str:
    match = re.search(r"> get_order \{\"order_id\": \"([^\"]+)\"\}", output)
    assert match, output
    return match.group(1)


def test_demo_yes_cancels_with_approval_and_audit(tmp_path):
    output = demo(tmp_path, "--yes")
    for step in ("1/5  List the orders", "2/5  Open", "3/5  Read its conversation", "4/5  Ask to cancel",
                 "5/5  The audit trail"):  # fmt: skip
        assert step in output
    order_id = order_shown(output)
    assert "over stdio" in output
    assert f"Approve this change? Cancel order {order_id}" in output
    assert re.search(r"^ +Arguments: \{\"order_id\"", output, re.M), "the question's second part on its own line"
    assert "Approve? [y/N] y" in output
    assert "Result: done. VTEX receipt:" in output
    assert f"Order {order_id} is now: canceled" in output
    assert re.search(r"cancel_order\s+executed\s+elicitation", output)
    events = [(e["event"], e["arguments"].get("order_id") if e.get("arguments") else None)
              for e in audit_events(tmp_path)]  # fmt: skip
    assert ("executing", order_id) in events and "executed" in {e for e, _ in events}


def test_demo_no_declines_and_sends_nothing(tmp_path):
    output = demo(tmp_path, "--no", "--protocol", "legacy")
    order_id = order_shown(output)
    assert "Approve? [y/N] n" in output
    assert "Result: declined, nothing was sent to VTEX." in output
    assert f"Order {order_id} is now: ready-for-handling" in output
    events = {e["event"] for e in audit_events(tmp_path)}
    assert "declined" in events and not events & {"executing", "executed"}


def test_demo_asks_on_the_terminal(tmp_path):
    output = demo(tmp_path, "--in-memory", stdin="y\n")
    assert "Approve? [y/N] y" in output and "answered by" not in output
    assert "Result: done" in output
    assert "executed" in {e["event"] for e in audit_events(tmp_path)}


def test_demo_ignores_real_credentials(tmp_path):
    """Credentials in the environment must not turn the demo into a real cancel."""
    env = clean_env(tmp_path, VTEX_ACCOUNT_NAME="realstore", VTEX_APP_KEY="vtexappkey-realstore-X",
                    VTEX_APP_TOKEN="REALTOKEN")  # fmt: skip
    out = subprocess.run([*SERVER, "demo", "--no", "--state-dir", str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Result: declined" in out.stdout
