"""The expectation language of eval scenarios: dotted paths and a handful of operators.

A **path** picks a value out of a JSON-like document (a step's outcome, or the end-of-scenario
state). Segments are separated by dots; brackets index lists or quote keys that contain dots,
spaces or brackets::

    structured.order.status            plain keys
    structured.orders[0].orderId       list index (negative counts from the end)
    orders["v502556llux-01"].status    quoted key (single or double quotes)
    orders.v502556llux-01.status       the same: a bare segment is anything but . [ ]
    structured.result[*].handle        every element: the rest of the path is applied to each,
                                       giving a list

A path that leads nowhere resolves to ``MISSING`` (distinct from ``null``).

**Operators**, each a mapping ``{path: expected}`` in a scenario's ``expect`` / ``after``:
``equals`` (deep, ``true`` is not ``1``), ``not_equals``, ``contains`` (substring of a string;
an element of a list, where a dict element matches when the expected dict is a subset of it;
a subset of a dict), ``not_contains``, ``length``, ``matches`` (regular expression, searched),
``at_least`` / ``at_most`` (numbers), and ``exists`` / ``absent`` (lists of paths).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "OPERATORS", "Check", "PathError", "evaluate", "parse", "resolve"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
_WILD = object()


class PathError(ValueError):
    """A path that cannot be parsed (a scenario bug, reported before anything runs)."""


_TOKEN = re.compile(
    r"""
    \[\s*(?P<index>-?\d+)\s*\]              # [3]
  | \[\s*\*\s*\]                            # [*]
  | \[\s*"(?P<dq>(?:[^"\\]|\\.)*)"\s*\]     # ["key"]
  | \[\s*'(?P<sq>(?:[^'\\]|\\.)*)'\s*\]     # ['key']
  | (?P<bare>[^.\[\]]+)                     # key
  | (?P<dot>\.)
    """,
    re.VERBOSE,
)


def parse(path: str) -> list[Any]:
    """Segments of ``path``: str keys, int indexes, or the wildcard marker."""
    if not path or path.strip() != path:
        raise PathError(f"bad path {path!r}: empty or padded with spaces")
    segments: list[Any] = []
    pos, expect_segment = 0, True
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise PathError(f"bad path {path!r} at character {pos + 1}")
        if m.group("dot"):
            if expect_segment:
                raise PathError(f"bad path {path!r}: empty segment at character {pos + 1}")
            expect_segment = True
        elif m.group("bare") is not None:
            if not expect_segment:
                raise PathError(f"bad path {path!r}: missing '.' before {m.group('bare')!r}")
            segments.append(m.group("bare"))
            expect_segment = False
        else:  # brackets may follow a segment directly, or start the path
            if m.group("index") is not None:
                segments.append(int(m.group("index")))
            elif m.group("dq") is not None:
                segments.append(json.loads(f'"{m.group("dq")}"'))
            elif m.group("sq") is not None:
                segments.append(m.group("sq").replace("\\'", "'"))
            else:
                segments.append(_WILD)
            expect_segment = False
        pos = m.end()
    if expect_segment:
        raise PathError(f"bad path {path!r}: ends with '.'")
    return segments


def resolve(doc: Any, path: str | list[Any]) -> Any:
    """The value at ``path`` in ``doc``, or MISSING."""
    segments = parse(path) if isinstance(path, str) else path
    value = doc
    for i, seg in enumerate(segments):
        if seg is _WILD:
            if not isinstance(value, list):
                return MISSING
            rest = segments[i + 1 :]
            picked = [resolve(v, rest) for v in value]
            return [v for v in picked if v is not MISSING]
        if isinstance(seg, int):
            if not isinstance(value, list) or not -len(value) <= seg < len(value):
                return MISSING
            value = value[seg]
        elif isinstance(value, Mapping):  # a document, or the sandbox's orders (orderbook.Orders)
            if seg not in value:
                return MISSING
            value = value[seg]
        elif isinstance(value, list) and seg.lstrip("-").isdigit():  # a.0.b, for the lenient
            idx = int(seg)
            if not -len(value) <= idx < len(value):
                return MISSING
            value = value[idx]
        else:
            return MISSING
    return value


# --- operators ------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Deep JSON equality where booleans are not numbers (``true != 1``), but ``1 == 1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def subset(expected: Any, actual: Any) -> bool:
    """``expected`` is contained in ``actual``: dict keys recursively, anything else by ``same``."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and subset(v, actual[k]) for k, v in expected.items())
    return same(expected, actual)


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(expected, str) and expected in actual
    if isinstance(actual, list):
        return any(subset(expected, el) for el in actual)
    if isinstance(actual, dict):
        return isinstance(expected, dict) and subset(expected, actual)
    return False


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


OPERATORS: dict[str, Any] = {
    "equals": lambda a, e: same(a, e),
    "not_equals": lambda a, e: a is not MISSING and not same(a, e),
    "contains": lambda a, e: _contains(a, e),
    "not_contains": lambda a, e: a is not MISSING and not _contains(a, e),
    "length": lambda a, e: isinstance(a, list | dict | str) and len(a) == e,
    "matches": lambda a, e: isinstance(a, str) and re.search(e, a) is not None,
    "at_least": lambda a, e: _number(a) and a >= e,
    "at_most": lambda a, e: _number(a) and a <= e,
}
_SYMBOL = {"equals": "==", "not_equals": "!=", "at_least": ">=", "at_most": "<="}


@dataclass(frozen=True)
class Check:
    """One evaluated expectation, as it appears in the transcript."""

    check: str
    ok: bool
    got: Any = MISSING

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check, "ok": self.ok}
        if not self.ok:
            out["got"] = "<missing>" if self.got is MISSING else _short(self.got)
        return out


def _short(value: Any, limit: int = 300) -> Any:
    """Failed checks show what was there; long values are cut so a transcript line stays readable."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= limit else text[:limit] + "…"


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def evaluate(doc: Any, spec: dict[str, Any]) -> list[Check]:
    """Evaluate every operator mapping in ``spec`` (keys other than operators are ignored)."""
    checks: list[Check] = []
    for op in (*OPERATORS, "exists", "absent"):
        if op not in spec:
            continue
        if op in ("exists", "absent"):
            for path in spec[op]:
                got = resolve(doc, path)
                ok = (got is not MISSING) == (op == "exists")
                checks.append(Check(f"{op} {path}", ok, got))
            continue
        for path, expected in spec[op].items():
            got = resolve(doc, path)
            ok = bool(OPERATORS[op](got, expected)) if got is not MISSING or op == "equals" else False
            verb = _SYMBOL.get(op, op.replace("_", " "))
            checks.append(Check(f"{path} {verb} {_show(expected)}", ok, got))
    return checks
