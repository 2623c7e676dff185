"""Where the server keeps what outlives a call: the audit log and spent approvals (base.py)."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from .base import Approval, ApprovalStatus, AuditRecord, CallRecord, Store
from .sqlite import SqliteStore

__all__ = ["Approval", "ApprovalStatus", "AuditRecord", "CallRecord", "SqliteStore", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store the settings name: SQLite in the state directory."""
    return SqliteStore(Path(settings.state_dir) / "audit.sqlite3", secrets=settings.secret_values())
