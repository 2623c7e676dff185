"""The statements both SQL stores share: one text, two databases (sqlite.py, postgres.py).

``SqlStore`` writes every query once, with ``%s`` placeholders (SQLite's driver gets them as
``?``), and leaves to each database what differs: how a statement runs (``_fetch``, ``_count``),
how JSON and times travel (``_json_in``/``_json_out``, ``_time_in``/``_time_out``), and the two
claims whose atomic form is the database's own (``spend``, ``decide_approval``). A scoped view
(``Store.scoped``) adds its account to every read (``_mine``).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .base import Approval, ApprovalStatus, AuditRecord, Store

__all__ = ["APPROVAL_COLUMNS", "AUDIT_COLUMNS", "SqlStore"]

APPROVAL_COLUMNS = (
    "id, account, tool, arguments, digest, summary, state, principal, channel, created_at, "
    "expires_at, status, decided_by, decided_at, outcome, reported"
)
AUDIT_COLUMNS = (
    "id, time, call_id, tool, event, channel, principal, arguments, summary, upstream_status, receipt, detail, account"
)


class SqlStore(Store):
    # How an audit row's arguments (JSON text, from ``Store.record``) are inserted.
    ARGUMENTS = "%s"

    @abstractmethod
    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; the rows it returned."""

    @abstractmethod
    async def _count(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""

    def _json_in(self, value: Any) -> Any:
        return json.dumps(value)

    def _json_out(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def _time_in(self, value: datetime) -> Any:
        return value.isoformat(timespec="milliseconds")

    def _time_out(self, value: Any) -> str:
        return str(value)

    def _mine(self, where: list[str], params: list[Any]) -> str:
        """The WHERE clause with this view's account filter added (scoped views only)."""
        if self.account is not None:
            where.append("account = %s")
            params.append(self.account)
        return f" WHERE {' AND '.join(where)}" if where else ""

    # --- the audit log ----------------------------------------------------------------------------

    async def _append(self, row: tuple[Any, ...]) -> None:
        sql = (
            "INSERT INTO audit (account, time, call_id, tool, event, channel, principal, arguments, summary,"
            f" upstream_status, receipt, detail) VALUES (%s,%s,%s,%s,%s,%s,%s,{self.ARGUMENTS},%s,%s,%s,%s)"
        )
        await self._count(sql, row)

    async def recent(self, limit: int = 50, *, tool: str | None = None) -> list[AuditRecord]:
        params: list[Any] = [tool] if tool else []
        where = self._mine(["tool = %s"] if tool else [], params)
        rows = await self._fetch(
            f"SELECT {AUDIT_COLUMNS} FROM audit{where} ORDER BY id DESC LIMIT %s", [*params, limit]
        )
        return [self._record(r) for r in rows]

    async def audit_after(self, after_id: int, limit: int) -> list[AuditRecord]:
        params: list[Any] = [after_id]
        where = self._mine(["id > %s"], params)
        rows = await self._fetch(f"SELECT {AUDIT_COLUMNS} FROM audit{where} ORDER BY id LIMIT %s", [*params, limit])
        return [self._record(r) for r in rows]

    async def prune_audit(self, before: datetime) -> int:
        params: list[Any] = [self._time_in(before)]
        return await self._count("DELETE FROM audit" + self._mine(["time < %s"], params), params)

    # --- spent keys -------------------------------------------------------------------------------

    async def is_spent(self, key: str) -> bool:
        return bool(await self._fetch("SELECT 1 FROM spent WHERE key = %s", [key]))

    async def prune(self, now: float) -> int:
        return await self._count("DELETE FROM spent WHERE expires_at < %s", [now])

    # --- approvals --------------------------------------------------------------------------------

    async def create_approval(self, approval: Approval) -> None:
        row = (
            approval.id,
            approval.account,
            approval.tool,
            self._json_in(approval.arguments),
            approval.digest,
            approval.summary,
            approval.state,
            approval.principal,
            approval.channel,
            approval.created_at,
            approval.expires_at,
            approval.status,
            approval.decided_by,
            approval.decided_at,
            self._json_in(approval.outcome) if approval.outcome is not None else None,
            approval.reported,
        )
        await self._count(f"INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES ({', '.join(['%s'] * 16)})", row)

    async def get_approval(self, approval_id: str) -> Approval | None:
        params: list[Any] = [approval_id]
        rows = await self._fetch(f"SELECT {APPROVAL_COLUMNS} FROM approvals" + self._mine(["id = %s"], params), params)
        return self._approval(rows[0]) if rows else None

    async def find_approval(self, account: str, principal: str, tool: str, digest: str) -> Approval | None:
        rows = await self._fetch(
            f"SELECT {APPROVAL_COLUMNS} FROM approvals WHERE account = %s AND principal = %s AND tool = %s "
            "AND digest = %s AND reported = %s ORDER BY created_at DESC LIMIT 1",
            [account, principal, tool, digest, False],
        )
        return self._approval(rows[0]) if rows else None

    async def report_approval(self, approval_id: str) -> bool:
        changed = await self._count(
            "UPDATE approvals SET reported = %s WHERE id = %s AND reported = %s "
            "AND status NOT IN ('pending', 'approved')",
            [True, approval_id, False],
        )
        return changed == 1

    async def finish_approval(self, approval_id: str, status: ApprovalStatus, outcome: dict[str, Any]) -> bool:
        changed = await self._count(
            "UPDATE approvals SET status = %s, outcome = %s WHERE id = %s AND status = 'approved'",
            [status, self._json_in(outcome), approval_id],
        )
        return changed == 1

    def _decision(self, approval_id: str, approve: bool, by: str, now: float) -> tuple[str, list[Any]]:
        """The decision's UPDATE (without RETURNING) and its parameters: pending and unexpired only."""
        params: list[Any] = ["approved" if approve else "declined", by, now, approval_id, now]
        where = self._mine(["id = %s", "status = 'pending'", "expires_at > %s"], params)
        return f"UPDATE approvals SET status = %s, decided_by = %s, decided_at = %s{where}", params

    # --- rows -------------------------------------------------------------------------------------

    def _approval(self, r: tuple[Any, ...]) -> Approval:
        return Approval(
            id=r[0],
            account=r[1],
            tool=r[2],
            arguments=self._json_out(r[3]),
            digest=r[4],
            summary=r[5],
            state=r[6],
            principal=r[7],
            channel=r[8],
            created_at=r[9],
            expires_at=r[10],
            status=r[11],
            decided_by=r[12],
            decided_at=r[13],
            outcome=self._json_out(r[14]) if r[14] is not None else None,
            reported=bool(r[15]),
        )

    def _record(self, r: tuple[Any, ...]) -> AuditRecord:
        return AuditRecord(
            id=r[0],
            time=self._time_out(r[1]),
            call_id=r[2],
            tool=r[3],
            event=r[4],
            channel=r[5],
            principal=r[6],
            arguments=self._json_out(r[7]) if r[7] else None,
            summary=r[8],
            upstream_status=r[9],
            receipt=r[10],
            detail=r[11],
            account=r[12],
        )
