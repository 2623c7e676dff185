"""Settings: where VTEX is, how to authenticate, and how the guard behaves.

Read from environment variables (the way MCP clients pass configuration) and overridden by CLI
flags. The rule that matters most: **no credentials at all means the embedded sandbox**, while
*half* a set of credentials is an error naming what is missing. A key without its token must
never silently talk to the sandbox while the operator believes it is talking to the store.

Bad values fail closed and are reported in the operator's terms: a value pydantic refuses becomes
a ``ConfigError`` naming the environment variable (or the CLI flag it came from), what is wrong
and what is allowed, never echoing a secret; ``VTEX_MCP_READ_ONLY`` accepts only known true/false
words, since a typo there must not quietly list the write tools.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .errors import ConfigError

__all__ = ["Settings", "GuardMode"]

GuardMode = Literal["auto", "elicit-only", "off"]

# Environment variable -> Settings field. One table, so the README's configuration table and
# the parser cannot disagree (tests/test_config.py checks the README against it).
MIN_SECRET_LENGTH = 16

ENV_VARS: dict[str, str] = {
    "VTEX_ACCOUNT_NAME": "account_name",
    "VTEX_ENVIRONMENT": "environment",
    "VTEX_APP_KEY": "app_key",
    "VTEX_APP_TOKEN": "app_token",
    "VTEX_AUTH_COOKIE": "auth_cookie",
    "VTEX_BASE_URL": "base_url",
    "VTEX_TIMEOUT": "timeout",
    "VTEX_MAX_CONCURRENCY": "max_concurrency",
    "VTEX_MAX_RETRIES": "max_retries",
    "VTEX_MCP_GUARD": "guard",
    "VTEX_MCP_GUARD_RELAX": "guard_relax",
    "VTEX_MCP_READ_ONLY": "read_only",
    "VTEX_MCP_TOOLSETS": "toolsets",
    "VTEX_MCP_STATE_DIR": "state_dir",
    "VTEX_MCP_SECRET": "secret",
    "VTEX_MCP_TOKEN_TTL": "token_ttl",
    "VTEX_MCP_HTTP_TOKEN": "http_token",
    "VTEX_SANDBOX_SEED": "sandbox_seed",
    "VTEX_SANDBOX_ORDERS": "sandbox_orders",
}


# The only words VTEX_MCP_READ_ONLY accepts; anything else is refused rather than read as "off".
_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("0", "false", "no", "off")
# Overrides that the CLI sets from a flag (cli._settings), so an error names the flag the user typed.
_CLI_FLAGS = {"guard": "--guard", "read_only": "--read-only", "state_dir": "--state-dir", "toolsets": "--toolsets"}
_FIELD_VARS = {field: var for var, field in ENV_VARS.items()}
_UNITS = {"timeout": " (seconds)", "token_ttl": " (seconds)"}


def _short(value: object) -> str:
    """repr of a refused value, cut short: error messages go to terminals and logs."""
    if isinstance(value, str) and len(value) > 60:
        value = value[:57] + "..."
    return repr(value)


def _parse_bool(var: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ConfigError(
        f"{var}={_short(raw)} is not a true/false word; use one of {', '.join(_TRUE_WORDS)} "
        f"or {', '.join(_FALSE_WORDS)} (case-insensitive)."
    )


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "vtex-orders-mcp"


class Settings(BaseModel):
    """Validated configuration. Secrets are ``SecretStr``: their repr and str are masked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_name: str | None = None
    environment: str = "vtexcommercestable"
    app_key: SecretStr | None = None
    app_token: SecretStr | None = None
    auth_cookie: SecretStr | None = None
    base_url: str | None = Field(None, description="Overrides https://{account}.{environment}.com.br")
    timeout: float = Field(10.0, gt=0, allow_inf_nan=False,
                           description="Default upstream timeout in seconds (per operation overrides)")
    max_concurrency: int = Field(8, ge=1, le=64)
    max_retries: int = Field(3, ge=0, le=10)
    guard: GuardMode = "auto"
    guard_relax: frozenset[str] = frozenset()
    read_only: bool = False
    toolsets: frozenset[str] | None = None  # None: every toolset (registry.TOOLSETS)
    state_dir: Path = Field(default_factory=_default_state_dir)
    secret: SecretStr | None = None
    token_ttl: float = Field(300.0, gt=0, allow_inf_nan=False)
    http_token: SecretStr | None = None
    sandbox_seed: int = 7
    sandbox_orders: int = Field(500, ge=10, le=20000)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``environ`` (default ``os.environ``) with ``overrides`` (CLI flags) on top."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for var, field in ENV_VARS.items():
            raw = environ.get(var)
            if raw is None or raw == "":
                continue
            if field in ("guard_relax", "toolsets"):
                values[field] = frozenset(t.strip() for t in raw.split(",") if t.strip())
            elif field == "read_only":
                values[field] = _parse_bool(var, raw)
            else:
                values[field] = raw
        given = {k: v for k, v in overrides.items() if v is not None}
        values.update(given)
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(" ".join(_explain(e, overridden=given.keys()) for e in exc.errors())) from None
        settings.check()
        return settings

    @property
    def uses_sandbox(self) -> bool:
        """True when no credential of any kind is configured (and no base URL points elsewhere)."""
        return not (self.app_key or self.app_token or self.auth_cookie or self.account_name or self.base_url)

    def check(self) -> None:
        """Refuse half-configured credentials, unknown toolsets and relaxed names that are not write
        tools, naming the variable."""
        self._check_toolsets()
        self._check_relax()
        if self.secret is not None and len(self.secret.get_secret_value()) < MIN_SECRET_LENGTH:
            # It seals confirmation tokens and elicitation state: a short one can be guessed offline.
            raise ConfigError(
                f"VTEX_MCP_SECRET is too short: use at least {MIN_SECRET_LENGTH} characters "
                "(e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
            )
        if self.uses_sandbox:
            return
        if self.app_key and not self.app_token:
            raise ConfigError("VTEX_APP_KEY is set but VTEX_APP_TOKEN is missing: set both, or neither.")
        if self.app_token and not self.app_key:
            raise ConfigError("VTEX_APP_TOKEN is set but VTEX_APP_KEY is missing: set both, or neither.")
        if not (self.app_key or self.auth_cookie):
            raise ConfigError(
                "VTEX_ACCOUNT_NAME/VTEX_BASE_URL is set but no credentials are: set VTEX_APP_KEY and "
                "VTEX_APP_TOKEN, or VTEX_AUTH_COOKIE (or unset everything to use the embedded sandbox)."
            )
        if not (self.account_name or self.base_url):
            raise ConfigError(
                "VTEX credentials are set but VTEX_ACCOUNT_NAME is missing: set the account name "
                "(or VTEX_BASE_URL)."
            )

    def _check_toolsets(self) -> None:
        if self.toolsets is None:
            return
        from .registry import TOOLSETS

        allowed = ", ".join(TOOLSETS)
        if not self.toolsets:
            raise ConfigError(f"VTEX_MCP_TOOLSETS is empty: name one or more of {allowed} (or unset it for all).")
        unknown = sorted(self.toolsets - set(TOOLSETS))
        if unknown:
            raise ConfigError(f"VTEX_MCP_TOOLSETS: unknown toolset {', '.join(unknown)}; allowed: {allowed}.")

    def _check_relax(self) -> None:
        # A typo here would leave the guard on (safe) while the operator believes it relaxed: say so.
        if not self.guard_relax:
            return
        from .registry import OPERATIONS

        writes = [op.name for op in OPERATIONS if not op.read_only]
        wrong = sorted(self.guard_relax - set(writes))
        if wrong:
            raise ConfigError(
                f"VTEX_MCP_GUARD_RELAX: {', '.join(wrong)} is not a write tool; write tools: {', '.join(writes)}."
            )

    @property
    def vtex_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        return f"https://{self.account_name}.{self.environment}.com.br"

    @property
    def account(self) -> str:
        """The account name for the order-system query parameters (``an`` / ``accountName``)."""
        return self.account_name or "sandbox"

    def secret_values(self) -> list[str]:
        """Every configured secret, for log/result redaction."""
        return [
            s.get_secret_value()
            for s in (self.app_key, self.app_token, self.auth_cookie, self.secret, self.http_token)
            if s is not None and s.get_secret_value()
        ]


def _explain(error: Any, overridden: Any) -> str:
    """One pydantic error as a sentence about the variable or flag the operator set."""
    field = str(error["loc"][0]) if error["loc"] else ""
    info = Settings.model_fields.get(field)
    if info is None:  # an override that is not a setting at all (a caller's typo)
        return f"unknown setting {field!r}; settings: {', '.join(Settings.model_fields)}."
    if field in overridden:
        source = _CLI_FLAGS.get(field, f"{field} (override)")
    else:
        source = _FIELD_VARS.get(field, field)
    if error["type"] == "literal_error":
        problem = "not an allowed value"
    else:
        problem = error["msg"].replace("Input should be", "should be").replace("Value error, ", "")
    secret = SecretStr in get_args(info.annotation) or info.annotation is SecretStr
    # Secrets are never echoed, whatever was wrong with them.
    shown = "" if secret else f"={_short(error.get('input'))}"
    allowed = _allowed(field, info)
    return f"{source}{shown}: {problem}" + (f"; allowed: {allowed}." if allowed else ".")


def _allowed(field: str, info: Any) -> str | None:
    """The values a field accepts, from its own type and bounds (so the message cannot drift)."""
    if get_origin(info.annotation) is Literal:
        return ", ".join(str(a) for a in get_args(info.annotation))
    kind = {int: "a whole number", float: "a number"}.get(info.annotation)
    if kind is None:
        return None
    ge = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    le = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
    gt = next((m.gt for m in info.metadata if getattr(m, "gt", None) is not None), None)
    if ge is not None and le is not None:
        kind += f" from {ge} to {le}"
    elif gt is not None:
        kind += f" greater than {gt}"
    return kind + _UNITS.get(field, "")
