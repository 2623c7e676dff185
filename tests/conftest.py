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


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for this test process (pg_support.py): started on first use,
    stopped at the end. No binaries is a failure naming the fix, never a skip."""
    from pg_support import Cluster

    try:
        cluster = Cluster().start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture
def database_url(postgres) -> str:
    """The URL of a new, empty database on the test server."""
    return postgres.database()
