"""The HTTP routes of order modifications (#29-#36) and of the change summary (#23).

The order-system handlers check the account query parameter (`accountName` on create, `an`
elsewhere; the change summary takes none). Every handler that reads or changes requests first lets
the service catch up with the clock (`tick()`); then it parses the body and calls the service.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..app import problem_json
from ..bodies import read_json
from ..state import SandboxError
from .parsing import _bad, parse_change_body, parse_settings
from .service import ModificationsService

__all__ = ["routes"]


def routes(service: ModificationsService) -> list[Route]:
    base = "/api/order-system/orders"

    async def create_change(request: Request) -> Response:
        service.check_account(request, "accountName")
        service.tick()
        parsed = parse_change_body(await read_json(request, "ORDMOD002"))
        req = service.create(request.path_params["changeOrderId"], parsed)
        return JSONResponse(service.render_request(req, accepted=True), status_code=202)

    async def preview_change(request: Request) -> Response:
        service.check_account(request, "an")
        service.tick()
        parsed = parse_change_body(await read_json(request, "ORDMOD002"), require_replace=True)
        return JSONResponse(service.preview(request.path_params["changeOrderId"], parsed))

    async def history(request: Request) -> Response:
        service.check_account(request, "an")
        service.tick()
        return JSONResponse(service.history(request.path_params["changeOrderId"]))

    async def detail(request: Request) -> Response:
        service.check_account(request, "an")
        service.tick()
        req = service.get(request.path_params["changeOrderId"], request.path_params["changeRequestId"])
        return JSONResponse(service.render_request(req, detail=True))

    async def retry(request: Request) -> Response:
        service.check_account(request, "an")
        service.tick()
        # retry may be sent with only a reason (re-run as is) or with a corrected body
        body = await read_json(request, "ORDMOD002")
        if isinstance(body, dict) and not any(
            k in body for k in ("replace", "add", "remove", "manualDiscountValue", "manualIncrementValue")
        ):
            reason = body.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise _bad("reason is required")
            parsed = {
                "reason": reason,
                "entries": [],
                "manualDiscountValue": 0,
                "manualIncrementValue": 0,
                "settings": parse_settings(body["settings"], where="settings")
                if body.get("settings") is not None
                else None,
            }
        else:
            parsed = parse_change_body(body)
        service.retry(request.path_params["changeOrderId"], request.path_params["changeRequestId"], parsed)
        return Response(status_code=204)

    async def cancel(request: Request) -> Response:
        service.check_account(request, "an")
        service.tick()
        body = await read_json(request, "ORDMOD002")
        reason = body.get("reason") if isinstance(body, dict) else None
        if not isinstance(reason, str) or not reason.strip():
            raise _bad("reason is required")
        req = service.cancel(request.path_params["changeOrderId"], request.path_params["changeRequestId"], reason)
        # The spec documents 200 without a schema; the sandbox answers the request's final state.
        return JSONResponse(
            {"requestId": req.request_id, "status": req.status, "inProgress": req.in_progress, "reason": reason}
        )

    async def put_settings(request: Request) -> Response:
        service.check_account(request, "an")
        return JSONResponse(service.put_settings(parse_settings(await read_json(request, "ORDMOD002"))))

    async def get_settings(request: Request) -> Response:
        service.check_account(request, "an")
        return JSONResponse(service.get_settings())

    @problem_json  # VTEX documents this route's 401 as RFC 9110 problem JSON, its 404 "Order not found."
    async def change_summary(request: Request) -> Response:
        service.tick()
        try:
            return JSONResponse(service.change_summary(request.path_params["orderId"]))
        except SandboxError as exc:
            if exc.status == 404:
                raise SandboxError(404, "1", "Order not found.", problem=True) from None
            raise

    return [
        # settings first: "/changes/settings" would otherwise match "{changeOrderId}=changes"
        Route(f"{base}/changes/settings", put_settings, methods=["PUT"]),
        Route(f"{base}/changes/settings", get_settings, methods=["GET"]),
        Route(base + "/{changeOrderId}/changes", create_change, methods=["PATCH"]),
        Route(base + "/{changeOrderId}/changes", history, methods=["GET"]),
        Route(base + "/{changeOrderId}/changes/preview", preview_change, methods=["POST"]),
        Route(base + "/{changeOrderId}/changes/{changeRequestId}", detail, methods=["GET"]),
        Route(base + "/{changeOrderId}/changes/{changeRequestId}/retry", retry, methods=["POST"]),
        Route(base + "/{changeOrderId}/changes/{changeRequestId}/cancel", cancel, methods=["POST"]),
        Route("/api/orders/pvt/document/{orderId}/change-summary", change_summary, methods=["GET"]),
    ]
