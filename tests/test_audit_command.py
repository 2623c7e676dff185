"""``vtex-orders-mcp audit``: the newest rows, every row (--export, JSON lines), one account's
(--account), and the retention setting applied (--prune), on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

import anyio
import pytest

from vtex_orders_mcp.cli import main
from vtex_orders_mcp.config import Settings
from vtex_orders_mcp.storage import open_store


@pytest.fixture(params=["sqlite", "postgres"])
def env(request, tmp_path, monkeypatch) -> Settings:
    """The store the command will open (through the environment, as an operator sets it), with
    rows of two accounts in it; its settings."""
    for var in ("VTEX_MCP_DATABASE_URL", "VTEX_MCP_AUDIT_RETENTION_DAYS", "VTEX_MCP_ACCOUNT", "VTEX_MCP_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VTEX_MCP_STATE_DIR", str(tmp_path))
    if request.param == "postgres":
        monkeypatch.setenv("VTEX_MCP_DATABASE_URL", request.getfixturevalue("database_url"))
    settings = Settings.from_env()

    async def fill() -> None:
        store = open_store(settings)
        try:
            for i in range(7):
                await store.scoped("storea" if i % 2 == 0 else "storeb").record(
                    call_id=f"c{i}", tool="cancel_order", event="requested"
                )
        finally:
            await store.aclose()

    anyio.run(fill)
    return settings


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_export_writes_every_row_oldest_first_as_json_lines(env, capsys):
    assert main(["audit", "--export"]) == 0
    rows = _lines(capsys.readouterr().out)
    assert [r["call_id"] for r in rows] == [f"c{i}" for i in range(7)]
    assert main(["audit", "--export", "--after", str(rows[4]["id"])]) == 0
    assert [r["call_id"] for r in _lines(capsys.readouterr().out)] == ["c5", "c6"]
    assert main(["audit", "--export", "--account", "storeb"]) == 0
    assert [(r["call_id"], r["account"]) for r in _lines(capsys.readouterr().out)] == [
        ("c1", "storeb"), ("c3", "storeb"), ("c5", "storeb")
    ]  # fmt: skip
    assert main(["audit", "--limit", "2"]) == 0
    assert [r["call_id"] for r in _lines(capsys.readouterr().out)] == ["c5", "c6"]


def test_prune_applies_the_retention_setting_and_refuses_without_one(env, capsys, monkeypatch):
    assert main(["audit", "--prune"]) == 2
    assert "VTEX_MCP_AUDIT_RETENTION_DAYS" in capsys.readouterr().err
    monkeypatch.setenv("VTEX_MCP_AUDIT_RETENTION_DAYS", "30")
    assert main(["audit", "--prune"]) == 0
    assert capsys.readouterr().out.startswith("deleted 0 audit rows recorded before ")
    monkeypatch.setenv("VTEX_MCP_AUDIT_RETENTION_DAYS", "0.000001")  # about a tenth of a second
    anyio.run(anyio.sleep, 0.2)
    assert main(["audit", "--prune"]) == 0
    assert capsys.readouterr().out.startswith("deleted 7 audit rows")
    assert main(["audit", "--export"]) == 0 and capsys.readouterr().out == ""


def test_account_names_the_accounts_file_table_whose_vtex_account_keys_the_rows(env, capsys, tmp_path, monkeypatch):
    # The table's name ("shop", the URL segment) differs from its VTEX account ("storeb"), which keys the rows.
    (tmp_path / "accounts.toml").write_text(
        '[accounts.shop]\naccount_name = "storeb"\nbase_url = "http://storeb.invalid"\napp_key = "k"\napp_token = "t"\n'
    )
    assert main(["audit", "--export", "--config", str(tmp_path / "accounts.toml"), "--account", "shop"]) == 0
    assert [(r["call_id"], r["account"]) for r in _lines(capsys.readouterr().out)] == [
        ("c1", "storeb"), ("c3", "storeb"), ("c5", "storeb")
    ]  # fmt: skip
