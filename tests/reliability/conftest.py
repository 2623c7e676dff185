"""Fixtures for the reliability suite: the anyio backend (in case the root conftest lacks it)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
