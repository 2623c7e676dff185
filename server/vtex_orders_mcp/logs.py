"""Operator logging: stderr only (stdout is the MCP stdio channel), secrets scrubbed.

The client never logs headers, but a library further down might (httpx2 logs every request
URL at INFO). ``RedactingFilter`` is the safety net: every record that reaches our handler has
each configured secret replaced by ``***`` after formatting, whatever logger produced it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

from .errors import scrub

__all__ = ["RedactingFilter", "configure_logging", "quiet_libraries"]

# Libraries that log a line per HTTP request at INFO; the client logs the operation instead.
CHATTY = ("httpx2", "httpx")


def quiet_libraries() -> None:
    """Quiet the per-request INFO lines of the HTTP libraries, unless the program chose a level for
    them. (MCPServer sets up root logging at INFO when the embedding program has not.)"""
    for name in CHATTY:
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg, record.args = scrub(record.getMessage(), self.secrets), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


def configure_logging(secrets: Iterable[str], level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_vtex_orders_mcp", False):
            root.removeHandler(old)
    handler._vtex_orders_mcp = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    quiet_libraries()
    return handler
