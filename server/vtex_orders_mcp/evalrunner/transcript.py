"""The transcript of one scenario run, and the masking that makes it reproducible.

A transcript is a list of JSON records, one per line when written out: a ``start`` record
(scenario, file name, sandbox and client set-up), one ``step`` record per step (what was sent,
the approvals asked and answered, the outcome, the checks) and an ``end`` record (the checks on
the final state, pass/fail, the failure messages).

Same scenario and seed give a byte-identical transcript. The sandbox is seeded and its clock is
frozen, so what could still differ between runs is what the *server* makes up: confirmation
tokens (a random id and a wall-clock expiry, sealed with a per-state-dir secret). ``Masker``
replaces each distinct token the server issued with ``<token#N>``, numbered by first appearance,
wherever it occurs (structured content, text, a later step's arguments), so a reused token still
reads as the same one. Wall-clock values the server renders are masked too: today's date (a
prompt's ``{today}``) becomes ``<today>``, a timestamp of today ``<now>`` (audit rows read through
the audit resource), and audit ``call_id``s ``<call#N>``. Audit rows in ``after`` are reported
without their time and call id, request-log entries without their time; durations are never
recorded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Masker", "Transcript", "dumps"]

# Confirmation tokens are JWTs: a JSON header ("eyJ") and two more base64url parts.
_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class Masker:
    """Replaces server-made random values with stable placeholders, consistently within one run.

    Only tokens the server issued are masked (``learn`` reads them from outcomes): a token a
    scenario forges on purpose is its own literal text, and stays readable in the transcript.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._calls: dict[str, str] = {}
        # Wall-clock dates and times the server renders (a prompt's "today", audit rows read
        # through the audit resource): <today>, or <now> with a time of day.
        today = re.escape(datetime.now(UTC).date().isoformat())
        self._now = re.compile(today + r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
        self._today = re.compile(today + r"(?![\d:])")

    def learn(self, value: Any) -> None:
        """Number every token found in ``value`` (a raw outcome), in order of appearance."""
        for token in _TOKEN.findall(dumps(value)):
            self._tokens.setdefault(token, f"<token#{len(self._tokens) + 1}>")

    def _call(self, value: Any) -> Any:
        """Audit call ids are random: numbered, so the events of one call still read as one."""
        if not isinstance(value, str):
            return value
        return self._calls.setdefault(value, f"<call#{len(self._calls) + 1}>")

    def _token(self, m: re.Match[str]) -> str:
        return self._tokens.get(m.group(0), m.group(0))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._today.sub("<today>", self._now.sub("<now>", _TOKEN.sub(self._token, value)))
        if isinstance(value, dict):
            return {self(k): self._call(v) if k == "call_id" else self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value


def dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class Transcript:
    """What running one scenario produced. ``passed`` is True when every check held."""

    name: str
    file: str
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # The store at the end (the sandbox's orders and request log, the full audit records), for
    # checks beyond the scenario's own, e.g. the agent evals' (agent_evals/checks.py).
    final_state: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_jsonl(self) -> str:
        return "".join(dumps(r) + "\n" for r in self.records)

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.to_jsonl(), encoding="utf-8")

    def __str__(self) -> str:
        head = f"{'PASS' if self.passed else 'FAIL'} {self.name} ({self.file})"
        return "\n".join([head, *(f"  - {f}" for f in self.failures)])
