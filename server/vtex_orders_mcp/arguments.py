"""The advertised input schema is the contract: every call's arguments are checked against it.

A tool's ``inputSchema`` is what clients and models see, and what their own validators check;
the server checks the same document, with ``jsonschema`` (Draft 2020-12), before the input
model parses anything. So the server accepts exactly what it advertises: a boolean is not an
integer, ``"2"`` is not 2, ``null`` is not "left out", an unknown field is refused whatever its
value, and a date-time carries its zone. Patterns are ECMA-262 regular expressions, as JSON
Schema says, run by an ECMA-262 engine (``regress``); they are written with explicit ASCII
classes (``[0-9]``, never ``\\d``) so that every validator, a client's or pydantic's, reads them
alike.

Formats are checked by this module's own checker, not by whatever optional packages happen to
be installed: ``date-time`` is RFC 3339 with a zone (a leap second, ``23:59:60`` at the end of
June or December UTC, included: ``rfc3339-validator`` refuses it), ``email`` is one ``@``
between a local part and a dotted domain, without blanks.

One limit sits outside the schemas: a call's arguments are at most ``MAX_ARGUMENT_BYTES`` of
JSON, checked before anything else (like a request-size limit at any HTTP server). It keeps
the audit, approval questions and VTEX's bodies bounded without a hidden cap on each field.

A refusal is one short tool error naming each field and what is allowed, quoting at most
``QUOTE`` characters of any value it received and ``MAX_ERROR`` characters in all.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel

from .schemas import advertised_schema

if TYPE_CHECKING:  # jsonschema and regress load on a tool's first call: ~75 ms off every start-up
    import regress
    from jsonschema import FormatChecker
    from jsonschema.exceptions import ValidationError as SchemaError

__all__ = [
    "MAX_ARGUMENT_BYTES",
    "MAX_ERROR",
    "Contract",
    "contract",
    "excerpt",
    "formats",
    "is_email",
    "parse_date_time",
    "refusal_text",
]

MAX_ARGUMENT_BYTES = 256 * 1024
QUOTE = 80  # characters of a received value quoted in an error
MAX_ERROR = 500  # characters of an argument error, in all
MAX_PROBLEMS = 4  # fields reported at once; the rest are counted
_LISTED = 8  # enum values or field names listed before "…"

# RFC 3339 section 5.6, with the zone required (a naive time is ambiguous: whose midnight?).
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_date_time(value: str) -> datetime:
    """An RFC 3339 date-time with its zone, as an aware ``datetime``. A leap second (second 60,
    only at 23:59 UTC on June 30 or December 31) reads as the last microsecond before the next
    second, so a range bound keeps its place. Raises ValueError for anything else."""
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        raise ValueError("not an RFC 3339 date-time with a zone")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or ""
    zone = match.group(8)
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError("zone offset out of range")
        offset = timedelta(hours=hours, minutes=minutes) * (1 if zone[0] == "+" else -1)
    leap = second == 60
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    parsed = datetime(year, month, day, hour, minute, 59 if leap else second, micro, timezone(offset))
    if leap:
        utc = parsed.astimezone(UTC)
        if not (utc.hour == 23 and utc.minute == 59 and (utc.month, utc.day) in ((6, 30), (12, 31))):
            raise ValueError("second 60 is only a leap second at 23:59:60 UTC on June 30 or December 31")
        parsed = parsed.replace(microsecond=999_999)
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:59:59-01:00 is valid RFC 3339 but past what a datetime holds in UTC:
        # it reads as the last (or, at year 1, the first) instant there is, which no order passes.
        return (datetime.max if year == 9999 else datetime.min).replace(tzinfo=UTC)
    return parsed


def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        parse_date_time(value)
    return True


# What VTEX's user-orders search can match: no blanks, one "@", a dotted domain. A format (not
# a pattern) so the schema says "email" once instead of spelling the rule out in every listing.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def is_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or is_email(value)


def excerpt(value: Any, limit: int = QUOTE) -> str:
    """At most ``limit`` characters of a received value, as JSON, with its full size when cut."""
    try:
        shown = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # a circular structure cannot come from JSON, but never fail an error
        shown = repr(value)
    if len(shown) <= limit:
        return shown
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(shown):,} characters as JSON"
    return f"{shown[: limit - 1]}… ({size})"


def _listing(values: Iterable[Any]) -> str:
    values = list(values)
    shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in values[:_LISTED])
    return shown + (f", … ({len(values)} in all)" if len(values) > _LISTED else "")


def _where(error: SchemaError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(arguments)"


def _allowed(error: SchemaError) -> str:
    """What the schema allows where ``error`` happened, in words."""
    # The stubs type these as "Any | Unset"; a raised error always has them set.
    kind, expected, schema = error.validator, cast(Any, error.validator_value), cast(Any, error.schema)
    example = f" ({schema['description']})" if isinstance(schema, dict) and "description" in schema else ""
    if error.instance is None and kind in ("type", "enum", "const"):
        return "must not be null: leave the field out instead"
    if kind == "type":
        names = expected if isinstance(expected, list) else [expected]
        return "must be " + " or ".join(_TYPE_WORDS.get(n, str(n)) for n in names)
    if kind in ("enum", "const"):
        return "must be one of " + _listing(expected if kind == "enum" else [expected])
    if kind == "pattern":
        return f"must match {expected}{example}"
    if kind == "format":
        return _FORMAT_WORDS.get(str(expected), f"must be a {expected}")
    if kind == "minLength":
        return "must not be empty" if expected == 1 else f"must have at least {expected} characters"
    if kind == "maxLength":
        return f"must have at most {expected} characters"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"must be {_BOUND_WORDS[kind]} {expected}"
    if kind == "minItems":
        return "must not be empty" if expected == 1 else f"must have at least {expected} items"
    if kind == "maxItems":
        return f"must have at most {expected} items"
    if kind in ("oneOf", "anyOf"):
        return "must match exactly one of the allowed shapes (see the schema)"
    return f"does not satisfy {kind}"


_TYPE_WORDS: dict[str, str] = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
}
_FORMAT_WORDS = {
    "date-time": "must be an RFC 3339 date-time with a zone, e.g. 2026-11-23T10:00:00-03:00",
    "email": "must be an e-mail address",
}
_BOUND_WORDS = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "above", "exclusiveMaximum": "below"}


def _problem(error: SchemaError) -> str:
    value, instance, schema = cast(Any, error.validator_value), cast(Any, error.instance), cast(Any, error.schema)
    if error.validator == "required":
        missing = [name for name in value if name not in (instance or {})]
        prefix = _where(error)
        names = [f"{prefix}.{m}" if prefix != "(arguments)" else m for m in missing]
        return "; ".join(f"{n}: required" for n in names)
    if error.validator == "additionalProperties":
        known = list(schema.get("properties", {})) if isinstance(schema, dict) else []
        extra = [k for k in (instance or {}) if k not in known]
        prefix = _where(error)
        allowed = ", ".join(known[:_LISTED]) + (", …" if len(known) > _LISTED else "") if known else "none"
        names = [excerpt(k, 40)[1:-1] if len(k) > 40 else k for k in extra[:_LISTED]]
        return "; ".join(
            f"{prefix + '.' if prefix != '(arguments)' else ''}{n}: unknown field (allowed: {allowed})" for n in names
        )
    branches = value if error.validator == "oneOf" and isinstance(value, list) else []
    if branches and all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
        # "Exactly one of these fields" (a feed filter's status or expression).
        fields = " or ".join(n for b in branches for n in b["required"])
        return f"{_where(error)}: give exactly one of {fields}"
    if error.validator in ("oneOf", "anyOf") and error.context:
        # The closest branch says more than "no branch matched".
        deepest = max(error.context, key=lambda e: (len(e.absolute_path), -len(e.schema_path)))
        return _problem(deepest)
    got = "" if error.validator in ("required",) else f" (got {excerpt(error.instance)})"
    return f"{_where(error)}: {_allowed(error)}{got}"


def refusal_text(tool: str, problems: list[str]) -> str:
    """The one error for refused arguments: the fields and what they allow, bounded."""
    head = f"Invalid arguments for {tool}; nothing was sent to VTEX. "
    shown = problems[:MAX_PROBLEMS]
    more = f"; and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    text = head + "; ".join(shown) + more
    if len(text) > MAX_ERROR:
        text = text[: MAX_ERROR - 1] + "…"
    return text


@functools.cache
def _ecma(pattern: str) -> regress.Regex:
    import regress

    return regress.Regex(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Any:
    # JSON Schema patterns are ECMA-262 regular expressions; Python's re differs (\d and \w are
    # Unicode, $ also matches before a final newline), so they are run by an ECMA-262 engine.
    if validator.is_type(instance, "string") and _ecma(pattern).find(instance) is None:
        from jsonschema.exceptions import ValidationError

        yield ValidationError(f"does not match {pattern!r}")


@functools.cache
def _engine() -> tuple[FormatChecker, Any]:
    """This module's format checker and the Draft 2020-12 validator class running ECMA-262 patterns."""
    from jsonschema import Draft202012Validator, FormatChecker, validators

    formats = FormatChecker(formats=())
    formats.checks("date-time", raises=ValueError)(_is_date_time)
    formats.checks("email")(_is_email)
    return formats, validators.extend(Draft202012Validator, {"pattern": _pattern})


def formats() -> FormatChecker:
    """The format checker the contract uses (date-time, email), made when first asked for."""
    return _engine()[0]


class Contract:
    """One tool's advertised input schema, checked as clients check it."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._validator: Any = None

    @property
    def validator(self) -> Any:
        # Made on the tool's first call: checking ~40 schemas against the metaschema would cost
        # start-up ~0.1 s (tests/test_schemas.py checks every advertised schema).
        if self._validator is None:
            formats, validator_class = _engine()
            validator_class.check_schema(self.schema)
            self._validator = validator_class(self.schema, format_checker=formats)
        return self._validator

    def _condition(self, err: SchemaError) -> str:
        """For a rule the schema applies only ``if`` some fields are given (``then``), which."""
        path = list(err.absolute_schema_path)
        if not path or path[0] != "then":
            return ""
        given = self.schema.get("if", {}).get("required", [])
        return f", with {' and '.join(given)} given" if given else ""

    def problems(self, arguments: Any) -> list[str]:
        """Why ``arguments`` break the contract, field by field (empty: they keep it)."""
        try:
            size = len(json.dumps(arguments, ensure_ascii=False, default=str).encode())
        except ValueError:
            return ["(arguments): not JSON"]
        if size > MAX_ARGUMENT_BYTES:
            return [f"(arguments): {size:,} bytes of JSON; at most {MAX_ARGUMENT_BYTES:,} per call"]
        if self.validator.is_valid(arguments):  # the common case, without collecting errors
            return []
        # One problem per place: a null enum field breaks both "type" and "enum", say it once.
        first: dict[tuple[str, ...], SchemaError] = {}
        for err in self.validator.iter_errors(arguments):
            where = tuple(map(str, err.absolute_path))
            if err.validator in ("required", "additionalProperties"):
                where += (f"({err.validator})",)
            if where not in first or (err.validator == "type" and err.instance is None):
                first[where] = err
        problems: list[str] = []
        for _, err in sorted(first.items()):
            line = _problem(err) + self._condition(err)
            if line not in problems:
                problems.append(line)
        return problems


@functools.cache
def contract(model: type[BaseModel]) -> Contract:
    """The contract of the tool whose input model is ``model`` (its advertised schema): one per
    model, shared by the tool and by confirm_write's check of the same write's arguments."""
    return Contract(advertised_schema(model))
