"""vtex-orders-mcp: the VTEX Orders API as MCP tools, resources and prompts, with a human in the loop.

The names below are imported on first use (PEP 562), so that ``python -m vtex_orders_mcp`` and
the ``vtex-orders-mcp`` command start by holding the garbage collector (``__main__.py``) before
anything heavy is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .config import Settings
    from .errors import ConfigError, VtexError, VtexHTTPError
    from .registry import OPERATIONS, Operation
    from .server import App, build_server

__all__ = [
    "OPERATIONS",
    "App",
    "ConfigError",
    "Operation",
    "Settings",
    "VtexError",
    "VtexHTTPError",
    "__version__",
    "build_server",
]

_HOME = {
    "OPERATIONS": "registry",
    "App": "server",
    "ConfigError": "errors",
    "Operation": "registry",
    "Settings": "config",
    "VtexError": "errors",
    "VtexHTTPError": "errors",
    "build_server": "server",
}


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
