"""MCP prompts, loaded at start-up from markdown files (one file per prompt).

A prompt file is front matter between ``---`` lines, then the body::

    ---
    name: cancel_order_safely
    title: Cancel an order safely
    description: Check that an order can be canceled, get the user's approval, cancel, verify.
    arguments:
      - name: order_id
        description: the order to cancel
        required: true
      - name: reason
        description: why; the customer may see it
        default: requested by the customer
    embed:
      - vtex://orders/{order_id}.txt
    ---
    Cancel order {order_id} ... call `cancel_order` ...

The front matter is YAML (PyYAML, safe loading). What it may hold is checked at start-up: known
keys only, string names and descriptions, arguments as mappings; anything else is a
``PromptFileError`` naming the file (and the line, for YAML syntax errors).

Which prompts are offered: each one whose tools the server has. The snake_case names a prompt
mentions are its tools (tests/test_prompts.py checks each is a tool, and each vtex:// URI a
resource, of the server), so a read-only server drops the write workflows.

Getting a prompt: unknown argument names are refused, missing or blank required ones too, as
JSON-RPC -32602 errors naming the argument (``FilePrompt``); optional ones take their
``default`` (or read "(not given)"), and each ``{argument}`` in the body and in ``embed`` URIs is
replaced; ``{today}`` is the UTC date. Each ``embed`` URI is read through the server's own resources
and attached before the body as an embedded resource, so the model starts with the current order (or
conversation, or the status reference) in front of it, and an unknown orderId fails the prompt
instead of producing advice about
nothing. Other ``{...}`` text (JSON examples) is left alone.

Where the files are: the repository's top-level ``prompts/`` when running from a checkout (so
editing a file needs no reinstall), else the copy shipped inside the package
(``vtex_orders_mcp/bundled_prompts/``: pyproject.toml maps that package to ``prompts/``, so a
wheel carries the same files). No folder at all costs only the prompts, logged as an error.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime, UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.server.mcpserver.prompts.base import Message, Prompt, PromptArgument, UserMessage
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS, EmbeddedResource, TextResourceContents
import yaml
from pydantic import Field

from .models import ORDER_ID_PATTERN

if TYPE_CHECKING:
    from .server import App

log = logging.getLogger("vtex_orders_mcp.prompts")

__all__ = [
    "NoPromptFiles",
    "PromptArg",
    "PromptFile",
    "PromptFileError",
    "load_prompt_files",
    "parse_front_matter",
    "parse_prompt_file",
    "prompt_dirs",
    "register_prompts",
]

_HERE = Path(__file__).resolve().parent
# A source checkout (editable install): server/vtex_orders_mcp/ under a folder with pyproject.toml.
_CHECKOUT = _HERE.parent.name == "server" and (_HERE.parents[1] / "pyproject.toml").is_file()
REPO_PROMPTS: Path | None = _HERE.parents[1] / "prompts" if _CHECKOUT else None
BUNDLED_PROMPTS = _HERE / "bundled_prompts"
PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
URI = re.compile(r"vtex://[^\s`'\")\]>,]+")
NAME = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
NOT_GIVEN = "(not given)"
BUILTINS = ("today",)


class PromptFileError(ValueError):
    """A prompt file that cannot be loaded; the message names the file and the line."""


class NoPromptFiles(PromptFileError):
    """No prompt folder was found (a broken install)."""


@dataclass(frozen=True)
class PromptArg:
    name: str
    description: str = ""
    required: bool = False
    default: str | None = None


@dataclass(frozen=True)
class PromptFile:
    name: str
    description: str
    body: str
    path: Path
    title: str | None = None
    arguments: tuple[PromptArg, ...] = ()
    embed: tuple[str, ...] = dc_field(default_factory=tuple)

    def mentions(self) -> set[str]:
        """snake_case identifiers in the description and body: tool names (and tool arguments).

        Placeholders such as ``{order_id}`` are this prompt's own arguments, not mentions."""
        text = PLACEHOLDER.sub(" ", f"{self.description}\n{self.body}")
        return set(SNAKE.findall(text))

    def uris(self) -> set[str]:
        """vtex:// URIs (templates, as written) in the body and in ``embed``."""
        return {u.rstrip(".:;") for u in URI.findall(self.body)} | set(self.embed)

    def fill(self, text: str, values: dict[str, str]) -> str:
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def values(self, given: dict[str, Any] | None, today: date | None = None) -> dict[str, str]:
        """Argument values with defaults applied; unknown names refused (required ones the SDK checks).
        ``today`` is the store's date (the sandbox's clock when embedded), UTC now by default."""
        given = dict(given or {})
        allowed = {a.name for a in self.arguments}
        unknown = sorted(set(given) - allowed)
        if unknown:
            raise ValueError(
                f"Unknown argument(s) for prompt {self.name}: {', '.join(unknown)} "
                f"(allowed: {', '.join(sorted(allowed)) or 'none'})"
            )
        out = {"today": (today or datetime.now(UTC).date()).isoformat()}
        for arg in self.arguments:
            value = str(given.get(arg.name) or "").strip()
            if not value and arg.required:
                raise ValueError(f"Missing required argument for prompt {self.name}: {arg.name}")
            # An order id goes into resource URIs: "v1-01/conversation" would embed another resource.
            if value and arg.name == "order_id" and not re.fullmatch(ORDER_ID_PATTERN, value):
                raise ValueError(f"order_id {value!r} is not an order id (like v502556llux-01)")
            out[arg.name] = value or (arg.default if arg.default is not None else NOT_GIVEN)
        return out


# --- front matter -------------------------------------------------------------------------------


# libyaml's parser when PyYAML was built with it (its wheels are): the prompts are parsed at every
# start, and the pure-Python parser cost a noticeable part of the cold start.
try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _FrontMatterLoader(_SafeLoader):
    """YAML's safe loader, refusing a key given twice (YAML keeps the last one silently, so a
    second ``name:`` would quietly rename a prompt)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):  # (`? [a]`: YAML allows it, a mapping cannot hold it)
                raise yaml.constructor.ConstructorError(
                    None, None, f"a {type(key).__name__} cannot be a key", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_front_matter(text: str, source: str = "<front matter>") -> dict[str, Any]:
    """The front matter as YAML (safe loading: plain data only); a mapping, or a PromptFileError
    naming the file and line."""
    try:
        data = yaml.load(text, Loader=_FrontMatterLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 2}" if mark is not None else source  # line 1 is the opening ---
        problem = getattr(exc, "problem", None) or str(exc)
        raise PromptFileError(f"{where}: not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PromptFileError(f"{source}: the front matter must be a mapping of keys to values")
    return data


def _split(path: Path) -> tuple[dict[str, Any], str]:
    """The front matter (parsed) and the body of a prompt file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != "---":
        raise PromptFileError(f"{path}:1: a prompt file starts with '---' front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise PromptFileError(f"{path}: front matter is not closed with '---'") from None
    return parse_front_matter("\n".join(lines[1:end]), str(path)), "\n".join(lines[end + 1 :]).strip()


def _text(path: Path, meta: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = meta.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PromptFileError(f"{path}: '{key}' must be a non-empty string")
    return value.strip()


def _argument(path: Path, n: int, raw: Any) -> PromptArg:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise PromptFileError(f"{path}: arguments[{n}] needs a name")
    extra = sorted(set(raw) - {"name", "description", "required", "default"})
    if extra:
        raise PromptFileError(f"{path}: arguments[{n}] has unknown key(s): {', '.join(extra)}")
    if not isinstance(raw.get("required", False), bool):
        raise PromptFileError(f"{path}: arguments[{n}].required must be true or false")
    if raw.get("required") and raw.get("default") is not None:
        raise PromptFileError(f"{path}: arguments[{n}] is required and cannot have a default")
    default = raw.get("default")
    return PromptArg(
        name=raw["name"],
        description=str(raw.get("description") or ""),
        required=bool(raw.get("required", False)),
        default=None if default is None else str(default),
    )


def _check_placeholders(path: Path, texts: tuple[str, ...], names: list[str]) -> None:
    known = set(names) | set(BUILTINS)
    for text in texts:
        for placeholder in PLACEHOLDER.findall(text):
            if placeholder not in known:
                raise PromptFileError(f"{path}: {{{placeholder}}} is not an argument of this prompt")


def parse_prompt_file(path: Path) -> PromptFile:
    meta, body = _split(path)
    unknown = sorted(set(meta) - {"name", "title", "description", "arguments", "embed"})
    if unknown:
        raise PromptFileError(f"{path}: unknown front matter key(s): {', '.join(unknown)}")
    name = _text(path, meta, "name") or ""
    if not NAME.fullmatch(name):
        raise PromptFileError(f"{path}: name {name!r} must be snake_case (a-z, 0-9, _)")
    args = [_argument(path, n, raw) for n, raw in enumerate(meta.get("arguments") or [])]
    names = [a.name for a in args]
    if len(set(names)) != len(names) or set(names) & set(BUILTINS):
        raise PromptFileError(f"{path}: argument names must be unique and not one of {BUILTINS}")
    embed = meta.get("embed") or []
    if not isinstance(embed, list) or not all(isinstance(u, str) and u.startswith("vtex://") for u in embed):
        raise PromptFileError(f"{path}: embed must be a list of vtex:// URIs")
    _check_placeholders(path, (body, *embed), names)
    if not body:
        raise PromptFileError(f"{path}: the prompt has no body")
    return PromptFile(
        name=name,
        title=_text(path, meta, "title", required=False),
        description=_text(path, meta, "description") or "",
        body=body,
        path=path,
        arguments=tuple(args),
        embed=tuple(embed),
    )


def prompt_dirs() -> list[Path]:
    """Where prompt files are looked for, in order; the first folder holding any wins."""
    return [d for d in (REPO_PROMPTS, BUNDLED_PROMPTS) if d is not None]


def load_prompt_files(folder: Path | None = None) -> list[PromptFile]:
    if folder is None:
        folder = next((d for d in prompt_dirs() if d.is_dir() and any(d.glob("*.md"))), None)
        if folder is None:
            raise NoPromptFiles(f"no prompt files found in {' or '.join(map(str, prompt_dirs()))}")
    files = [parse_prompt_file(p) for p in sorted(folder.glob("*.md"))]
    seen: dict[str, Path] = {}
    for f in files:
        if f.name in seen:
            raise PromptFileError(f"{f.path}: prompt name {f.name!r} already used by {seen[f.name]}")
        seen[f.name] = f.path
    return files


# --- registration -------------------------------------------------------------------------------


class FilePrompt(Prompt):
    """A Prompt rendered from a ``PromptFile``, with argument errors the client can read.

    The SDK's own check raises ValueError, which reaches the client as a bare "Internal server
    error"; here missing, empty and unknown arguments, and an embedded order that does not exist,
    are JSON-RPC -32602 errors that say which argument or order is wrong.
    """

    spec: PromptFile = Field(exclude=True)
    app: Any = Field(exclude=True)

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> Any:
        try:
            self.spec.values(arguments)
        except ValueError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        return await super().render(arguments, context)


async def _embedded(app: App, uri: str) -> list[Message]:
    # Read through the server, so a prompt embeds exactly what a client reading the resource sees.
    try:
        contents = await app.server.read_resource(uri)
    except ResourceNotFoundError as exc:
        raise MCPError(code=INVALID_PARAMS, message=str(exc), data={"uri": uri}) from None
    except ResourceError as exc:  # VTEX failed (its message, no secrets) or a crash (URI only)
        raise MCPError(code=INTERNAL_ERROR, message=str(exc), data={"uri": uri}) from None
    if not isinstance(contents, list):  # an input-required answer: no resource of ours asks
        raise MCPError(
            code=INTERNAL_ERROR, message=f"{uri} asks for input; a prompt cannot embed it", data={"uri": uri}
        )
    out: list[Message] = []
    for content in contents:
        text = content.content if isinstance(content.content, str) else content.content.decode()
        resource = TextResourceContents(uri=uri, text=text, mime_type=content.mime_type or "text/plain")
        out.append(UserMessage(EmbeddedResource(type="resource", resource=resource)))
    return out


def _today(app: App) -> date | None:
    """The sandbox's date when embedded: its orders are dated by its clock, which may be frozen."""
    return app.sandbox.clock.now().date() if app.sandbox is not None else None


def _renderer(app: App, spec: PromptFile) -> Any:
    async def render(**arguments: Any) -> list[Message]:
        values = spec.values(arguments, _today(app))
        messages: list[Message] = []
        for template in spec.embed:
            messages += await _embedded(app, spec.fill(template, values))
        messages.append(UserMessage(spec.fill(spec.body, values)))
        return messages

    render.__name__ = spec.name
    return render


def register_prompts(app: App, folder: Path | None = None) -> list[PromptFile]:
    """Register every prompt whose tools this server has; a read-only or toolset-limited server
    drops the workflows it cannot run rather than offering steps the model cannot take. Returns what was registered.

    A malformed prompt file stops start-up (it is a bug to fix); a missing prompt folder only
    costs the prompts: the tools and resources still serve, and the error says where it looked."""
    every, available = app.runtime.registry.tool_names(read_only=app.settings.read_only, toolsets=app.settings.toolsets)
    try:
        files = load_prompt_files(folder)
    except NoPromptFiles as exc:
        log.error("Serving no prompts: %s", exc)
        return []
    specs = []
    for spec in files:
        missing = sorted((spec.mentions() & every) - available)
        if missing:
            log.info("Prompt %s not offered: this server has no %s", spec.name, ", ".join(missing))
            continue
        specs.append(spec)
        app.server.add_prompt(
            FilePrompt(
                context_kwarg=None,
                spec=spec,
                app=app,
                name=spec.name,
                title=spec.title,
                description=spec.description,
                arguments=[
                    PromptArgument(name=a.name, description=a.description or None, required=a.required)
                    for a in spec.arguments
                ],
                fn=_renderer(app, spec),
            )
        )
    return specs
