"""``python -m vtex_orders_mcp`` and the ``vtex-orders-mcp`` command."""

from __future__ import annotations

import gc
import sys


def main() -> int:
    # Start-up makes ~130,000 objects that live as long as the process (modules, pydantic models,
    # schemas). Collecting while they are made scans them again and again for no garbage (~90 ms
    # of a cold start): the collector is held until the command is ready to run (cli.ready), which
    # then freezes them out of every later collection.
    gc.disable()
    from .cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
