"""Reading scenario files: YAML or JSON, validated against ``evals/scenario.schema.json``.

Validation happens before anything runs, so a typo in a scenario is reported as a scenario
error naming the file and the place ("steps/3/expect: 'isErorr' was unexpected") rather than
as a confusing failed expectation. Paths in expectations are parsed here too, for the same
reason.
"""

from __future__ import annotations

import codecs
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .paths import PathError, parse

__all__ = ["SCHEMA_PATH", "ScenarioError", "load_scenario", "scenario_files", "schema"]

# The schema lives with the shipped scenarios (evals/ at the repository root).
# Shipped inside the package (evals/scenario.schema.json in the repo is a link to it).
SCHEMA_PATH = Path(__file__).resolve().parent / "scenario.schema.json"
_SUFFIXES = {".yaml", ".yml", ".json"}


class ScenarioError(Exception):
    """A scenario file that cannot be run: unreadable, not YAML/JSON, or not valid against the schema."""


@cache
def schema() -> dict[str, Any]:
    try:
        return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"the scenario schema is not at {SCHEMA_PATH}: the installation is incomplete") from None


def _suffix(path: Path) -> str:
    # Case-insensitive: SCENARIO.YAML from a case-insensitive file system is still YAML.
    return path.suffix.lower()


def _text(path: Path) -> str:
    """The file decoded as UTF-8 (a leading BOM, as some Windows editors write, is dropped)."""
    data = path.read_bytes()
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        # Name the first bad byte and where it is, so the file can be found and re-saved as UTF-8
        # (a Latin-1 / cp1252 "é" is the usual culprit).
        offset = bom + exc.start
        line = data[:offset].count(b"\n") + 1
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset}, line {line}); save it as UTF-8"
        ) from None


def _parse(path: Path) -> Any:
    text = _text(path)
    if _suffix(path) == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{path}: not valid JSON: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None


def _where(error: Any) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(top level)"


def validate(doc: Any, origin: str) -> dict[str, Any]:
    """``doc`` checked against the schema and its paths parsed; ScenarioError otherwise."""
    # jsonschema ships no type hints and types-jsonschema is not in the lint extra.
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        # oneOf failures are vague at the top; the deepest error usually names the real typo.
        best = max(errors, key=lambda e: len(list(e.absolute_path)))
        detail = best
        if best.context:
            detail = max(best.context, key=lambda e: len(list(e.absolute_path)))
        raise ScenarioError(f"{origin}: {_where(detail)}: {detail.message}")
    for i, step in enumerate(doc["steps"]):
        _check_paths(step.get("expect") or {}, f"{origin}: steps/{i}/expect")
    _check_paths(doc.get("after") or {}, f"{origin}: after")
    ids = [s["id"] for s in doc["steps"] if "id" in s]
    if len(ids) != len(set(ids)):
        raise ScenarioError(f"{origin}: step ids must be unique (got {ids})")
    return doc


def _check_paths(spec: dict[str, Any], where: str) -> None:
    for op, value in spec.items():
        paths = value if op in ("exists", "absent") else value.keys() if isinstance(value, dict) else ()
        for path in paths:
            try:
                parse(path)
            except PathError as exc:
                raise ScenarioError(f"{where}/{op}: {exc}") from None


def load_scenario(path: str | Path) -> dict[str, Any]:
    """Read and validate one scenario file."""
    path = Path(path)
    # Existence first: for a mistyped path "not found" is the useful message, not the suffix rule.
    if not path.exists():
        raise ScenarioError(f"{path}: not found (no such file or directory)")
    if _suffix(path) not in _SUFFIXES:
        raise ScenarioError(f"{path}: scenario files end in .yaml, .yml or .json")
    try:
        doc = _parse(path)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    return validate(doc, str(path))


def scenario_files(paths: list[str | Path]) -> list[Path]:
    """Files named on the command line, directories expanded to their scenarios (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f
                for f in p.iterdir()
                if _suffix(f) in _SUFFIXES and not f.name.lower().endswith(".schema.json") and not f.is_dir()
            )
        else:
            out.append(p)
    return out
