"""One ticket's store: a seeded sandbox on a loopback port, the server's stdio command for it, and
what the store looks like afterwards.

The sandbox runs in this process, in a thread of its own (uvicorn's ``run``: its own event loop, no
signal handlers), so the agent's server reaches it over real HTTP exactly as it would reach VTEX,
while the scorers read the sandbox's own state and request log rather than anything the agent
said. The server is the real ``vtex-orders-mcp`` process over stdio, pointed at the sandbox with
``VTEX_BASE_URL`` and the sandbox's credentials, with the default guard: a client that cannot
elicit (Inspect's) gets the approval page, where the scripted human decides.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime

from ..sandbox import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Sandbox
from ..sandbox.standalone import make_server
from .checks import SETTLE_SECONDS, StoreState, digest
from .tickets import Ticket

__all__ = ["Storefront", "order_digests", "seeded_digests"]


def order_digests(sandbox: Sandbox) -> dict[str, str]:
    return {order_id: digest(doc) for order_id, doc in sandbox.store.orders.items()}


def _now(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def seeded_digests(ticket: Ticket) -> dict[str, str]:
    """The digests of the ticket's store as seeded, before anyone touched it."""
    return order_digests(Sandbox(seed=ticket.seed, orders=ticket.orders, now=_now(ticket.now)))


class Storefront:
    """A seeded sandbox served on 127.0.0.1 for one sample; ``start`` / ``stop`` around the agent."""

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        self.server, self.sandbox = make_server(
            port=0, log_level="critical", seed=ticket.seed, orders=ticket.orders, now=_now(ticket.now)
        )
        self.seeded = order_digests(self.sandbox)
        self.state_dir = tempfile.mkdtemp(prefix="vtex-agent-eval-")
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(target=self.server.run, name=f"sandbox-{self.ticket.id}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.01)

    @property
    def base_url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def server_command(self) -> tuple[str, list[str], dict[str, str]]:
        """``(command, args, env)`` for the MCP server over stdio, pointed at this sandbox.

        The environment is complete by itself: the MCP client adds only the platform's basics
        (HOME, PATH, ...), so no VTEX_* variable of the caller, a real store's above all, leaks in.
        """
        env = {
            "VTEX_BASE_URL": self.base_url,
            "VTEX_ACCOUNT_NAME": "sandbox",
            "VTEX_APP_KEY": SANDBOX_APP_KEY,
            "VTEX_APP_TOKEN": SANDBOX_APP_TOKEN,
            "VTEX_MCP_STATE_DIR": self.state_dir,
            "VTEX_MCP_LOG_LEVEL": "WARNING",
        }
        if self.ticket.toolsets:
            env["VTEX_MCP_TOOLSETS"] = ",".join(self.ticket.toolsets)
        return sys.executable, ["-m", "vtex_orders_mcp", "serve"], env

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    async def state(self) -> StoreState:
        """The store after the agent (call after ``stop``): the clock settled, the log, the audit."""
        from ..config import Settings
        from ..storage import open_store

        self.sandbox.clock.advance(SETTLE_SECONDS)
        self.sandbox.tick()
        store = open_store(Settings.from_env({}, state_dir=self.state_dir))
        try:
            records = [r.as_dict() for r in reversed(await store.recent(100_000))]
        finally:
            await store.aclose()
        return StoreState.build(
            orders=self.sandbox.store.orders,
            seeded=self.seeded,
            requests=[r.to_dict() for r in self.sandbox.requests],
            audit=records,
            targets=self.ticket.targets,
        )

    def remove(self) -> None:
        shutil.rmtree(self.state_dir, ignore_errors=True)
