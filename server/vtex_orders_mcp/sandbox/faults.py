"""Fault injection: make chosen requests slow, fail, hang, drop the connection or return junk.

A `Fault` matches requests by method and path regex; when it matches, it fires with probability
`rate`, drawn from the fault set's own `random.Random(seed)` so a run with the same seed and the same
request sequence injects the same faults. `times` caps the number of injections. Kinds:

* latency   - sleep `delay` seconds, then answer normally (combines with other faults);
* status    - answer `status` (default 503) with a short text body and, if set, Retry-After;
* timeout   - sleep `delay` (default 30 s) before answering: the client's own deadline fires first
              (in-process the transport then cancels the request, so the handler never runs; over
              HTTP the handler still runs after the delay, like a slow server would);
* reset     - the connection drops mid-response (the in-process transport raises httpx2.ReadError,
              or RemoteProtocolError when `after`; over HTTP the server closes the socket);
* malformed - 200 with a truncated JSON body.

`after=True` runs the route handler first (the write happens) and only then fails, which is the
"outcome unknown" case a client must not blindly retry.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("latency", "status", "timeout", "reset", "malformed")


@dataclass
class Fault:
    kind: str
    method: str | None = None
    path: str | None = None
    rate: float = 1.0
    status: int = 503
    retry_after: float | None = None
    delay: float | None = None
    after: bool = False
    times: int | None = None
    injected: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if not 0.0 <= float(self.rate) <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.delay is None:
            self.delay = 30.0 if self.kind == "timeout" else 0.0
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self._pattern is not None and not self._pattern.search(path):
            return False
        return self.times is None or self.injected < self.times

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        allowed = {"kind", "method", "path", "rate", "status", "retry_after", "delay", "after", "times"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise ValueError("fault needs a kind")
        return cls(**data)


class FaultSet:
    """The active faults of one sandbox, with their deterministic random source."""

    def __init__(self, seed: int):
        self._seed = seed
        self._rng = random.Random(seed)
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def reset(self) -> None:
        self.faults.clear()
        self._rng = random.Random(self._seed)

    def pick(self, method: str, path: str) -> tuple[list[Fault], Fault | None]:
        """The latency faults that fire and the first other fault that fires (each counted)."""
        delays: list[Fault] = []
        chosen: Fault | None = None
        for fault in self.faults:
            if not fault.matches(method, path):
                continue
            if chosen is not None and fault.kind != "latency":
                continue
            # Always draw for a matching fault, so the sequence of draws depends only on the requests.
            if self._rng.random() >= fault.rate:
                continue
            fault.injected += 1
            if fault.kind == "latency":
                delays.append(fault)
            else:
                chosen = fault
        return delays, chosen

    def __iter__(self):
        return iter(self.faults)

    def __len__(self) -> int:
        return len(self.faults)


class InjectedReset(Exception):
    """Raised by the app to drop the connection; the in-process transport maps it to an httpx2 error."""

    def __init__(self, after: bool):
        super().__init__("sandbox fault: connection reset" + (" after the handler ran" if after else ""))
        self.after = after
