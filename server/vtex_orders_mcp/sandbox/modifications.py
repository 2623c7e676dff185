"""Order modifications (VTEX "order-system" change requests) in the sandbox: #23, #29-#36.

What VTEX states (OpenAPI description, quoted in ORDERS_API_NOTES.md section 5):

* an order can be modified only in `handling`, `waiting-for-fulfillment` or "ready for invoicing"
  (the status id is `ready-for-invoicing`), and "not ... when the payment transaction is complete";
  the OMS "considers that you still can modify the order's transactional value, as long as its status
  in Transaction Details is not `Finished`";
* the account setting `rolloutConfiguration.enableApi` must be `true` (VTEX default `false`);
* "Increasing the price of an order is allowed only when the order was paid by credit card, payable
  notes, cash, or credit control";
* a change request's status "progresses in the following order: waiting-acknowledgement,
  waiting-confirmation, done, canceled"; retry re-runs a request that "was not completely processed";
  cancel is for a request stopped on error, impossible once done, and afterwards "the
  changeRequestId will no longer be valid"; preview is a dry run.

What the sandbox infers, and why:

* Progression is driven by the sandbox clock (deterministic: a frozen clock only moves when
  advanced). A request is acknowledged ACK_AFTER seconds after it was (re)started and processed
  DONE_AFTER seconds after; processing is when the payment rule is checked and the order mutated.
  `tick()` performs due transitions; every route of this module calls it first, and app.py may call
  it before any request so order reads see finished modifications.
* A request that fails during processing "stops on error": it keeps status `waiting-confirmation`,
  `inProgress` becomes false and `error` + `logs` say why. Retry restarts it (optionally with a
  corrected body) and cancel turns it into `canceled` and forgets it (later lookups 404).
  Structural problems (bad body, unknown SKU, wrong status, settled payment, API disabled) are
  refused synchronously instead, since VTEX validates those before answering 202.
* Payment settlement: see `payment_finished` (meta `transactionStatus` "Finished", or Output
  invoices covering the whole value).
* Prices of added SKUs come from the sandbox catalog: the SKUs of all seeded orders.
* `add` / `remove` are folded into `replace` entries (`from` empty / `to` empty): the spec types them
  as an array of strings in the 202 and detail responses and as an object in the history, so `null`
  is the only value valid everywhere; VTEX itself describes `add` as a `to` and `remove` as a `from`.
* Response rendering follows the intersection of the four response schemas (202, detail, preview,
  history), which disagree on some leaves: `from.items[].price` is `null` (integer in two schemas,
  string in two; VTEX's own 202 example sends null) with the unit price in `sellingPrice`;
  `from.shippingData.logisticsInfo` and `paymentData.transactions` are `[]`; the 202 `totals` is `[]`
  (array of strings there, computed totals appear in detail/history/preview);
  `settings.customPaymentSystemsAllowed` is repeated at the top of `settings` because the detail and
  history schemas require it there.
* When a request is done the order's items, logistics lines and totals change; manual discount /
  increment values are recorded in `changesAttachment.changesData` so `Store.recompute_totals`
  accounts for them in the `Change` total.

Error codes (OMS envelope, sandbox-defined; VTEX documents none for these routes):
ORDMOD001 400 account query param; ORDMOD002 400 invalid body; ORDMOD003 403 enableApi false;
ORDMOD004 409 order status; ORDMOD005 409 payment finished; ORDMOD006 404 change request unknown;
ORDMOD007 409 retry/cancel not allowed in the request's state; ORDMOD008 409 another modification in
progress; ORDMOD009 400 new SKU on a multi-address order; ORDMOD010 400 SKU not in the catalog.
Stop-on-error codes (in `error` / `logs`): ORDMOD101 price increase not allowed for the payment;
ORDMOD102 order no longer modifiable; ORDMOD103 items no longer match the order.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .bodies import read_json
from .state import SandboxError, Store

__all__ = ["ModificationsService", "routes", "payment_finished", "ALLOWED_STATUSES", "ACK_AFTER", "DONE_AFTER"]

ALLOWED_STATUSES = ("handling", "waiting-for-fulfillment", "ready-for-invoicing")
# Payment groups VTEX names for "credit card, payable notes (promissory), cash, credit control".
PRICE_INCREASE_GROUPS = frozenset({"creditCard", "promissory", "cash", "creditControl"})
ACK_AFTER = 2.0  # seconds after (re)start: waiting-acknowledgement -> waiting-confirmation
DONE_AFTER = 5.0  # seconds after (re)start: processing (done, or stopped on error)

WAITING_ACK = "waiting-acknowledgement"
WAITING_CONF = "waiting-confirmation"
DONE = "done"
CANCELED = "canceled"

TOTAL_NAMES = {
    "Items": "Items Total",
    "Discounts": "Discounts Total",
    "Shipping": "Shipping Total",
    "Tax": "Tax Total",
    "ManualValues": "Manual Values Total",
}


def default_settings() -> dict:
    """The sandbox account's settings before any PUT.

    VTEX's default for enableApi is false; the sandbox ships with it true so that modifications are
    usable out of the box (a PUT with enableApi=false makes every PATCH answer 403).
    """
    return {
        "paymentConfiguration": {"customPaymentSystemsAllowed": []},
        "rolloutConfiguration": {
            "enableApi": True,
            "enableAdminOrders": {"enabledWorkspaces": ["*"]},
            "enableMyOrders": {"enabledWorkspaces": []},
        },
        "pipelineConfiguration": {
            "enableTaxHubRecalculation": False,
            "compensateShippingChanges": False,
            "enablePromotionRecalculation": False,
            "enableNativeTaxRecalculation": False,
        },
    }


def _bad(message: str) -> SandboxError:
    return SandboxError(400, "ORDMOD002", message)


def _int_value(value: Any, name: str, *, minimum: int | None = None) -> int:
    # bool is an int subclass in Python; VTEX's schema says integer, so true/false are refused.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{name} must be an integer (cents or units, no decimal separator)")
    if minimum is not None and value < minimum:
        raise _bad(f"{name} must be >= {minimum}")
    return value


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_like(value: Any, default: int = 1) -> Any:
    """unitMultiplier is a number in orders but an integer in the response schemas."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    return default


def payment_finished(order: dict, meta: dict) -> bool:
    """Whether the order's payment transaction is complete ("Finished" in Transaction Details).

    The seeded documents carry no transaction status (VTEX's order document has none), so the
    sandbox derives it: the transaction is Finished when the store's private meta says so
    (`meta["transactionStatus"] == "Finished"`, which tests and fault scenarios can set) or when
    Output invoices cover the whole order value (VTEX settles the payment on invoicing; a partial
    invoice settles only part of it, and the spec says a partially invoiced order can still be
    changed).
    """
    if str(meta.get("transactionStatus", "")).lower() == "finished":
        return True
    packages = (order.get("packageAttachment") or {}).get("packages") or []
    invoiced = sum(int(p.get("invoiceValue") or 0) for p in packages if p.get("type", "Output") == "Output")
    # Compared with the totals, not `value`: VTEX lowers `value` to the invoiced amount on a partial
    # invoice, while totals[] keep the order's full amount.
    full = sum(int(t.get("value") or 0) for t in order.get("totals") or []) or int(order.get("value") or 0)
    return invoiced > 0 and invoiced >= full


# ----------------------------------------------------------------------------------------------
# request bodies
# ----------------------------------------------------------------------------------------------


def _parse_items(raw: Any, where: str, *, side: str) -> list[dict]:
    if not isinstance(raw, list):
        raise _bad(f"{where}.items must be an array")
    items = []
    for n, item in enumerate(raw):
        path = f"{where}.items[{n}]"
        if not isinstance(item, dict):
            raise _bad(f"{path} must be an object")
        sku = item.get("id")
        if not isinstance(sku, str) or not sku:
            raise _bad(f"{path}.id is required (SKU id string)")
        parsed: dict[str, Any] = {"id": sku, "quantity": _int_value(item.get("quantity"), f"{path}.quantity", minimum=1)}
        if item.get("uniqueId") is not None:
            if not isinstance(item["uniqueId"], str):
                raise _bad(f"{path}.uniqueId must be a string")
            parsed["uniqueId"] = item["uniqueId"]
        if side == "from":
            if item.get("price") is not None:
                parsed["price"] = _int_value(item["price"], f"{path}.price", minimum=0)
        else:
            if item.get("measurementUnit") is not None:
                if not isinstance(item["measurementUnit"], str):
                    raise _bad(f"{path}.measurementUnit must be a string")
                parsed["measurementUnit"] = item["measurementUnit"]
            if item.get("unitMultiplier") is not None:
                um = item["unitMultiplier"]
                if isinstance(um, bool) or not isinstance(um, (int, float)) or um <= 0:
                    raise _bad(f"{path}.unitMultiplier must be a number > 0")
                parsed["unitMultiplier"] = um
            for key in ("manualDiscountValue", "manualIncrementValue"):
                if item.get(key) is not None:
                    parsed[key] = _int_value(item[key], f"{path}.{key}", minimum=0)
        items.append(parsed)
    return items


def _parse_logistics(raw: Any, where: str, to_items: list[dict]) -> list[dict]:
    if not isinstance(raw, dict) or not isinstance(raw.get("logisticsInfo"), list):
        raise _bad(f"{where}.shippingData.logisticsInfo must be an array")
    lines = []
    for n, line in enumerate(raw["logisticsInfo"]):
        path = f"{where}.shippingData.logisticsInfo[{n}]"
        if not isinstance(line, dict):
            raise _bad(f"{path} must be an object")
        index = _int_value(line.get("itemIndex"), f"{path}.itemIndex", minimum=0)
        if index >= len(to_items):
            raise _bad(f"{path}.itemIndex {index} does not point to an item of {where}.items")
        for key in ("selectedSla", "addressId"):
            if not isinstance(line.get(key), str) or not line[key]:
                raise _bad(f"{path}.{key} is required")
        channel = line.get("selectedDeliveryChannel")
        if channel not in ("delivery", "pickup-in-point"):
            raise _bad(f"{path}.selectedDeliveryChannel must be 'delivery' or 'pickup-in-point'")
        lines.append({
            "itemIndex": index,
            "selectedSla": line["selectedSla"],
            "selectedDeliveryChannel": channel,
            "addressId": line["addressId"],
            "price": _int_value(line.get("price"), f"{path}.price", minimum=0),
        })
    return lines


def parse_change_body(body: Any, *, require_replace: bool = False) -> dict:
    """Validate a #29/#32/#33 body into {reason, entries, manualDiscountValue, manualIncrementValue,
    settings}; entries are replace pairs, with add/remove folded in (see module docstring)."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise _bad("reason is required")
    if require_replace and "replace" not in body:
        raise _bad("replace is required")
    entries: list[dict] = []
    replace = body.get("replace")
    if replace is not None:
        if not isinstance(replace, list):
            raise _bad("replace must be an array")
        for n, pair in enumerate(replace):
            where = f"replace[{n}]"
            if not isinstance(pair, dict) or not isinstance(pair.get("from"), dict) or not isinstance(pair.get("to"), dict):
                raise _bad(f"{where} needs a 'from' and a 'to' object")
            src = _parse_items(pair["from"].get("items"), f"{where}.from", side="from")
            dst = _parse_items(pair["to"].get("items"), f"{where}.to", side="to")
            if not src and not dst:
                raise _bad(f"{where} has no items")
            logistics = []
            if pair["to"].get("shippingData") is not None:
                logistics = _parse_logistics(pair["to"]["shippingData"], f"{where}.to", dst)
            entries.append({"from": src, "to": dst, "logistics": logistics})
    for key, side in (("remove", "from"), ("add", "to")):
        part = body.get(key)
        if part is None:
            continue
        if not isinstance(part, dict):
            raise _bad(f"{key} must be an object with items")
        items = _parse_items(part.get("items"), key, side=side)
        if items:
            entries.append({"from": items if side == "from" else [], "to": items if side == "to" else [], "logistics": []})
    manual = {}
    for key in ("manualDiscountValue", "manualIncrementValue"):
        manual[key] = _int_value(body[key], key, minimum=0) if body.get(key) is not None else 0
        # item-level manual values (to.items[].manualDiscountValue / manualIncrementValue) are part
        # of the request's manual totals [inference: the spec does not say how they combine]
        manual[key] += sum(dst.get(key, 0) for entry in entries for dst in entry["to"])
    if not entries and not (manual["manualDiscountValue"] or manual["manualIncrementValue"]):
        raise _bad("Nothing to modify: send replace, add, remove or a manual value")
    settings = None
    if body.get("settings") is not None:
        settings = parse_settings(body["settings"], where="settings")
    return {"reason": reason, "entries": entries, "settings": settings, **manual}


def parse_settings(raw: Any, *, where: str = "body") -> dict:
    """Validate a (partial) settings object; returns only the keys that were sent."""
    if not isinstance(raw, dict):
        raise _bad(f"{where} must be an object")
    out: dict[str, dict] = {}
    pay = raw.get("paymentConfiguration")
    if pay is not None:
        if not isinstance(pay, dict):
            raise _bad(f"{where}.paymentConfiguration must be an object")
        out["paymentConfiguration"] = {}
        if "customPaymentSystemsAllowed" in pay:
            ids = pay["customPaymentSystemsAllowed"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise _bad(f"{where}.paymentConfiguration.customPaymentSystemsAllowed must be an array of payment system id strings")
            out["paymentConfiguration"]["customPaymentSystemsAllowed"] = list(ids)
    roll = raw.get("rolloutConfiguration")
    if roll is not None:
        if not isinstance(roll, dict):
            raise _bad(f"{where}.rolloutConfiguration must be an object")
        out["rolloutConfiguration"] = {}
        if "enableApi" in roll:
            if not isinstance(roll["enableApi"], bool):
                raise _bad(f"{where}.rolloutConfiguration.enableApi must be a boolean")
            out["rolloutConfiguration"]["enableApi"] = roll["enableApi"]
        for key in ("enableAdminOrders", "enableMyOrders"):
            if key in roll:
                ws = roll[key].get("enabledWorkspaces") if isinstance(roll[key], dict) else None
                if not isinstance(ws, list) or not all(isinstance(w, str) for w in ws):
                    raise _bad(f"{where}.rolloutConfiguration.{key}.enabledWorkspaces must be an array of strings")
                out["rolloutConfiguration"][key] = {"enabledWorkspaces": list(ws)}
    pipe = raw.get("pipelineConfiguration")
    if pipe is not None:
        if not isinstance(pipe, dict):
            raise _bad(f"{where}.pipelineConfiguration must be an object")
        out["pipelineConfiguration"] = {}
        for key in ("enableTaxHubRecalculation", "compensateShippingChanges",
                    "enablePromotionRecalculation", "enableNativeTaxRecalculation"):
            if key in pipe:
                if not isinstance(pipe[key], bool):
                    raise _bad(f"{where}.pipelineConfiguration.{key} must be a boolean")
                out["pipelineConfiguration"][key] = pipe[key]
    return out


def merge_settings(base: dict, override: dict | None) -> dict:
    merged = copy.deepcopy(base)
    for section, values in (override or {}).items():
        merged.setdefault(section, {}).update(copy.deepcopy(values))
    return merged


# ----------------------------------------------------------------------------------------------
# planning: what a change does to an order (pure; used by preview, create and processing)
# ----------------------------------------------------------------------------------------------


@dataclass
class Plan:
    items: list[dict]
    logistics: list[dict]
    deltas: dict[str, int]  # Items, Discounts, Shipping, Tax, ManualValues (cents)
    removed_snapshots: list[list[dict]]  # per entry: order items taken (for rendering / summary)
    added_snapshots: list[list[dict]]  # per entry: resulting order items

    @property
    def total_change(self) -> int:
        return sum(self.deltas.values())


def _line_totals(items: list[dict], logistics: list[dict]) -> dict[str, int]:
    # Same arithmetic as Store.recompute_totals, so deltas match the order's totals[] changes.
    def qty(i):
        return int(i.get("quantity") or 0)

    def price(i):
        return int(i.get("price") or 0)

    def selling(i):
        return int(i["sellingPrice"]) if i.get("sellingPrice") is not None else price(i)

    return {
        "Items": sum(price(i) * qty(i) for i in items),
        "Discounts": sum((selling(i) - price(i)) * qty(i) for i in items),
        "Shipping": sum(int(li["sellingPrice"]) if li.get("sellingPrice") is not None else int(li.get("price") or 0)
                        for li in logistics),
        "Tax": sum(int(i.get("tax") or 0) * qty(i) for i in items),
    }


# ----------------------------------------------------------------------------------------------
# the service
# ----------------------------------------------------------------------------------------------


@dataclass
class ChangeRequest:
    request_id: str
    workflow_id: str
    order_id: str
    reason: str
    entries: list[dict]
    manual_discount: int
    manual_increment: int
    settings_override: dict | None
    date: str
    started: datetime
    component: str
    new_unique_ids: list[list[str]]  # uniqueIds reserved for `to` items that become new lines
    status: str = WAITING_ACK
    in_progress: bool = True
    error: dict | None = None
    logs: list[dict] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    total_change: int = 0
    rendered_from: list[list[dict]] = field(default_factory=list)
    rendered_to: list[list[dict]] = field(default_factory=list)
    applied: dict | None = None  # what processing did to the order (for the change summary)


class ModificationsService:
    """Change requests, account settings and change summaries over one Store."""

    def __init__(self, store: Store):
        self.store = store
        store.register_service(self)
        self.reset()

    def reset(self) -> None:
        self.settings = default_settings()
        self.settings_customized = False
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
            raise SandboxError(400, "ORDMOD001", f"Account '{value}' does not match this store ('{self.store.account}')")

    def catalog(self) -> dict[str, dict]:
        """SKU id -> a template item, from the seeded orders (first occurrence by orderId)."""
        if self._catalog is None:
            cat: dict[str, dict] = {}
            for oid in sorted(self.store.orders):
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
            raise SandboxError(403, "ORDMOD003",
                               "Order modifications via API are disabled for this account "
                               "(settings.rolloutConfiguration.enableApi is false)")
        if order.get("status") not in ALLOWED_STATUSES:
            raise SandboxError(409, "ORDMOD004",
                               f"Order {order['orderId']} is '{order.get('status')}'; it can only be modified "
                               f"in {', '.join(ALLOWED_STATUSES)}")
        if self._payment_finished(order, self.store.order_meta(order)):
            raise SandboxError(409, "ORDMOD005",
                               f"Order {order['orderId']} cannot be modified: its payment transaction is Finished")

    def price_increase_allowed(self, order: dict, settings: dict) -> bool:
        custom = set(settings.get("paymentConfiguration", {}).get("customPaymentSystemsAllowed") or [])
        for tx in (order.get("paymentData") or {}).get("transactions") or []:
            for pay in tx.get("payments") or []:
                if pay.get("group") in PRICE_INCREASE_GROUPS or str(pay.get("paymentSystem")) in custom:
                    return True
        return False

    # -- planning --------------------------------------------------------------------------
    def plan(self, order: dict, parsed: dict, new_ids: list[list[str]] | None = None) -> Plan:
        """Apply the entries to copies of the order's items / logistics lines.

        Raises SandboxError(400) when the change does not fit the order (unknown item, more
        quantity removed than present, unknown SKU, new SKU on a multi-address order).
        """
        items = copy.deepcopy(order.get("items") or [])
        lines_by_index = {int(li.get("itemIndex", n)): li
                          for n, li in enumerate(copy.deepcopy((order.get("shippingData") or {}).get("logisticsInfo") or []))}
        # pair each item with its logistics line so reindexing keeps them together
        rows = [{"item": it, "line": lines_by_index.get(n)} for n, it in enumerate(items)]
        original_skus = {str(i.get("id")) for i in items}
        multi_address = len((order.get("shippingData") or {}).get("selectedAddresses") or []) > 1
        removed_snaps: list[list[dict]] = []
        added_snaps: list[list[dict]] = []
        for e_no, entry in enumerate(parsed["entries"]):
            taken = []
            for f_no, src in enumerate(entry["from"]):
                where = f"replace[{e_no}].from.items[{f_no}]"
                row = self._find_row(rows, src)
                if row is None:
                    raise SandboxError(400, "ORDMOD002", f"{where}: item {src['id']}"
                                       + (f" ({src['uniqueId']})" if src.get("uniqueId") else "")
                                       + f" is not in order {order['orderId']}")
                have = int(row["item"].get("quantity") or 0)
                if src["quantity"] > have:
                    raise SandboxError(400, "ORDMOD002",
                                       f"{where}: cannot remove {src['quantity']} of item {src['id']}, the order has {have}")
                snap = copy.deepcopy(row["item"])
                snap["quantity"] = src["quantity"]
                taken.append(snap)
                row["item"]["quantity"] = have - src["quantity"]
            removed_snaps.append(taken)
            made = []
            for t_no, dst in enumerate(entry["to"]):
                where = f"replace[{e_no}].to.items[{t_no}]"
                if multi_address and dst["id"] not in original_skus:
                    raise SandboxError(400, "ORDMOD009",
                                       f"{where}: order {order['orderId']} has more than one shipping address; "
                                       "only items of the original order can be added")
                row = self._merge_target(rows, dst)
                if row is not None:
                    row["item"]["quantity"] = int(row["item"].get("quantity") or 0) + dst["quantity"]
                else:
                    template = self._template(order, dst["id"])
                    if template is None:
                        raise SandboxError(400, "ORDMOD010", f"{where}: SKU {dst['id']} not found in the catalog")
                    uid = (new_ids[e_no][t_no] if new_ids else None) or dst.get("uniqueId") or self.store.new_id().upper()
                    row = {"item": self._new_item(order, template, dst, uid), "line": None}
                    row["line"] = self._new_line(order, rows, entry, t_no, row["item"])
                    rows.append(row)
                made.append(row["item"])
            added_snaps.append(made)
        rows = [r for r in rows if int(r["item"].get("quantity") or 0) > 0]
        new_items, new_lines = [], []
        for n, r in enumerate(rows):
            new_items.append(r["item"])
            if r["line"] is not None:
                r["line"]["itemIndex"] = n
                for d in r["line"].get("deliveryIds") or []:
                    d["quantity"] = r["item"]["quantity"]
                new_lines.append(r["line"])
        before = _line_totals(order.get("items") or [], (order.get("shippingData") or {}).get("logisticsInfo") or [])
        after = _line_totals(new_items, new_lines)
        deltas = {k: after[k] - before[k] for k in before}
        deltas["ManualValues"] = parsed["manualIncrementValue"] - parsed["manualDiscountValue"]
        return Plan(new_items, new_lines, deltas, removed_snaps,
                    [[copy.deepcopy(i) for i in made] for made in added_snaps])

    @staticmethod
    def _find_row(rows: list[dict], src: dict) -> dict | None:
        for r in rows:
            it = r["item"]
            if src.get("uniqueId") and it.get("uniqueId") != src["uniqueId"]:
                continue
            if str(it.get("id")) == src["id"] and int(it.get("quantity") or 0) > 0:
                return r
        return None

    @staticmethod
    def _merge_target(rows: list[dict], dst: dict) -> dict | None:
        """An existing line the `to` item adds quantity to: same uniqueId, or same SKU and multiplier."""
        for r in rows:
            it = r["item"]
            if dst.get("uniqueId"):
                if it.get("uniqueId") == dst["uniqueId"]:
                    return r
                continue
            if str(it.get("id")) == dst["id"] and (
                "unitMultiplier" not in dst or float(it.get("unitMultiplier") or 1) == float(dst["unitMultiplier"])
            ):
                return r
        return None

    def _template(self, order: dict, sku: str) -> dict | None:
        for it in order.get("items") or []:
            if str(it.get("id")) == sku:
                return it
        return self.catalog().get(sku)

    def _new_item(self, order: dict, template: dict, dst: dict, unique_id: str) -> dict:
        item = copy.deepcopy(template)
        base_mult = float(template.get("unitMultiplier") or 1)
        mult = float(dst.get("unitMultiplier", base_mult))
        if mult != base_mult:
            # weighable items: the price follows the multiplier (VTEX's WeightChange example doubles it)
            for key in ("price", "listPrice", "sellingPrice"):
                if isinstance(item.get(key), int):
                    item[key] = round(item[key] * mult / base_mult)
        item.update({
            "uniqueId": unique_id,
            "quantity": dst["quantity"],
            "unitMultiplier": _int_like(mult, 1) if float(mult).is_integer() else mult,
            "measurementUnit": dst.get("measurementUnit") or template.get("measurementUnit") or "un",
            "lockId": f"00-{order['orderId']}",
            "priceTags": [],
            "manualPrice": None,
        })
        return item

    @staticmethod
    def _new_line(order: dict, rows: list[dict], entry: dict, to_index: int, item: dict) -> dict | None:
        lines = [r["line"] for r in rows if r["line"] is not None]
        base = next(iter(lines), None)
        if base is None:
            base = next(iter((order.get("shippingData") or {}).get("logisticsInfo") or []), None)
        if base is None:
            return None
        line = copy.deepcopy(base)
        asked = next((li for li in entry["logistics"] if li["itemIndex"] == to_index), None)
        # A new line ships with the order's SLA; its freight is what the request says (VTEX takes
        # the logisticsInfo[].price of the request) or zero.
        price = asked["price"] if asked else 0
        line.update({"price": price, "listPrice": price, "sellingPrice": price})
        if asked:
            line["selectedSla"] = asked["selectedSla"]
            line["addressId"] = asked["addressId"]
            line["deliveryChannel"] = asked["selectedDeliveryChannel"]
        return line

    # -- rendering -------------------------------------------------------------------------
    @staticmethod
    def render_from_item(src: dict, order_item: dict | None) -> dict:
        it = order_item or {}
        selling = it.get("sellingPrice") if it.get("sellingPrice") is not None else it.get("price")
        if selling is None:
            selling = src.get("price", 0)
        return {
            "id": src["id"],
            "quantity": src["quantity"],
            "price": None,
            "measurementUnit": _str_or_none(it.get("measurementUnit")),
            "unitMultiplier": _int_like(it.get("unitMultiplier"), 1),
            "sellingPrice": int(selling),
            "name": _str_or_none(it.get("name")),
            "detailUrl": _str_or_none(it.get("detailUrl")),
            "imageUrl": _str_or_none(it.get("imageUrl")),
        }

    @staticmethod
    def render_to_item(dst: dict, item: dict) -> dict:
        info = item.get("additionalInfo") or {}
        seller = _str_or_none(item.get("seller"))
        return {
            "uniqueId": str(item.get("uniqueId") or ""),
            "id": dst["id"],
            "productId": _str_or_none(item.get("productId")),
            "productRefId": _str_or_none(item.get("productRefId")),
            "refId": _str_or_none(item.get("refId")),
            "ean": _str_or_none(item.get("ean")),
            "name": _str_or_none(item.get("name")),
            "skuName": _str_or_none(item.get("skuName")) or _str_or_none(item.get("name")),
            "modalType": _str_or_none(item.get("modalType")),
            "parentItemIndex": item.get("parentItemIndex") if isinstance(item.get("parentItemIndex"), int) else None,
            "parentAssemblyBinding": _str_or_none(item.get("parentAssemblyBinding")),
            "assemblies": [],
            "priceValidUntil": _str_or_none(item.get("priceValidUntil")),
            "tax": int(item.get("tax") or 0),
            "price": item.get("price") if isinstance(item.get("price"), int) else None,
            "listPrice": item.get("listPrice") if isinstance(item.get("listPrice"), int) else None,
            "manualPrice": item.get("manualPrice") if isinstance(item.get("manualPrice"), int) else None,
            "manualPriceAppliedBy": _str_or_none(item.get("manualPriceAppliedBy")),
            "sellingPrice": item.get("sellingPrice") if isinstance(item.get("sellingPrice"), int) else None,
            "rewardValue": int(item.get("rewardValue") or 0),
            "isGift": bool(item.get("isGift")),
            "additionalInfo": {
                # the schema types dimension as string|null; the order holds an object
                "dimension": None,
                "brandName": _str_or_none(info.get("brandName")),
                "brandId": _str_or_none(info.get("brandId")),
                "offeringInfo": _str_or_none(info.get("offeringInfo")),
                "offeringType": _str_or_none(info.get("offeringType")),
                "offeringTypeId": _str_or_none(info.get("offeringTypeId")),
                "categoriesIds": _str_or_none(info.get("categoriesIds")),
                "productClusterId": _str_or_none(info.get("productClusterId")),
                "commercialConditionId": _str_or_none(info.get("commercialConditionId")),
            },
            "preSaleDate": _str_or_none(item.get("preSaleDate")),
            "productCategoryIds": _str_or_none(info.get("categoriesIds")),
            "productCategories": {},
            "quantity": dst["quantity"],
            "seller": seller,
            "sellerChain": [seller],
            "imageUrl": _str_or_none(item.get("imageUrl")),
            "detailUrl": _str_or_none(item.get("detailUrl")),
            "components": [],
            "bundleItems": [],
            "attachments": [],
            "attachmentOfferings": [],
            "offerings": [],
            "priceTags": [],
            "availability": "available",
            "measurementUnit": dst.get("measurementUnit") or _str_or_none(item.get("measurementUnit")) or "un",
            "unitMultiplier": _int_like(dst.get("unitMultiplier", item.get("unitMultiplier")), 1),
            "manufacturerCode": None,
            "priceDefinition": None,
        }

    @staticmethod
    def render_logistics(entry: dict, order: dict) -> list[dict]:
        out = []
        order_lines = (order.get("shippingData") or {}).get("logisticsInfo") or []
        for li in entry["logistics"]:
            known = None
            for ol in order_lines:
                known = next((s for s in ol.get("slas") or [] if s.get("id") == li["selectedSla"]), None)
                if known:
                    break
            pickup = {"isPickupStore": li["selectedDeliveryChannel"] == "pickup-in-point", "friendlyName": None,
                      "address": None, "additionalInfo": None, "dockId": None}
            sla = {
                "id": li["selectedSla"], "deliveryChannel": li["selectedDeliveryChannel"],
                "name": _str_or_none((known or {}).get("name")) or li["selectedSla"], "deliveryIds": [],
                "shippingEstimate": _str_or_none((known or {}).get("shippingEstimate")),
                "shippingEstimateDate": None, "lockTTL": None, "availableDeliveryWindows": [],
                "deliveryWindow": None, "price": li["price"], "listPrice": li["price"], "tax": 0,
                "pickupStoreInfo": dict(pickup), "pickupPointId": None, "pickupDistance": None,
                "polygonName": None, "transitTime": None,
            }
            item_id = entry["to"][li["itemIndex"]]["id"]
            out.append({
                "itemIndex": li["itemIndex"], "selectedSla": li["selectedSla"],
                "selectedDeliveryChannel": li["selectedDeliveryChannel"], "addressId": li["addressId"],
                "slas": [sla], "shipsTo": [], "itemId": item_id,
                "deliveryChannels": [{"id": li["selectedDeliveryChannel"]}],
                "price": li["price"], "listPrice": li["price"], "shippingEstimate": sla["shippingEstimate"],
                "dockEstimate": None, "shippingEstimateDate": None, "lockTTL": None, "deliveryCompany": None,
                "polygonName": None, "transitTime": None, "sellingPrice": li["price"], "deliveryIds": [],
                "deliveryWindow": None, "pickupPointId": None, "pickupStoreInfo": dict(pickup),
                "pickupDistance": None,
            })
        return out

    def render_entries(self, order: dict, entries: list[dict], plan: Plan) -> tuple[list[list[dict]], list[list[dict]]]:
        froms, tos = [], []
        for e_no, entry in enumerate(entries):
            froms.append([self.render_from_item(src, plan.removed_snapshots[e_no][f_no])
                          for f_no, src in enumerate(entry["from"])])
            tos.append([self.render_to_item(dst, plan.added_snapshots[e_no][t_no])
                        for t_no, dst in enumerate(entry["to"])])
        return froms, tos

    @staticmethod
    def render_totals(deltas: dict[str, int]) -> list[dict]:
        return [{"id": k, "name": TOTAL_NAMES[k], "value": v} for k, v in deltas.items()]

    @staticmethod
    def render_settings(settings: dict) -> dict:
        out = copy.deepcopy(settings)
        out.pop("usingDefaultBehavior", None)
        # repeated at the top: the detail and history schemas require settings.customPaymentSystemsAllowed
        out["customPaymentSystemsAllowed"] = list(
            settings.get("paymentConfiguration", {}).get("customPaymentSystemsAllowed") or [])
        return out

    def _body(self, order: dict, reason: str, entries: list[dict], froms, tos, parsed_manual: tuple[int, int],
              total_change: int, totals: list, settings: dict, date: str, component: str) -> dict:
        replace = []
        for e_no, entry in enumerate(entries):
            replace.append({
                "from": {"paymentData": {"transactions": []}, "items": froms[e_no],
                         "shippingData": {"logisticsInfo": []}},
                "to": {"items": tos[e_no], "paymentData": {"transactions": []}, "receiptData": None,
                       "shippingData": {"logisticsInfo": self.render_logistics(entry, order)}},
            })
        return {
            "reason": reason,
            "manualDiscountValue": parsed_manual[0],
            "manualIncrementValue": parsed_manual[1],
            "totalChangeValue": total_change,
            "totals": totals,
            "add": None,
            "remove": None,
            "replace": replace,
            "date": date,
            "origin": {"account": self.store.account, "orderId": order["orderId"], "component": component},
            "settings": self.render_settings(settings),
        }

    def render_request(self, req: ChangeRequest, *, accepted: bool = False, detail: bool = False) -> dict:
        order = self.store.order(req.order_id)
        settings = merge_settings(self.settings, req.settings_override)
        body = {
            "requestId": req.request_id,
            "workflowId": req.workflow_id,
            **self._body(order, req.reason, req.entries, req.rendered_from, req.rendered_to,
                         (req.manual_discount, req.manual_increment), req.total_change,
                         [] if accepted else req.totals, settings, req.date, req.component),
        }
        if detail:
            body = {"requestId": body.pop("requestId"), "workflowId": body.pop("workflowId"),
                    "status": req.status, "inProgress": req.in_progress, **body,
                    "error": req.error, "logs": list(req.logs)}
        return body

    # -- workflow --------------------------------------------------------------------------
    def _prepare(self, order: dict, parsed: dict, req: ChangeRequest | None = None) -> tuple[Plan, list[list[str]]]:
        new_ids = [[dst.get("uniqueId") or self.store.new_id().upper() for dst in entry["to"]]
                   for entry in parsed["entries"]]
        plan = self.plan(order, parsed, new_ids)
        return plan, new_ids

    def create(self, order_id: str, parsed: dict) -> ChangeRequest:
        order = self.store.order(order_id)
        settings = merge_settings(self.settings, parsed["settings"])
        self.check_modifiable(order, settings)
        busy = [r for r in self.requests.get(order_id, {}).values() if r.in_progress]
        if busy:
            raise SandboxError(409, "ORDMOD008",
                               f"Order {order_id} already has a modification in progress ({busy[0].request_id})")
        plan, new_ids = self._prepare(order, parsed)
        req = ChangeRequest(
            request_id=self.store.new_uuid(), workflow_id=self.store.new_uuid(), order_id=order_id,
            reason=parsed["reason"], entries=parsed["entries"], manual_discount=parsed["manualDiscountValue"],
            manual_increment=parsed["manualIncrementValue"], settings_override=parsed["settings"],
            date=self.store.iso(), started=self._now(), new_unique_ids=new_ids,
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
        new_ids = [[dst.get("uniqueId") or f"PREVIEW{e:02d}{t:02d}".ljust(32, "0")
                    for t, dst in enumerate(entry["to"])] for e, entry in enumerate(parsed["entries"])]
        plan = self.plan(order, parsed, new_ids)
        froms, tos = self.render_entries(order, parsed["entries"], plan)
        return self._body(order, parsed["reason"], parsed["entries"], froms, tos,
                          (parsed["manualDiscountValue"], parsed["manualIncrementValue"]), plan.total_change,
                          self.render_totals(plan.deltas), settings, self.store.iso(),
                          "MarketplaceComponent" if order.get("origin") == "Marketplace" else "FulfillmentComponent")

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
            self._stop(req, "ORDMOD102", f"Order {order['orderId']} is no longer modifiable "
                                         f"(status '{order.get('status')}')")
            return
        parsed = {"entries": req.entries, "manualDiscountValue": req.manual_discount,
                  "manualIncrementValue": req.manual_increment}
        try:
            plan = self.plan(order, parsed, req.new_unique_ids)
        except SandboxError as exc:
            self._stop(req, "ORDMOD103", f"The order changed since the request: {exc.message}")
            return
        self._set_plan(req, order, plan)
        if plan.total_change > 0 and not self.price_increase_allowed(order, settings):
            self._stop(req, "ORDMOD101",
                       f"The modification increases the order value by {plan.total_change} cents; increasing the "
                       "price is allowed only for credit card, payable notes (promissory), cash or credit control "
                       "payments (or payment systems in customPaymentSystemsAllowed)")
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
            attachment.setdefault("changesData", []).append({
                "reason": req.reason, "discountValue": req.manual_discount, "incrementValue": req.manual_increment,
                "itemsAdded": [], "itemsRemoved": [],
                "receipt": {"date": self.store.iso(), "orderId": order["orderId"], "receipt": req.request_id},
            })
            order["changesAttachment"] = attachment
        req.applied = {"removed": plan.removed_snapshots, "added": plan.added_snapshots}
        self.store.recompute_totals(order)
        req.status = DONE
        req.in_progress = False
        req.error = None
        self._log(req, f"Modification applied; order value changed by {plan.total_change} cents")
        self.store.touch(order)

    def retry(self, order_id: str, request_id: str, parsed: dict) -> None:
        req = self.get(order_id, request_id)
        if req.error is None:
            state = "already done" if req.status == DONE else "still in progress"
            raise SandboxError(409, "ORDMOD007",
                               f"Change request {request_id} is {state}; only a request stopped on error can be retried")
        order = self.store.order(order_id)
        override = parsed["settings"] if parsed["settings"] is not None else req.settings_override
        settings = merge_settings(self.settings, override)
        self.check_modifiable(order, settings)
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

    def cancel(self, order_id: str, request_id: str, reason: str) -> ChangeRequest:
        req = self.get(order_id, request_id)
        if req.status == DONE:
            raise SandboxError(409, "ORDMOD007",
                               f"Change request {request_id} was already processed and cannot be canceled; "
                               "create a new modification to revert it")
        req.status = CANCELED
        req.in_progress = False
        self._log(req, f"Modification canceled: {reason}")
        del self.requests[order_id][request_id]
        return req

    def history(self, order_id: str) -> dict:
        self.store.order(order_id)
        reqs = self.requests.get(order_id, {})
        return {"requests": [self.render_request(r) for r in reqs.values()],
                "actions": list(self.actions.get(order_id, []))}

    # -- settings --------------------------------------------------------------------------
    def get_settings(self) -> dict:
        out = copy.deepcopy(self.settings)
        out["rolloutConfiguration"]["usingDefaultBehavior"] = not self.settings_customized
        return out

    def put_settings(self, parsed: dict) -> dict:
        self.settings = merge_settings(self.settings, parsed)
        self.settings_customized = True
        return self.get_settings()

    # -- change summary (#23) --------------------------------------------------------------
    def change_summary(self, order_id: str) -> dict:
        order = self.store.order(order_id)
        original = self.originals.get(order_id)
        items_before = original["items"] if original else order.get("items") or []
        summary_original = [self._summary_original(n, it, order) for n, it in enumerate(items_before)]
        added, removed, replaced = [], [], []
        manual_d = manual_i = 0
        for req in self.requests.get(order_id, {}).values():
            if req.status != DONE or not req.applied:
                continue
            manual_d += req.manual_discount
            manual_i += req.manual_increment
            for e_no, entry in enumerate(req.entries):
                src = [self._summary_item(i) for i in req.applied["removed"][e_no]]
                dst = [self._summary_item(i, total=True) for i in req.applied["added"][e_no]]
                for d, it in zip(dst, req.applied["added"][e_no]):
                    d["quantity"] = next((t["quantity"] for t in entry["to"] if t["id"] == str(it.get("id"))), d["quantity"])
                if src and dst:
                    kind = self._replace_type(entry)
                    replaced.append({"replaceType": kind, "userInputType": kind, "from": {"items": src, "shippingData": None},
                                     "to": {"items": dst, "shippingData": None}, "type": "UserInput"})
                elif dst:
                    added.extend(dst)
                else:
                    removed.extend(src)
        totals = []
        if original:
            now_totals = {t["id"]: t["value"] for t in order.get("totals") or []}
            for key in ("Items", "Discounts", "Shipping", "Tax"):
                totals.append({"id": key, "name": TOTAL_NAMES[key],
                               "value": now_totals.get(key, 0) - original["totals"].get(key, 0),
                               "alternativeTotals": None})
        return {
            "original": summary_original,
            "added": added,
            "removed": removed,
            "replaced": replaced,
            "manualDiscountValueAggregated": manual_d,
            "manualIncrementValueAggregated": manual_i,
            "totalChangeValueAggregated": (order.get("value", 0) - original["value"]) if original else 0,
            "totals": totals,
            "lastChange": order.get("lastChange") or self.store.iso(),
        }

    @staticmethod
    def _replace_type(entry: dict) -> str:
        src, dst = entry["from"], entry["to"]
        if {i["id"] for i in src} != {i["id"] for i in dst}:
            return "ItemReplacement"
        if any("unitMultiplier" in d for d in dst):
            return "WeightChange"
        return "QuantityChange"

    @staticmethod
    def _summary_item(it: dict, *, total: bool = False) -> dict:
        # Only keys whose value fits the summary schema (which types most fields non-nullable).
        out: dict[str, Any] = {
            "id": str(it.get("id")),
            "uniqueId": str(it.get("uniqueId") or ""),
            "quantity": int(it.get("quantity") or 0),
            "price": int(it.get("price") or 0),
            "measurementUnit": it.get("measurementUnit") or "un",
            "unitMultiplier": float(it.get("unitMultiplier") or 1),
            "sellingPrice": int(it["sellingPrice"]) if it.get("sellingPrice") is not None else int(it.get("price") or 0),
            "priceTags": [],
        }
        if total:
            out["totalQuantity"] = out["quantity"]
        for key in ("imageUrl", "detailUrl", "name", "refId"):
            if isinstance(it.get(key), str):
                out[key] = it[key]
        return out

    @staticmethod
    def _summary_original(index: int, it: dict, order: dict) -> dict:
        out = ModificationsService._summary_item(it)
        out["itemIndex"] = index
        out["totalQuantity"] = out["quantity"]
        for key in ("productId", "lockId", "seller", "sellerSku"):
            if isinstance(it.get(key), str):
                out[key] = it[key]
        for key in ("ean", "priceValidUntil", "preSaleDate", "taxCode", "parentAssemblyBinding", "manualPriceAppliedBy"):
            if it.get(key) is None or isinstance(it.get(key), str):
                out[key] = it.get(key)
        for key in ("tax", "rewardValue", "freightCommission", "commission"):
            out[key] = int(it.get(key) or 0)
        out["isGift"] = bool(it.get("isGift"))
        out["manualPrice"] = it.get("manualPrice") if isinstance(it.get("manualPrice"), int) else None
        out["components"] = []
        out["offerings"] = []
        out["attachments"] = []
        out["parentItemIndex"] = it.get("parentItemIndex") if isinstance(it.get("parentItemIndex"), int) else None
        return out


# ----------------------------------------------------------------------------------------------
# routes
# ----------------------------------------------------------------------------------------------


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
        if isinstance(body, dict) and not any(k in body for k in ("replace", "add", "remove",
                                                                  "manualDiscountValue", "manualIncrementValue")):
            reason = body.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise _bad("reason is required")
            parsed = {"reason": reason, "entries": [], "manualDiscountValue": 0, "manualIncrementValue": 0,
                      "settings": parse_settings(body["settings"], where="settings") if body.get("settings") is not None else None}
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
        return JSONResponse({"requestId": req.request_id, "status": req.status, "inProgress": req.in_progress,
                             "reason": reason})

    async def put_settings(request: Request) -> Response:
        service.check_account(request, "an")
        return JSONResponse(service.put_settings(parse_settings(await read_json(request, "ORDMOD002"))))

    async def get_settings(request: Request) -> Response:
        service.check_account(request, "an")
        return JSONResponse(service.get_settings())

    async def change_summary(request: Request) -> Response:
        service.tick()
        return JSONResponse(service.change_summary(request.path_params["orderId"]))

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
