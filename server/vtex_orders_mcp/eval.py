"""``vtex-orders-mcp eval PATH...``: run scripted scenarios and report pass/fail.

Each PATH is a scenario file (YAML or JSON) or a directory of them. The JSONL transcript goes
to stdout, or to ``--out FILE``; the per-scenario verdicts and the summary line
("N passed, M failed") go to stderr when the transcript is on stdout (so stdout stays pure
JSONL), else to stdout. Exit status: 0 when every scenario passed, 1 otherwise (a scenario file
that is not valid counts as failed). Evals always run on fresh embedded sandboxes: VTEX
credentials in the environment are ignored. ``--tickets [FILE]`` adds the agent evals' support
tickets (default: the bundled ones), each ticket's reference trajectory run as a scenario
(agent_evals/scenarios.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, TextIO

__all__ = ["add_parser", "cmd_eval"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("eval", help="run eval scenarios (YAML/JSON) on the embedded sandbox")
    p.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or directories of them")
    p.add_argument("--tickets", nargs="?", const="", metavar="FILE",
                   help="also run each agent-eval ticket's reference (default file: the bundled tickets)")  # fmt: skip
    p.add_argument("--out", help="write the JSONL transcript here instead of stdout")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failed scenario")
    p.set_defaults(func=cmd_eval)
    return p


def cmd_eval(ns: argparse.Namespace) -> int:
    import anyio

    from .evalrunner import ScenarioError, arun_scenario, scenario_files

    # Request-by-request INFO logs would drown the verdicts; warnings still show.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for name in ("httpx2", "vtex_orders_mcp", "mcp"):
        logging.getLogger(name).setLevel(logging.WARNING)

    sources: list[Any] = list(scenario_files(ns.paths))
    if ns.tickets is not None:
        from .agent_evals import TicketError, load_tickets
        from .agent_evals.scenarios import ticket_scenario

        try:
            sources += [ticket_scenario(t) for t in load_tickets(ns.tickets or None)]
        except (OSError, TicketError) as exc:
            print(f"vtex-orders-mcp eval: {exc}", file=sys.stderr)
            return 1
    if not sources:
        print(f"vtex-orders-mcp eval: no scenario files in {' '.join(ns.paths) or '(no PATH given)'}", file=sys.stderr)
        return 1
    out: TextIO = open(ns.out, "w", encoding="utf-8") if ns.out else sys.stdout  # noqa: SIM115
    report: TextIO = sys.stdout if ns.out else sys.stderr
    passed = failed = 0
    try:
        for source in sources:
            try:
                transcript = anyio.run(arun_scenario, source)
            except ScenarioError as exc:
                failed += 1
                print(f"FAIL {exc}", file=report)  # the message starts with the file
            else:
                out.write(transcript.to_jsonl())
                out.flush()
                if transcript.passed:
                    passed += 1
                else:
                    failed += 1
                print(transcript, file=report)
            if failed and ns.fail_fast:
                break
    finally:
        if ns.out:
            out.close()
    print(f"{passed} passed, {failed} failed", file=report)
    return 1 if failed else 0
