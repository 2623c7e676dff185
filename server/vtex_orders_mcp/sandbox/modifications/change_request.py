"""One change request as the sandbox keeps it, and the statuses it goes through.

VTEX: a change request's status "progresses in the following order: waiting-acknowledgement,
waiting-confirmation, done, canceled". A request that stops on error keeps `waiting-confirmation`
with `in_progress` false and `error` set (see `service`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["CANCELED", "DONE", "WAITING_ACK", "WAITING_CONF", "ChangeRequest"]

WAITING_ACK = "waiting-acknowledgement"
WAITING_CONF = "waiting-confirmation"
DONE = "done"
CANCELED = "canceled"


@dataclass
class ChangeRequest:
    request_id: str
    workflow_id: str
    order_id: str
    reason: str
    entries: list[dict]
    manual_discount: int
    manual_increment: int
    settings_override: dict | None
    date: str
    started: datetime
    component: str
    new_unique_ids: list[list[str]]  # uniqueIds reserved for `to` items that become new lines
    status: str = WAITING_ACK
    in_progress: bool = True
    error: dict | None = None
    logs: list[dict] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    total_change: int = 0
    rendered_from: list[list[dict]] = field(default_factory=list)
    rendered_to: list[list[dict]] = field(default_factory=list)
    applied: dict | None = None  # what processing did to the order (for the change summary)
