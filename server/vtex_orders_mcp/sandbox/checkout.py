"""Window to change seller (#27/#28), the two Checkout-configuration operations the Orders API lists.

VTEX states: the window is "the period when it is possible to choose another seller to fulfill a
given order after the original seller has canceled it"; "The default period for this window is of 2
days"; POST takes `{"waitingTime": <integer days>}` and answers 201 Created without a body; GET
answers the number of days.

The Orders API's copy of GET documents `application/json` with an integer (example `2`); the Checkout
API's own copy documents `text/plain` "2". The sandbox follows the Orders API (JSON integer), which is
what this project's tools are generated from.

Inferred limits: `waitingTime` must be a JSON integer (booleans, floats and numeric strings are
refused) of at least 0 days. VTEX documents no upper bound, so the sandbox sets none either.
"""

from __future__ import annotations


from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .bodies import loads
from .state import SandboxError, Store

__all__ = ["DEFAULT_WAITING_DAYS", "CheckoutService", "routes"]

DEFAULT_WAITING_DAYS = 2
PATH = "/api/checkout/pvt/configuration/window-to-change-seller"


class CheckoutService:
    """The account's window-to-change-seller setting."""

    def __init__(self, store: Store):
        self.store = store
        store.register_service(self)
        self.reset()

    def reset(self) -> None:
        self.waiting_days = DEFAULT_WAITING_DAYS

    def set_window(self, body: object) -> None:
        if not isinstance(body, dict) or "waitingTime" not in body:
            raise SandboxError(400, "CHK001", "waitingTime is required (integer, days)")
        value = body["waitingTime"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise SandboxError(400, "CHK001", "waitingTime must be an integer number of days")
        if value < 0:
            raise SandboxError(400, "CHK001", "waitingTime must be 0 or more days")
        self.waiting_days = value


def routes(service: CheckoutService) -> list[Route]:
    async def get_window(request: Request) -> Response:
        return JSONResponse(service.waiting_days)

    async def post_window(request: Request) -> Response:
        raw = await request.body()
        try:
            body = loads(raw) if raw.strip() else None
        except ValueError:
            raise SandboxError(400, "CHK001", "The request body is not valid JSON") from None
        service.set_window(body)
        return Response(status_code=201)

    return [
        Route(PATH, get_window, methods=["GET"]),
        Route(PATH, post_window, methods=["POST"]),
    ]
