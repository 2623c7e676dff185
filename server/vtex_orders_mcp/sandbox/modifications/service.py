"""`ModificationsService`: change requests over one Store, as a clock-driven state machine.

VTEX: retry re-runs a request that "was not completely processed"; cancel is for a request stopped
on error, impossible once done, and afterwards "the changeRequestId will no longer be valid";
preview is a dry run.

What the sandbox infers, and why:

* Progression is driven by the sandbox clock (deterministic: a frozen clock only moves when
  advanced). A request is acknowledged ACK_AFTER seconds after it was (re)started and processed
  DONE_AFTER seconds after; processing is when the payment rule is checked and the order mutated.
  `tick()` performs due transitions; every route (`endpoints`) calls it first, and app.py may call
  it before any request so order reads see finished modifications.
* A request that fails during processing "stops on error": it keeps status `waiting-confirmation`,
  `inProgress` becomes false and `error` + `logs` say why. Retry restarts it (optionally with a
  corrected body) and cancel turns it into `canceled` and forgets it (later lookups 404).
  Structural problems (bad body, unknown SKU, wrong status, settled payment, API disabled) are
  refused synchronously instead, since VTEX validates those before answering 202.
* When a request is done the order's items, logistics lines and totals change; manual discount /
  increment values are recorded in `changesAttachment.changesData` so `Store.recompute_totals`
  accounts for them in the `Change` total.

The class is assembled from mixins named for what they hold: `PlanningMixin` (planning),
`RenderingMixin` (rendering) and `ChangeSummaryMixin` (summary); the rules, the workflow and the
account settings are here.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from starlette.requests import Request

from ..state import SandboxError, Store
from .change_request import CANCELED, DONE, WAITING_ACK, WAITING_CONF, ChangeRequest
from .planning import Plan, PlanningMixin
from .rendering import RenderingMixin
from .rules import ALLOWED_STATUSES, PRICE_INCREASE_GROUPS, payment_finished
from .settings import SEEDED_ACCOUNT_SETTINGS, default_settings, merge_settings
from .summary import ChangeSummaryMixin

__all__ = ["ACK_AFTER", "DONE_AFTER", "ModificationsService"]

ACK_AFTER = 2.0  # seconds after (re)start: waiting-acknowledgement -> waiting-confirmation
DONE_AFTER = 5.0  # seconds after (re)start: processing (done, or stopped on error)


class ModificationsService(PlanningMixin, RenderingMixin, ChangeSummaryMixin):
    """Change requests, account settings and change summaries over one Store."""

    def __init__(self, store: Store, saved_settings: dict | None = SEEDED_ACCOUNT_SETTINGS):
        self.store = store
        # What the account saved before the sandbox started (None: never saved, VTEX's defaults).
        self.saved_settings = copy.deepcopy(saved_settings)
        store.register_service(self)
        self.reset()

    def reset(self) -> None:
        self.settings = merge_settings(default_settings(), self.saved_settings)
        self.settings_customized = self.saved_settings is not None
        self.requests: dict[str, dict[str, ChangeRequest]] = {}  # orderId -> requestId -> request
        self.actions: dict[str, list[dict]] = {}
        self.originals: dict[str, dict] = {}  # orderId -> snapshot before the first done change
        self._catalog: dict[str, dict] | None = None

    # -- helpers ---------------------------------------------------------------------------
    def check_account(self, request: Request, param: str) -> None:
        value = request.query_params.get(param)
        if not value:
            raise SandboxError(400, "ORDMOD001", f"The query parameter '{param}' (account name) is required")
        if value != self.store.account:
            raise SandboxError(
                400, "ORDMOD001", f"Account '{value}' does not match this store ('{self.store.account}')"
            )

    def catalog(self) -> dict[str, dict]:
        """SKU id -> a template item, from the seeded orders (first occurrence by orderId). The
        orders built at start are read (a large store's planned orders are not built for this:
        every SKU of the catalogue is among the first orders)."""
        if self._catalog is None:
            cat: dict[str, dict] = {}
            for oid in sorted(self.store.orders.seeded):
                for item in self.store.orders[oid].get("items") or []:
                    cat.setdefault(str(item.get("id")), item)
            self._catalog = cat
        return self._catalog

    def _now(self) -> datetime:
        return self.store.clock.now()

    def _action(self, order_id: str, request_id: str, kind: str, message: str) -> None:
        self.actions.setdefault(order_id, []).append(
            {"requestId": request_id, "action": kind, "date": self.store.iso(), "message": message}
        )

    def _log(self, req: ChangeRequest, message: str, level: str = "info") -> None:
        req.logs.append({"date": self.store.iso(), "status": req.status, "level": level, "message": message})
        self._action(req.order_id, req.request_id, req.status if level != "error" else "error", message)

    # -- rules -----------------------------------------------------------------------------
    @staticmethod
    def _payment_finished(order: dict, meta: dict) -> bool:
        return payment_finished(order, meta)

    def check_modifiable(self, order: dict, settings: dict) -> None:
        if not settings.get("rolloutConfiguration", {}).get("enableApi"):
            raise SandboxError(
                403,
                "ORDMOD003",
                "Order modifications via API are disabled for this account "
                "(settings.rolloutConfiguration.enableApi is false)",
            )
        if order.get("status") not in ALLOWED_STATUSES:
            raise SandboxError(
                409,
                "ORDMOD004",
                f"Order {order['orderId']} is '{order.get('status')}'; it can only be modified "
                f"in {', '.join(ALLOWED_STATUSES)}",
            )
        if self._payment_finished(order, self.store.order_meta(order)):
            raise SandboxError(
                409, "ORDMOD005", f"Order {order['orderId']} cannot be modified: its payment transaction is Finished"
            )

    def price_increase_allowed(self, order: dict, settings: dict) -> bool:
        custom = set(settings.get("paymentConfiguration", {}).get("customPaymentSystemsAllowed") or [])
        for tx in (order.get("paymentData") or {}).get("transactions") or []:
            for pay in tx.get("payments") or []:
                if pay.get("group") in PRICE_INCREASE_GROUPS or str(pay.get("paymentSystem")) in custom:
                    return True
        return False

    # -- workflow --------------------------------------------------------------------------
    def _prepare(self, order: dict, parsed: dict) -> tuple[Plan, list[list[str]]]:
        new_ids = [
            [dst.get("uniqueId") or self.store.new_id().upper() for dst in entry["to"]] for entry in parsed["entries"]
        ]
        plan = self.plan(order, parsed, new_ids)
        return plan, new_ids

    def create(self, order_id: str, parsed: dict) -> ChangeRequest:
        order = self.store.order(order_id)
        settings = merge_settings(self.settings, parsed["settings"])
        self.check_modifiable(order, settings)
        self._check_not_busy(order_id)
        plan, new_ids = self._prepare(order, parsed)
        req = ChangeRequest(
            request_id=self.store.new_uuid(order["orderId"]),
            workflow_id=self.store.new_uuid(order["orderId"]),
            order_id=order_id,
            reason=parsed["reason"],
            entries=parsed["entries"],
            manual_discount=parsed["manualDiscountValue"],
            manual_increment=parsed["manualIncrementValue"],
            settings_override=parsed["settings"],
            date=self.store.iso(),
            started=self._now(),
            new_unique_ids=new_ids,
            component="MarketplaceComponent" if order.get("origin") == "Marketplace" else "FulfillmentComponent",
        )
        self._set_plan(req, order, plan)
        self.requests.setdefault(order_id, {})[req.request_id] = req
        self._log(req, "Modification request received")
        return req

    def _set_plan(self, req: ChangeRequest, order: dict, plan: Plan) -> None:
        req.rendered_from, req.rendered_to = self.render_entries(order, req.entries, plan)
        req.totals = self.render_totals(plan.deltas)
        req.total_change = plan.total_change

    def preview(self, order_id: str, parsed: dict) -> dict:
        order = self.store.order(order_id)
        settings = merge_settings(self.settings, parsed["settings"])
        self.check_modifiable(order, settings)
        # plan() works on copies and new uniqueIds come from a throwaway counter: nothing persists
        # and the store's rng is not consumed.
        new_ids = [
            [dst.get("uniqueId") or f"PREVIEW{e:02d}{t:02d}".ljust(32, "0") for t, dst in enumerate(entry["to"])]
            for e, entry in enumerate(parsed["entries"])
        ]
        plan = self.plan(order, parsed, new_ids)
        froms, tos = self.render_entries(order, parsed["entries"], plan)
        return self._body(
            order,
            parsed["reason"],
            parsed["entries"],
            froms,
            tos,
            (parsed["manualDiscountValue"], parsed["manualIncrementValue"]),
            plan.total_change,
            self.render_totals(plan.deltas),
            settings,
            self.store.iso(),
            "MarketplaceComponent" if order.get("origin") == "Marketplace" else "FulfillmentComponent",
        )

    def get(self, order_id: str, request_id: str) -> ChangeRequest:
        self.store.order(order_id)
        req = self.requests.get(order_id, {}).get(request_id)
        if req is None:
            raise SandboxError(404, "ORDMOD006", f"Change request {request_id} not found for order {order_id}")
        return req

    def tick(self) -> None:
        """Perform every due workflow transition (see module docstring)."""
        now = self._now()
        for reqs in list(self.requests.values()):
            for req in list(reqs.values()):
                if not req.in_progress:
                    continue
                if req.status == WAITING_ACK and now >= req.started + timedelta(seconds=ACK_AFTER):
                    req.status = WAITING_CONF
                    self._log(req, "Modification acknowledged; waiting for confirmation")
                if req.status == WAITING_CONF and now >= req.started + timedelta(seconds=DONE_AFTER):
                    self._process(req)

    def _stop(self, req: ChangeRequest, code: str, message: str) -> None:
        req.in_progress = False
        req.error = {"code": code, "message": message}
        self._log(req, message, level="error")

    def _process(self, req: ChangeRequest) -> None:
        order = self.store.order(req.order_id)
        settings = merge_settings(self.settings, req.settings_override)
        if order.get("status") not in ALLOWED_STATUSES or self._payment_finished(order, self.store.order_meta(order)):
            self._stop(
                req, "ORDMOD102", f"Order {order['orderId']} is no longer modifiable (status '{order.get('status')}')"
            )
            return
        parsed = {
            "entries": req.entries,
            "manualDiscountValue": req.manual_discount,
            "manualIncrementValue": req.manual_increment,
        }
        try:
            plan = self.plan(order, parsed, req.new_unique_ids)
        except SandboxError as exc:
            self._stop(req, "ORDMOD103", f"The order changed since the request: {exc.message}")
            return
        self._set_plan(req, order, plan)
        if plan.total_change > 0 and not self.price_increase_allowed(order, settings):
            self._stop(
                req,
                "ORDMOD101",
                f"The modification increases the order value by {plan.total_change} cents; increasing the "
                "price is allowed only for credit card, payable notes (promissory), cash or credit control "
                "payments (or payment systems in customPaymentSystemsAllowed)",
            )
            return
        self._apply(req, order, plan)

    def _apply(self, req: ChangeRequest, order: dict, plan: Plan) -> None:
        if order["orderId"] not in self.originals:
            self.originals[order["orderId"]] = {
                "items": copy.deepcopy(order.get("items") or []),
                "totals": {t["id"]: t["value"] for t in order.get("totals") or []},
                "value": order.get("value", 0),
            }
        order["items"] = plan.items
        order.setdefault("shippingData", {})["logisticsInfo"] = plan.logistics
        if req.manual_discount or req.manual_increment:
            attachment = order.get("changesAttachment") or {"id": "changeAttachment", "changesData": []}
            attachment.setdefault("changesData", []).append(
                {
                    "reason": req.reason,
                    "discountValue": req.manual_discount,
                    "incrementValue": req.manual_increment,
                    "itemsAdded": [],
                    "itemsRemoved": [],
                    "receipt": {"date": self.store.iso(), "orderId": order["orderId"], "receipt": req.request_id},
                }
            )
            order["changesAttachment"] = attachment
        req.applied = {"removed": plan.removed_snapshots, "added": plan.added_snapshots}
        self.store.recompute_totals(order)
        req.status = DONE
        req.in_progress = False
        req.error = None
        self._log(req, f"Modification applied; order value changed by {plan.total_change} cents")
        # A lower total may now be covered by the invoices already sent (Store docstring).
        if not self.store.complete_if_fully_invoiced(order):
            self.store.touch(order)

    def retry(self, order_id: str, request_id: str, parsed: dict) -> None:
        req = self.get(order_id, request_id)
        if req.error is None:
            state = "already done" if req.status == DONE else "still in progress"
            raise SandboxError(
                409,
                "ORDMOD007",
                f"Change request {request_id} is {state}; only a request stopped on error can be retried",
            )
        order = self.store.order(order_id)
        override = parsed["settings"] if parsed["settings"] is not None else req.settings_override
        settings = merge_settings(self.settings, override)
        self.check_modifiable(order, settings)
        # A retry restarts the request: it must not run next to another one created meanwhile.
        self._check_not_busy(order_id)
        req.reason = parsed["reason"]
        req.settings_override = override
        if parsed["entries"] or parsed["manualDiscountValue"] or parsed["manualIncrementValue"]:
            plan, new_ids = self._prepare(order, parsed)
            req.entries = parsed["entries"]
            req.manual_discount = parsed["manualDiscountValue"]
            req.manual_increment = parsed["manualIncrementValue"]
            req.new_unique_ids = new_ids
            self._set_plan(req, order, plan)
        req.status = WAITING_ACK
        req.in_progress = True
        req.error = None
        req.started = self._now()
        self._log(req, "Modification retried")

    def _check_not_busy(self, order_id: str) -> None:
        busy = [r for r in self.requests.get(order_id, {}).values() if r.in_progress]
        if busy:
            raise SandboxError(
                409, "ORDMOD008", f"Order {order_id} already has a modification in progress ({busy[0].request_id})"
            )

    def cancel(self, order_id: str, request_id: str, reason: str) -> ChangeRequest:
        req = self.get(order_id, request_id)
        if req.status == DONE:
            raise SandboxError(
                409,
                "ORDMOD007",
                f"Change request {request_id} was already processed and cannot be canceled; "
                "create a new modification to revert it",
            )
        req.status = CANCELED
        req.in_progress = False
        self._log(req, f"Modification canceled: {reason}")
        del self.requests[order_id][request_id]
        return req

    def history(self, order_id: str) -> dict:
        self.store.order(order_id)
        reqs = self.requests.get(order_id, {})
        return {
            "requests": [self.render_request(r) for r in reqs.values()],
            "actions": list(self.actions.get(order_id, [])),
        }

    # -- settings --------------------------------------------------------------------------
    def get_settings(self) -> dict:
        out = copy.deepcopy(self.settings)
        out["rolloutConfiguration"]["usingDefaultBehavior"] = not self.settings_customized
        return out

    def put_settings(self, parsed: dict) -> dict:
        self.settings = merge_settings(self.settings, parsed)
        self.settings_customized = True
        return self.get_settings()
