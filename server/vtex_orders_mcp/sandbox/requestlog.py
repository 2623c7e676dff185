"""The sandbox's request log: every request that reaches a VTEX path, refused ones included.

Tests and evals assert on it ("no write happened", "exactly one cancel"), so each entry records the
route template the request matched, the parsed body and the status the client actually saw.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    time: str
    status: int  # what the client saw; 0 when an injected reset dropped the connection
    route: str  # "<METHOD> <path template>", or "<METHOD> <path>" when no route matched
    fault: str | None = None  # kind of the injected fault, if any ("status", "reset", ...)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
