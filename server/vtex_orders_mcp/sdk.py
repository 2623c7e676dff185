"""The one module that touches the `mcp` SDK's non-public API, and why each use is needed.

The server is built from the registry rather than from decorated functions, and its guard works
across both protocol eras; a few things that needs are not public API in mcp 2.3:

- **Tools built from a model.** ``Tool`` takes its input schema, its argument model
  (``FuncMetadata`` over an ``ArgModelBase``) and its resolver plans
  (``build_resolver_plans``) from a function signature; ours come from the registry, so they are
  handed to the ``Tool`` constructor directly (``model_tool``). ``ModelTool.run`` checks the
  arguments first, so a refusal reads as guidance (the field, what is allowed) instead of
  pydantic's dump; the model it validated them with is handed to the SDK's own validation step
  (``FuncMetadata.validate_arguments``, overridden by ``_ValidatedOnce``), which would otherwise
  validate the same arguments a second time.
- **Resolvers with a signature made at run time.** The SDK binds tool arguments to a resolver's
  parameters by name; each guarded operation's resolver gets a signature listing its fields
  (``with_parameters``).
- **Which sealed request state a call came back with.** Under 2026-07-28 an elicitation answer
  returns with the ``requestState`` the server sealed; the guard spends it like a token
  (one "yes", one execution). The SDK unseals it through the codec it is given, in the context
  the tool then runs in; ``RoundNotingCodec`` notes a digest of it there (``sealed_state``).
- **The caller's identity.** ``get_access_token`` (the auth middleware's context variable) and
  ``principal_components`` name who is calling over HTTP.
- **A tools/list that depends on the session.** An app-only tool (the MCP Apps approval card's
  buttons) must not be listed to sessions that did not declare the extension; ``MCPServer``
  answers tools/list through ``_handle_list_tools(ctx, params)``, the one place that sees the
  session, so ``SessionToolsServer`` overrides it to call ``list_tools_for(ctx)``.

tests/test_sdk_adapter.py fails loudly when any of these changes shape; the pin ``mcp~=2.3.0``
keeps a minor release from changing them unannounced.
"""

from __future__ import annotations

import contextvars
import hashlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import principal_components
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import AESGCMRequestStateCodec, Context, MCPServer, Resolve
from mcp.server.mcpserver.resolve import build_resolver_plans
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import CallToolResult, ListToolsResult, PaginatedRequestParams, ToolAnnotations
from mcp.types import Tool as MCPTool
from pydantic import ValidationError

__all__ = [
    "ArgModel",
    "ModelTool",
    "RoundNotingCodec",
    "SessionToolsServer",
    "model_tool",
    "principal",
    "sealed_state",
    "with_parameters",
]

# The base of every tool input model: what the SDK validates tool calls with.
ArgModel = ArgModelBase

# The digest of the sealed request state the current request carried, set while the SDK unseals
# it (its middleware then calls the tool in the same context). Only read when the request has a
# request state, so a value left from an earlier request on the same task is never used.
_SEALED_STATE: contextvars.ContextVar[str | None] = contextvars.ContextVar("vtex_sealed_state", default=None)


class RoundNotingCodec:
    """The SDK's AES-GCM request-state codec, noting which sealed state it opened."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self._inner = AESGCMRequestStateCodec(list(keys))

    def seal(self, payload: bytes) -> str:
        return self._inner.seal(payload)

    def unseal(self, token: str) -> bytes:
        payload = self._inner.unseal(token)
        _SEALED_STATE.set(hashlib.sha256(token.encode()).hexdigest())
        return payload


def sealed_state() -> str | None:
    """A digest of the sealed request state the current request came back with (see above)."""
    return _SEALED_STATE.get()


def principal() -> str:
    """Who is calling: the authenticated identity on HTTP ("client", or "client/issuer/subject"
    when the token verifier supplies them), "local" on stdio and in-memory."""
    token = get_access_token()
    if token is None:
        return "local"
    client, issuer, subject = principal_components(token)
    if issuer is None and subject is None:
        return client
    return "/".join(part or "-" for part in (client, issuer, subject))  # positions kept: distinct stays distinct


# The arguments of the call in progress and the model instance ModelTool.run validated them into.
_VALIDATED: contextvars.ContextVar[tuple[dict[str, Any], ArgModelBase] | None] = contextvars.ContextVar(
    "vtex_validated", default=None
)


class _ValidatedOnce(FuncMetadata):
    """The SDK's argument metadata, reusing the validation ModelTool.run already did for this very
    arguments object (any other call validates as the SDK does)."""

    def validate_arguments(self, arguments_to_validate: dict[str, Any]) -> dict[str, Any]:
        done = _VALIDATED.get()
        if done is not None and done[0] is arguments_to_validate:
            return done[1].model_dump_one_level()
        return super().validate_arguments(arguments_to_validate)


class ModelTool(Tool):
    """A Tool over a registry operation's argument model. ``check`` refuses arguments that break
    the advertised schema before anything else (its answer is the tool result, no request is
    made); ``explain`` turns a refusal by the model itself into such a result."""

    check: Callable[[str, dict[str, Any]], CallToolResult | None] | None = None
    explain: Callable[[str, ValidationError, type[ArgModelBase]], CallToolResult] | None = None

    def refusal(self, arguments: dict[str, Any]) -> CallToolResult | None:
        """The tool result refusing ``arguments`` (the schema's check, then the model's), or None."""
        refused = self._checked(arguments)
        return refused if isinstance(refused, CallToolResult) else None

    def _checked(self, arguments: dict[str, Any]) -> CallToolResult | ArgModelBase:
        """The refusal of ``arguments``, or the model instance they validate into."""
        if self.check is not None:
            refused = self.check(self.name, arguments)
            if refused is not None:
                return refused
        model = self.fn_metadata.arg_model
        try:
            return model.model_validate(self.fn_metadata.pre_parse_json(arguments))
        except ValidationError as exc:
            if self.explain is None:
                raise
            return self.explain(self.name, exc, model)

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        checked = self._checked(arguments)
        if isinstance(checked, CallToolResult):
            return checked
        token = _VALIDATED.set((arguments, checked))
        try:
            return await super().run(arguments, context, convert_result=convert_result)
        finally:
            _VALIDATED.reset(token)


def model_tool(
    *,
    name: str,
    title: str,
    description: str,
    args: type[ArgModelBase],
    parameters: dict[str, Any],
    handler: Callable[..., Any],
    annotations: ToolAnnotations,
    meta: dict[str, Any] | None,
    output_schema: dict[str, Any],
    explain: Callable[[str, ValidationError, type[ArgModelBase]], CallToolResult],
    check: Callable[[str, dict[str, Any]], CallToolResult | None] | None = None,
    resolver: Callable[..., Any] | None = None,
) -> ModelTool:
    """A tool whose handler is called as ``handler(ctx, **arguments)`` (plus ``approval``, the
    resolver's answer, when a resolver is given), advertising ``parameters`` as its input schema."""
    resolved = {"approval": (Resolve(resolver), True)} if resolver else {}
    return ModelTool(
        fn=handler,
        name=name,
        title=title,
        description=description,
        parameters=parameters,
        fn_metadata=_ValidatedOnce(arg_model=args, output_schema=output_schema),
        is_async=True,
        context_kwarg="ctx",
        resolved_params=resolved,
        resolver_plans=build_resolver_plans(resolved, set(args.model_fields)) if resolved else {},
        annotations=annotations,
        meta=meta,
        explain=explain,
        check=check,
    )


def with_parameters(fn: Callable[..., Any], fields: Sequence[str], name: str) -> Callable[..., Any]:
    """``fn(ctx, **fields)`` with a signature naming each field, as the SDK binds arguments to a
    resolver by parameter name."""
    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in fields]
    fn.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    fn.__annotations__ = {"ctx": Context}
    fn.__qualname__ = name
    return fn


class SessionToolsServer(MCPServer):
    """An ``MCPServer`` whose tools/list answer may differ per session (``list_tools_for``)."""

    async def list_tools_for(self, ctx: ServerRequestContext[Any, Any]) -> list[MCPTool]:
        return await self.list_tools()

    async def _handle_list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(tools=await self.list_tools_for(ctx))
