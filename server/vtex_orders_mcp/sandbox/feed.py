"""Order integration in the sandbox: Feed v3 (#15-#19), the JSONata test (#26), the order hook
(#20-#22) and the deprecated Feed v2 (#14).

Mechanism: the service registers a Store listener, so every order change the sandbox makes (status
changes through `Store.set_status`, other changes through `Store.touch`) is offered to each feed and
hook configuration.

What VTEX states (docs/VTEX_ORDERS_API.md section 4):

* one feed configuration per AppKey (#18 "will return 404 Not Found if there is no Feed
  Configuration available for the given X-VTEX-API-AppKey");
* filter `FromWorkflow` = events on status changes, filtered by `status`; `FromOrders` = events on any
  change, filtered by a JSONata `expression` over the order document; `disableSingleFire` false =
  "orders will appear in the feed only once";
* queue: `visibilityTimeoutInSeconds` ("an item becomes invisible after it has been retrieved") and
  `MessageRetentionPeriodInSeconds` (maximum life span, at most 1209600 s); GET config adds
  `quantity` (including invisible messages) and `approximateAgeOfOldestMessageInSeconds`;
* GET /api/orders/feed?maxlot= (at most 10) returns items, POST {handles} commits them; a status
  event is removed "if it can't deliver a message more than 100 times";
* hook: FromWorkflow needs at least one status, FromOrders needs `expression` and
  `disableSingleFire`; the POST answer documents the notification payload
  `{Domain, OrderId, State, LastState, LastChange, CurrentChange, Origin{Account, Key}}`;
  "Only https scheme is accepted." is VTEX's 400 text.

What the sandbox infers:

* Queue semantics are SQS's (the commit example is an SQS receipt handle): every retrieval hides the
  item for the visibility timeout and gives it a new handle; committing deletes the item holding that
  handle; committing an unknown or superseded handle is ignored (VTEX documents no error). Items
  older than the retention period, or retrieved more than MAX_RECEIVES times, are dropped.
* `disableSingleFire` false keeps an order from entering a FromOrders feed/hook a second time
  (per configuration, until the configuration is replaced); FromWorkflow fires on each matching status
  change.
* Events carry `domain` "Fulfillment" (VTEX fires Marketplace and Fulfillment domain events; the
  sandbox emits one event per change, with the domain of the spec's examples), `lastState` the status
  before the change (the current one for non-status changes), `lastChange` the order's previous
  lastChange.
* The hook never performs network calls: every notification it would POST is appended to
  `FeedService.deliveries` ({url, headers, payload, date}) for tests and evals to read. Its POST
  answer is the payload it would deliver for the most recently changed order matching the filter.
* The AppKey is the identity the request authenticated with (access.py): the X-VTEX-API-AppKey of a
  valid key+token pair; callers authenticated by VtexIdclientAutCookie share the key COOKIE_KEY,
  whatever AppKey header they also send (a lone AppKey without its token is not key auth).
* Feed v2 returns the most recent status changes of the account as
  `[{orderId, status, dateTime, commitToken}]` (the shape of VTEX's former v2 feed); the spec documents
  no schema and no commit operation, so items are not consumed.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

import jsonata
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .access import COOKIE_KEY, IDENTITY_SCOPE_KEY
from .bodies import is_ascii_digits, loads, read_json
from .state import SandboxError, Store

__all__ = ["COOKIE_KEY", "MAX_LOT", "MAX_RETENTION", "MAX_VISIBILITY", "FeedService", "jsonata_truthy", "routes"]

MAX_LOT = 10
MAX_RETENTION = 1209600  # stated by VTEX
MIN_RETENTION = 60  # SQS's minimum [inference]
MAX_VISIBILITY = 43200  # SQS's maximum (12 h) [inference]
MAX_RECEIVES = 100  # "can't deliver a message more than 100 times"
FEED_V2_MAX_LOT = 100  # [inference] no limit documented for the deprecated feed
FEED_V2_KEEP = 1000
DOMAIN = "Fulfillment"
FILTER_TYPES = ("FromWorkflow", "FromOrders")


def _bad(message: str, code: str = "FEED001") -> SandboxError:
    return SandboxError(400, code, message)


def _not_found() -> SandboxError:
    # VTEX answers these 404s with the plain text "Value not found."
    return SandboxError(404, "FEED404", "Value not found.", text="Value not found.")


def jsonata_truthy(value: Any) -> bool:
    """JSONata's $boolean() casting: undefined/null/false/0/""/[]/{} are false, arrays are true when
    any member is."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value != ""
    if isinstance(value, list):
        return any(jsonata_truthy(v) for v in value)
    if isinstance(value, dict):
        return bool(value)
    return True  # functions


def compile_expression(expression: Any, where: str) -> jsonata.Jsonata:
    if not isinstance(expression, str) or not expression.strip():
        raise _bad(f"{where} is required (a JSONata expression)")
    try:
        return jsonata.Jsonata(expression)
    except Exception as exc:  # jsonata.JException and parser errors
        raise _bad(f"Invalid JSONata {where}: {exc}") from None


def evaluate(compiled: jsonata.Jsonata, document: Any) -> bool:
    try:
        return jsonata_truthy(compiled.evaluate(document))
    except Exception:
        # A runtime error on one order (e.g. a type error) means "does not match", as a filter.
        return False


def parse_filter(raw: Any, *, hook: bool) -> dict:
    if not isinstance(raw, dict):
        raise _bad("filter is required (object)")
    kind = raw.get("type")
    if kind not in FILTER_TYPES:
        raise _bad("filter.type must be 'FromWorkflow' or 'FromOrders'")
    if kind == "FromWorkflow":
        status = raw.get("status")
        if not isinstance(status, list) or not status or not all(isinstance(s, str) and s for s in status):
            raise _bad("filter.status must list at least one order status for a FromWorkflow filter")
        return {"type": kind, "status": list(status)}
    compile_expression(raw.get("expression"), "filter.expression")
    single = raw.get("disableSingleFire")
    if single is None and hook:
        raise _bad("filter.disableSingleFire is required for a FromOrders hook filter")
    if single is not None and not isinstance(single, bool):
        raise _bad("filter.disableSingleFire must be a boolean")
    return {"type": kind, "expression": raw["expression"], "disableSingleFire": bool(single)}


def parse_queue(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise _bad("queue is required (object)")
    visibility = raw.get("visibilityTimeoutInSeconds")
    # The request schema spells MessageRetentionPeriodInSeconds, VTEX's GET example answers
    # messageRetentionPeriodInSeconds: both spellings are accepted.
    retention = raw.get("MessageRetentionPeriodInSeconds", raw.get("messageRetentionPeriodInSeconds"))
    for name, value, low, high in (
        ("queue.visibilityTimeoutInSeconds", visibility, 0, MAX_VISIBILITY),
        ("queue.MessageRetentionPeriodInSeconds", retention, MIN_RETENTION, MAX_RETENTION),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(f"{name} is required (integer seconds)")
        if not low <= value <= high:
            raise _bad(f"{name} must be between {low} and {high} seconds")
    return {"visibilityTimeoutInSeconds": visibility, "MessageRetentionPeriodInSeconds": retention}


class _Subscription:
    """What feeds and hooks share: a filter, its compiled expression and the single-fire memory."""

    def __init__(self, filt: dict):
        self.filter = filt
        self.compiled = jsonata.Jsonata(filt["expression"]) if filt["type"] == "FromOrders" else None
        self.fired: set[str] = set()

    def matches(self, order: dict, previous: str | None) -> bool:
        if self.filter["type"] == "FromWorkflow":
            return (
                previous is not None
                and previous != order.get("status")
                and order.get("status") in self.filter["status"]
            )
        if not evaluate(self.compiled, order):
            return False
        if not self.filter["disableSingleFire"]:
            if order["orderId"] in self.fired:
                return False
            self.fired.add(order["orderId"])
        return True


class FeedService:
    """Feed v3 queues and hook configurations per AppKey, plus the Feed v2 status log."""

    def __init__(self, store: Store):
        self.store = store
        store.register_service(self)
        store.add_listener(self.on_change)
        self.reset()

    def reset(self) -> None:
        self.feeds: dict[str, dict] = {}  # appKey -> {"sub", "queue", "items": [..]}
        self.hooks: dict[str, dict] = {}  # appKey -> {"sub", "hook"}
        self.deliveries: list[dict] = []
        self.status_log: deque[dict] = deque(maxlen=FEED_V2_KEEP)
        self._seq = 0
        # the previous lastChange / status of each order that changed, to fill lastChange / lastState;
        # before its first change, an order's previous state is the one it was generated with
        self._last_seen: dict[str, tuple] = {}

    # -- events ----------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.store.clock.now()

    def _seen(self, order_id: str, default: tuple) -> tuple:
        seen = self._last_seen.get(order_id)
        if seen is None:
            seen = self.store.orders.generated_state.get(order_id, default)
        return seen

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def on_change(self, order: dict, previous: str | None) -> None:
        oid = order["orderId"]
        last_change, last_status = self._seen(oid, (order.get("creationDate"), order.get("status")))
        state = order.get("status")
        event = {
            "orderId": oid,
            "domain": DOMAIN,
            "state": state,
            "lastState": previous if previous is not None else (last_status or state),
            "lastChange": last_change or order.get("creationDate") or order.get("lastChange"),
            "currentChange": order.get("lastChange") or self.store.iso(),
        }
        self._last_seen[oid] = (order.get("lastChange"), state)
        if previous is not None and previous != state:
            self.status_log.append(
                {
                    "orderId": oid,
                    "status": state,
                    "dateTime": event["currentChange"],
                    "commitToken": f"{self._next():012d}",
                }
            )
        for key, feed in self.feeds.items():
            if feed["sub"].matches(order, previous):
                self._enqueue(key, feed, event)
        for key, hook in self.hooks.items():
            if hook["sub"].matches(order, previous):
                self.deliveries.append(
                    {
                        "url": hook["hook"]["url"],
                        "headers": dict(hook["hook"]["headers"]),
                        "payload": self.hook_payload(key, event),
                        "date": self.store.iso(),
                    }
                )

    def hook_payload(self, key: str, event: dict) -> dict:
        return {
            "Domain": event["domain"],
            "OrderId": event["orderId"],
            "State": event["state"],
            "LastState": event["lastState"],
            "LastChange": event["lastChange"],
            "CurrentChange": event["currentChange"],
            "Origin": {"Account": self.store.account, "Key": key},
        }

    def _enqueue(self, key: str, feed: dict, event: dict) -> None:
        n = self._next()
        feed["items"].append(
            {
                **event,
                "eventId": f"{self.store.rng.getrandbits(128):032X}",
                "enqueued": self._now(),
                "visibleAt": self._now(),
                "handle": None,
                "receives": 0,
                "seq": n,
            }
        )

    # -- feed v3 ---------------------------------------------------------------------------
    def _feed(self, key: str) -> dict:
        feed = self.feeds.get(key)
        if feed is None:
            raise _not_found()
        self._expire(feed)
        return feed

    def _expire(self, feed: dict) -> None:
        now = self._now()
        keep = feed["queue"]["MessageRetentionPeriodInSeconds"]
        feed["items"] = [
            it
            for it in feed["items"]
            if (now - it["enqueued"]).total_seconds() < keep and it["receives"] < MAX_RECEIVES
        ]

    def set_feed(self, key: str, body: Any) -> None:
        if not isinstance(body, dict):
            raise _bad("The body must be an object with filter and queue")
        filt = parse_filter(body.get("filter"), hook=False)
        queue = parse_queue(body.get("queue"))
        current = self.feeds.get(key)
        # Updating a configuration keeps the messages already queued (the queue is the same).
        self.feeds[key] = {"sub": _Subscription(filt), "queue": queue, "items": current["items"] if current else []}

    def delete_feed(self, key: str) -> None:
        if self.feeds.pop(key, None) is None:
            raise _not_found()

    def feed_config(self, key: str) -> dict:
        feed = self._feed(key)
        now = self._now()
        oldest = min((it["enqueued"] for it in feed["items"]), default=None)
        return {
            "filter": dict(feed["sub"].filter),
            "queue": dict(feed["queue"]),
            "quantity": len(feed["items"]),
            "approximateAgeOfOldestMessageInSeconds": (now - oldest).total_seconds() if oldest else 0.0,
        }

    def retrieve(self, key: str, maxlot: Any) -> list[dict]:
        if not isinstance(maxlot, str) or not is_ascii_digits(maxlot):  # int() would take " 3" and "٣"
            raise _bad(f"maxlot is required (integer 1..{MAX_LOT})")
        lot = int(maxlot)
        if not 1 <= lot <= MAX_LOT:
            raise _bad(f"maxlot must be between 1 and {MAX_LOT}")
        feed = self._feed(key)
        now = self._now()
        hide = feed["queue"]["visibilityTimeoutInSeconds"]
        out: list[dict] = []
        for it in sorted(feed["items"], key=lambda i: i["seq"]):
            if len(out) >= lot:
                break
            if it["visibleAt"] > now:
                continue
            it["receives"] += 1
            it["handle"] = self._handle(key, it)
            it["visibleAt"] = now + timedelta(seconds=hide)
            out.append(
                {
                    k: it[k]
                    for k in (
                        "eventId",
                        "handle",
                        "domain",
                        "state",
                        "lastState",
                        "orderId",
                        "lastChange",
                        "currentChange",
                    )
                }
            )
        return out

    def _handle(self, key: str, item: dict) -> str:
        # opaque, unique per retrieval (SQS receipt handles change on every receive)
        return f"AQEB{self.store.rng.getrandbits(256):064x}.{item['seq']}.{item['receives']}"

    def commit(self, key: str, body: Any) -> None:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("handles"), list)
            or not all(isinstance(h, str) for h in body["handles"])
        ):
            raise _bad("handles is required (array of strings)")
        feed = self._feed(key)
        handles = set(body["handles"])
        feed["items"] = [it for it in feed["items"] if it["handle"] is None or it["handle"] not in handles]

    # -- hook ------------------------------------------------------------------------------
    def set_hook(self, key: str, body: Any) -> dict:
        if not isinstance(body, dict):
            raise _bad("The body must be an object with filter and hook")
        filt = parse_filter(body.get("filter"), hook=True)
        hook = body.get("hook")
        if not isinstance(hook, dict) or not isinstance(hook.get("url"), str) or not hook["url"]:
            raise _bad("hook.url is required")
        if not hook["url"].lower().startswith("https://") or len(hook["url"]) <= len("https://"):
            raise SandboxError(400, "FEED002", "Only https scheme is accepted.", text="Only https scheme is accepted.")
        headers = hook.get("headers")
        # The schema requires `headers` and shows {"key": "value"}: a free-form map of header names
        # to values sent with each notification [inference].
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise _bad("hook.headers is required (object mapping header names to string values)")
        sub = _Subscription(filt)
        self.hooks[key] = {"sub": sub, "hook": {"url": hook["url"], "headers": dict(headers)}}
        return self._sample_payload(key, sub)

    def _sample_payload(self, key: str, sub: _Subscription) -> dict:
        candidates = sorted(
            self.store.orders.values(), key=lambda o: (o.get("lastChange") or "", o["orderId"]), reverse=True
        )

        def fits(order: dict) -> bool:
            if sub.filter["type"] == "FromWorkflow":
                return order.get("status") in sub.filter["status"]
            return evaluate(sub.compiled, order)

        order = next((o for o in candidates if fits(o)), candidates[0] if candidates else None)
        if order is None:
            now = self.store.iso()
            return {
                "Domain": DOMAIN,
                "OrderId": "",
                "State": "",
                "LastState": "",
                "LastChange": now,
                "CurrentChange": now,
                "Origin": {"Account": self.store.account, "Key": key},
            }
        last_change, last_status = self._seen(order["orderId"], (order.get("lastChange"), order.get("status")))
        event = {
            "domain": DOMAIN,
            "orderId": order["orderId"],
            "state": order.get("status"),
            "lastState": last_status or order.get("status"),
            "lastChange": last_change or order.get("lastChange"),
            "currentChange": order.get("lastChange"),
        }
        return self.hook_payload(key, event)

    def hook_config(self, key: str) -> dict:
        hook = self.hooks.get(key)
        if hook is None:
            raise _not_found()
        return {
            "filter": dict(hook["sub"].filter),
            "hook": {"url": hook["hook"]["url"], "headers": dict(hook["hook"]["headers"])},
        }

    def delete_hook(self, key: str) -> None:
        if self.hooks.pop(key, None) is None:
            raise _not_found()

    # -- feed v2 ---------------------------------------------------------------------------
    def feed_v2(self, max_lot: Any) -> list[dict]:
        if not isinstance(max_lot, str) or not is_ascii_digits(max_lot):
            raise _bad(f"maxLot is required (integer 1..{FEED_V2_MAX_LOT})")
        lot = int(max_lot)
        if not 1 <= lot <= FEED_V2_MAX_LOT:
            raise _bad(f"maxLot must be between 1 and {FEED_V2_MAX_LOT}")
        return list(self.status_log)[-lot:]


def evaluate_jsonata_request(body: Any) -> bool:
    if not isinstance(body, dict):
        raise _bad("The body must be an object with Expression and Document")
    compiled = compile_expression(body.get("Expression"), "Expression")
    raw = body.get("Document")
    if not isinstance(raw, str):
        raise _bad("Document is required (a JSON document as a string)")
    try:
        document = loads(raw)
    except ValueError as exc:
        raise _bad(f"Invalid JSON Document: {exc}") from None
    try:
        return jsonata_truthy(compiled.evaluate(document))
    except Exception as exc:
        raise _bad(f"Invalid JSONata Expression: {exc}") from None


# ----------------------------------------------------------------------------------------------
# routes
# ----------------------------------------------------------------------------------------------


def app_key(request: Request) -> str:
    """The authenticated identity the gate recorded (never the raw AppKey header)."""
    return request.scope.get(IDENTITY_SCOPE_KEY) or COOKIE_KEY


def routes(service: FeedService) -> list[Route]:
    async def get_config(request: Request) -> Response:
        return JSONResponse(service.feed_config(app_key(request)))

    async def post_config(request: Request) -> Response:
        service.set_feed(app_key(request), await read_json(request, "FEED001"))
        return Response(status_code=200)

    async def delete_config(request: Request) -> Response:
        service.delete_feed(app_key(request))
        return Response(status_code=200)

    async def get_feed(request: Request) -> Response:
        return JSONResponse(service.retrieve(app_key(request), request.query_params.get("maxlot")))

    async def commit_feed(request: Request) -> Response:
        service.commit(app_key(request), await read_json(request, "FEED001"))
        return Response(status_code=200)

    async def jsonata_test(request: Request) -> Response:
        return JSONResponse(evaluate_jsonata_request(await read_json(request, "FEED001")))

    async def get_hook(request: Request) -> Response:
        # clientEmail / page / per_page are documented on this GET but have no effect on a
        # single configuration; they are accepted and ignored.
        return JSONResponse(service.hook_config(app_key(request)))

    async def post_hook(request: Request) -> Response:
        return JSONResponse(service.set_hook(app_key(request), await read_json(request, "FEED001")))

    async def delete_hook(request: Request) -> Response:
        service.delete_hook(app_key(request))
        return Response(status_code=200)

    async def feed_v2(request: Request) -> Response:
        return JSONResponse(service.feed_v2(request.query_params.get("maxLot")))

    return [
        Route("/api/orders/feed/config", get_config, methods=["GET"]),
        Route("/api/orders/feed/config", post_config, methods=["POST"]),
        Route("/api/orders/feed/config", delete_config, methods=["DELETE"]),
        Route("/api/orders/feed", get_feed, methods=["GET"]),
        Route("/api/orders/feed", commit_feed, methods=["POST"]),
        Route("/api/orders/expressions/jsonata", jsonata_test, methods=["POST"]),
        Route("/api/orders/hook/config", get_hook, methods=["GET"]),
        Route("/api/orders/hook/config", post_hook, methods=["POST"]),
        Route("/api/orders/hook/config", delete_hook, methods=["DELETE"]),
        Route("/api/oms/pvt/feed/orders/status", feed_v2, methods=["GET"]),
    ]
