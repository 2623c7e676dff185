"""Settings: where VTEX is, how to authenticate, how the guard behaves and how the server is served.

One declaration per setting (a field of ``Settings``): its type and bounds, its default, the
environment variable it is read from and, for the ones an operator types on the command line,
its flag. ``Settings.from_env`` reads each setting's variable (the way MCP clients pass
configuration) and pydantic validates it; cli.py builds the flags from the same fields (``flags``)
and hands what was typed over as overrides, which win over the environment.

The rule that matters most: **no credentials at all means the embedded sandbox**, while *half* a
set of credentials is an error naming what is missing. A key without its token must never
silently talk to the sandbox while the operator believes it is talking to the store.

Bad values fail closed and are reported in the operator's terms: a value pydantic refuses becomes
a ``ConfigError`` naming what the user typed (the flag when a flag was given, the environment
variable otherwise), what is wrong and what is allowed, never echoing a secret.
``VTEX_MCP_READ_ONLY`` accepts only known true/false words, since a typo there must not quietly
list the write tools.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo

from .errors import ConfigError

__all__ = ["ENV_VARS", "FLAGS", "GuardMode", "Settings"]

GuardMode = Literal["auto", "elicit-only", "token", "off"]
Transport = Literal["stdio", "http"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
MIN_SECRET_LENGTH = 16

# A VTEX account name or environment: dot-separated host-name labels (letters, digits, hyphens).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_PART = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")

# The only words VTEX_MCP_READ_ONLY (and the other switches) accept; anything else is refused.
_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("0", "false", "no", "off")


def _setting(env: str, default: Any = None, *, flag: str | None = None, help: str = "", **bounds: Any) -> Any:
    """A setting read from ``env`` (and from ``flag`` on the command line, when it has one)."""
    extra: dict[str, Any] = {"env": env}
    if flag:
        extra["flag"] = flag
    return Field(default, validation_alias=AliasChoices(env), description=help, json_schema_extra=extra, **bounds)


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "vtex-orders-mcp"


Names = frozenset[str] | None
NameSet = frozenset[str]


class Settings(BaseModel):
    """Validated configuration, read by ``from_env``. Secrets are ``SecretStr``: their repr and str
    are masked."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    # --- VTEX ---
    account_name: str | None = _setting("VTEX_ACCOUNT_NAME", help="the store's account name")
    environment: str = _setting("VTEX_ENVIRONMENT", "vtexcommercestable", help="VTEX environment")
    app_key: SecretStr | None = _setting("VTEX_APP_KEY", help="API key (X-VTEX-API-AppKey)")
    app_token: SecretStr | None = _setting("VTEX_APP_TOKEN", help="API token (X-VTEX-API-AppToken)")
    auth_cookie: SecretStr | None = _setting("VTEX_AUTH_COOKIE", help="user token (VtexIdclientAutCookie)")
    base_url: str | None = _setting("VTEX_BASE_URL", help="overrides https://{account}.{environment}.com.br")
    timeout: float = _setting(
        "VTEX_TIMEOUT",
        10.0,
        gt=0,
        allow_inf_nan=False,
        help="default upstream timeout in seconds (per operation overrides)",
    )
    max_concurrency: int = _setting("VTEX_MAX_CONCURRENCY", 8, ge=1, le=64, help="requests in flight to VTEX")
    max_retries: int = _setting("VTEX_MAX_RETRIES", 3, ge=0, le=10, help="retries of a read")
    # --- the guard ---
    guard: GuardMode = _setting(
        "VTEX_MCP_GUARD",
        "auto",
        flag="--guard",
        help="approval policy for writes: auto (the strongest human channel the client offers), elicit-only, "
        "token (clients without one get a confirmation token the model can redeem), off (sandbox evals)",
    )
    guard_relax: NameSet = _setting(
        "VTEX_MCP_GUARD_RELAX", frozenset(), help="write tools the operator exempts from approval"
    )
    read_only: bool = _setting("VTEX_MCP_READ_ONLY", False, flag="--read-only", help="do not list write tools at all")
    toolsets: Names = _setting("VTEX_MCP_TOOLSETS", flag="--toolsets", help="list only these toolsets' tools")
    state_dir: Path = Field(
        default_factory=_default_state_dir,
        validation_alias=AliasChoices("VTEX_MCP_STATE_DIR"),
        description="where the audit log and token secret live",
        json_schema_extra={"env": "VTEX_MCP_STATE_DIR", "flag": "--state-dir"},
    )
    secret: SecretStr | None = _setting("VTEX_MCP_SECRET", help="seals approvals; share it between replicas")
    # --- team deployment (docs/deploy.md) ---
    database_url: SecretStr | None = _setting(
        "VTEX_MCP_DATABASE_URL",
        help="PostgreSQL URL of the store replicas share (audit, approvals, spent ids); unset: SQLite in the state dir",
    )
    audit_retention_days: float | None = _setting(
        "VTEX_MCP_AUDIT_RETENTION_DAYS",
        gt=0,
        allow_inf_nan=False,
        help="audit rows older than this many days are deleted by `vtex-orders-mcp audit --prune`",
    )
    config_file: Path | None = _setting(
        "VTEX_MCP_CONFIG", flag="--config", help="TOML file listing several VTEX accounts (docs/deploy.md)"
    )
    serve_account: str | None = _setting(
        "VTEX_MCP_ACCOUNT", flag="--account", help="the account of the config file to serve (stdio) or read (audit)"
    )
    token_ttl: float = _setting(
        "VTEX_MCP_TOKEN_TTL",
        300.0,
        gt=0,
        allow_inf_nan=False,
        help="confirmation tokens expire after this many seconds",
    )
    approval_ttl: float = _setting(
        "VTEX_MCP_APPROVAL_TTL",
        900.0,
        gt=0,
        allow_inf_nan=False,
        help="a write waiting on the approval page or card expires after this many seconds",
    )
    public_url: str | None = _setting(
        "VTEX_MCP_PUBLIC_URL", flag="--public-url", help="the address people reach this server at (approval links)"
    )
    approvers: SecretStr | None = _setting(
        "VTEX_MCP_APPROVERS", help="name:token,... approvers who must sign in on the approval page (team option)"
    )
    four_eyes: str | None = _setting(
        "VTEX_MCP_FOUR_EYES",
        help="writes whose approver must not be the requester: tool names, 'amount>CENTS', 'account' (comma-separated)",
    )
    # --- serving ---
    transport: Transport = _setting("VTEX_MCP_TRANSPORT", "stdio", flag="--transport", help="how MCP is served")
    host: str = _setting("VTEX_MCP_HOST", "127.0.0.1", flag="--host", help="HTTP: the address to bind")
    port: int = _setting("VTEX_MCP_PORT", 8000, ge=1, le=65535, flag="--port", help="HTTP: the port to bind")
    stateless: bool = _setting(
        "VTEX_MCP_STATELESS",
        False,
        flag="--stateless",
        help="HTTP: no sessions, so several replicas can share a load balancer",
    )
    http_token: SecretStr | None = _setting(
        "VTEX_MCP_HTTP_TOKEN", flag="--http-token", help="HTTP: the bearer token clients must send"
    )
    allowed_origins: Names = _setting(
        "VTEX_MCP_ALLOWED_ORIGINS",
        flag="--allowed-origin",
        help="HTTP: extra allowed browser Origins (comma-separated)",
    )
    log_level: LogLevel = _setting("VTEX_MCP_LOG_LEVEL", "INFO", flag="--log-level", help="log verbosity")
    # --- the embedded sandbox ---
    sandbox_seed: int = _setting("VTEX_SANDBOX_SEED", 7, help="the sandbox's random seed")
    sandbox_orders: int = _setting("VTEX_SANDBOX_ORDERS", 500, ge=10, le=20000, help="how many orders it holds")

    @field_validator("guard_relax", "toolsets", "allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(t.strip() for t in value.split(",") if t.strip())
        if isinstance(value, list | tuple):  # a flag given several times
            return frozenset(t.strip() for item in value for t in str(item).split(",") if t.strip())
        return value

    @field_validator("account_name", "environment")
    @classmethod
    def _host_label(cls, value: str | None) -> str | None:
        # Both become part of the host name ({account}.{environment}.com.br): checked at start-up,
        # not as an "unsupported protocol" on the first call.
        if value is not None and not _HOST_PART.fullmatch(value):
            raise ValueError("not a VTEX account or environment name (letters, digits and hyphens, as in a host name)")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError(
                "not an http:// or https:// URL with a host, e.g. https://mystore.vtexcommercestable.com.br"
            )
        return value

    @field_validator("read_only", "stateless", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word in _TRUE_WORDS or word in _FALSE_WORDS:
            return word in _TRUE_WORDS
        raise ValueError(f"not a true/false word; use one of {', '.join(_TRUE_WORDS)} or {', '.join(_FALSE_WORDS)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``environ`` (default ``os.environ``) with ``overrides`` (CLI flags, named by
        field) on top; a ``ConfigError`` names what is wrong. Each setting is read from its one
        variable (ENV_VARS); an empty variable counts as unset. No .env or secrets file is read."""
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(given) - set(cls.model_fields))
        if unknown:  # a caller's typo
            raise ConfigError(f"unknown setting {unknown[0]!r}; settings: {', '.join(cls.model_fields)}.")
        env = os.environ if environ is None else environ
        values: dict[str, Any] = dict(given)  # flags win over the environment
        for name in cls.model_fields:
            raw = env.get(ENV_VARS_BY_FIELD[name])
            if name not in values and raw not in (None, ""):
                values[name] = raw
        try:
            settings = cls(**values)
        except ValidationError as exc:
            raise ConfigError(" ".join(_explain(e, flags=given.keys()) for e in exc.errors())) from None
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
        self._check_approvers()
        if self.secret is not None and len(self.secret.get_secret_value()) < MIN_SECRET_LENGTH:
            # It seals confirmation tokens and elicitation state: a short one can be guessed offline.
            raise ConfigError(
                f"VTEX_MCP_SECRET is too short: use at least {MIN_SECRET_LENGTH} characters "
                "(e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
            )
        if self.database_url is not None and urlsplit(self.database_url.get_secret_value()).scheme not in (
            "postgresql",
            "postgres",
        ):
            raise ConfigError("VTEX_MCP_DATABASE_URL is not a postgresql://user:password@host:port/database URL.")
        if not self.uses_sandbox:
            self._check_credentials()

    def _check_credentials(self) -> None:
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
                "VTEX credentials are set but VTEX_ACCOUNT_NAME is missing: set the account name (or VTEX_BASE_URL)."
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

    def _check_approvers(self) -> None:
        if self.approvers is not None:
            for item in self.approvers.get_secret_value().split(","):
                name, sep, token = item.partition(":")
                if item.strip() and (not sep or not name.strip() or len(token.strip()) < MIN_SECRET_LENGTH):
                    raise ConfigError(
                        f"VTEX_MCP_APPROVERS: each entry is name:token with a token of {MIN_SECRET_LENGTH}+ characters "
                        f"(entry for {name.strip()[:20]!r} is not)."
                    )
        if not self.four_eyes:
            return
        from .registry import REGISTRY

        writes = {op.name for op in REGISTRY.writes}
        for rule in (r.strip() for r in self.four_eyes.split(",") if r.strip()):
            amount = rule.removeprefix("amount>")
            if rule == "account" or rule in writes or (amount != rule and amount.isdigit()):
                continue
            raise ConfigError(
                f"VTEX_MCP_FOUR_EYES: {rule!r} is not a write tool, 'amount>CENTS' or 'account'; "
                f"write tools: {', '.join(sorted(writes))}."
            )
        if not self.approvers:
            raise ConfigError("VTEX_MCP_FOUR_EYES needs VTEX_MCP_APPROVERS: a second person has to sign in to approve.")

    def _check_relax(self) -> None:
        # A typo here would leave the guard on (safe) while the operator believes it relaxed: say so.
        if not self.guard_relax:
            return
        from .registry import REGISTRY

        writes = [op.name for op in REGISTRY.writes]
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
        """Every configured secret, for log/result redaction (approver tokens one by one)."""
        whole = [
            s.get_secret_value()
            for s in (
                self.app_key,
                self.app_token,
                self.auth_cookie,
                self.secret,
                self.http_token,
                self.approvers,
                self.database_url,
            )
            if s is not None and s.get_secret_value()
        ]
        return whole + list(self.approver_tokens) + self._database_password()

    def _database_password(self) -> list[str]:
        """The password inside the database URL, masked on its own too (drivers may quote it alone)."""
        if self.database_url is None:
            return []
        password = urlsplit(self.database_url.get_secret_value()).password
        return [password] if password else []

    @property
    def approver_tokens(self) -> dict[str, str]:
        """Approver token -> approver name, from ``VTEX_MCP_APPROVERS`` (``name:token,...``)."""
        if self.approvers is None:
            return {}
        pairs = (item.partition(":") for item in self.approvers.get_secret_value().split(",") if item.strip())
        return {token.strip(): name.strip() for name, _, token in pairs}

    @property
    def four_eyes_rules(self) -> tuple[frozenset[str], int | None, bool]:
        """(tools, amount in cents above which, account-level writes) needing a second person."""
        tools: set[str] = set()
        amount: int | None = None
        account = False
        for rule in (r.strip() for r in (self.four_eyes or "").split(",") if r.strip()):
            if rule.startswith("amount>"):
                amount = int(rule.removeprefix("amount>"))
            elif rule == "account":
                account = True
            else:
                tools.add(rule)
        return frozenset(tools), amount, account


def _extra(info: FieldInfo) -> dict[str, Any]:
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}


# Environment variable -> field, and field -> flag: the README's configuration table and the
# CLI's flags are checked against these (tests/test_config.py).
ENV_VARS: dict[str, str] = {str(_extra(i)["env"]): name for name, i in Settings.model_fields.items()}
ENV_VARS_BY_FIELD: dict[str, str] = {name: var for var, name in ENV_VARS.items()}
FLAGS: dict[str, str] = {
    name: str(_extra(i)["flag"]) for name, i in Settings.model_fields.items() if "flag" in _extra(i)
}
_UNITS = {
    "timeout": " (seconds)",
    "token_ttl": " (seconds)",
    "approval_ttl": " (seconds)",
    "audit_retention_days": " (days)",
}


def _short(value: object) -> str:
    """repr of a refused value, cut short: error messages go to terminals and logs."""
    if isinstance(value, str) and len(value) > 60:
        value = value[:57] + "..."
    return repr(value)


def _explain(error: Any, flags: Any) -> str:
    """One pydantic error as a sentence about the flag or variable the operator set."""
    loc = str(error["loc"][0]) if error["loc"] else ""
    field = ENV_VARS.get(loc, loc)
    info = Settings.model_fields.get(field)
    if info is None:
        return f"unknown setting {loc!r}; settings: {', '.join(Settings.model_fields)}."
    source = (FLAGS.get(field) or f"{field} (override)") if field in flags else ENV_VARS_BY_FIELD[field]
    if error["type"] == "literal_error":
        problem = "not an allowed value"
    else:
        problem = error["msg"].replace("Input should be", "should be").replace("Value error, ", "")
    secret = SecretStr in get_args(info.annotation) or info.annotation is SecretStr
    # Secrets are never echoed, whatever was wrong with them.
    shown = "" if secret else f"={_short(error.get('input'))}"
    allowed = _allowed(field, info)
    return f"{source}{shown}: {problem}" + (f"; allowed: {allowed}." if allowed else ".")


def _allowed(field: str, info: FieldInfo) -> str | None:
    """The values a field accepts, from its own type and bounds (so the message cannot drift)."""
    if get_origin(info.annotation) is Literal:
        return ", ".join(str(a) for a in get_args(info.annotation))
    if info.annotation is int:
        kind = "a whole number"
    elif info.annotation is float:
        kind = "a number"
    else:
        return None
    ge = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    le = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
    gt = next((m.gt for m in info.metadata if getattr(m, "gt", None) is not None), None)
    if ge is not None and le is not None:
        kind += f" from {ge} to {le}"
    elif gt is not None:
        kind += f" greater than {gt}"
    return kind + _UNITS.get(field, "")
