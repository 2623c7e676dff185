"""The command line as a new user meets it (issue #17): the version, help that names defaults and
environment variables, and mistakes answered by one clear line and a non-zero exit, never a
traceback or a silent wrong action.

Processes are few: the installed command and ``python -m`` run once each, and the rest of the
invocations run one after another in a single child process (``DRIVER``), each with its own
argv, environment, working directory and temporary directory, through ``cli.main`` exactly as
the console script calls it, reporting exit code, stdout and stderr (and any traceback) as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from e2e_support import SERVER, clean_env

from vtex_orders_mcp.config import ENV_VARS

pytestmark = pytest.mark.e2e

DRIVER = r"""
import contextlib, io, json, os, sys, tempfile, traceback
from vtex_orders_mcp.cli import main

results = []
for case in json.load(sys.stdin):
    saved = dict(os.environ)
    os.environ.update(case.get("env", {}))
    here = os.getcwd()
    os.chdir(case.get("cwd", here))
    tempfile.tempdir = case.get("tmp")  # where this case's temporary directories go
    out, err = io.StringIO(), io.StringIO()
    code, crash = None, None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(case["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            crash = traceback.format_exc()
    os.chdir(here)
    os.environ.clear()
    os.environ.update(saved)
    results.append({"code": code, "out": out.getvalue(), "err": err.getvalue(), "crash": crash})
json.dump(results, sys.stdout)
"""


def run_cases(cases: list[dict], env: dict[str, str]) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(cases), env=env, capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    for case, result in zip(cases, results, strict=True):
        assert result["crash"] is None, f"{case['argv']} raised:\n{result['crash']}"
        assert "Traceback" not in result["err"], f"{case['argv']}:\n{result['err']}"
    return results


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case below, run once in one child process: name -> (code, stdout, stderr)."""
    tmp = tmp_path_factory.mktemp("cli")
    state = tmp / "state"
    a_file = tmp / "a-file"
    a_file.write_text("not a directory")
    elsewhere = tmp / "not-a-checkout"
    elsewhere.mkdir()
    demo_tmp = tmp / "demo-tmp"
    demo_tmp.mkdir()
    creds = {"VTEX_APP_KEY": "vtexappkey-x-ABC", "VTEX_APP_TOKEN": "TOKEN123"}
    cases = {
        "version": {"argv": ["--version"]},
        "help": {"argv": ["--help"]},
        "sandbox help": {"argv": ["sandbox", "--help"]},
        "audit help": {"argv": ["audit", "--help"]},
        "schemas help": {"argv": ["schemas", "--help"]},
        "audit limit 0": {"argv": ["audit", "--limit", "0"]},
        "audit limit -1": {"argv": ["audit", "--limit", "-1"]},
        "port without http": {"argv": ["serve", "--port", "18901"]},
        "state dir is a file": {"argv": ["serve", "--state-dir", str(a_file)]},
        "state dir cannot be created": {"argv": ["serve", "--state-dir", str(a_file / "sub")]},
        "audit mistyped state dir": {"argv": ["audit", "--state-dir", str(tmp / "mistyped")]},
        "audit empty state dir": {"argv": ["audit", "--state-dir", str(elsewhere)]},
        "base url not a url": {"argv": ["serve"], "env": {"VTEX_BASE_URL": "notaurl", **creds}},
        "account name": {"argv": ["serve"], "env": {"VTEX_ACCOUNT_NAME": "my store!", **creds}},
        "schemas outside a checkout": {"argv": ["schemas"], "cwd": str(elsewhere)},
        "sandbox list": {"argv": ["sandbox", "--list", "--orders", "40", "--per-status", "0"]},
        "demo": {"argv": ["demo", "--no", "--in-memory"], "tmp": str(demo_tmp)},
    }
    results = run_cases(list(cases.values()), clean_env(state))
    return {"tmp": tmp, "demo_tmp": demo_tmp} | {
        name: (r["code"], r["out"], r["err"]) for name, r in zip(cases, results, strict=True)
    }


def one_line_error(outcome: tuple[int, str, str], text: str) -> None:
    """Exit 2, nothing on stdout, and the complaint on one line of stderr."""
    code, out, err = outcome
    assert code == 2 and not out, (code, out, err)
    assert text in err and len(err.strip().splitlines()) == 1, err


def test_version_and_help(outcomes):
    code, out, _ = outcomes["version"]
    assert code == 0 and out.strip() == f"vtex-orders-mcp {version('vtex-orders-mcp')}"
    code, out, _ = outcomes["help"]
    assert code == 0 and "environment variables" in out
    assert [var for var in ENV_VARS if var not in out] == []
    assert "--version" in out and "(env VTEX_MCP_STATE_DIR; default $XDG_STATE_HOME" in " ".join(out.split())
    help_texts = {name: " ".join(outcomes[name][1].split()) for name in ("sandbox help", "audit help", "schemas help")}
    for name, expected in (
        ("sandbox help", ["--host HOST the address to bind (default 127.0.0.1)", "(default 8787)", "(default 7)",
                          "(default 500)", "--list print a sample of the seeded orders by status"]),
        ("audit help", ["--limit LIMIT how many records, newest ones (default 50)", "--tool TOOL only the records"]),
        ("schemas help", ["--write write the schemas", "(default tool_schemas)"]),
    ):  # fmt: skip
        assert [e for e in expected if e not in help_texts[name]] == [], help_texts[name]


def test_numbers_out_of_range_are_usage_errors(outcomes):
    for name, shown in (("audit limit 0", "0"), ("audit limit -1", "-1")):
        code, _, err = outcomes[name]
        assert code == 2 and f"argument --limit: {shown} is outside 1..100000" in err, err


def test_a_port_without_http_is_a_usage_error_not_stdio(outcomes):
    code, out, err = outcomes["port without http"]
    assert code == 2 and out == ""
    assert "error: --port applies only to MCP over HTTP: add --transport http" in err, err


def test_a_bad_state_dir_is_one_line_and_a_mistyped_one_is_not_created(outcomes):
    one_line_error(outcomes["state dir is a file"], "a-file is a file, not a directory")
    one_line_error(outcomes["state dir cannot be created"], "cannot create the state directory")
    one_line_error(outcomes["audit mistyped state dir"], "mistyped does not exist")
    assert not (outcomes["tmp"] / "mistyped").exists()
    one_line_error(outcomes["audit empty state dir"], "holds no audit log (audit.sqlite3)")
    assert not (outcomes["tmp"] / "not-a-checkout" / "audit.sqlite3").exists()


def test_the_vtex_address_is_checked_at_start(outcomes):
    one_line_error(
        outcomes["base url not a url"],
        "configuration error: VTEX_BASE_URL='notaurl': not an http:// or https:// URL with a host",
    )
    one_line_error(outcomes["account name"], "VTEX_ACCOUNT_NAME='my store!': not a VTEX account or environment name")


def test_schemas_outside_a_checkout_says_so_quietly(outcomes):
    code, out, err = outcomes["schemas outside a checkout"]
    one_line_error((code, out, err), "there is no tool_schemas/ folder here to check")
    assert "sandbox" not in err and "out of date" not in err


def test_sandbox_list_shows_the_eval_sandbox_by_status(outcomes):
    code, out, _ = outcomes["sandbox list"]
    assert code == 0 and out.startswith("Seeded orders: seed 7, 40 orders")
    handling = out.split("\nhandling (4 of 4)\n")[1].split("\n\n")[0]
    assert "2261670786700-01   Boleto Bancário" in handling and "v502556llux-01" in handling
    assert "[VTEX's example order]" in handling
    assert "[incomplete]" in out.split("\npayment-pending (")[1].split("\n\n")[0]
    assert sum(1 for line in out.splitlines() if line.startswith("  ")) == 40  # --per-status 0: all of them


def test_demo_leaves_no_temporary_directory_behind(outcomes):
    code, out, _ = outcomes["demo"]
    assert code == 0 and "Result: declined, nothing was sent to VTEX." in out
    assert "was temporary and is removed" in " ".join(out.split())
    assert list(outcomes["demo_tmp"].iterdir()) == []


def test_the_installed_command_and_python_m_exit_two_on_usage_errors(tmp_path):
    command = Path(sys.executable).with_name("vtex-orders-mcp")
    installed = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=60)
    assert installed.returncode == 0 and installed.stdout.startswith("vtex-orders-mcp ")
    module = subprocess.run([*SERVER, "serve", "--host", "0.0.0.0"], env=clean_env(tmp_path), capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert module.returncode == 2 and "--host applies only to MCP over HTTP" in module.stderr
