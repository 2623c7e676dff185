"""Shared fixtures: the anyio backend, fresh settings, and an app on a fresh embedded sandbox."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path):
    from vtex_orders_mcp.config import Settings

    return Settings.from_env({}, state_dir=tmp_path / "state")
