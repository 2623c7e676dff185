"""vtex-orders-mcp: the VTEX Orders API as MCP tools, resources and prompts, with a human in the loop."""

from ._version import __version__
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
