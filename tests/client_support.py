"""Shared by the client tests: credentials that must never leak, settings for a fake store, and a
sleep that records instead of waiting (the client takes ``sleep=``)."""

from __future__ import annotations

from vtex_orders_mcp.config import Settings

KEY, TOKEN, COOKIE = "vtexappkey-acme-SECRETKEY", "APPTOKEN-SECRET-VALUE", "COOKIE-SECRET-VALUE"


def settings(tmp_path, **env):
    """A store "acme" with key and token; ``VAR=None`` removes a variable, others are added."""
    base = {"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": KEY, "VTEX_APP_TOKEN": TOKEN}
    base.update(env)
    return Settings.from_env({k: v for k, v in base.items() if v is not None}, state_dir=tmp_path / "state")


class Sleeps:
    def __init__(self):
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
