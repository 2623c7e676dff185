"""Request-body validation that names the offending field, VTEX-style.

The spec marks required fields and types but says nothing about the error VTEX returns for a bad
body; [inference] the sandbox answers 400 with the OMS envelope, code "1", and a message naming the
field path (e.g. `items[0].quantity`), so a client (or an LLM) can fix its call.

Every JSON body in the sandbox is decoded by `loads`, which refuses documents nested deeper than
`MAX_JSON_DEPTH` levels (and those that exhaust the parser's recursion) with a ValueError, so a
pathological body is an ordinary "not valid JSON" 400 rather than a RecursionError 500 later on.
[inference] VTEX documents no depth limit; no real Orders API body nests beyond a handful of levels.
Integer-like strings (cents, page numbers) accept ASCII digits only: `str.isdigit` also accepts
superscripts and other scripts' digits ('²', '٣'), which VTEX would not read as numbers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .state import SandboxError

_MISSING = object()
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    float: "a number",
}


MAX_JSON_DEPTH = 64
_ASCII_DIGITS = re.compile(r"[0-9]+")


def invalid(message: str) -> SandboxError:
    return SandboxError(400, "1", message)


def is_ascii_digits(value: str) -> bool:
    """True for a non-empty run of ASCII digits ('0'-'9') only."""
    return _ASCII_DIGITS.fullmatch(value) is not None


def loads(raw: bytes | str) -> Any:
    """json.loads that raises ValueError (never RecursionError) for documents nested too deeply."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("the document is nested too deeply") from None
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"the document is nested deeper than {MAX_JSON_DEPTH} levels")
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return data


def parse_json(raw: bytes, *, allow_empty: bool = False) -> Any:
    if not raw.strip():
        if allow_empty:
            return {}
        raise invalid("The request body is required (application/json)")
    try:
        return loads(raw)
    except ValueError as exc:
        raise invalid(f"The request body is not valid JSON: {exc}") from None


async def read_json(request: Any, code: str = "1") -> Any:
    """The request's JSON body, None when empty; a 400 with ``code`` when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return loads(raw)
    except ValueError:
        raise SandboxError(400, code, "The request body is not valid JSON") from None


def require_object(body: Any, where: str = "body") -> dict:
    if not isinstance(body, dict):
        raise invalid(f"The {where} must be a JSON object")
    return body


def field(obj: dict, name: str, kind: type, *, required: bool = True, nullable: bool = False, where: str = "") -> Any:
    """obj[name] checked against `kind`; absent -> None when optional, 400 when required."""
    label = f"{where}.{name}" if where else name
    value = obj.get(name, _MISSING)
    if value is _MISSING:
        if required:
            raise invalid(f"The field '{label}' is required")
        return None
    if value is None:
        if nullable:
            return None
        raise invalid(f"The field '{label}' must not be null")
    if not _is(value, kind):
        raise invalid(f"The field '{label}' must be {_TYPE_NAMES[kind]}")
    return value


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def non_empty(value: str, label: str) -> str:
    if not value.strip():
        raise invalid(f"The field '{label}' must not be empty")
    return value


def cents_string(value: str, label: str) -> int:
    """VTEX's invoiceValue: a string of integer cents, no decimal separator, > 0."""
    if not is_ascii_digits(value):
        raise invalid(
            f"The field '{label}' must be a string of integer cents without decimal separator "
            f'(e.g. "2499" for 24.99), got {value!r}'
        )
    if len(value.lstrip("0")) > 15:
        raise invalid(f"The field '{label}' is out of range (at most 15 digits), got {value[:20]!r}...")
    cents = int(value)
    if cents <= 0:
        raise invalid(f"The field '{label}' must be greater than 0")
    return cents


def sku_lines(
    obj: dict, name: str, *, required: bool, price_required: bool = True, allow_empty: bool = True
) -> list[dict]:
    """An array of {id, price, quantity[, description]} (invoice items, register-changes items)."""
    lines = field(obj, name, list, required=required)
    if lines is None:
        return []
    if not lines and not allow_empty:
        raise invalid(f"The field '{name}' must contain at least one item")
    out = []
    for i, line in enumerate(lines):
        where = f"{name}[{i}]"
        require_object(line, where)
        sku = non_empty(field(line, "id", str, where=where), f"{where}.id")
        price = field(line, "price", int, where=where, required=price_required)
        quantity = field(line, "quantity", int, where=where)
        if quantity <= 0:
            raise invalid(f"The field '{where}.quantity' must be greater than 0")
        if price is not None and price < 0:
            raise invalid(f"The field '{where}.price' must not be negative")
        description = field(line, "description", str, required=False, nullable=True, where=where)
        out.append({"id": sku, "price": price, "quantity": quantity, "description": description})
    return out
