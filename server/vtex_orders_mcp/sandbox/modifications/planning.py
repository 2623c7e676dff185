"""Planning: what a change does to an order (pure; used by preview, create and processing).

`PlanningMixin.plan` applies a request's entries to copies of the order's items and logistics lines
and returns a `Plan`: the resulting lines, the per-total deltas, and per entry the order items taken
and made (kept for rendering and the change summary). Nothing is stored; processing assigns the
plan's items and lines to the order when the request is done.

Prices of added SKUs come from the sandbox catalog: the SKUs of all seeded orders
(`ModificationsService.catalog`); an SKU already in the order is copied from the order itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..invoicing import order_total
from ..state import SandboxError, Store

__all__ = ["Plan", "PlanningMixin"]


def _int_like(value: Any, default: int = 1) -> Any:
    """unitMultiplier is a number in orders but an integer in the response schemas."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    return default


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
        "Shipping": sum(
            int(li["sellingPrice"]) if li.get("sellingPrice") is not None else int(li.get("price") or 0)
            for li in logistics
        ),
        "Tax": sum(int(i.get("tax") or 0) * qty(i) for i in items),
    }


class PlanningMixin:
    """The planning half of `ModificationsService` (it needs the service's `store` and `catalog()`)."""

    store: Store
    catalog: Callable[[], dict[str, dict]]

    def plan(self, order: dict, parsed: dict, new_ids: list[list[str]] | None = None) -> Plan:
        """Apply the entries to copies of the order's items / logistics lines.

        Raises SandboxError(400) when the change does not fit the order (unknown item, more
        quantity removed than present, unknown SKU, new SKU on a multi-address order, a resulting
        order total below zero).
        """
        items = copy.deepcopy(order.get("items") or [])
        lines_by_index = {
            int(li.get("itemIndex", n)): li
            for n, li in enumerate(copy.deepcopy((order.get("shippingData") or {}).get("logisticsInfo") or []))
        }
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
                    raise SandboxError(
                        400,
                        "ORDMOD002",
                        f"{where}: item {src['id']}"
                        + (f" ({src['uniqueId']})" if src.get("uniqueId") else "")
                        + f" is not in order {order['orderId']}",
                    )
                have = int(row["item"].get("quantity") or 0)
                if src["quantity"] > have:
                    raise SandboxError(
                        400,
                        "ORDMOD002",
                        f"{where}: cannot remove {src['quantity']} of item {src['id']}, the order has {have}",
                    )
                snap = copy.deepcopy(row["item"])
                snap["quantity"] = src["quantity"]
                taken.append(snap)
                row["item"]["quantity"] = have - src["quantity"]
            removed_snaps.append(taken)
            made = []
            for t_no, dst in enumerate(entry["to"]):
                where = f"replace[{e_no}].to.items[{t_no}]"
                if multi_address and dst["id"] not in original_skus:
                    raise SandboxError(
                        400,
                        "ORDMOD009",
                        f"{where}: order {order['orderId']} has more than one shipping address; "
                        "only items of the original order can be added",
                    )
                row = self._merge_target(rows, dst)
                if row is not None:
                    row["item"]["quantity"] = int(row["item"].get("quantity") or 0) + dst["quantity"]
                else:
                    template = self._template(order, dst["id"])
                    if template is None:
                        raise SandboxError(400, "ORDMOD010", f"{where}: SKU {dst['id']} not found in the catalog")
                    uid = (
                        (new_ids[e_no][t_no] if new_ids else None) or dst.get("uniqueId") or self.store.new_id().upper()
                    )
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
        total = order_total(order)
        if total + sum(deltas.values()) < 0:
            # The same rule as register-changes (oms.py): no change may make the order value negative.
            raise SandboxError(
                400,
                "ORDMOD002",
                f"The modification would make the order value negative: the order total {total} "
                f"would change by {sum(deltas.values())} cents to {total + sum(deltas.values())} "
                f"(manualDiscountValue {parsed['manualDiscountValue']})",
            )
        return Plan(
            new_items, new_lines, deltas, removed_snaps, [[copy.deepcopy(i) for i in made] for made in added_snaps]
        )

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
        item.update(
            {
                "uniqueId": unique_id,
                "quantity": dst["quantity"],
                "unitMultiplier": _int_like(mult, 1) if float(mult).is_integer() else mult,
                "measurementUnit": dst.get("measurementUnit") or template.get("measurementUnit") or "un",
                "lockId": f"00-{order['orderId']}",
                "priceTags": [],
                "manualPrice": None,
            }
        )
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
