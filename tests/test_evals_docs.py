"""docs/evals.md stays true: every scenario on the page runs through the eval runner and passes
(the one marked "fails on purpose" fails with exactly the report printed after it), and the sample
of `sandbox --list` it shows is what the command prints for the eval sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from vtex_orders_mcp.evalrunner import run_scenario
from vtex_orders_mcp.sandbox import Sandbox
from vtex_orders_mcp.sandbox.samples import sample_lines

DOC = Path(__file__).resolve().parents[1] / "docs" / "evals.md"
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
FAILS_ON_PURPOSE = "# fails on purpose"


def _scenarios() -> list[tuple[str, dict, str | None]]:
    """(text, parsed scenario, the text block right after it) for each YAML scenario of the page;
    YAML blocks that are not scenarios (no name and steps) are not run."""
    out = []
    for n, (lang, text) in enumerate(BLOCKS):
        doc = yaml.safe_load(text) if lang == "yaml" else None
        if isinstance(doc, dict) and "name" in doc and "steps" in doc:
            following = BLOCKS[n + 1][1] if n + 1 < len(BLOCKS) and BLOCKS[n + 1][0] == "text" else None
            out.append((text, doc, following))
    return out


SCENARIOS = _scenarios()


def test_the_page_has_its_examples():
    names = [doc["name"] for _, doc, _ in SCENARIOS]
    assert len(names) >= 5 and len(set(names)) == len(names), names


@pytest.mark.parametrize(("text", "doc", "following"), SCENARIOS, ids=[d["name"] for _, d, _ in SCENARIOS])
def test_each_example_scenario_runs_as_the_page_says(text, doc, following):
    transcript = run_scenario(doc)
    if text.startswith(FAILS_ON_PURPOSE):
        assert not transcript.passed
        assert following is not None, "a failing example is followed by the report it prints"
        assert str(transcript) == following.strip()
    else:
        assert transcript.passed, "\n".join(transcript.failures)


def test_the_quoting_rules_the_page_states():
    with pytest.raises(yaml.YAMLError, match="while parsing a flow mapping"):
        yaml.safe_load("{structured.orders[0].orderId: x}")
    assert yaml.safe_load('{"structured.orders[0].orderId": x}') == {"structured.orders[0].orderId": "x"}
    assert yaml.safe_load("structured.orders[0].orderId: x") == {"structured.orders[0].orderId": "x"}
    assert yaml.safe_load("order_group: 2261670786700") == {"order_group": 2261670786700}  # a number


def test_the_sandbox_list_sample_is_what_the_command_prints():
    (shown,) = [text for lang, text in BLOCKS if lang == "text" and text.startswith("handling (")]
    printed = list(sample_lines(Sandbox(seed=7, orders=40), per_status=0))
    missing = [line for line in shown.strip().splitlines() if line not in printed]
    assert missing == [], missing
