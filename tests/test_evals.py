"""The eval runner and the shipped scenarios (evals/).

Every shipped scenario must pass, and running it twice must give byte-identical transcripts
(seeded sandbox, frozen clock, masked tokens). A broken expectation must fail the run with a
message naming the step, the expectation and what was there, and make the CLI exit non-zero.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vtex_orders_mcp.cli import main
from vtex_orders_mcp.evalrunner import SCHEMA_PATH, ScenarioError, load_scenario, run_scenario, scenario_files
from vtex_orders_mcp.evalrunner.paths import MISSING, PathError, evaluate, parse, resolve

EVALS = Path(__file__).resolve().parents[1] / "evals"
SCENARIOS = scenario_files([EVALS])


def test_enough_scenarios_are_shipped_and_cover_the_families():
    assert len(SCENARIOS) >= 20
    docs = [load_scenario(p) for p in SCENARIOS]
    assert len({d["name"] for d in docs}) == len(docs), "scenario names must be unique"
    called = {s.get("call") for d in docs for s in d["steps"]} - {None}
    from vtex_orders_mcp.registry import OPERATIONS

    groups = {op.group for op in OPERATIONS if op.name in called}
    assert groups == {op.group for op in OPERATIONS}, "every tool family has a scenario"
    assert any(s.get("confirm") for d in docs for s in d["steps"]), "the two-step token path is covered"
    answers = {
        a if isinstance(a, str) else a["action"]
        for d in docs
        for s in d["steps"]
        for a in (s.get("approve") if isinstance(s.get("approve"), list) else [s.get("approve")])
        if a
    }
    assert answers == {"accept", "decline", "cancel"}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_passes_and_is_reproducible(path):
    first = run_scenario(path)
    assert first.passed, "\n".join(first.failures)
    second = run_scenario(path)
    assert first.to_jsonl() == second.to_jsonl()
    lines = first.to_jsonl().splitlines()
    assert json.loads(lines[0])["event"] == "start" and json.loads(lines[-1])["passed"] is True
    # the only tokens left in a transcript are those the scenario itself wrote (forgeries)
    assert all(tok in path.read_text() for tok in re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", first.to_jsonl()))


# --- failures are reported clearly ------------------------------------------------------------

BROKEN = {
    "name": "broken",
    "steps": [
        {
            "call": "get_order",
            "arguments": {"order_id": "v502556llux-01"},
            "expect": {"equals": {"structured.order.status": "invoiced"}},
        },
        {"call": "cancel_order", "arguments": {"order_id": "v502556llux-01", "reason": "x"}},
        {"call": "get_order", "arguments": {"order_id": "nope123-01"}},
    ],
    "after": {"equals": {"write_routes": {"POST /api/oms/pvt/orders/{orderId}/cancel": 1}}},
}


def test_a_failing_expectation_fails_the_run_with_a_clear_message():
    t = run_scenario(BROKEN)
    assert not t.passed
    assert t.failures[0] == 'step 1: expected structured.order.status == "invoiced"; got "handling"'
    # an approval nobody scripted is answered "cancel" and fails the step
    assert t.failures[1].startswith("step 2: expected every approval asked has a scripted answer; got ")
    assert "Cancel order v502556llux-01" in t.failures[1]
    # an error the step did not expect fails it
    assert t.failures[2].startswith("step 3: expected no error (the step does not expect one); got ")
    assert "not found" in t.failures[2]
    assert t.failures[3].startswith("after: expected write_routes == ")
    end = json.loads(t.to_jsonl().splitlines()[-1])
    assert end["passed"] is False and end["failures"] == t.failures


def test_a_failure_caused_by_vtex_carries_vtex_reason():
    """The FAIL line says why VTEX refused, not only the status it observed."""
    t = run_scenario(
        {
            "name": "vtex-refused",
            "steps": [
                {  # a price increase on an order paid by Boleto: accepted, then stopped on error
                    "call": "create_order_modification",
                    "id": "add",
                    "arguments": {"order_id": "2261670786700-01", "reason": "one more",
                                  "add": [{"id": "2000101", "quantity": 1}]},
                    "approve": "accept",
                },
                {"advance": 600},
                {
                    "call": "get_order_modification",
                    "arguments": {"order_id": "2261670786700-01",
                                  "change_request_id": {"$ref": "steps.add.structured.result.requestId"}},
                    "expect": {"equals": {"structured.result.status": "done"}},
                },
                {  # an invoice value VTEX refuses (400): the reason rides on every failed check
                    "call": "invoice_order",
                    "arguments": {"order_id": "2157974865806-01", "type": "Output", "invoice_number": "NF9",
                                  "invoice_value": 1, "issuance_date": "2024-05-01T11:00:00Z",
                                  "items": [{"id": "2000501", "quantity": 1, "price": 18990}]},
                    "approve": "accept",
                    "expect": {"isError": False, "equals": {"structured.status": "done"}},
                },
                {  # refused by the server's own validation: VTEX said nothing
                    "call": "get_order",
                    "arguments": {"order_id": "bad id"},
                    "expect": {"equals": {"structured.order.status": "handling"}},
                },
            ],
        }
    )  # fmt: skip
    by_step = {n: [f for f in t.failures if f.startswith(f"step {n}")] for n in (3, 4, 5)}
    [stopped] = by_step[3]
    assert stopped.startswith('step 3: expected structured.result.status == "done"; got "waiting-confirmation" ')
    assert "(VTEX said: [ORDMOD101] The modification increases the order value by 4990 cents" in stopped
    invoice = by_step[4]
    assert len(invoice) == 2 and all("VTEX answered 400 [1]: invoiceValue 1 does not match" in f for f in invoice)
    assert invoice[1].startswith('step 4: expected structured.status == "done"; got <missing> (VTEX said: ')
    assert by_step[5] and not any("VTEX said" in f for f in by_step[5])


def test_unused_scripted_answer_and_bad_reference_fail():
    t = run_scenario(
        {
            "name": "unused-answer",
            "steps": [
                {"call": "get_order", "arguments": {"order_id": "v502556llux-01"}, "approve": "accept"},
                {"call": "get_order", "arguments": {"order_id": {"$ref": "steps.nope.structured.order.orderId"}}},
                {"confirm": "last"},
            ],
        }
    )
    assert t.failures[0] == 'step 1: expected every scripted answer was used; got ["accept"]'
    assert "no earlier step has id 'nope'" in t.failures[1]
    assert "no earlier step returned a confirmation" in t.failures[2]


def test_cli_exit_status_transcript_and_summary(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "name": "good",
                "steps": [
                    {
                        "call": "get_order",
                        "arguments": {"order_id": "v502556llux-01"},
                        "expect": {"equals": {"structured.order.status": "handling"}},
                    }
                ],
            }
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(BROKEN))
    out = tmp_path / "t.jsonl"

    assert main(["eval", str(good), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith("1 passed, 0 failed")
    assert [json.loads(line)["scenario"] for line in out.read_text().splitlines()] == ["good"] * 3

    assert main(["eval", str(good), str(bad), "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert "FAIL broken (bad.json)" in report
    assert 'step 1: expected structured.order.status == "invoiced"; got "handling"' in report
    assert report.strip().endswith("1 passed, 1 failed")

    # transcript on stdout (pure JSONL), verdicts on stderr
    assert main(["eval", str(good)]) == 0
    captured = capsys.readouterr()
    assert all(json.loads(line) for line in captured.out.splitlines())
    assert captured.err.strip().endswith("1 passed, 0 failed")


def test_invalid_scenarios_are_refused_before_running(tmp_path, capsys):
    typo = tmp_path / "typo.json"
    typo.write_text(
        json.dumps(
            {
                "name": "typo",
                "steps": [
                    {"call": "get_order", "arguments": {"order_id": "v502556llux-01"}, "expect": {"isErorr": True}}
                ],
            }
        )
    )
    with pytest.raises(ScenarioError, match=r"typo.json: steps/0/expect: .*isErorr"):
        load_scenario(typo)
    two_kinds = {"name": "two", "steps": [{"call": "get_order", "read": "vtex://orders/x"}]}
    with pytest.raises(ScenarioError, match="steps/0"):
        run_scenario(two_kinds)
    bad_path = {"name": "p", "steps": [{"list": "tools", "expect": {"equals": {"names..x": 1}}}]}
    with pytest.raises(ScenarioError, match="empty segment"):
        run_scenario(bad_path)
    assert main(["eval", str(typo)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"FAIL {typo}: ") and err.count(str(typo)) == 1, err


TINY = "name: {name}\nsteps: [{{list: tools, expect: {{exists: [names]}}}}]\n"


def test_a_non_utf8_scenario_fails_alone_and_the_run_goes_on(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text(TINY.format(name="first"), encoding="utf-8")
    # cp1252 / Latin-1 "é" (0xe9) at byte 9: what a Windows editor may save by default.
    (tmp_path / "b.yaml").write_bytes(TINY.format(name="caf\u00e9 latin").encode("latin-1"))
    (tmp_path / "c.yaml").write_text(TINY.format(name="last"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"b\.yaml: not UTF-8 text \(byte 0xe9 at offset 9, line 1\)"):
        load_scenario(tmp_path / "b.yaml")
    out = tmp_path / "t.jsonl"
    assert main(["eval", str(tmp_path), "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert "PASS first (a.yaml)" in report and "PASS last (c.yaml)" in report
    assert "b.yaml: not UTF-8 text (byte 0xe9" in report
    assert report.strip().endswith("2 passed, 1 failed")
    assert {json.loads(line)["scenario"] for line in out.read_text().splitlines()} == {"first", "last"}
    # A UTF-8 byte-order mark is not an error, in YAML or in JSON.
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"name": "bom", "steps": [{"list": "tools"}]}).encode())
    assert load_scenario(bom)["name"] == "bom"


def test_a_missing_path_is_not_found_and_suffixes_ignore_case(tmp_path, capsys):
    missing = tmp_path / "nope"
    with pytest.raises(ScenarioError, match=r"nope: not found"):
        load_scenario(missing)
    with pytest.raises(ScenarioError, match=r"nope\.yaml: not found"):
        load_scenario(tmp_path / "nope.yaml")
    assert main(["eval", str(missing)]) == 1
    err = capsys.readouterr().err
    assert "not found" in err and "end in .yaml" not in err

    upper = tmp_path / "UPPER.YAML"
    upper.write_text(TINY.format(name="upper"))
    shouty_json = tmp_path / "S.JSON"
    # Tab-indented JSON: valid JSON, but not valid YAML, so this passes only if read as JSON.
    shouty_json.write_text(json.dumps({"name": "shouty", "steps": [{"list": "tools"}]}, indent="\t"))
    (tmp_path / "notes.txt").write_text("not a scenario")
    (tmp_path / "x.SCHEMA.JSON").write_text("{}")
    (tmp_path / "sub.yaml").mkdir()
    assert load_scenario(upper)["name"] == "upper"
    assert load_scenario(shouty_json)["name"] == "shouty"
    assert scenario_files([tmp_path]) == [shouty_json, upper]
    with pytest.raises(ScenarioError, match=r"end in \.yaml, \.yml or \.json"):
        load_scenario(tmp_path / "notes.txt")
    assert main(["eval", str(tmp_path)]) == 0
    assert capsys.readouterr().err.strip().endswith("2 passed, 0 failed")


def test_schema_is_draft_2020_12_and_valid():
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


# --- the path language ------------------------------------------------------------------------


def test_paths():
    doc = {"orders": {"v1-01": {"status": "canceled", "items": [{"id": "a"}, {"id": "b"}]}}, "a.b": 1}
    assert resolve(doc, 'orders["v1-01"].status') == "canceled"
    assert resolve(doc, "orders.v1-01.items[-1].id") == "b"
    assert resolve(doc, "orders.v1-01.items[*].id") == ["a", "b"]
    assert resolve(doc, "['a.b']") == 1
    assert resolve(doc, "orders.v1-01.nope") is MISSING
    assert resolve(doc, "orders.v1-01.items[5]") is MISSING
    for bad in ("", "a..b", "a.", " a", "a[x"):
        with pytest.raises(PathError):
            parse(bad)


def test_operators():
    doc = {"n": 1, "flag": True, "s": "hello world", "l": [{"a": 1, "b": 2}, "x"], "d": {"a": {"b": 1, "c": 2}}}
    results = {
        c.check: c.ok
        for c in evaluate(
            doc,
            {
                "equals": {"n": 1.0, "flag": True, "missing": None},
                "not_equals": {"flag": 1},
                "contains": {"s": "world", "l": {"a": 1}, "d": {"a": {"b": 1}}},
                "not_contains": {"l": "y"},
                "length": {"l": 2},
                "matches": {"s": "^hel+o"},
                "at_least": {"n": 1},
                "at_most": {"flag": 5},
                "exists": ["d.a.c"],
                "absent": ["d.z"],
            },
        )
    }
    assert results == {
        "n == 1.0": True,
        "flag == true": True,
        "missing == null": False,
        "flag != 1": True,
        's contains "world"': True,
        'l contains {"a": 1}': True,
        'd contains {"a": {"b": 1}}': True,
        'l not contains "y"': True,
        "l length 2": True,
        's matches "^hel+o"': True,
        "n >= 1": True,
        "flag <= 5": False,
        "exists d.a.c": True,
        "absent d.z": True,
    }
