"""Where the server keeps what outlives a call: the audit log, spent approvals, pending approvals (base.py)."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import ConfigError
from .base import Approval, ApprovalStatus, AuditRecord, CallRecord, Store
from .sqlite import SqliteStore

__all__ = ["Approval", "ApprovalStatus", "AuditRecord", "CallRecord", "SqliteStore", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store the settings name: PostgreSQL when ``VTEX_MCP_DATABASE_URL`` is set (shared by
    replicas), else SQLite in the state directory. PostgreSQL connects on ``open`` (or first use)."""
    if settings.database_url is not None:
        try:  # psycopg (the postgres extra) is installed and imported only by deployments that use it
            from .postgres import PostgresStore
        except ImportError as exc:
            raise ConfigError(
                "VTEX_MCP_DATABASE_URL needs PostgreSQL support: pip install 'vtex-orders-mcp[postgres]' "
                f"({exc.name or 'psycopg'} is missing)."
            ) from None

        return PostgresStore(settings.database_url.get_secret_value(), secrets=settings.secret_values())
    return SqliteStore(Path(settings.state_dir) / "audit.sqlite3", secrets=settings.secret_values())
