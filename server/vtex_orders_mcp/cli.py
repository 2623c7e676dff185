"""``vtex-orders-mcp``: with no subcommand, serve MCP over stdio (what Claude Desktop runs).

Subcommands: ``serve`` (stdio or streamable HTTP), ``sandbox`` (the simulator over HTTP),
``schemas`` (write/check tool_schemas/), ``audit`` (print recent audit records), and the ones
whose modules add their own parser: ``demo`` (demo.py) and ``eval`` (eval.py).

The server's flags are not declared here: each one is a field of ``config.Settings`` with a flag
(``config.FLAGS``), and ``add_setting_flags`` turns those fields into argparse options, accepted
before and after the subcommand. What was typed is handed to ``Settings.from_env`` as overrides,
so the environment, the flags and their errors are one configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import ENV_VARS_BY_FIELD, FLAGS, Settings
from .errors import ConfigError

if TYPE_CHECKING:
    from .storage import Store

__all__ = ["add_setting_flags", "build_parser", "main", "settings_from"]

# The server's own flags: before the subcommand, on `serve`, and (state only) on `audit`/`schemas`.
SERVER_FLAGS = tuple(FLAGS)


def add_setting_flags(parser: argparse.ArgumentParser, fields: Iterable[str]) -> None:
    """One option per setting, from its declaration: its flag, its help, its variable and default.

    Every option defaults to SUPPRESS: only what was typed reaches the namespace, so a flag given
    before the subcommand is not overwritten by the subcommand's default (`--read-only serve`
    once served every write tool), and the environment still applies to the rest."""
    from .registry import TOOLSETS

    for field in fields:
        info = Settings.model_fields[field]
        flag = FLAGS[field]
        default = info.get_default(call_default_factory=False)
        help_text = f"{info.description} (env {ENV_VARS_BY_FIELD[field]}"
        help_text += f"; default {default})" if default not in (None, False) and not callable(default) else ")"
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
    configure_logging(settings.secret_values(), level=settings.log_level)
    if settings.config_file is not None:
        return _serve_accounts(settings)
    app = build_server(settings)
    if settings.transport == "stdio":
        app.server.run("stdio")
        return 0
    from .http import serve_http

    return serve_http(settings, app)


def _serve_accounts(settings: Settings) -> int:
    """Several stores (accounts.py): one of them over stdio, all of them over HTTP."""
    from .accounts import build_accounts, choose, load_accounts
    from .logs import configure_logging
    from .server import build_server

    accounts = load_accounts(settings)
    secrets = [s for a in accounts for s in (*a.settings.secret_values(), *a.tokens)]
    configure_logging(secrets, level=settings.log_level)
    if settings.transport == "stdio":
        build_server(choose(accounts, settings.serve_account).settings).server.run("stdio")
        return 0
    from .http import serve_http

    async def config_loads() -> None:  # /readyz: the accounts file can still be read
        load_accounts(settings)

    store, apps = build_accounts(accounts, settings)
    tokens = {a.name: a.tokens for a in accounts}
    return serve_http(settings, None, accounts=apps, account_tokens=tokens, store=store, ready=config_loads)


def cmd_sandbox(ns: argparse.Namespace) -> int:
    from .logs import configure_logging
    from .sandbox.standalone import serve

    configure_logging([], level=getattr(ns, "log_level", "INFO"))
    serve(host=ns.host, port=ns.port, seed=ns.seed, orders=ns.orders)
    return 0


def cmd_schemas(ns: argparse.Namespace) -> int:
    import tempfile

    import anyio

    from .schemas import render, write_snapshots
    from .server import build_server

    state_dir = getattr(ns, "state_dir", None) or tempfile.mkdtemp(prefix="vtex-orders-mcp-")
    app = build_server(Settings.from_env({}, state_dir=state_dir))
    tools = anyio.run(app.server.list_tools)
    folder = Path(ns.dir)
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
    )
    add_setting_flags(parser, SERVER_FLAGS)
    parser.set_defaults(func=cmd_serve)
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="serve MCP (stdio, or streamable HTTP with --transport http)")
    add_setting_flags(serve, SERVER_FLAGS)
    serve.set_defaults(func=cmd_serve)

    sandbox = sub.add_parser("sandbox", help="run the VTEX Orders simulator over HTTP")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_bounded(1, 65535), default=8787)
    sandbox.add_argument("--seed", type=int, default=7)
    sandbox.add_argument("--orders", type=_bounded(10, 20000), default=500)
    sandbox.set_defaults(func=cmd_sandbox)

    schemas = sub.add_parser("schemas", help="write or check tool_schemas/")
    schemas.add_argument("--write", action="store_true")
    schemas.add_argument("--dir", default="tool_schemas")
    add_setting_flags(schemas, ["state_dir"])
    schemas.set_defaults(func=cmd_schemas)

    audit = sub.add_parser("audit", help="print recent audit records (JSON lines, oldest first)")
    audit.add_argument("--limit", type=int, default=50)
    audit.add_argument("--tool")
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
    try:
        return int(ns.func(ns) or 0)
    except ConfigError as exc:
        print(f"vtex-orders-mcp: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
