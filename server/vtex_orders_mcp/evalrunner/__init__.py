"""Scripted evals: run scenario files against the server on a seeded, frozen-clock sandbox.

A scenario (YAML or JSON, format in ``evals/scenario.schema.json``) sets up a sandbox and a
client, runs steps (tool calls, resource reads, prompt gets, confirmations of two-step writes),
answers the guard's approval questions from a script, and checks each step's outcome and the
state afterwards. The result is a ``Transcript``: JSON records, byte-identical for the same
scenario and seed.

    from vtex_orders_mcp.evalrunner import run_scenario
    t = run_scenario("evals/cancel_approved.yaml")
    assert t.passed, t.failures
    print(t.to_jsonl())

``vtex-orders-mcp eval PATH...`` (eval.py) is the command-line front end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio

from .loading import SCHEMA_PATH, ScenarioError, load_scenario, scenario_files
from .runner import arun_scenario
from .transcript import Transcript

__all__ = [
    "SCHEMA_PATH",
    "ScenarioError",
    "Transcript",
    "arun_scenario",
    "load_scenario",
    "run_scenario",
    "run_scenarios",
    "scenario_files",
]


def run_scenario(source: str | Path | dict[str, Any]) -> Transcript:
    """Run one scenario file (or parsed document) to completion; for code outside an event loop."""
    return anyio.run(arun_scenario, source)


def run_scenarios(paths: list[str | Path]) -> list[Transcript]:
    """Run every scenario under ``paths`` (files or directories), in order."""

    async def run_all() -> list[Transcript]:
        return [await arun_scenario(p) for p in scenario_files(paths)]

    return anyio.run(run_all)
