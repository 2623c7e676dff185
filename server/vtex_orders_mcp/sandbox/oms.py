"""The OMS order routes of the sandbox (/api/oms/...): reads, workflow actions, invoices, tracking,
payments, interactions and the customer's order views.

Each handler enforces the rules the spec states (docs/VTEX_ORDERS_API.md §2) and refuses the rest with
VTEX's OMS envelope. Status codes and codes of refusals (spec-stated ones first):

| Refusal                                               | Status | code   | source                               |
|-------------------------------------------------------|--------|--------|--------------------------------------|
| start-handling outside ready-for-handling             | 409    | OMS003 | spec                                 |
| cancel a partially invoiced order                     | 400    | 1      | spec (400)                           |
| cancel an invoiced / incomplete order                 | 400    | 1      | [inference]                          |
| cancel an already canceled order                      | 409    | OMS003 | [inference]                          |
| register-changes outside handling /                   | 409    | OMS003 | spec rule, [inference] code          |
|   waiting-for-fulfillment / ready-for-invoicing       |        |        |                                      |
| invoice on a canceled / not yet handled order         | 409    | OMS003 | [inference]                          |
| Output invoice on an already fully invoiced order     | 409    | OMS003 | [inference] ("its status cannot be   |
|                                                       |        |        |   changed")                          |
| Input (return) invoice before full invoicing          | 409    | OMS003 | spec rule ("no refund will occur"),  |
|                                                       |        |        |   [inference] refusal                |
| tracking status before a tracking number              | 409    | 1      | spec rule, [inference] code          |
| unknown order / invoice                               | 404    | 1      | [inference]                          |
| unknown order on cancel / payment notification,       | 404    | text "Value not found." | spec |
|   unknown paymentId                                   |        |        |                                      |
| invalid body, unknown SKU, over-return                | 400    | 1      | [inference]                          |
| Output invoice above the amount left to invoice       | 400    | 1      | [inference]                          |
| invoice units beyond those not yet invoiced/returned  | 400    | 1      | [inference] (quantities add up)      |
| invoiceValue unlike its items' price x quantity       | 400    | 1      | [inference] (+/- the other totals)   |
| payment notification on a canceled / incomplete order | 400    | 1      | [inference] (the route lists no 409) |

Every mutation goes through Store.set_status / Store.touch so lastChange and the feed see it.

These rules are written here from VTEX's documentation (docs/VTEX_ORDERS_API.md), deliberately
*not* imported from the server's own table (vtex_orders_mcp/statuses.py): the sandbox is the
independent check of the server, so the two are kept apart and tests/test_resources.py probes one
against the other, status by status.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import invoicing
from .bodies import cents_string, field, invalid, non_empty, parse_json, require_object, sku_lines
from .listing import (
    ListIndex,
    date_range,
    first,
    list_filters,
    matches_text,
    order_by,
    page_of,
    paging_params,
    sort_positions,
)
from .modifications import payment_finished
from .seed import complete_document
from .state import SandboxError, Store

# Statuses in which an order can still be canceled through the API (everything before invoicing;
# the seller may cancel outside the customer's window-to-cancel grace period). [inference]
CANCELABLE = {
    "order-created",
    "waiting-for-sellers-confirmation",
    "payment-pending",
    "payment-approved",
    "window-to-cancel",
    "ready-for-handling",
    "handling",
    "waiting-for-fulfillment",
    "ready-for-invoicing",
    "cancellation-requested",
}
# Spec: "This action can only be done for orders in the following status: handling,
# waiting-for-fulfillment, ready for invoicing" (register changes).
CHANGEABLE = {"handling", "waiting-for-fulfillment", "ready-for-invoicing"}
# Output invoices are accepted once the order is released for handling. [inference]
INVOICEABLE = {"ready-for-handling", "handling", "waiting-for-fulfillment", "ready-for-invoicing"}


def conflict(message: str, code: str = "OMS003") -> SandboxError:
    return SandboxError(409, code, message)


def not_found(message: str) -> SandboxError:
    return SandboxError(404, "1", message)


def value_not_found() -> SandboxError:
    """The 404 VTEX documents for cancel and payment notification: plain text, no envelope."""
    return SandboxError(404, "1", "Value not found.", text="Value not found.")


class OmsRoutes:
    """Handlers bound to one Store."""

    def __init__(self, store: Store):
        self.store = store
        self.index = ListIndex()

    # -- helpers -----------------------------------------------------------------------------
    def receipt(self, order: dict) -> dict[str, Any]:
        return {"date": self.store.iso(), "orderId": order["orderId"], "receipt": self.store.new_uuid(order["orderId"])}

    async def body(self, request: Request, *, allow_empty: bool = False) -> dict:
        return require_object(parse_json(await request.body(), allow_empty=allow_empty))

    def last_message(self, order: dict) -> str | None:
        conversation = self.store.meta.get(order["orderId"], {}).get("conversation") or []
        return conversation[-1]["firstWords"] if conversation else None

    # -- reads -------------------------------------------------------------------------------
    async def get_order(self, request: Request) -> Response:
        return JSONResponse(self.store.order(request.path_params["orderId"]))

    async def get_order_group(self, request: Request) -> Response:
        group = request.path_params["orderGroup"]
        orders = sorted(
            (self.store.orders[oid] for oid in self.store.orders.in_group(group)), key=lambda o: o["orderId"]
        )
        if not orders:
            raise not_found(f"Order group {group} not found")
        out = []
        for order in orders:
            requests = self.store.meta.get(order["orderId"], {}).get("cancellationRequests")
            out.append({**order, "cancellationRequests": requests or None})
        return JSONResponse(out)

    async def list_orders(self, request: Request) -> Response:
        query = _query(request)
        page, per_page = paging_params(query)
        field_name, direction = order_by(first(query, "orderBy"))
        created = first(query, "f_creationDate")
        orders, index = self.store.orders, self.index
        index.refresh(orders)
        # The creation range first, from the index (oldest first), then the status from its column,
        # then the other filters, which read the documents.
        bounds = date_range(created, "f_creationDate") if created else (None, None)
        found: Sequence[int] = index.within(bounds)
        statuses = {s.strip() for raw in query.get("f_status", []) for s in raw.split(",") if s.strip()}
        if statuses:
            status = index.columns["status"]
            found = [p for p in found if status[p] in statuses]
        others = {name: values for name, values in query.items() if name not in ("f_creationDate", "f_status")}
        checks = list_filters(others, self.store.clock.now())
        if checks:
            found = [p for p in found if all(check(orders[index.ids[p]]) for check in checks)]
        if field_name != "creationDate":
            found = sort_positions(index, found, field_name, direction)
        elif direction == "desc":
            found = found[::-1]
        rows, paging = page_of(found, page, per_page)
        key = tuple(sorted((k, tuple(v)) for k, v in query.items() if k not in ("page", "per_page", "orderBy")))
        return JSONResponse(
            {
                "list": [index.row(o, self.last_message(o)) for o in (orders[index.ids[p]] for p in rows)],
                "facets": [],
                "paging": paging,
                # Kept per query unless a filter read the documents (their other fields may change).
                "stats": index.stats(key, found) if not checks else index.stats_now(found),
            }
        )

    async def conversation(self, request: Request) -> Response:
        order = self.store.order(request.path_params["orderId"])
        return JSONResponse(self.store.meta.get(order["orderId"], {}).get("conversation") or [])

    async def payment_transaction(self, request: Request) -> Response:
        order = self.store.order(request.path_params["orderId"])
        if order.get("origin") == "Fulfillment":
            # Spec: "this route does not support Fulfillment payment queries, only Marketplace
            # orders"; [inference] refused with 400.
            raise invalid("This route does not support Fulfillment payment queries, only Marketplace orders")
        transactions = (order.get("paymentData") or {}).get("transactions") or []
        if not transactions:
            raise not_found(f"Order {order['orderId']} has no payment transaction")
        transaction = transactions[0]
        payments = []
        for payment in transaction.get("payments") or []:
            responses = payment.get("connectorResponses") or {}
            payments.append(
                {
                    **payment,
                    "connectorResponses": {
                        **responses,
                        "Tid": responses.get("Tid") or payment.get("tid") or "",
                        "ReturnCode": responses.get("ReturnCode"),
                        "Message": responses.get("Message"),
                        "authId": responses.get("authId") or "",
                    },
                }
            )
        meta = self.store.meta.get(order["orderId"], {})
        return JSONResponse(
            {
                "status": _transaction_status(order, meta),
                "isActive": transaction.get("isActive", True),
                "transactionId": transaction["transactionId"],
                "merchantName": transaction.get("merchantName") or order.get("merchantName") or "",
                "payments": payments,
            }
        )

    # -- workflow ----------------------------------------------------------------------------
    async def start_handling(self, request: Request) -> Response:
        order = self.store.order(request.path_params["orderId"])
        if order["status"] != "ready-for-handling":
            raise conflict("Order status should be ready-for-handling to perform this action")
        self.store.set_status(order, "handling")
        return Response(status_code=204)

    def _order_or_value_not_found(self, order_id: str) -> dict:
        """The order; for an unknown one, the 404 these routes document: the text "Value not found."."""
        try:
            return self.store.order(order_id)
        except SandboxError as exc:
            if exc.status != 404:
                raise
            raise value_not_found() from None

    async def cancel(self, request: Request) -> Response:
        order = self._order_or_value_not_found(request.path_params["orderId"])
        body = await self.body(request, allow_empty=True)
        reason = field(body, "reason", str, required=False, nullable=True)
        status = order["status"]
        if status == "canceled":
            raise conflict(f"Order {order['orderId']} is already canceled")
        if status == "invoiced":
            raise invalid("Orders with invoiced status cannot be canceled; send a return (Input) invoice instead")
        if invoicing.is_partially_invoiced(order):
            raise invalid("Partially invoiced orders cannot be canceled")
        if not order.get("isCompleted", True):
            raise invalid("Incomplete orders cannot be canceled")
        if status not in CANCELABLE:
            raise conflict(f"Order with status {status} cannot be canceled")
        now = self.store.iso()
        order["cancelReason"] = reason
        # The API caller is the seller/merchant (not the shopper, not the system). [inference]
        order["cancellationData"] = {
            "RequestedByUser": False,
            "RequestedBySystem": False,
            "RequestedBySellerNotification": True,
            "RequestedByPaymentNotification": False,
            "Reason": reason,
            "CancellationDate": now,
        }
        order["allowCancellation"] = False
        for transaction in (order.get("paymentData") or {}).get("transactions") or []:
            transaction["isActive"] = False
        # Straight to canceled: the sandbox does not model the intermediate request-cancel/cancel
        # states (they complete without outside input). [inference]
        self.store.set_status(order, "canceled")
        return JSONResponse(self.receipt(order))

    async def register_changes(self, request: Request) -> Response:
        order = self.store.order(request.path_params["orderId"])
        body = await self.body(request)
        request_id = non_empty(field(body, "requestId", str), "requestId")
        reason = non_empty(field(body, "reason", str), "reason")
        discount = field(body, "discountValue", int)
        increment = field(body, "incrementValue", int)
        removed = sku_lines(body, "itemsRemoved", required=False)
        added = sku_lines(body, "itemsAdded", required=False)
        if discount < 0 or increment < 0:
            raise invalid("discountValue and incrementValue are amounts in cents and must not be negative")
        meta = self.store.order_meta(order)
        done = meta.setdefault("changeRequests", {})
        if request_id in done:
            # Spec: "Only the first modification made with each requestId will be effective".
            return JSONResponse(done[request_id])
        if order["status"] not in CHANGEABLE:
            raise conflict(
                "Order status should be handling, waiting-for-fulfillment or ready-for-invoicing "
                f"to register changes (it is {order['status']})"
            )
        by_sku = {i["id"]: i for i in order.get("items") or []}
        for n, line in enumerate(removed):
            item = by_sku.get(line["id"])
            if item is None:
                raise invalid(f"itemsRemoved[{n}].id: SKU {line['id']} is not in order {order['orderId']}")
            if line["quantity"] > int(item.get("quantity") or 0):
                raise invalid(f"itemsRemoved[{n}].quantity: the order has only {item['quantity']} of SKU {line['id']}")
        total_after = invoicing.order_total(order) + increment - discount
        if total_after < 0:
            raise invalid(f"discountValue {discount} exceeds the order total {invoicing.order_total(order)}")
        receipt = self.receipt(order)

        def described(line: dict) -> dict:
            item = by_sku.get(line["id"]) or {}
            return {
                "id": line["id"],
                "name": item.get("name") or line.get("description") or line["id"],
                "quantity": line["quantity"],
                "price": line["price"],
                "unitMultiplier": item.get("unitMultiplier"),
            }

        attachment = order.get("changesAttachment") or {"id": "changeAttachment", "changesData": []}
        attachment.setdefault("changesData", []).append(
            {
                "reason": reason,
                "discountValue": discount,
                "incrementValue": increment,
                "itemsAdded": [described(x) for x in added],
                "itemsRemoved": [described(x) for x in removed],
                "receipt": receipt,
            }
        )
        order["changesAttachment"] = attachment
        self.store.recompute_totals(order)
        done[request_id] = receipt
        if not self.store.complete_if_fully_invoiced(order):
            self.store.touch(order)
        return JSONResponse(receipt)

    async def interactions(self, request: Request) -> Response:
        order = self.store.order(request.path_params["orderId"])
        body = await self.body(request)
        source = non_empty(field(body, "source", str), "source")
        message = non_empty(field(body, "message", str), "message")
        # The interaction log is the admin's order history, not part of the order document (no
        # lastChange update, no feed event). [inference]
        self.store.order_meta(order).setdefault("interactions", []).append(
            {"source": source, "message": message, "date": self.store.iso()}
        )
        return Response(status_code=200)

    async def payment_notification(self, request: Request) -> Response:
        order = self._order_or_value_not_found(request.path_params["orderId"])
        payment_id = request.path_params["paymentId"]
        payments = [
            p for t in (order.get("paymentData") or {}).get("transactions") or [] for p in t.get("payments") or []
        ]
        if not any(p.get("id", "").lower() == payment_id.lower() for p in payments):
            raise value_not_found()
        # VTEX lists only 200/400/403/404/429 for this route: refusals are 400, not 409.
        if order["status"] == "canceled":
            raise invalid("Order is canceled: a payment notification can no longer be applied")
        if not order.get("isCompleted", True):
            raise invalid("Incomplete orders do not accept payment notifications")
        if order["status"] in ("order-created", "payment-pending"):
            order["authorizedDate"] = self.store.iso()
            self.store.set_status(order, "payment-approved")
        # Already approved or beyond: the notification is acknowledged without effect. [inference]
        return Response(status_code=200)

    # -- invoices ----------------------------------------------------------------------------
    async def invoice(self, request: Request) -> Response:
        order = self.store.order(request.path_params["orderId"])
        body = await self.body(request)
        kind = field(body, "type", str)
        if kind not in ("Output", "Input"):
            raise invalid(f"The field 'type' must be Output or Input (got {kind!r})")
        issuance = non_empty(field(body, "issuanceDate", str), "issuanceDate")
        number = non_empty(field(body, "invoiceNumber", str), "invoiceNumber")
        value = cents_string(field(body, "invoiceValue", str), "invoiceValue")
        lines = sku_lines(body, "items", required=True, allow_empty=False)
        optional = {
            name: field(body, name, str, required=False, nullable=True)
            for name in (
                "invoiceKey",
                "invoiceUrl",
                "embeddedInvoice",
                "trackingNumber",
                "trackingUrl",
                "dispatchedDate",
                "cfop",
            )
        }
        courier = field(body, "courier", str, required=False)

        receipts = self.store.order_meta(order).setdefault("invoiceReceipts", {})
        if invoicing.find_package(order, number) is not None:
            # Spec: same invoiceNumber again -> a new receipt overriding the previous one; "you
            # cannot change other information, only the receipt code".
            receipt = receipts[number] = self.receipt(order)
            return JSONResponse(receipt)

        if order["status"] == "canceled":
            raise conflict("Order is canceled: invoices can no longer be sent")
        _check_invoice_accepted(order, kind, value)
        package_items = _invoice_package_items(order, lines, kind)
        _check_invoice_value(order, lines, value)

        package = {
            "items": package_items,
            "courier": courier or "",
            "invoiceNumber": number,
            "invoiceValue": value,
            "invoiceUrl": optional["invoiceUrl"],
            "issuanceDate": issuance,
            "trackingNumber": optional["trackingNumber"] or None,
            "invoiceKey": optional["invoiceKey"],
            "trackingUrl": optional["trackingUrl"] or None,
            "embeddedInvoice": optional["embeddedInvoice"] or "",
            "type": kind,
            "courierStatus": None,
            "cfop": optional["cfop"],
            "restitutions": {},
            "volumes": 1,
            "EnableInferItems": False,
        }
        if kind == "Input":
            # A return invoice "will automatically create a refund".
            package["restitutions"] = _refund_restitutions(value, lines)
        if optional["dispatchedDate"]:
            package["dispatchedDate"] = optional["dispatchedDate"]
        invoicing.ensure_packages(order).append(package)
        receipt = receipts[number] = self.receipt(order)

        if kind == "Output":
            order["allowCancellation"] = False  # invoiced and partially invoiced orders can't be canceled
            self.store.recompute_totals(order)
            if self.store.complete_if_fully_invoiced(order):
                return JSONResponse(receipt)
        self.store.touch(order)
        return JSONResponse(receipt)

    async def tracking_number(self, request: Request) -> Response:
        order = self.store.order(request.path_params["orderId"])
        package = self._package(order, request.path_params["invoiceNumber"])
        body = await self.body(request)
        tracking = non_empty(field(body, "trackingNumber", str), "trackingNumber")
        url = field(body, "trackingUrl", str, nullable=True)
        dispatched = field(body, "dispatchedDate", str, nullable=True)
        courier = field(body, "courier", str, nullable=True)
        package["trackingNumber"] = tracking
        package["trackingUrl"] = url
        if dispatched is not None:
            package["dispatchedDate"] = dispatched
        if courier is not None:
            package["courier"] = courier
        self.store.touch(order)
        return JSONResponse(self.receipt(order))

    async def tracking_status(self, request: Request) -> Response:
        order = self.store.order(request.path_params["orderId"])
        package = self._package(order, request.path_params["invoiceNumber"])
        body = await self.body(request)
        delivered = field(body, "isDelivered", bool)
        delivered_date = field(body, "deliveredDate", str, nullable=True)
        events = field(body, "events", list)
        parsed = []
        for n, event in enumerate(events):
            where = f"events[{n}]"
            require_object(event, where)
            parsed.append(
                {name: field(event, name, str, where=where) for name in ("city", "state", "description", "date")}
            )
        if not package.get("trackingNumber"):
            # Spec: sends a tracking event "to an order that already has a tracking number registered
            # to its invoice". [inference] refused before one is set.
            raise conflict(
                f"Invoice {package['invoiceNumber']} has no tracking number yet; send it with "
                "PATCH .../invoice/{invoiceNumber} first",
                code="1",
            )
        status = package.get("courierStatus") or {"status": None, "finished": False, "deliveredDate": "", "data": []}
        known = {(d.get("createDate"), d.get("description")) for d in status.get("data") or []}
        for event in parsed:
            if (event["date"], event["description"]) not in known:
                status.setdefault("data", []).append(
                    {
                        "city": event["city"],
                        "state": event["state"],
                        "description": event["description"],
                        "createDate": event["date"],
                        "lastChange": event["date"],
                    }
                )
        status["status"] = "ok"
        status["finished"] = delivered
        if delivered:
            status["deliveredDate"] = delivered_date or self.store.iso()
        package["courierStatus"] = status
        self.store.touch(order)
        return JSONResponse(self.receipt(order))

    def _package(self, order: dict, number: str) -> dict:
        package = invoicing.find_package(order, number)
        if package is None:
            raise not_found(f"Invoice {number} not found in order {order['orderId']}")
        return package

    # -- customer views ----------------------------------------------------------------------
    async def user_orders(self, request: Request) -> Response:
        query = _query(request)
        page, per_page = paging_params(query)
        orders, index = self.store.orders, self.index
        index.refresh(orders)
        # As list_orders reads it: the creation range and the status from the index, so only the
        # page's documents are built in a large store (the text search reads the documents).
        creation = first(query, "creation_date")
        found: Sequence[int] = index.within(date_range(creation, "creation_date") if creation else (None, None))
        email = first(query, "clientEmail")
        if email:
            # The e-mail is a list field (orderbook.py): no document is read to find the customer's.
            # clientEmail is optional in the spec ("exclusive for B2C users"); B2B callers filter
            # by text, status and date instead. The sandbox's callers hold the account's own AppKey
            # (an operator's credential, not a shopper's), so without it every order is theirs.
            theirs = set(orders.with_email(email))
            found = [p for p in found if index.ids[p] in theirs]
        statuses = {s for raw in query.get("status", []) for s in raw.split(",") if s}
        if statuses:
            status = index.columns["status"]
            found = [p for p in found if status[p] in statuses]
        text = first(query, "text")
        if text:
            found = [p for p in found if matches_text(orders[index.ids[p]], text)]
        found = found[::-1]  # newest first (then orderId, descending)
        rows, paging = page_of(found, page, per_page)
        return JSONResponse(
            {
                "list": [index.row(o, self.last_message(o)) for o in (orders[index.ids[p]] for p in rows)],
                "facets": [],
                "paging": paging,
                "stats": index.stats_now(found, integral=True, facets=False),
            }
        )

    async def user_order(self, request: Request) -> Response:
        order_id = request.path_params["orderId"]
        query = _query(request)
        order = self.store.order(order_id)  # 404 for an unknown id
        email = (first(query, "clientEmail") or "").lower()
        if email and (order.get("clientProfileData") or {}).get("email", "").lower() != email:
            # Same answer as an unknown order: another customer's order must not be revealed.
            raise not_found(f"Order {order_id} not found")
        # The customer view carries every key of the spec's order detail (the 2019 example lacks
        # several of them); completed on a copy so the stored document is untouched.
        return JSONResponse(complete_document(json.loads(json.dumps(order))))

    def routes(self) -> list[Route]:
        base = "/api/oms/pvt/orders"
        return [
            Route(base, self.list_orders, methods=["GET"]),
            Route(base + "/order-group/{orderGroup}", self.get_order_group, methods=["GET"]),
            Route(base + "/{orderId}", self.get_order, methods=["GET"]),
            Route(base + "/{orderId}/start-handling", self.start_handling, methods=["POST"]),
            Route(base + "/{orderId}/cancel", self.cancel, methods=["POST"]),
            Route(base + "/{orderId}/changes", self.register_changes, methods=["POST"]),
            Route(base + "/{orderId}/interactions", self.interactions, methods=["POST"]),
            Route(base + "/{orderId}/invoice", self.invoice, methods=["POST"]),
            Route(base + "/{orderId}/invoice/{invoiceNumber}", self.tracking_number, methods=["PATCH"]),
            Route(base + "/{orderId}/invoice/{invoiceNumber}/tracking", self.tracking_status, methods=["PUT"]),
            Route(base + "/{orderId}/conversation-message", self.conversation, methods=["GET"]),
            Route(base + "/{orderId}/payment-transaction", self.payment_transaction, methods=["GET"]),
            Route(
                base + "/{orderId}/payments/{paymentId}/payment-notification",
                self.payment_notification,
                methods=["POST"],
            ),
            Route("/api/oms/user/orders", self.user_orders, methods=["GET"]),
            Route("/api/oms/user/orders/{orderId}", self.user_order, methods=["GET"]),
        ]


def _invoice_package_items(order: dict, lines: list[dict], kind: str) -> list[dict]:
    """The invoice's `items` as package items; 400 for an SKU not in the order or too many units.

    Quantities add up across invoices: an Output invoice may cover only the units no earlier Output
    invoice covered, and a return (Input) only units invoiced and not yet returned. [inference: VTEX
    states no rule, but invoicing a unit twice would double-charge it]
    """
    index = {i["id"]: n for n, i in enumerate(order.get("items") or [])}
    invoiced = invoicing.quantities(order, "Output")
    returned = invoicing.quantities(order, "Input")
    this_invoice: dict[int, int] = {}
    package_items = []
    for n, line in enumerate(lines):
        if line["id"] not in index:
            raise invalid(f"items[{n}].id: SKU {line['id']} is not in order {order['orderId']}")
        at = index[line["id"]]
        item = order["items"][at]
        ordered = int(item.get("quantity") or 0)
        if kind == "Output":
            left, what = ordered - invoiced.get(at, 0), f"{invoiced.get(at, 0)} of {ordered} already invoiced"
        else:
            left, what = (
                invoiced.get(at, 0) - returned.get(at, 0),
                (f"{invoiced.get(at, 0)} invoiced, {returned.get(at, 0)} already returned"),
            )
        this_invoice[at] = this_invoice.get(at, 0) + line["quantity"]
        if this_invoice[at] > left:
            raise invalid(
                f"items[{n}].quantity: only {max(0, left)} unit(s) of SKU {line['id']} can be in this "
                f"{kind} invoice ({what})"
            )
        package_items.append(
            {
                "itemIndex": at,
                "quantity": line["quantity"],
                "price": line["price"],
                "description": line["description"] or item.get("name"),
                "unitMultiplier": float(item.get("unitMultiplier") or 1),
            }
        )
    return package_items


def _check_invoice_value(order: dict, lines: list[dict], value: int) -> None:
    """400 unless `invoiceValue` matches the invoiced items.

    VTEX: item `price` is the unit price and "the VTEX system will multiply the price over the
    quantity". [inference] The invoice's value is those items' price x quantity, adjusted by at most
    the order's own other totals: less by its discounts (and negative changes), more by its
    shipping and tax (and positive changes). A first invoice usually carries the freight, and VTEX's
    example order invoices an item of 32,90 discounted to 0 plus 11,60 of freight for 11,60.
    """
    items_value = sum(line["price"] * line["quantity"] for line in lines)
    others = [int(t.get("value") or 0) for t in order.get("totals") or [] if t.get("id") != "Items"]
    low = items_value + sum(v for v in others if v < 0)
    high = items_value + sum(v for v in others if v > 0)
    if not max(0, low) <= value <= high:
        raise invalid(
            f"invoiceValue {value} does not match the invoiced items: their price x quantity add up to "
            f"{items_value}, and the order's discounts, shipping, tax and changes allow {max(0, low)} to {high}"
        )


def _check_invoice_accepted(order: dict, kind: str, value: int) -> None:
    """Refuse an invoice the order's status or amounts do not allow (see the module docstring's table).

    Output: not once fully invoiced, only in an INVOICEABLE status, at most the amount left to
    invoice. Input (return): only once fully invoiced, at most the amount still returnable.
    """
    status = order["status"]
    if kind == "Output":
        if status == "invoiced":
            raise conflict("Order is already fully invoiced; send an Input invoice for returns")
        if status not in INVOICEABLE:
            raise conflict(
                f"Order status should be ready-for-handling, handling, waiting-for-fulfillment "
                f"or ready-for-invoicing to be invoiced (it is {status})"
            )
        total, already = invoicing.order_total(order), invoicing.invoiced_total(order)
        left = max(0, total - already)
        if value > left:
            raise invalid(
                f"invoiceValue {value} exceeds the amount left to invoice ({left}: order total "
                f"{total}, already invoiced {already})"
            )
    else:
        if status != "invoiced":
            raise conflict("Return (Input) invoices are accepted only after the full order amount was invoiced")
        returnable = invoicing.invoiced_total(order) - invoicing.returned_total(order)
        if value > returnable:
            raise invalid(f"invoiceValue {value} exceeds the amount still returnable ({returnable})")


def _refund_restitutions(value: int, lines: list[dict]) -> dict[str, Any]:
    """The `restitutions` of a return (Input) invoice: a refund of `value` for the returned lines."""
    return {
        "Refund": {
            "value": value,
            "giftCardData": None,
            "items": [
                {
                    "id": line["id"],
                    "quantity": line["quantity"],
                    "price": line["price"],
                    "useFreight": False,
                    "isCompensation": False,
                    "compensationValue": 0,
                }
                for line in lines
            ],
        }
    }


def _query(request: Request) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return query


def _transaction_status(order: dict, meta: dict) -> str:
    # Payment-gateway transaction states; the spec's only example is "Finished". [inference]
    # "Finished" follows the same rule the order-modification routes enforce (modifications/rules.py).
    status = order["status"]
    if status == "canceled":
        return "Cancelled"
    if payment_finished(order, meta):
        return "Finished"
    if status in ("order-created", "payment-pending"):
        return "Authorizing"
    return "Approved"


def routes(store: Store) -> list[Route]:
    return OmsRoutes(store).routes()
