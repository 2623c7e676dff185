"""The ``Operation`` record and the small records it points to, and how a call becomes a request.

An ``Operation`` is data: tool name, HTTP method and path template (spelled as in VTEX's index),
input model, kind (``read`` | ``write`` | ``destructive``), idempotency, upstream timeout,
deprecation, view, and a description written for the model that picks tools. It also carries
everything else that is specific to the operation, so that no other module keeps a table keyed
by a tool name:

- ``summary``: what the approval question says about the arguments (guard/review.py);
- ``hint``: the next step when VTEX refuses the call because of the order's state;
- ``rule`` and ``conditions``: the order statuses that allow it (statuses.Rule) and, in words,
  the documented conditions beyond the status (the guard checks the rule before asking a human;
  the status reference lists both);
- ``paging``: how to fetch every page (list_orders' ``all_pages``) and every order of a creation
  range past VTEX's window (``whole_range``);
- ``resource``: the ``vtex://orders/{order_id}...`` resource that mirrors a read;
- ``example``: a call that succeeds on a fresh embedded sandbox (tests run every one; docs show them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel

from .. import models as m
from ..statuses import Rule
from ..views import RAW, Money, View

__all__ = [
    "ACCOUNT",
    "Call",
    "Example",
    "Find",
    "Kind",
    "Operation",
    "OrderResource",
    "Paging",
    "Ref",
    "Request",
    "Summary",
    "build_request",
    "creation_range",
    "vtex_instant",
]

Kind = Literal["read", "write", "destructive"]
ACCOUNT = "{account}"  # placeholder the client fills with the configured account name
# (validated arguments, the order's document or {} when there is none, the store's money format)
Summary = Callable[[Any, Mapping[str, Any], Money], str]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, Any]
    body: Any | None
    subject: str = ""  # the first path id (an orderId, usually), for messages


@dataclass(frozen=True)
class Paging:
    """A read whose rows come in pages. ``flag`` is the boolean argument that asks for every page,
    ``page`` / ``per_page`` the page arguments; VTEX serves at most ``max_pages`` pages of at most
    ``max_per_page`` rows; the rows are under ``rows`` in its answer and the counts under
    ``paging.total`` / ``paging.pages``.

    The walk past that window (ranges.py): ``whole_range`` is the argument that asks for every
    row whose ``date`` lies between the ``start`` and ``end`` arguments, in the ``order``
    argument's direction, with counts by ``status`` (its value ``counts``) or not (``rows``);
    rows are told apart by ``key``."""

    flag: str = "all_pages"
    page: str = "page"
    per_page: str = "per_page"
    max_pages: int = 30
    max_per_page: int = 100
    rows: str = "list"
    whole_range: str = "whole_range"
    start: str = "created_from"
    end: str = "created_to"
    order: str = "order_by"
    date: str = "creationDate"
    status: str = "status"
    key: str = "orderId"


@dataclass(frozen=True)
class OrderResource:
    """The resource ``vtex://orders/{order_id}<suffix>`` that reads the same thing as the tool (its
    JSON is the tool's structured result), plus a ``.txt`` twin with the view's text."""

    suffix: str
    name: str
    title: str
    description: str

    @property
    def uri(self) -> str:
        return "vtex://orders/{order_id}" + self.suffix


# --- examples -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Find:
    """A value an example reads from another tool's answer (ids the sandbox made up): call ``tool``
    with ``args`` (which may hold Finds too), then follow ``path`` in its structured result: keys
    and list indexes separated by dots, ``*`` for every element of a list, ``[key~regex]`` for the
    first element whose ``key`` matches."""

    tool: str
    args: Mapping[str, Any]
    path: str


@dataclass(frozen=True)
class Ref:
    """A value from the structured result of the example's ``before`` step number ``step``."""

    step: int
    path: str


@dataclass(frozen=True)
class Call:
    tool: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Example:
    """A call that succeeds on a fresh embedded sandbox (default seed, any order count from 40):
    ``before`` runs first (approved when it writes), then the sandbox clock moves ``wait``
    seconds, then the call. tests/test_tools.py runs every operation's example through the guard."""

    args: Mapping[str, Any]
    before: tuple[Call, ...] = ()
    wait: float = 0.0


# --- the operation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    name: str
    title: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    args: type[m.Args]
    kind: Kind
    description: str
    group: str
    example: Example
    idempotent: bool = False
    timeout: float | None = None  # seconds; None = Settings.timeout
    deprecated_by: str | None = None
    view: View = RAW
    fixed_query: Mapping[str, str] = field(default_factory=dict)
    extra_query: Callable[[Any], dict[str, Any]] | None = None
    # Which argument names the order this write touches (the guard reads that order for its
    # question and binds the approval to its state).
    order_arg: str | None = None
    # False for the writes VTEX documents as answering 2xx without content (docs/VTEX_ORDERS_API.md #4,
    # #7, #13, #16, #17, #19, #22, #28, #33): the client passes stray plain text on for them,
    # where every other operation must answer JSON or nothing.
    answers_document: bool = True
    # Whether an approval of this write holds only for the order as the user saw it (guard
    # binding). False for a note: it does not depend on the order's state, nor change it.
    state_bound: bool = True
    summary: Summary | None = None
    hint: str = ""
    rule: Rule | None = None
    conditions: str = ""
    paging: Paging | None = None
    resource: OrderResource | None = None

    @property
    def read_only(self) -> bool:
        return self.kind == "read"

    @property
    def destructive(self) -> bool:
        return self.kind == "destructive"

    def retries(self, configured: int) -> int:
        """How many times a failed call may be resent. Reads: ``configured``. Idempotent writes: at
        most once, and only when VTEX provably did not apply the first attempt (see client.py).
        Other writes: never; a lost answer is reported as "outcome unknown", not resent."""
        if self.read_only:
            return configured
        return min(1, configured) if self.idempotent else 0

    def full_view(self, args: m.Args) -> bool:
        """Whether the call asked for VTEX's whole document (``view: full``)."""
        return getattr(args, "view", "compact") == "full"


# --- requests -----------------------------------------------------------------------------------


def _where(model: type[BaseModel], name: str) -> Any:
    for meta in model.model_fields[name].metadata:
        if isinstance(meta, m.Query) or meta is m.PATH or meta is m.LOCAL:
            return meta
    return None


def build_request(op: Operation, args: m.Args, account: str) -> Request:
    """Split validated ``args`` into path variables, query parameters and a JSON body."""
    path_vars: dict[str, str] = {}
    query: dict[str, Any] = {}
    body_fields: set[str] = set()
    null_fields: list[str] = []
    model = type(args)
    for name in model.model_fields:
        value = getattr(args, name)
        where = _where(model, name)
        if where is m.PATH:
            path_vars[m.wire_name(model, name)] = str(value)
        elif isinstance(where, m.Query):
            if value is not None:
                query[where.name or name] = str(value).lower() if isinstance(value, bool) else value
        elif where is None:
            body_fields.add(name)
            if value is None and m.KEEP_NULL in model.model_fields[name].metadata:
                null_fields.append(m.wire_name(model, name))
    for key, val in op.fixed_query.items():
        query[key] = account if val == ACCOUNT else val
    if op.extra_query is not None:
        query.update(op.extra_query(args))
    path = op.path.format(**{k: quote(v, safe="") for k, v in path_vars.items()})
    json_body: dict[str, Any] | None = None
    if body_fields and op.method != "GET":
        # pydantic serializes: VTEX's names (the WIRE context), cents-as-string fields, dates; unset
        # optionals omitted.
        json_body = args.model_dump(mode="json", by_alias=True, include=body_fields, exclude_none=True, context=m.WIRE)
        json_body.update(dict.fromkeys(null_fields))
    return Request(op.method, path, query, json_body, next(iter(path_vars.values()), ""))


def vtex_instant(dt: datetime) -> str:
    """An instant as VTEX's date filters write it: UTC to the millisecond, with Z (naive means
    UTC). isoformat, not strftime: %Y writes year 1 as "1", which is no ISO 8601 date."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _utc(dt: datetime | None) -> str:
    return "*" if dt is None else vtex_instant(dt)


def creation_range(args: Any) -> dict[str, Any]:
    """ListOrders' creation-date filter from ``created_from`` / ``created_to`` (naive means UTC)."""
    if args.created_from is None and args.created_to is None:
        return {}
    return {"f_creationDate": f"creationDate:[{_utc(args.created_from)} TO {_utc(args.created_to)}]"}
