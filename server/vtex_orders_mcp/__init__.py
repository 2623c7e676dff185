"""vtex-orders-mcp: the VTEX Orders API as MCP tools, resources and prompts, with a human in the loop."""

from .config import Settings
from .errors import ConfigError, VtexError, VtexHTTPError
from .registry import OPERATIONS, Operation
from .server import App, build_server

__all__ = ["OPERATIONS", "App", "ConfigError", "Operation", "Settings", "VtexError", "VtexHTTPError", "build_server"]
