"""Append-only audit log of every guarded call, in embedded SQLite.

One row per event of a write's life: ``requested`` (approval asked, with the summary shown),
the decision (``approved`` / ``declined`` / ``canceled`` / ``token_issued`` / ``token_rejected``
/ ``refused`` / ``bypassed``), ``executing`` (written *before* the request leaves, so a crash
between VTEX applying a write and us recording it still leaves a trace) and the outcome
(``executed`` with VTEX's receipt, ``failed`` with the status, ``outcome_unknown``).

The same file holds the set of spent confirmation-token ids, so single use survives a restart.
WAL journal with ``synchronous=FULL``: a row is on disk when ``record`` returns. Rows are never
updated or deleted by this code. Arguments are stored redacted (``redact``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import scrub

__all__ = ["AuditLog", "AuditRecord", "redact"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    call_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    event TEXT NOT NULL,
    channel TEXT,
    principal TEXT,
    arguments TEXT,
    summary TEXT,
    upstream_status INTEGER,
    receipt TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_call ON audit(call_id);
CREATE TABLE IF NOT EXISTS spent_tokens (
    jti TEXT PRIMARY KEY,
    spent_at REAL NOT NULL
);
"""

# Keys whose values are credentials: exact names, plus anything containing the fragments below.
_SENSITIVE_NAMES = frozenset({"headers", "token", "authorization", "cookie", "appkey", "apptoken"})
_SENSITIVE_PARTS = ("apptoken", "appkey", "password", "secret", "autcookie")


def _sensitive(key: str) -> bool:
    key = key.lower().replace("-", "").replace("_", "")
    return key in _SENSITIVE_NAMES or any(part in key for part in _SENSITIVE_PARTS)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``value`` with secret-looking keys masked and any configured secret replaced."""
    secrets = [s for s in secrets if s]

    def walk(v: Any, key: str = "") -> Any:
        if key and _sensitive(key):
            if isinstance(v, dict):
                return {k: "***" for k in v}
            return "***" if v not in (None, "") else v
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if isinstance(v, str):
            return scrub(v, secrets)
        return v

    return walk(value)


@dataclass(frozen=True)
class AuditRecord:
    id: int
    time: str
    call_id: str
    tool: str
    event: str
    channel: str | None
    principal: str | None
    arguments: Any
    summary: str | None
    upstream_status: int | None
    receipt: str | None
    detail: str | None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class AuditLog:
    def __init__(self, path: Path | str, secrets: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._secrets = list(secrets)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(
        self,
        *,
        call_id: str,
        tool: str,
        event: str,
        channel: str | None = None,
        principal: str | None = None,
        arguments: Any = None,
        summary: str | None = None,
        upstream_status: int | None = None,
        receipt: str | None = None,
        detail: str | None = None,
    ) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        args_json = json.dumps(redact(arguments, self._secrets), sort_keys=True) if arguments is not None else None
        detail = redact(detail, self._secrets) if detail else detail
        with self._lock:
            self._db.execute(
                "INSERT INTO audit (time, call_id, tool, event, channel, principal, arguments, summary,"
                " upstream_status, receipt, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (now, call_id, tool, event, channel, principal, args_json, summary, upstream_status, receipt, detail),
            )

    def spend_token(self, jti: str) -> bool:
        """Mark a confirmation token as used. False if it already was (atomic: PRIMARY KEY)."""
        with self._lock:
            try:
                self._db.execute("INSERT INTO spent_tokens (jti, spent_at) VALUES (?, ?)", (jti, time.time()))
            except sqlite3.IntegrityError:
                return False
            return True

    def token_spent(self, jti: str) -> bool:
        """Whether a confirmation token was used already (a read; ``spend_token`` is the atomic step)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM spent_tokens WHERE jti = ?", (jti,)).fetchone() is not None

    def recent(self, limit: int = 50, *, tool: str | None = None) -> list[AuditRecord]:
        sql = "SELECT * FROM audit"
        params: tuple[Any, ...] = ()
        if tool:
            sql += " WHERE tool = ?"
            params = (tool,)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*params, limit)).fetchall()
        return [
            AuditRecord(
                id=r[0], time=r[1], call_id=r[2], tool=r[3], event=r[4], channel=r[5], principal=r[6],
                arguments=json.loads(r[7]) if r[7] else None, summary=r[8], upstream_status=r[9],
                receipt=r[10], detail=r[11],
            )
            for r in rows
        ]
