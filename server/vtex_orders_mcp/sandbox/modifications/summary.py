"""The order's change summary (#23): the net effect of all done modifications on an order.

The summary compares the order with its snapshot taken before the first done change
(`ModificationsService.originals`) and lists, per done request, what it added, removed or replaced,
with the aggregated manual values and total change. An order never modified has an empty summary
whose `original` is the order's current items.
"""

from __future__ import annotations

from typing import Any

from ..state import Store
from .change_request import DONE, ChangeRequest
from .rendering import TOTAL_NAMES

__all__ = ["ChangeSummaryMixin"]


class ChangeSummaryMixin:
    """The change-summary part of `ModificationsService` (it needs `store`, `requests`, `originals`)."""

    store: Store
    requests: dict[str, dict[str, ChangeRequest]]
    originals: dict[str, dict]

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
                for d, it in zip(dst, req.applied["added"][e_no], strict=True):
                    d["quantity"] = next(
                        (t["quantity"] for t in entry["to"] if t["id"] == str(it.get("id"))), d["quantity"]
                    )
                if src and dst:
                    kind = self._replace_type(entry)
                    replaced.append(
                        {
                            "replaceType": kind,
                            "userInputType": kind,
                            "from": {"items": src, "shippingData": None},
                            "to": {"items": dst, "shippingData": None},
                            "type": "UserInput",
                        }
                    )
                elif dst:
                    added.extend(dst)
                else:
                    removed.extend(src)
        totals = []
        if original:
            now_totals = {t["id"]: t["value"] for t in order.get("totals") or []}
            for key in ("Items", "Discounts", "Shipping", "Tax"):
                totals.append(
                    {
                        "id": key,
                        "name": TOTAL_NAMES[key],
                        "value": now_totals.get(key, 0) - original["totals"].get(key, 0),
                        "alternativeTotals": None,
                    }
                )
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
            "sellingPrice": int(it["sellingPrice"])
            if it.get("sellingPrice") is not None
            else int(it.get("price") or 0),
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
        out = ChangeSummaryMixin._summary_item(it)
        out["itemIndex"] = index
        out["totalQuantity"] = out["quantity"]
        for key in ("productId", "lockId", "seller", "sellerSku"):
            if isinstance(it.get(key), str):
                out[key] = it[key]
        for key in (
            "ean",
            "priceValidUntil",
            "preSaleDate",
            "taxCode",
            "parentAssemblyBinding",
            "manualPriceAppliedBy",
        ):
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
