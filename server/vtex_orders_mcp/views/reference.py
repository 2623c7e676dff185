"""The order-status reference: what each status means and which of the server's tools act on an
order in it, derived from the operations' rules (statuses.Rule) so the two cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from .. import statuses

__all__ = ["status_reference", "status_reference_text"]


class _Ruled(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def rule(self) -> statuses.Rule | None: ...
    @property
    def conditions(self) -> str: ...
    @property
    def deprecated_by(self) -> str | None: ...


def status_reference(operations: Iterable[_Ruled]) -> dict[str, Any]:
    """VTEX's rules per status, naming only ``operations`` (the tools this server lists, so a
    read-only or toolset-limited server does not point the model at tools it cannot call).
    Deprecated operations are left out: the model should reach for their replacements."""
    ruled = [op for op in operations if op.rule is not None and not op.deprecated_by]
    return {
        "statuses": [
            {
                "status": status,
                "meaning": statuses.meaning(status),
                "allows": [op.name for op in ruled if op.rule is not None and status in op.rule.allowed],
            }
            for status in statuses.MAIN
        ],
        "modifiableIn": sorted(statuses.MODIFY.allowed),
        "cancelRefusedIn": sorted(statuses.CANCEL.refused),
        "conditions": [op.conditions for op in ruled if op.conditions],
    }


def status_reference_text(ref: dict[str, Any]) -> str:
    """The reference as text, from the very document the JSON read returns (so both agree on
    what this server offers)."""
    width = max(len(s["status"]) for s in ref["statuses"])
    out = ["Order statuses: what each one means and which tools can act on an order in it.", ""]
    for s in ref["statuses"]:
        allows = ", ".join(s["allows"]) or "no action (read only)"
        out.append(f"{s['status'].ljust(width)}  {s['meaning']}. Allows: {allows}.")
    out += ["", "Also:"] + [f"- {c}" for c in ref["conditions"]]
    return "\n".join(out)
