"""``vtex-orders-mcp``: with no subcommand, serve MCP over stdio (what Claude Desktop runs).

Subcommands: ``serve`` (stdio or streamable HTTP), ``sandbox`` (the simulator over HTTP, or
``--list`` its seeded orders by status), ``schemas`` (write/check tool_schemas/), ``audit``
(print recent audit records), and the ones whose modules add their own parser: ``demo``
(demo.py) and ``eval`` (eval.py).

The server's flags are not declared here: each one is a field of ``config.Settings`` with a flag
(``config.FLAGS``), and ``add_setting_flags`` turns those fields into argparse options, accepted
before and after the subcommand. What was typed is handed to ``Settings.from_env`` as overrides,
so the environment, the flags and their errors are one configuration; ``--help`` lists every
environment variable from the same fields.

Mistakes are one line and a non-zero exit, never a traceback: a flag that cannot apply (``--port``
without ``--transport http``) is a usage error (2), a state directory that is a file or cannot be
created, or an audit log that is not there, a configuration error (2).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import ENV_VARS_BY_FIELD, FLAGS, Settings
from .errors import ConfigError

if TYPE_CHECKING:
    from .storage import Store

__all__ = ["UsageError", "add_setting_flags", "build_parser", "main", "settings_from"]

# The server's own flags: before the subcommand, on `serve`, and (state only) on `audit`/`schemas`.
SERVER_FLAGS = tuple(FLAGS)
# Flags that only mean something when MCP is served over HTTP.
HTTP_ONLY = ("host", "port", "stateless", "http_token", "allowed_origins")
AUDIT_FILE = "audit.sqlite3"


class UsageError(Exception):
    """A command line that cannot mean what was typed: reported like argparse's own errors (exit 2)."""


def _version() -> str:
    from ._version import __version__

    return __version__


def _environment_help() -> str:
    """The epilog of ``--help``: every environment variable, from the settings' declarations."""
    import textwrap

    width = max(len(v) for v in ENV_VARS_BY_FIELD.values())
    lines = ["environment variables (flags override them; no VTEX credentials = the embedded sandbox):"]
    for field, var in ENV_VARS_BY_FIELD.items():
        default = _default_text(field)
        text = (Settings.model_fields[field].description or "") + (f" (default {default})" if default else "")
        lead = f"  {var:<{width}}  "
        lines += textwrap.wrap(text, 100, initial_indent=lead, subsequent_indent=" " * len(lead))
    return "\n".join(lines)


def state_dir_ready(settings: Settings) -> Path:
    """The state directory, created if missing; a ConfigError naming it when it is a file, cannot
    be created or is not writable (the audit log and the token secret are written there)."""
    import os

    path = Path(settings.state_dir).expanduser()
    where = "(set VTEX_MCP_STATE_DIR or --state-dir to a writable directory)"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"the state directory {path} is a file, not a directory {where}.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the state directory {path}: {exc.strerror or exc} {where}.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"the state directory {path} is not writable {where}.")
    return path


def add_setting_flags(parser: argparse.ArgumentParser, fields: Iterable[str]) -> None:
    """One option per setting, from its declaration: its flag, its help, its variable and default.

    Every option defaults to SUPPRESS: only what was typed reaches the namespace, so a flag given
    before the subcommand is not overwritten by the subcommand's default (`--read-only serve`
    once served every write tool), and the environment still applies to the rest."""
    from .registry import TOOLSETS

    for field in fields:
        info = Settings.model_fields[field]
        flag = FLAGS[field]
        default = _default_text(field)
        help_text = f"{info.description} (env {ENV_VARS_BY_FIELD[field]}"
        help_text += f"; default {default})" if default else ")"
        if field == "toolsets":
            help_text += ": " + "; ".join(f"{name} = {what}" for name, what in TOOLSETS.items())
        options: dict[str, Any] = {"dest": field, "default": argparse.SUPPRESS, "help": help_text}
        if info.annotation is bool:
            options["action"] = "store_true"
        elif field == "allowed_origins":
            options.update(action="append", metavar="ORIGIN")
        else:
            options["metavar"] = _metavar(field)
        parser.add_argument(flag, **options)


def _default_text(field: str) -> str | None:
    """A setting's default as --help shows it; None when it has none worth showing (unset, off, empty)."""
    if field == "state_dir":  # computed from the environment when the server starts
        return "$XDG_STATE_HOME/vtex-orders-mcp or ~/.local/state/vtex-orders-mcp"
    default = Settings.model_fields[field].get_default(call_default_factory=False)
    return None if default in (None, False) or not default or callable(default) else str(default)


def _metavar(field: str) -> str:
    return {"toolsets": "NAME,...", "state_dir": "DIR", "http_token": "TOKEN", "port": "PORT"}.get(field, "VALUE")


def settings_from(ns: argparse.Namespace, environ: Any = None) -> Settings:
    """The settings the environment and the flags typed in ``ns`` say."""
    typed = {field: getattr(ns, field) for field in SERVER_FLAGS if hasattr(ns, field)}
    return Settings.from_env(environ, **typed)


def cmd_serve(ns: argparse.Namespace) -> int:
    from .logs import configure_logging
    from .server import build_server

    settings = settings_from(ns)
    typed = [FLAGS[field] for field in HTTP_ONLY if hasattr(ns, field)]
    if settings.transport != "http" and typed:
        # MCP over stdio has no address: serving it anyway would silently ignore what was typed.
        raise UsageError(
            f"{', '.join(typed)} {'applies' if len(typed) == 1 else 'apply'} only to MCP over HTTP: add "
            "--transport http (or set VTEX_MCP_TRANSPORT=http); without it the server speaks MCP over stdio."
        )
    state_dir_ready(settings)
    configure_logging(settings.secret_values(), level=settings.log_level)
    if settings.config_file is not None:
        return _serve_accounts(settings)
    app = build_server(settings)
    ready()
    if settings.transport == "stdio":
        app.server.run("stdio")
        return 0
    from .http import serve_http

    return serve_http(settings, app)


def ready() -> None:
    """The command is built: the garbage collector runs again (``__main__`` held it through
    start-up), and never scans what start-up made, which lives as long as the process. Nothing
    happens when the collector was not held (``main`` called in a test, say).

    No collection runs before the freeze: it would cost much of what holding saved, for the few
    thousand objects start-up leaves unreachable (argparse's, ~0.7 MB), kept once, not per call."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _serve_accounts(settings: Settings) -> int:
    """Several stores (accounts.py): one of them over stdio, all of them over HTTP."""
    from .accounts import build_accounts, choose, load_accounts, token_names
    from .logs import configure_logging
    from .server import build_server

    accounts = load_accounts(settings)
    secrets = [s for a in accounts for s in (*a.settings.secret_values(), *a.tokens)]
    configure_logging(secrets, level=settings.log_level)
    if settings.transport == "stdio":
        app = build_server(choose(accounts, settings.serve_account).settings)
        ready()
        app.server.run("stdio")
        return 0
    from .http import serve_http

    async def config_loads() -> None:  # /readyz: the accounts file can still be read
        load_accounts(settings)

    store, apps = build_accounts(accounts, settings)
    ready()
    tokens = {a.name: a.tokens for a in accounts}
    return serve_http(
        settings, None, accounts=apps, account_tokens=tokens, store=store, ready=config_loads,
        token_names=token_names(accounts),
    )  # fmt: skip


def cmd_sandbox(ns: argparse.Namespace) -> int:
    from .logs import configure_logging

    if ns.list:
        from .sandbox import Sandbox
        from .sandbox.samples import sample_lines

        for line in sample_lines(Sandbox(seed=ns.seed, orders=ns.orders), ns.per_status):
            print(line)
        return 0
    from .sandbox.standalone import serve

    configure_logging([], level=getattr(ns, "log_level", "INFO"))
    serve(host=ns.host, port=ns.port, seed=ns.seed, orders=ns.orders)
    return 0


def cmd_schemas(ns: argparse.Namespace) -> int:
    import logging
    import tempfile

    folder = Path(ns.dir)
    if not ns.write and not folder.is_dir():
        # Outside a checkout there is nothing to compare with: say so rather than "all out of date".
        raise ConfigError(
            f"there is no {folder}/ folder here to check: run this in a checkout of vtex-orders-mcp, "
            "pass --dir, or --write to create it."
        )
    # The schemas do not depend on where VTEX is: do not announce the sandbox the server is built on.
    logging.getLogger("vtex_orders_mcp").setLevel(logging.ERROR)
    given = getattr(ns, "state_dir", None)
    if given:
        return _schemas(ns, folder, Settings.from_env({}, state_dir=given))
    with tempfile.TemporaryDirectory(prefix="vtex-orders-mcp-") as state_dir:  # removed after
        return _schemas(ns, folder, Settings.from_env({}, state_dir=state_dir))


def _schemas(ns: argparse.Namespace, folder: Path, settings: Settings) -> int:
    import anyio

    from .schemas import render, write_snapshots
    from .server import build_server

    state_dir_ready(settings)
    app = build_server(settings)

    async def listed() -> Any:
        try:
            return await app.server.list_tools()
        finally:
            await app.store.aclose()

    tools = anyio.run(listed)
    if ns.write:
        written = write_snapshots(tools, folder)
        print(f"wrote {len(written)} schemas to {folder}")
        return 0
    stale = [
        t.name
        for t in tools
        if not (folder / f"{t.name}.json").exists() or (folder / f"{t.name}.json").read_text() != render(t)
    ]
    extra = {p.stem for p in folder.glob("*.json")} - {t.name for t in tools}
    if stale or extra:
        print(f"out of date: {sorted(stale)}; not served: {sorted(extra)}. Run: vtex-orders-mcp schemas --write")
        return 1
    print(f"{len(tools)} schemas up to date")
    return 0


def cmd_audit(ns: argparse.Namespace) -> int:
    """Print the audit log (the newest rows, or all of them with --export) or apply the retention
    setting (--prune), from the store the settings name: SQLite, or the shared PostgreSQL."""
    import anyio

    from .storage import open_store

    settings = settings_from(ns)
    if ns.prune and settings.audit_retention_days is None:
        raise ConfigError("audit --prune needs VTEX_MCP_AUDIT_RETENTION_DAYS: how many days of audit to keep.")
    if settings.database_url is None:
        path = Path(settings.state_dir).expanduser()
        if not (path / AUDIT_FILE).is_file():
            # Opening it would create an empty log and print nothing, as if nothing had been audited.
            what = "does not exist" if not path.exists() else f"holds no audit log ({AUDIT_FILE})"
            raise ConfigError(
                f"the state directory {path} {what}: check VTEX_MCP_STATE_DIR or --state-dir "
                "(the server writes its audit log there once it has served a write)."
            )
    account = settings.serve_account
    if account and settings.config_file is not None:  # the file's name for it: its VTEX account keys the rows
        from .accounts import choose, load_accounts

        account = choose(load_accounts(settings), account).settings.account
    root = open_store(settings)
    store = root.scoped(account) if account else root

    async def run() -> None:
        try:
            if ns.prune:
                await _prune(store, float(settings.audit_retention_days or 0))
            elif ns.export:
                async for rec in store.export(ns.after):
                    print(json.dumps(rec.as_dict(), ensure_ascii=False))
            else:
                for rec in reversed(await store.recent(ns.limit, tool=ns.tool)):
                    print(json.dumps(rec.as_dict(), ensure_ascii=False))
        finally:
            await root.aclose()

    anyio.run(run)
    return 0


async def _prune(store: Store, days: float) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    before = datetime.now(UTC) - timedelta(days=days)
    audit = await store.prune_audit(before)
    spent = await store.prune(time.time())
    when = before.isoformat(timespec="seconds")
    print(f"deleted {audit} audit rows recorded before {when} and {spent} expired spent ids")


def cmd_migrate(ns: argparse.Namespace) -> int:
    """Bring the store's schema up to date (servers do it at start-up; this is for the owner role)."""
    import anyio

    from .storage import open_store

    store = open_store(settings_from(ns))

    async def run() -> None:
        try:
            await store.open()
        finally:
            await store.aclose()

    anyio.run(run)
    print("the store's schema is up to date")
    return 0


def _bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], refused with a usage error otherwise."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vtex-orders-mcp",
        description="MCP server for VTEX orders. With no subcommand it serves MCP over stdio.",
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    add_setting_flags(parser, SERVER_FLAGS)
    parser.set_defaults(func=cmd_serve)
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser(
        "serve",
        help="serve MCP (stdio, or streamable HTTP with --transport http)",
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_setting_flags(serve, SERVER_FLAGS)
    serve.set_defaults(func=cmd_serve)

    sandbox = sub.add_parser(
        "sandbox", help="run the VTEX Orders simulator over HTTP, or --list its seeded orders by status"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="the address to bind (default 127.0.0.1)")
    sandbox.add_argument("--port", type=_bounded(1, 65535), default=8787, help="the port to bind (default 8787)")
    sandbox.add_argument("--seed", type=int, default=7, help="seed of the generated orders (default 7)")
    sandbox.add_argument(
        "--orders", type=_bounded(10, 20000), default=500, help="how many orders to generate (default 500)"
    )
    sandbox.add_argument(
        "--list",
        action="store_true",
        help="print a sample of the seeded orders by status (for --seed and --orders) and exit, instead of serving",
    )
    sandbox.add_argument(
        "--per-status",
        type=_bounded(0, 20000),
        default=5,
        metavar="N",
        help="with --list: orders shown per status (default 5; 0 = all)",
    )
    sandbox.set_defaults(func=cmd_sandbox)

    schemas = sub.add_parser("schemas", help="write or check tool_schemas/")
    schemas.add_argument(
        "--write", action="store_true", help="write the schemas (default: check them and exit 1 on drift)"
    )
    schemas.add_argument("--dir", default="tool_schemas", help="the folder of schema snapshots (default tool_schemas)")
    add_setting_flags(schemas, ["state_dir"])
    schemas.set_defaults(func=cmd_schemas)

    audit = sub.add_parser("audit", help="print recent audit records (JSON lines, oldest first)")
    audit.add_argument(
        "--limit", type=_bounded(1, 100_000), default=50, help="how many records, newest ones (default 50)"
    )
    audit.add_argument("--tool", help="only the records of this tool (default: every tool)")
    what = audit.add_mutually_exclusive_group()
    what.add_argument("--export", action="store_true", help="every record (after --after), oldest first")
    what.add_argument("--prune", action="store_true", help="delete records older than VTEX_MCP_AUDIT_RETENTION_DAYS")
    audit.add_argument("--after", type=int, default=0, metavar="ID", help="with --export: records after this id")
    add_setting_flags(audit, ["state_dir", "serve_account", "config_file"])
    audit.set_defaults(func=cmd_audit)

    migrate = sub.add_parser("migrate", help="bring the store's database schema up to date")
    add_setting_flags(migrate, ["state_dir"])
    migrate.set_defaults(func=cmd_migrate)

    from . import demo
    from . import eval as eval_command

    demo.add_parser(sub)
    eval_command.add_parser(sub)
    # --log-level is accepted after any subcommand too.
    for child in sub.choices.values():
        with contextlib.suppress(argparse.ArgumentError):  # the subcommand has its own --log-level already
            add_setting_flags(child, ["log_level"])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    if ns.func is not cmd_serve:
        ready()  # only serve builds, at start, what __main__ held the collector for
    try:
        return int(ns.func(ns) or 0)
    except UsageError as exc:
        parser.error(str(exc))  # usage line, the message, exit 2
    except ConfigError as exc:
        print(f"vtex-orders-mcp: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
