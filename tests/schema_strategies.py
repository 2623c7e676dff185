"""Hypothesis strategies drawn from the advertised tool input schemas.

``valid(schema)`` draws instances the schema accepts, for the keywords these schemas use (type,
properties, required, additionalProperties, if/then, $ref into $defs, enum, const, oneOf, pattern,
min/maxLength, the date-time and email formats, minimum/maximum, items, min/maxItems).
hypothesis-jsonschema would do this, but its 0.23 release breaks on current hypothesis (it uses a
private helper hypothesis removed), so this is the small translation these schemas need.

``near(schema)`` draws instances that are mostly almost valid: a valid one with one place made
wrong (a wrong JSON type, null, a boundary value, a string from another field's pattern, an
unknown field, a missing required one, a look-alike Unicode digit...). Whether each is valid is
for the schema to say; the tests compare the server's verdict with it.
"""

from __future__ import annotations

import copy
from datetime import timedelta, timezone
from typing import Any

import jsonschema
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

__all__ = ["DATE_TIMES", "near", "valid"]

# RFC 3339 with a zone, as the contract reads the format; a leap second included.
# (RFC 3339 offsets are whole minutes: no historical local mean times of tz databases.)
_ZONES = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
DATE_TIMES = st.datetimes(timezones=_ZONES).map(lambda d: d.isoformat()) | st.sampled_from(
    ["2016-12-31T23:59:60Z", "2016-12-31T20:59:60-03:00", "2026-11-23t10:00:00.5z"]
)
# Strings that break some formats or patterns in ways naive validators miss.
TRICKY_STRINGS = st.sampled_from(
    [
        "2020-01-01T00:00:00",  # naive: no zone
        "2020-01-01",
        "2016-12-31T22:59:60Z",  # second 60 not at 23:59 UTC
        "2020-02-30T00:00:00Z",
        "20200101T000000Z",  # ISO 8601 basic, not RFC 3339
        "v502556llux-\u0661\u0662",  # Arabic-Indic digits
        "\uff56502556llux-01",  # fullwidth v
        "v502556llux-01\n",
        "..",
        "a@b",
        "ab@c.de",
        " ",
        "",
        "true",
        "2",
        "seq12",
        "https://x",
        "http://x",
    ]
)
JSON_SCALARS = (
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([1.0, 1.5, 1e12, -0.0]) | st.text(max_size=4)
)


def valid(schema: dict[str, Any], root: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    root = root or schema
    if "if" in schema:  # drawn without the conditional, kept when they satisfy it
        conditional = {k: schema[k] for k in ("if", "then", "else") if k in schema}
        check = jsonschema.Draft202012Validator({**conditional, "$defs": root.get("$defs", {})})
        return valid({k: v for k, v in schema.items() if k not in conditional}, root).filter(check.is_valid)
    if "$ref" in schema:
        return valid(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    return _valid_here(schema, root)


def _valid_here(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "oneOf" in schema and "properties" in schema:
        return _one_of_fields(schema, root)
    if "oneOf" in schema:
        return st.one_of([valid(branch, root) for branch in schema["oneOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        lo, hi = schema.get("minLength", 0), schema.get("maxLength", 40)
        if schema.get("format") == "date-time":
            return DATE_TIMES
        if schema.get("format") == "email":
            return st.emails().filter(lambda v: lo <= len(v) <= hi)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"]).filter(lambda v: lo <= len(v) <= hi)
        return st.text(min_size=lo, max_size=max(lo, hi))
    if kind == "integer":
        return st.integers(schema.get("minimum", -(10**9)), schema.get("maximum", 10**9))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        lo = schema.get("minItems", 0)
        items = valid(schema.get("items", {}), root)
        return st.lists(items, min_size=lo, max_size=schema.get("maxItems", lo + 3))
    if kind == "object" and "properties" in schema:
        props, required = schema["properties"], set(schema.get("required", []))
        drawn = st.fixed_dictionaries(
            {k: valid(v, root) for k, v in props.items() if k in required},
            optional={k: valid(v, root) for k, v in props.items() if k not in required},
        )
        if "if" in schema:  # a condition between fields (list_orders' whole_range): keep the draws it allows
            condition = Draft202012Validator({k: schema[k] for k in ("if", "then", "else") if k in schema})
            drawn = drawn.filter(condition.is_valid)
        return drawn
    if kind == "object":
        extra = schema.get("additionalProperties")
        values = valid(extra, root) if isinstance(extra, dict) and extra else JSON_SCALARS
        return st.dictionaries(st.text(min_size=1, max_size=5), values, max_size=3)
    return JSON_SCALARS  # {}: anything


def _one_of_fields(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Branches that only pick which fields are required ("exactly one of status, expression"):
    each branch is the object with its fields required and the other branches' left out."""
    branches = schema["oneOf"]
    base = {k: v for k, v in schema.items() if k != "oneOf"}
    shapes = []
    for branch in branches:
        others = {f for b in branches if b is not branch for f in b["required"]} - set(branch["required"])
        props = {k: v for k, v in base["properties"].items() if k not in others}
        required = [*base.get("required", []), *branch["required"]]
        shapes.append(valid({**base, "properties": props, "required": required}, root))
    return st.one_of(shapes)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += [(*path, k), *_paths(v, (*path, k))]
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += [(*path, i), *_paths(v, (*path, i))]
    return found


@st.composite
def near(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    instance = copy.deepcopy(draw(valid(schema)))
    places = _paths(instance)
    how = draw(st.sampled_from(["replace", "unknown", "drop", "none"] if places else ["unknown", "none"]))
    if how == "none":
        return instance
    if how == "unknown":
        containers = [p for p in places if isinstance(_get(instance, p), dict)]
        target = _get(instance, draw(st.sampled_from(containers))) if containers and draw(st.booleans()) else instance
        target[draw(st.sampled_from(["bogus", "orderId", "approval", "x"]))] = draw(JSON_SCALARS)
        return instance
    place = draw(st.sampled_from(places))
    parent = _get(instance, place[:-1])
    if how == "drop":
        if isinstance(parent, dict):
            del parent[place[-1]]
        else:
            parent.pop(place[-1])
        return instance
    parent[place[-1]] = draw(JSON_SCALARS | TRICKY_STRINGS | st.just([]) | st.just({}))
    return instance


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value
