"""The registry: every operation of the VTEX Orders API, declared once, and what is derived from it.

``catalog.py`` declares the 36 ``Operation``s (operation.py says what one holds). Everything
else is derived from them: the MCP tools and their annotations (tools.py), the guard's policy
(every non-``read`` operation needs a human's approval) and its questions (guard/), the retry
policy (client.py: reads are retried, writes never are), the resources that mirror reads
(resources.py), the status reference (views/reference.py), the schemas in ``tool_schemas/`` and
the README's tool table (docs.py).

A ``Registry`` is a set of operations with the rules every consumer shares (``offered``). The
server is built from ``REGISTRY`` unless it is given another one (tests add a throwaway
operation that way, and see it reach every consumer without another edit).

No other module of the server holds a string equal to a tool name (tests/test_architecture.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .catalog import (
    CARD_TOOL,
    CHECK_TOOL,
    CONFIRM_TOOL,
    OPERATIONS,
    ORDER_CANCEL,
    ORDER_CONVERSATION,
    ORDER_READ,
    ORDER_SEARCH,
)
from .operation import (
    ACCOUNT,
    Call,
    Example,
    Find,
    Kind,
    Operation,
    OrderResource,
    Paging,
    Ref,
    Request,
    build_request,
)

__all__ = [
    "ACCOUNT",
    "BY_NAME",
    "CARD_TOOL",
    "CHECK_TOOL",
    "CONFIRM_TOOL",
    "OPERATIONS",
    "ORDER_CANCEL",
    "ORDER_CONVERSATION",
    "ORDER_READ",
    "ORDER_SEARCH",
    "REGISTRY",
    "TOOLSETS",
    "Call",
    "Example",
    "Find",
    "Kind",
    "Operation",
    "OrderResource",
    "Paging",
    "Ref",
    "Registry",
    "Request",
    "build_request",
]

# Toolsets: an operator lists only the groups a deployment needs (VTEX_MCP_TOOLSETS), so a support
# desk's assistant does not carry feed and hook plumbing in its context. Each operation's ``group``
# is its toolset; the descriptions are what `--help` and configuration errors show.
TOOLSETS: dict[str, str] = {
    "orders": "get, list, cancel and start handling orders; interaction notes; the deprecated register changes",
    "modifications": "preview, create, follow, retry and cancel order modifications; their settings",
    "invoice": "invoices (sale and return), tracking numbers and delivery events",
    "conversation": "e-mails exchanged with the customer",
    "payment": "payment transactions and payment notifications",
    "feed": "the order feed (v3, and the deprecated v2 status) and its JSONata filters",
    "hook": "the order hook: which updates are POSTed to which URL",
    "user": "orders as one customer sees them, by e-mail",
    "checkout": "the window during which another seller may take a canceled order",
}


class Registry:
    """A checked set of operations. ``order_read`` reads one order by ``orderId`` (approval
    questions, outcome-unknown reports, the order resources); ``order_search`` searches orders
    (completions). Both must be reads of the set."""

    def __init__(
        self, operations: Iterable[Operation], *, order_read: str = ORDER_READ, order_search: str = ORDER_SEARCH
    ) -> None:
        self.operations: tuple[Operation, ...] = tuple(operations)
        self.by_name: dict[str, Operation] = {op.name: op for op in self.operations}
        if len(self.by_name) != len(self.operations):
            raise ValueError("duplicate operation name")
        for guard_tool in (CONFIRM_TOOL, CHECK_TOOL, CARD_TOOL):
            if guard_tool in self.by_name:
                raise ValueError(f"{guard_tool} is the name of one of the guard's own tools")
        for op in self.operations:
            if op.group not in TOOLSETS:
                raise ValueError(f"{op.name}: group {op.group!r} is not a toolset")
            if op.read_only and not op.answers_document:
                raise ValueError(f"{op.name}: a read always answers a document")
            if op.deprecated_by is not None and op.deprecated_by not in self.by_name:
                raise ValueError(f"{op.name}: deprecated by an unknown operation {op.deprecated_by!r}")
        self.order_read = self._read(order_read)
        self.order_search = self._read(order_search)

    def _read(self, name: str) -> Operation:
        op = self.by_name.get(name)
        if op is None or not op.read_only:
            raise ValueError(f"{name!r} must be a read of the registry")
        return op

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def get(self, name: str) -> Operation | None:
        return self.by_name.get(name)

    @property
    def writes(self) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if not op.read_only)

    def offered(self, *, read_only: bool, toolsets: frozenset[str] | None) -> tuple[Operation, ...]:
        """The operations a server with these settings lists as tools, in registry order: the one
        rule tools, prompts, resources and the guard's confirm step share. ``toolsets`` None means
        all of them."""
        return tuple(
            op
            for op in self.operations
            if (op.read_only or not read_only) and (toolsets is None or op.group in toolsets)
        )

    def tool_names(
        self, *, read_only: bool, toolsets: frozenset[str] | None, guard: str = "auto"
    ) -> tuple[set[str], set[str]]:
        """(every tool name a server of this registry can list, the ones it lists to the model with
        these settings): the offered operations, plus, when a write is offered, the guard's step
        for the model (``confirm_write`` with ``--guard token``, else ``check_approval``)."""
        every = {op.name for op in self.operations} | {CONFIRM_TOOL, CHECK_TOOL}
        ops = self.offered(read_only=read_only, toolsets=toolsets)
        step = CONFIRM_TOOL if guard == "token" else CHECK_TOOL
        listed = {op.name for op in ops} | ({step} if any(not op.read_only for op in ops) else set())
        return every, listed


REGISTRY = Registry(OPERATIONS)
BY_NAME = REGISTRY.by_name
