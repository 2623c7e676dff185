"""Several VTEX stores in one server: the accounts file (``VTEX_MCP_CONFIG``, TOML).

::

    [accounts.storea]                       # the table's name is the account's name in URLs
    account_name = "storea"                 # default: the table's name
    app_key = { env = "STOREA_APP_KEY" }    # a value, or a reference to an environment variable
    app_token = { env = "STOREA_APP_TOKEN" }
    http_tokens = [{ env = "STOREA_AGENTS_TOKEN" }]   # bearer tokens valid on /mcp/storea only
    # a token may name the person it stands for: four-eyes rules then tell that person's requests
    # from their own approvals (principal http-bearer:ana; unnamed tokens are all http-bearer)
    # http_tokens = [{ env = "ANA_TOKEN", name = "ana" }, { env = "BRUNO_TOKEN", name = "bruno" }]

Each account takes the VTEX settings (``ACCOUNT_FIELDS``: credentials, host, timeouts, limits)
from its table; everything else (guard, store, serving) is the server's, from the environment
and the flags as usual. Each account becomes a ``Settings`` of its own, checked like the
single-account one, and a server of its own (``build_accounts``): its own VTEX client, guard and
keys, over one store shared by all of them and scoped to the account (storage/base.py). Over
HTTP each is served at ``/mcp/{account}`` (http.py), behind the bearer tokens listed for it (plus
``VTEX_MCP_HTTP_TOKEN``, valid on every account); over stdio one account is chosen at start
(``--account``, or the file's only one).

Without ``VTEX_MCP_CONFIG`` nothing here runs: the single-account variables work as they always
did. Setting both is refused: which credentials are in force must never be a guess.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import ENV_VARS_BY_FIELD, Settings
from .errors import ConfigError

__all__ = ["ACCOUNT_FIELDS", "Account", "build_accounts", "choose", "load_accounts", "token_names"]

# What an account's table may set: where its VTEX is and how to reach it, and who approves.
ACCOUNT_FIELDS = (
    "account_name",
    "environment",
    "app_key",
    "app_token",
    "auth_cookie",
    "base_url",
    "timeout",
    "max_concurrency",
    "max_retries",
    "sandbox_seed",
    "sandbox_orders",
    "approvers",
)
# Account settings that, left out of a table, keep the server's value instead of the default:
# an agency's stores may each name who approves their writes, and a store that names nobody
# keeps the server-wide approvers (never fewer checks than the operator set).
_INHERITED = ("approvers",)
_CREDENTIALS = ("account_name", "app_key", "app_token", "auth_cookie", "base_url")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PERSON = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class Account:
    """One store of the file: its name (the URL segment), its settings and its bearer tokens."""

    name: str
    settings: Settings
    tokens: frozenset[str]
    # The person each named token stands for (``{ env = "ANA_TOKEN", name = "ana" }``): over HTTP
    # the caller's principal is then ``http-bearer:ana``, which four-eyes rules tell apart from the
    # approver who signs in as ``ana``. Unnamed tokens are all the one principal ``http-bearer``.
    token_names: Mapping[str, str] = field(default_factory=dict)


def load_accounts(base: Settings, environ: Any = None) -> list[Account]:
    """The accounts ``base.config_file`` lists, each with its own checked settings."""
    if base.config_file is None:
        raise ConfigError("no accounts file: set VTEX_MCP_CONFIG (or --config).")
    environ = os.environ if environ is None else environ
    path = Path(base.config_file)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"VTEX_MCP_CONFIG: cannot read {path}: {exc.strerror or exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"VTEX_MCP_CONFIG: {path} is not valid TOML ({exc}).") from None
    set_here = [ENV_VARS_BY_FIELD[f] for f in _CREDENTIALS if getattr(base, f)]
    if set_here:
        raise ConfigError(
            f"{', '.join(set_here)} set together with VTEX_MCP_CONFIG: put each account's credentials in "
            f"{path} instead (or unset VTEX_MCP_CONFIG for one account)."
        )
    tables = document.get("accounts")
    unknown = sorted(set(document) - {"accounts"})
    if unknown or not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: list accounts as [accounts.NAME] tables (and nothing else at the top).")
    accounts = [_account(path, name, table, base, environ) for name, table in tables.items()]
    seen: dict[str, str] = {}
    for account in accounts:  # the VTEX account keys the audit, the approvals and every key
        other = seen.setdefault(account.settings.account, account.name)
        if other != account.name:
            raise ConfigError(f"{path}: [accounts.{other}] and [accounts.{account.name}] are the same VTEX account.")
    token_names(accounts)  # (refuses one token named for two people)
    return accounts


def _account(path: Path, name: str, table: Any, base: Settings, environ: Any) -> Account:
    where = f"{path} [accounts.{name}]"
    if not _NAME.match(name):
        raise ConfigError(f"{where}: an account's name is lowercase letters, digits, '-' and '_' (it is in URLs).")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: not a table.")
    unknown = sorted(set(table) - {*ACCOUNT_FIELDS, "http_tokens"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join([*ACCOUNT_FIELDS, 'http_tokens'])}."
        )
    values = {key: _value(where, key, table[key], environ) for key in ACCOUNT_FIELDS if key in table}
    values.setdefault("account_name", name)
    raw_tokens = table.get("http_tokens", [])
    if not isinstance(raw_tokens, list):
        raise ConfigError(f'{where}: http_tokens is a list of tokens (or {{ env = "NAME" }} references).')
    named = [_named_token(where, t, environ) for t in raw_tokens]
    tokens = frozenset(token for token, _ in named)
    token_names = {token: person for token, person in named if person is not None}
    shared = {
        f: getattr(base, f)
        for f in Settings.model_fields
        if f not in ACCOUNT_FIELDS or (f in _INHERITED and f not in values)
    }
    try:
        settings = Settings.from_env({}, **shared, **values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return Account(name=name, settings=settings, tokens=tokens, token_names=token_names)


def _named_token(where: str, raw: Any, environ: Any) -> tuple[str, str | None]:
    """An ``http_tokens`` entry: a token, ``{ env = "NAME" }``, or either with the ``name`` of the
    person it stands for (``{ env = "ANA_TOKEN", name = "ana" }``, ``{ value = "...", name = "ana" }``)."""
    if not isinstance(raw, dict) or "name" not in raw:
        return str(_value(where, "http_tokens", raw, environ)), None
    person, rest = raw["name"], {k: v for k, v in raw.items() if k != "name"}
    if not isinstance(person, str) or not _PERSON.match(person):
        raise ConfigError(f"{where}: an http_tokens name is letters, digits, '.', '-' and '_' (up to 64).")
    if set(rest) == {"value"}:
        return str(rest["value"]), person
    return str(_value(where, "http_tokens", rest, environ)), person


def _value(where: str, key: str, raw: Any, environ: Any) -> Any:
    """A value as written, or the environment variable a ``{ env = "NAME" }`` table names."""
    if not isinstance(raw, dict):
        return raw
    if set(raw) != {"env"} or not isinstance(raw["env"], str):
        raise ConfigError(f'{where}: {key} is a value or {{ env = "NAME" }}.')
    value = environ.get(raw["env"])
    if not value:
        raise ConfigError(f"{where}: {key} names the environment variable {raw['env']}, which is not set.")
    return value


def token_names(accounts: list[Account]) -> dict[str, str]:
    """Every named token of the file and the person it stands for; one token named differently
    in two accounts is refused (whose requests it carries must not depend on the URL)."""
    names: dict[str, str] = {}
    for account in accounts:
        for token, person in account.token_names.items():
            if names.setdefault(token, person) != person:
                raise ConfigError(
                    f"[accounts.{account.name}] names a bearer token {person!r} that another account names "
                    f"{names[token]!r}: one token stands for one person."
                )
    return names


def choose(accounts: list[Account], name: str | None) -> Account:
    """The account a stdio server (or a command) works with: the named one, or the only one."""
    if name is None:
        if len(accounts) == 1:
            return accounts[0]
        names = ", ".join(a.name for a in accounts)
        raise ConfigError(f"the accounts file lists several accounts ({names}): choose one with --account.")
    for account in accounts:
        if account.name == name:
            return account
    raise ConfigError(
        f"--account {name!r} is not in the accounts file; it lists {', '.join(a.name for a in accounts)}."
    )


def build_accounts(
    accounts: list[Account], base: Settings, transports: Mapping[str, Any] | None = None
) -> tuple[Any, dict[str, Any]]:
    """One server per account over one store: (the store, {account name: server.App}).
    ``transports``: an HTTP transport per account name instead of the network (tests)."""
    from .server import build_server
    from .storage import open_store

    store = open_store(base)
    given = transports or {}
    return store, {a.name: build_server(a.settings, store=store, transport=given.get(a.name)) for a in accounts}
