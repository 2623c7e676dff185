"""Keys and seals: the server secret, keys derived from it, and confirmation tokens.

The secret is configured (``VTEX_MCP_SECRET``, shared by replicas) or generated once into the
state directory (0600), so tokens and sealed elicitation state survive a restart. Each use gets
its own key derived from it (HMAC-SHA256 with a purpose label); the secret itself seals nothing.

Confirmation tokens are JWTs (PyJWT, HS256) carrying the tool, a digest of the exact arguments,
a digest of the principal, the order's state the human saw, an id and an expiry. Expiry is
checked against the guard's clock (tests move it), not PyJWT's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from ..config import Settings
from ..models import Args

__all__ = ["SealError", "TokenSeal", "args_digest", "derive", "load_secret", "principal_digest"]

ALGORITHM = "HS256"
CLAIMS = ("jti", "tool", "args", "sub", "exp")


class SealError(Exception):
    """A token that this server did not seal, or that is not a token at all."""


def load_secret(settings: Settings) -> bytes:
    """The server secret: configured, or generated once into the state directory (0600)."""
    if settings.secret is not None:
        return hashlib.sha256(settings.secret.get_secret_value().encode()).digest()
    path = Path(settings.state_dir) / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        return key


def derive(secret: bytes, purpose: bytes) -> bytes:
    """A key for one purpose, derived from the secret (never the secret itself)."""
    return hmac.new(secret, purpose, hashlib.sha256).digest()


def canonical_args(args: Args) -> str:
    """The exact arguments as a canonical JSON string (defaults included, keys sorted)."""
    return json.dumps(args.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))


def args_digest(args: Args) -> str:
    return hashlib.sha256(canonical_args(args).encode()).hexdigest()


def principal_digest(principal: str) -> str:
    return hashlib.sha256(principal.encode()).hexdigest()[:32]


class TokenSeal:
    """Seals and opens confirmation tokens with one derived key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    # PyJWT is imported where a token is made or read (~40 ms a start-up would pay for nothing
    # when the client elicits or shows a card).
    def seal(self, claims: dict[str, Any]) -> str:
        import jwt

        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def open(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], options={"require": list(CLAIMS), "verify_exp": False}
            )
        except jwt.InvalidSignatureError:  # (a DecodeError too: said first)
            raise SealError("the confirmation token was not issued by this server") from None
        except jwt.DecodeError:
            raise SealError("the confirmation token is malformed") from None
        except jwt.InvalidTokenError:  # another algorithm, missing claims
            raise SealError("the confirmation token was not issued by this server") from None
        return claims
