"""Support tickets: the agent evals' dataset (tickets.yaml), read and checked against its schema.

A ticket is what a support agent gets (a customer's message, maybe the order the help desk linked
it to), the store it is answered against (a seeded sandbox: seed, orders, frozen clock; the same
defaults as the scenario runner's, so one seed means one store everywhere), the human who
answers approvals, what the store must look like afterwards, and a reference trajectory: the
tool calls and reply of an agent that gets it right. Inspect's mock model replays the reference;
the scenario runner runs it too (scenarios.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from ..evalrunner.runner import DEFAULT_NOW, DEFAULT_ORDERS, DEFAULT_SEED

__all__ = ["TICKETS_PATH", "Ticket", "TicketError", "load_tickets"]

TICKETS_PATH = Path(str(files(__package__).joinpath("tickets.yaml")))
_SCHEMA = Path(str(files(__package__).joinpath("tickets.schema.json")))


class TicketError(ValueError):
    """A tickets file that is not valid: named with the place of the first problem."""


@dataclass(frozen=True)
class Ticket:
    id: str
    workflow: str
    message: str
    target: str  # the order the ticket is really about: the one that may change
    human: str  # approve | decline | approve_if_target
    expect: dict[str, Any]
    reference: tuple[dict[str, Any], ...]
    customer: dict[str, str] | None = None
    order_id: str | None = None  # the order the help desk linked the ticket to, if any
    traps: tuple[str, ...] = ()
    seed: int = DEFAULT_SEED
    orders: int = DEFAULT_ORDERS
    now: str = DEFAULT_NOW
    toolsets: tuple[str, ...] = ()

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target,)

    def prompt(self) -> str:
        """The ticket as the agent reads it."""
        who = self.customer or {}
        sender = " ".join(x for x in (who.get("name"), f"<{who['email']}>" if who.get("email") else None) if x)
        lines = [f"Support ticket from {sender or 'a customer'}:", "", self.message.strip()]
        if self.order_id:
            lines += ["", f"Order linked by the help desk: {self.order_id}"]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Ticket:
        tuples = {"reference", "traps", "toolsets"}
        fields: dict[str, Any] = {k: tuple(v) if k in tuples else v for k, v in doc.items()}
        return cls(**fields)


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(_SCHEMA.read_text(encoding="utf-8")))


def _validate(doc: Any, origin: str) -> None:
    errors = sorted(_validator().iter_errors(doc), key=lambda e: len(list(e.absolute_path)), reverse=True)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise TicketError(f"{origin}: {where}: {errors[0].message}")


def load_tickets(path: str | Path | None = None) -> list[Ticket]:
    """Every ticket of the file (default: the bundled tickets.yaml), with the file's defaults."""
    path = Path(path) if path is not None else TICKETS_PATH
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    _validate(doc, str(path))
    store = {"seed": DEFAULT_SEED, "orders": DEFAULT_ORDERS, "now": DEFAULT_NOW, **(doc.get("sandbox") or {})}
    toolsets = tuple((doc.get("server") or {}).get("toolsets") or ())
    tickets = []
    for raw in doc["tickets"]:
        fields = {**store, "toolsets": toolsets, **raw.pop("sandbox", {}), **raw}
        tickets.append(Ticket.from_dict(fields))
    ids = [t.id for t in tickets]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise TicketError(f"{path}: ticket ids must be unique: {', '.join(dupes)}")
    return tickets
