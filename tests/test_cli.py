"""The command line: server flags mean the same before and after the subcommand."""

from __future__ import annotations

import pytest

from vtex_orders_mcp.cli import build_parser, main, settings_from


@pytest.mark.parametrize(
    "argv",
    [
        ["--read-only", "--guard", "elicit-only", "--toolsets", "orders", "--state-dir", "{d}", "serve"],
        ["serve", "--read-only", "--guard", "elicit-only", "--toolsets", "orders", "--state-dir", "{d}"],
        ["--read-only", "--guard", "elicit-only", "--toolsets", "orders", "--state-dir", "{d}"],
    ],
)
def test_server_flags_hold_before_or_after_the_subcommand(tmp_path, monkeypatch, argv):
    # `--read-only serve` used to serve every write tool: the subcommand's defaults overwrote it
    for var in ("VTEX_MCP_READ_ONLY", "VTEX_MCP_GUARD", "VTEX_MCP_TOOLSETS", "VTEX_MCP_STATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    ns = build_parser().parse_args([a.replace("{d}", str(tmp_path)) for a in argv])
    s = settings_from(ns)
    assert (s.read_only, s.guard, s.toolsets, str(s.state_dir)) == (True, "elicit-only", {"orders"}, str(tmp_path))


def test_the_state_dir_given_before_audit_is_used(tmp_path, capsys):
    import anyio

    from vtex_orders_mcp.cli import main
    from vtex_orders_mcp.storage import SqliteStore

    store = SqliteStore(tmp_path / "audit.sqlite3")
    anyio.run(lambda: store.record(call_id="c1", tool="cancel_order", event="requested"))
    assert main(["--state-dir", str(tmp_path), "audit"]) == 0
    assert '"cancel_order"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "70000"], "--port='70000': should be less than or equal to 65535; allowed: a whole number "
                                       "from 1 to 65535."),
        (["serve", "--port", "http"], "--port='http': should be a valid integer"),
    ],
)  # fmt: skip
def test_out_of_range_server_settings_are_configuration_errors(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("VTEX_MCP_PORT", raising=False)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sandbox", "--port", "-1"], "-1 is outside 1..65535"),
        (["sandbox", "--orders", "-5"], "-5 is outside 10..20000"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def _python(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_package_imports_nothing_heavy():
    # __main__ holds the garbage collector before the server's modules are imported: importing the
    # package (which `python -m vtex_orders_mcp` does first) must not import them already.
    loaded = _python(
        "import sys, vtex_orders_mcp; "
        "heavy = ('pydantic', 'mcp', 'vtex_orders_mcp.models', 'vtex_orders_mcp.cli'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    assert loaded == "[]"
    assert (
        _python("import vtex_orders_mcp as v; print(v.build_server.__name__, len(v.OPERATIONS))") == "build_server 36"
    )


def test_start_up_holds_the_collector_until_the_command_is_ready(tmp_path):
    # The entry point disables the collector before importing the CLI; ready() (called once the
    # server is built) freezes what start-up made and enables collection again.
    out = _python(
        "import gc, sys; import vtex_orders_mcp.__main__ as entry; "
        f"sys.argv = ['vtex-orders-mcp', 'migrate', '--state-dir', {str(tmp_path)!r}]\n"
        "import vtex_orders_mcp.cli as cli\n"
        "held = []\n"
        "real = cli.ready\n"
        "cli.ready = lambda: (held.append(gc.isenabled()), real())\n"
        "assert entry.main() == 0\n"
        "print(held, gc.isenabled(), gc.get_freeze_count() > 10000)"
    )
    assert out.splitlines()[-1] == "[False] True True"
    # In a process that did not hold it (a test calling main), ready() changes nothing.
    import gc

    before = gc.get_freeze_count()
    from vtex_orders_mcp.cli import ready

    ready()
    assert gc.isenabled() and gc.get_freeze_count() == before
