"""Loopback ports for the servers that tests start as child processes.

A port is chosen, checked free, then handed to a child that binds it a second or two later, once
its imports are done. Under pytest-xdist another worker could choose the same port in that gap,
and its readiness poll would then reach the wrong server. So worker ``k`` of ``n`` chooses only
ports ``LOW + k + n * i``, none of another worker's, and from below the kernel's ephemeral range
(Linux: 32768-60999), where outgoing connections and binds to port 0 (the bench harness's) get
their ports: none of those can take a chosen port in the gap either.
"""

from __future__ import annotations

import collections
import os
import random
import socket

LOW, HIGH = 20000, 32768
_RANDOM = random.SystemRandom()  # not the global generator, which a plugin or hypothesis may seed
_HANDED_OUT: collections.deque[int] = collections.deque(maxlen=64)  # two calls in a row never agree


def _worker() -> tuple[int, int]:
    """(this worker's index, number of workers); (0, 1) outside pytest-xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0
    return index % max(1, count), max(1, count)


def free_port() -> int:
    """A loopback TCP port no process listens on, from this worker's share of LOW..HIGH."""
    index, count = _worker()
    slots = (HIGH - LOW - index + count - 1) // count
    for _ in range(200):
        port = LOW + index + count * _RANDOM.randrange(slots)
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # in use (or lingering): choose another
                continue
        _HANDED_OUT.append(port)
        return port
    raise RuntimeError(f"no free loopback port in {LOW}..{HIGH} for worker {index} of {count}")
