"""Who asks for a write over HTTP, as the guard and the approval page name them.

Everyone holding an unnamed bearer token is one principal, ``http-bearer``: confirmation tokens
and approvals asked for over HTTP are redeemable over HTTP (by any holder of such a token) and
not over stdio (``local``), and vice versa. A token the accounts file names
(``{ env = "ANA_TOKEN", name = "ana" }``, accounts.py) is a principal of its own,
``http-bearer:ana``: what Ana's assistant asked for is hers alone, and a four-eyes rule refuses
Ana's approval of it when she signs in on the approval page as ``ana``.
"""

from __future__ import annotations

__all__ = ["HTTP_CLIENT_ID", "person_of", "principal_of"]

HTTP_CLIENT_ID = "http-bearer"


def principal_of(person: str | None) -> str:
    """The principal of a bearer token: ``http-bearer``, or ``http-bearer:NAME`` for a named one."""
    return HTTP_CLIENT_ID if person is None else f"{HTTP_CLIENT_ID}:{person}"


def person_of(principal: str) -> str:
    """The person behind a principal, as approvers sign in (``http-bearer:ana`` is ``ana``)."""
    prefix = f"{HTTP_CLIENT_ID}:"
    return principal[len(prefix) :] if principal.startswith(prefix) else principal
