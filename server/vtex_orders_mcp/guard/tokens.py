"""Approval through the two-step token, for clients that cannot elicit.

The write tool executes nothing and returns the summary with a confirmation token;
``confirm_write`` (annotated destructive, so the client's own approval prompt shows the human the
tool and arguments) executes it. A token is sealed (sealing.py) and bound to the tool, a digest
of the exact arguments and the principal; it expires after ``token_ttl`` and is single use (its
id is spent in the store). A token for a write to an order is also bound to the order's state
as the summary showed it (binding.py): if the order changed before the confirmation, the
approval is stale and the token is refused. That also stops a second redemption on a replica
with another store, since the first one changed the order. Nothing the model can write approves
a call: a ``confirm: true`` argument is refused by the input schema like any other unknown field.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from typing import Any

from ..models import Args
from ..registry import Operation
from ..storage import Store
from .sealing import SealError, TokenSeal, args_digest, principal_digest

__all__ = ["TokenError", "Tokens"]


class TokenError(Exception):
    """A confirmation token was refused; the message says why (never echoing the token)."""


class Tokens:
    def __init__(self, key: bytes, store: Store, ttl: float, clock: Callable[[], float]) -> None:
        self._seal = TokenSeal(key)
        self._store = store
        self.ttl = ttl
        self._clock = clock

    def mint(self, op: Operation, args: Args, principal: str, state: str | None = None) -> tuple[str, float]:
        expires = self._clock() + self.ttl
        claims = {
            "jti": uuid.uuid4().hex,
            "tool": op.name,
            "args": args_digest(args),
            "sub": principal_digest(principal),
            "exp": round(expires, 3),
            "st": state,
        }
        return self._seal.seal(claims), expires

    def check(self, token: str, op: Operation, args: Args, principal: str) -> dict[str, Any]:
        """Everything about ``token`` but its state and single use: seal, tool, arguments, principal,
        expiry. Its claims on success, TokenError otherwise."""
        try:
            claims = self._seal.open(token)
        except SealError as exc:
            raise TokenError(str(exc)) from None
        if claims.get("tool") != op.name:
            raise TokenError(f"the confirmation token was issued for {claims.get('tool')}, not {op.name}")
        if not hmac.compare_digest(str(claims.get("args")), args_digest(args)):
            raise TokenError("the arguments differ from the ones the token was issued for")
        if claims.get("sub") != principal_digest(principal):
            raise TokenError("the confirmation token was issued to another client")
        if float(claims.get("exp", 0)) < self._clock():
            raise TokenError("the confirmation token has expired: call the tool again for a new one")
        return claims

    async def redeem(self, token: str, op: Operation, args: Args, principal: str, state: str | None = None) -> str:
        """Check and spend ``token`` for exactly this call, with the order now in ``state``; its id
        on success, TokenError otherwise."""
        claims = self.check(token, op, args, principal)
        key = "token:" + str(claims["jti"])
        if await self._store.is_spent(key):  # said first: a used token also finds the order changed
            raise TokenError("the confirmation token was already used")
        bound = claims.get("st")
        if bound is not None and bound != state:
            raise TokenError(
                "the order changed since the user was asked (or could not be read to check): the approval "
                "is stale. Call the tool again so the user approves the order as it is now"
            )
        if not await self._store.spend(key, float(claims["exp"])):
            raise TokenError("the confirmation token was already used")
        return str(claims["jti"])
