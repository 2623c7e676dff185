"""``vtex-orders-mcp``: with no subcommand, serve MCP over stdio (what Claude Desktop runs).

Subcommands: ``serve`` (stdio or streamable HTTP), ``sandbox`` (the simulator over HTTP),
``schemas`` (write/check tool_schemas/), ``audit`` (print recent audit records), and the ones
whose modules add their own parser: ``demo`` (demo.py) and ``eval`` (eval.py). Configuration comes from the environment
(see config.py); flags override it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from .config import Settings
from .errors import ConfigError

__all__ = ["main"]

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


def _settings(ns: argparse.Namespace) -> Settings:
    overrides = {
        "guard": getattr(ns, "guard", None),
        "read_only": True if getattr(ns, "read_only", False) else None,
        "state_dir": getattr(ns, "state_dir", None),
        "toolsets": _names(getattr(ns, "toolsets", None)),
    }
    return Settings.from_env(**overrides)


def _names(raw: str | None) -> frozenset[str] | None:
    return None if raw is None else frozenset(t.strip() for t in raw.split(",") if t.strip())


def _add_server_flags(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """The server's flags, accepted before and after the subcommand. On a subcommand they default
    to SUPPRESS: argparse would otherwise overwrite a value given before the subcommand with the
    subcommand's default (`--read-only serve` served every write tool)."""
    from .registry import TOOLSETS

    unset: dict[str, object] = {"default": argparse.SUPPRESS} if sub else {}
    p.add_argument("--guard", choices=["auto", "elicit-only", "off"], help="approval policy for writes", **unset)
    p.add_argument("--read-only", action="store_true", help="do not list write tools at all", **unset)
    p.add_argument(
        "--toolsets", metavar="NAME,...", **unset,
        help="list only these toolsets' tools (default: all): "
             + "; ".join(f"{name} = {what}" for name, what in TOOLSETS.items()),
    )  # fmt: skip
    p.add_argument("--state-dir", help="where the audit log and token secret live", **unset)


def cmd_serve(ns: argparse.Namespace) -> int:
    from .logs import configure_logging
    from .server import build_server

    settings = _settings(ns)
    configure_logging(settings.secret_values(), level=ns.log_level)
    if settings.guard == "off":
        import logging

        logging.getLogger("vtex_orders_mcp").warning(
            "GUARD OFF: writes reach %s WITHOUT human approval (--guard off).",
            "the sandbox" if settings.uses_sandbox else "VTEX",
        )
    app = build_server(settings)
    if ns.transport == "stdio":
        app.server.run("stdio")
        return 0
    from .http import serve_http

    return serve_http(app, ns)


def cmd_sandbox(ns: argparse.Namespace) -> int:
    from .logs import configure_logging
    from .sandbox.standalone import serve

    configure_logging([], level=ns.log_level)
    serve(host=ns.host, port=ns.port, seed=ns.seed, orders=ns.orders)
    return 0


def cmd_schemas(ns: argparse.Namespace) -> int:
    import anyio

    from .schemas import render, write_snapshots
    from .server import build_server

    settings = Settings.from_env({}, state_dir=getattr(ns, "state_dir", None) or _tmpdir())
    app = build_server(settings)

    async def listed():
        return await app.server.list_tools()

    tools = anyio.run(listed)
    folder = Path(ns.dir)
    if ns.write:
        written = write_snapshots(tools, folder)
        print(f"wrote {len(written)} schemas to {folder}")
        return 0
    stale = [t.name for t in tools if not (folder / f"{t.name}.json").exists()
             or (folder / f"{t.name}.json").read_text() != render(t)]  # fmt: skip
    extra = {p.stem for p in folder.glob("*.json")} - {t.name for t in tools}
    if stale or extra:
        print(f"out of date: {sorted(stale)}; not served: {sorted(extra)}. Run: vtex-orders-mcp schemas --write")
        return 1
    print(f"{len(tools)} schemas up to date")
    return 0


def cmd_audit(ns: argparse.Namespace) -> int:
    from .audit import AuditLog

    settings = _settings(ns)
    log = AuditLog(Path(settings.state_dir) / "audit.sqlite3")
    for rec in reversed(log.recent(ns.limit, tool=ns.tool)):
        print(json.dumps(rec.as_dict(), ensure_ascii=False))
    return 0


def _tmpdir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="vtex-orders-mcp-")


def _bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], refused with a usage error otherwise
    (`--port 70000` ended in an OverflowError traceback)."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


PORT = _bounded(1, 65535)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vtex-orders-mcp",
        description="MCP server for VTEX orders. With no subcommand it serves MCP over stdio.",
    )
    parser.add_argument("--log-level", default="INFO", choices=LEVELS)
    _add_server_flags(parser)
    parser.set_defaults(func=cmd_serve, transport="stdio")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="serve MCP (default: stdio)")
    _add_server_flags(serve, sub=True)
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=PORT, default=8000)
    serve.add_argument("--stateless", action="store_true", help="stateless HTTP (several replicas)")
    serve.add_argument("--http-token", help="bearer token HTTP clients must send (or VTEX_MCP_HTTP_TOKEN)")
    serve.add_argument("--allowed-origin", action="append", default=[], help="extra allowed Origin")
    serve.set_defaults(func=cmd_serve)

    sandbox = sub.add_parser("sandbox", help="run the VTEX Orders simulator over HTTP")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=PORT, default=8787)
    sandbox.add_argument("--seed", type=int, default=7)
    sandbox.add_argument("--orders", type=_bounded(10, 20000), default=500)
    sandbox.set_defaults(func=cmd_sandbox)

    schemas = sub.add_parser("schemas", help="write or check tool_schemas/")
    schemas.add_argument("--write", action="store_true")
    schemas.add_argument("--dir", default="tool_schemas")
    schemas.add_argument("--state-dir", default=argparse.SUPPRESS)
    schemas.set_defaults(func=cmd_schemas)

    audit = sub.add_parser("audit", help="print recent audit records (JSON lines, oldest first)")
    audit.add_argument("--limit", type=int, default=50)
    audit.add_argument("--tool")
    audit.add_argument("--state-dir", default=argparse.SUPPRESS)
    audit.set_defaults(func=cmd_audit)

    from . import demo, eval as eval_command

    demo.add_parser(sub)
    eval_command.add_parser(sub)
    # --log-level is accepted after the subcommand too (SUPPRESS keeps the global value otherwise).
    for child in sub.choices.values():
        if not any("--log-level" in a.option_strings for a in child._actions):
            child.add_argument("--log-level", choices=LEVELS, default=argparse.SUPPRESS)
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
