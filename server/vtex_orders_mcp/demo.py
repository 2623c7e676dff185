"""``vtex-orders-mcp demo``: a scripted session a newcomer can watch in a terminal.

The demo is an MCP *client* (the SDK's ``Client``) driving this server the way an assistant
would: it lists orders ready for handling, opens the newest, reads its conversation and asks to
cancel it. The server's guard then asks for approval through elicitation, and the demo's
elicitation callback puts that question on the terminal (y/n), so what the human sees is the
guard's own summary, built from the order's live state. Finally it prints the order's new
status and the audit records the write left behind.

By default the server is a real child process over stdio (``python -m vtex_orders_mcp``, as
Claude Desktop starts it) with its log in a file; ``--in-memory`` runs it in this process. The
demo always uses the embedded sandbox and a fresh state directory: VTEX credentials in the
environment are ignored, so it can never cancel a real order. ``--yes`` / ``--no`` answer the
approval without asking (for scripts and tests). Output fits an 80-column terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, TextIO

from .registry import ORDER_CANCEL, ORDER_CONVERSATION, ORDER_READ, ORDER_SEARCH

__all__ = ["add_parser", "cmd_demo", "run_demo"]

WIDTH = 80
REASON = "customer asked to cancel (demo)"
STEPS = 5


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("demo", help="watch a scripted session on the sandbox (list, open, cancel with approval)")
    answer = p.add_mutually_exclusive_group()
    answer.add_argument("--yes", action="store_true", help="approve the cancel without asking")
    answer.add_argument("--no", action="store_true", help="decline the cancel without asking")
    p.add_argument("--in-memory", action="store_true", help="run the server in this process instead of over stdio")
    p.add_argument("--protocol", choices=["auto", "legacy"], default="auto",
                   help="auto negotiates 2026-07-28; legacy speaks 2025-11-25")  # fmt: skip
    p.add_argument(
        "--state-dir",
        default=argparse.SUPPRESS,
        help="where the demo's audit log goes (default: a fresh temporary directory)",
    )
    p.set_defaults(func=cmd_demo)
    return p


def cmd_demo(ns: argparse.Namespace) -> int:
    import anyio

    answer = "y" if ns.yes else "n" if ns.no else None
    given = getattr(ns, "state_dir", None)  # before or after "demo"
    if given:
        from .cli import state_dir_ready
        from .config import Settings

        state_dir = state_dir_ready(Settings.from_env({}, state_dir=given))
        return anyio.run(lambda: run_demo(state_dir, answer=answer, in_memory=ns.in_memory, protocol=ns.protocol))
    # No --state-dir: a temporary one, removed afterwards (it holds a secret key and an audit log).
    with tempfile.TemporaryDirectory(prefix="vtex-orders-mcp-demo-") as temporary:
        return anyio.run(
            lambda: run_demo(
                Path(temporary), answer=answer, in_memory=ns.in_memory, protocol=ns.protocol, temporary=True
            )
        )


# --- output -------------------------------------------------------------------------------------


class Screen:
    """Line-oriented output clipped or wrapped to the terminal width."""

    def __init__(self, out: TextIO, width: int = WIDTH) -> None:
        self.out = out
        self.width = width
        encoding = getattr(out, "encoding", None) or "utf-8"
        try:
            "─→…".encode(encoding)
            self.rule, self.arrow, self.ellipsis = "─", "→", "…"
        except (UnicodeEncodeError, LookupError):  # e.g. a cp1252 console
            self.rule, self.arrow, self.ellipsis = "-", "->", "..."

    def line(self, text: str = "", indent: int = 0) -> None:
        print(self.clip(" " * indent + text).rstrip(), file=self.out, flush=True)

    def wrap(self, text: str, indent: int = 2, first: str = "") -> None:
        """Word-wrapped, keeping the text's own line breaks (an approval question has two parts)."""
        rest = " " * (indent + len(first))
        for n, paragraph in enumerate(text.split("\n")):
            lead = " " * indent + first if n == 0 else rest
            for ln in textwrap.wrap(paragraph, self.width, initial_indent=lead, subsequent_indent=rest) or [""]:
                print(ln, file=self.out, flush=True)

    def clip(self, text: str, width: int | None = None) -> str:
        width = width or self.width
        return text if len(text) <= width else text[: width - len(self.ellipsis)] + self.ellipsis

    def step(self, n: int, title: str) -> None:
        head = f"{self.rule * 2} {n}/{STEPS}  {title} "
        self.line()
        self.line(head + self.rule * max(0, self.width - len(head)))

    def call(self, tool: str, args: dict[str, Any]) -> None:
        self.wrap(f"{tool} {json.dumps(args, ensure_ascii=False)}", indent=0, first="> ")


# --- the session --------------------------------------------------------------------------------


def _server(state_dir: Path, in_memory: bool, errlog: TextIO) -> tuple[Any, str]:
    """What ``Client`` connects to, and a one-line description of it."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    if in_memory:
        from .config import Settings
        from .server import build_server

        app = build_server(Settings.from_env({}, state_dir=state_dir))  # {}: never real credentials
        return app.server, "in-process server"
    # The child gets only the SDK's default environment (HOME, PATH, ...) plus these: VTEX
    # credentials the user may have exported do not reach it.
    env = {"VTEX_MCP_STATE_DIR": str(state_dir)}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    params = StdioServerParameters(command=sys.executable, args=["-m", "vtex_orders_mcp"], env=env)
    return stdio_client(params, errlog=errlog), "python -m vtex_orders_mcp over stdio"


def _structured(result: Any) -> dict[str, Any]:
    if result.is_error:
        raise DemoError(result.content[0].text if result.content else "tool error")
    return result.structured_content or {}


class DemoError(Exception):
    pass


async def run_demo(state_dir: Path, *, answer: str | None = None, in_memory: bool = False, protocol: str = "auto",
                   out: TextIO | None = None, ask: Any = None, temporary: bool = False) -> int:  # fmt: skip
    """Run the scripted session; ``answer`` is "y"/"n" or None to ask on the terminal.

    ``temporary``: ``state_dir`` is removed when the demo ends, so the closing lines do not point
    into it (a failed run shows the end of the server's log instead)."""
    import anyio
    from mcp import Client, types

    scr = Screen(out or sys.stdout)
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "demo-server.log"
    asked: list[str] = []

    async def approve(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult | types.ErrorData:
        asked.append(params.message)
        scr.line("The server asks for approval (elicitation):", 2)
        scr.wrap(params.message, indent=4, first="│ ")
        if answer is not None:
            reply = answer
            scr.line(f"Approve? [y/N] {reply}   (answered by --{'yes' if reply == 'y' else 'no'})", 2)
        else:
            reader = ask or input
            try:
                # In a thread so the transport keeps running; abandoned on Ctrl-C rather than joined.
                reply = await anyio.to_thread.run_sync(reader, "  Approve? [y/N] ", abandon_on_cancel=True)
            except EOFError:
                reply = ""
            if ask is None and not sys.stdin.isatty():  # piped answer: show it, as a terminal would
                print(reply, file=scr.out, flush=True)
        approved = reply.strip().lower() in ("y", "yes")
        return types.ElicitResult(action="accept" if approved else "decline", content={} if approved else None)

    with open(log_path, "w", encoding="utf-8") as errlog:
        if in_memory:  # the server's log would interleave with the demo: send it to the file
            from .logs import configure_logging

            configure_logging([], stream=errlog)
        server, how = _server(state_dir, in_memory, errlog)
        started = datetime.now(UTC).isoformat(timespec="milliseconds")
        scr.line("VTEX Orders MCP demo: the embedded sandbox, a simulated store.")
        scr.line("Nothing here touches a real VTEX account.")
        try:
            async with Client(server, mode=protocol, elicitation_callback=approve) as c:
                tools = (await c.list_tools()).tools
                version = getattr(c, "protocol_version", None)
                scr.line(f"Server: {how}; {len(tools)} tools" + (f"; protocol {version}" if version else ""))
                await _session(c, scr, asked)
        except DemoError as exc:
            scr.line()
            scr.wrap(f"The demo stopped: {exc}", indent=0)
            if temporary:
                errlog.flush()
                scr.line("The server's log ended with:")
                for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-10:]:
                    scr.line(line, 2)
            return 1
    await _show_audit(scr, state_dir, since=started)
    scr.line()
    if temporary:
        scr.wrap("The demo's state (audit log, server log, secret key) was temporary and is removed; "
                 "--state-dir DIR keeps it.", indent=0)  # fmt: skip
    else:
        scr.line(f"Server log: {log_path}" if not in_memory else f"State directory: {state_dir}")
    return 0


async def _session(c: Any, scr: Screen, asked: list[str]) -> str:
    scr.step(1, "List the orders ready for handling")
    args: dict[str, Any] = {"status": "ready-for-handling", "per_page": 5}
    scr.call(ORDER_SEARCH, args)
    listing = _structured(await c.call_tool(ORDER_SEARCH, args))
    rows = listing.get("orders") or []
    if not rows:
        raise DemoError("the sandbox has no order ready for handling")
    for row in rows:
        scr.line(f"{row.get('orderId', ''):<18} {row.get('created', ''):<17} {row.get('customer', '')[:18]:<18} "
                 f"{row.get('total', ''):>12}", 2)  # fmt: skip
    total = (listing.get("paging") or {}).get("total")
    if total:
        scr.line(f"({len(rows)} of {total} orders ready for handling)", 2)

    order_id = rows[0]["orderId"]
    scr.step(2, "Open the newest one")
    scr.call(ORDER_READ, {"order_id": order_id})
    order = _structured(await c.call_tool(ORDER_READ, {"order_id": order_id}))["order"]
    _show_order(scr, order)

    scr.step(3, "Read its conversation with the customer")
    scr.call(ORDER_CONVERSATION, {"order_id": order_id})
    messages = _structured(await c.call_tool(ORDER_CONVERSATION, {"order_id": order_id}))["messages"]
    if not messages:
        scr.line("(no messages)", 2)
    for msg in messages[:4]:
        scr.line(f"{msg.get('date', '')}  {msg.get('from', '')} {scr.arrow} {msg.get('to', '')}", 2)
        scr.line(str(msg.get("subject") or msg.get("body") or ""), 4)
    if len(messages) > 4:
        scr.line(f"({len(messages) - 4} older messages not shown)", 2)

    scr.step(4, "Ask to cancel it")
    args = {"order_id": order_id, "reason": REASON}
    scr.call(ORDER_CANCEL, args)
    result = _structured(await c.call_tool(ORDER_CANCEL, args))
    status = result.get("status")
    if status == "done":
        receipt = (result.get("result") or {}).get("receipt")
        scr.line(f"Result: done. VTEX receipt: {receipt}", 2)
    elif status == "approval_required":  # only when the client could not elicit
        scr.wrap(f"Result: approval required (two-step confirmation): {result.get('summary')}")
    else:
        scr.line(f"Result: {status}, nothing was sent to VTEX.", 2)
    after = _structured(await c.call_tool(ORDER_READ, {"order_id": order_id}))["order"]
    scr.line(f"Order {order_id} is now: {after.get('status')}", 2)
    return order_id


def _show_order(scr: Screen, order: dict[str, Any]) -> None:
    meaning = order.get("statusMeaning")
    scr.line(f"{order.get('status')}" + (f" ({meaning})" if meaning else ""), 2)
    customer = order.get("customer") or {}
    scr.line(f"Customer: {customer.get('name', '')} <{customer.get('email', '')}>", 2)
    totals = order.get("totals") or {}
    breakdown = ", ".join(f"{k} {v}" for k, v in totals.items())
    scr.line(f"Total: {order.get('total')}" + (f" ({breakdown})" if breakdown else ""), 2)
    for item in (order.get("items") or [])[:4]:
        scr.line(f"{item.get('qty', 1)} x {scr.clip(str(item.get('name', '')), 44):<44} {item.get('price', '')}", 4)
    if len(order.get("items") or []) > 4:
        scr.line(f"... {len(order['items']) - 4} more items", 4)
    shipping = order.get("shipping") or {}
    if shipping:
        scr.line(f"Ships by {shipping.get('carrier') or shipping.get('sla')}, estimate {shipping.get('estimate')}", 2)


async def _show_audit(scr: Screen, state_dir: Path, since: str) -> None:
    """The records this run wrote (an existing --state-dir may hold older ones)."""
    from .storage import SqliteStore

    scr.step(5, "The audit trail (vtex-orders-mcp audit)")
    store = SqliteStore(state_dir / "audit.sqlite3")
    try:
        records = [r for r in reversed(await store.recent(50)) if r.time >= since]
    finally:
        store.close()
    if not records:
        scr.line("(no audit records)", 2)
    for rec in records:
        clock = rec.time[11:19]
        extra = (rec.receipt and f"receipt {rec.receipt}") or rec.detail or ""
        scr.line(f"{clock}  {rec.tool}  {rec.event:<10} {rec.channel or '':<12} {rec.principal or '':<6} {extra}", 2)
    summary = next((r.summary for r in records if r.summary), None)
    if summary:
        scr.wrap(summary, indent=2, first="summary: ")
