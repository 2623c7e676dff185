"""Response bodies of the order-modification routes: 202 (create), detail, preview and history.

Rendering follows the intersection of the four response schemas (202, detail, preview, history),
which disagree on some leaves: `from.items[].price` is `null` (integer in two schemas, string in
two; VTEX's own 202 example sends null) with the unit price in `sellingPrice`;
`from.shippingData.logisticsInfo` and `paymentData.transactions` are `[]`; the 202 `totals` is `[]`
(array of strings there, computed totals appear in detail/history/preview);
`settings.customPaymentSystemsAllowed` is repeated at the top of `settings` because the detail and
history schemas require it there.
"""

from __future__ import annotations

import copy
from typing import Any

from ..state import Store
from .change_request import ChangeRequest
from .planning import Plan, _int_like
from .settings import merge_settings

__all__ = ["TOTAL_NAMES", "RenderingMixin"]

TOTAL_NAMES = {
    "Items": "Items Total",
    "Discounts": "Discounts Total",
    "Shipping": "Shipping Total",
    "Tax": "Tax Total",
    "ManualValues": "Manual Values Total",
}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class RenderingMixin:
    """The rendering half of `ModificationsService` (it needs the service's `store` and `settings`)."""

    store: Store
    settings: dict

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
            pickup = {
                "isPickupStore": li["selectedDeliveryChannel"] == "pickup-in-point",
                "friendlyName": None,
                "address": None,
                "additionalInfo": None,
                "dockId": None,
            }
            sla = {
                "id": li["selectedSla"],
                "deliveryChannel": li["selectedDeliveryChannel"],
                "name": _str_or_none((known or {}).get("name")) or li["selectedSla"],
                "deliveryIds": [],
                "shippingEstimate": _str_or_none((known or {}).get("shippingEstimate")),
                "shippingEstimateDate": None,
                "lockTTL": None,
                "availableDeliveryWindows": [],
                "deliveryWindow": None,
                "price": li["price"],
                "listPrice": li["price"],
                "tax": 0,
                "pickupStoreInfo": dict(pickup),
                "pickupPointId": None,
                "pickupDistance": None,
                "polygonName": None,
                "transitTime": None,
            }
            item_id = entry["to"][li["itemIndex"]]["id"]
            out.append(
                {
                    "itemIndex": li["itemIndex"],
                    "selectedSla": li["selectedSla"],
                    "selectedDeliveryChannel": li["selectedDeliveryChannel"],
                    "addressId": li["addressId"],
                    "slas": [sla],
                    "shipsTo": [],
                    "itemId": item_id,
                    "deliveryChannels": [{"id": li["selectedDeliveryChannel"]}],
                    "price": li["price"],
                    "listPrice": li["price"],
                    "shippingEstimate": sla["shippingEstimate"],
                    "dockEstimate": None,
                    "shippingEstimateDate": None,
                    "lockTTL": None,
                    "deliveryCompany": None,
                    "polygonName": None,
                    "transitTime": None,
                    "sellingPrice": li["price"],
                    "deliveryIds": [],
                    "deliveryWindow": None,
                    "pickupPointId": None,
                    "pickupStoreInfo": dict(pickup),
                    "pickupDistance": None,
                }
            )
        return out

    def render_entries(self, order: dict, entries: list[dict], plan: Plan) -> tuple[list[list[dict]], list[list[dict]]]:
        froms, tos = [], []
        for e_no, entry in enumerate(entries):
            froms.append(
                [
                    self.render_from_item(src, plan.removed_snapshots[e_no][f_no])
                    for f_no, src in enumerate(entry["from"])
                ]
            )
            tos.append(
                [self.render_to_item(dst, plan.added_snapshots[e_no][t_no]) for t_no, dst in enumerate(entry["to"])]
            )
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
            settings.get("paymentConfiguration", {}).get("customPaymentSystemsAllowed") or []
        )
        return out

    def _body(
        self,
        order: dict,
        reason: str,
        entries: list[dict],
        froms,
        tos,
        parsed_manual: tuple[int, int],
        total_change: int,
        totals: list,
        settings: dict,
        date: str,
        component: str,
    ) -> dict:
        replace = []
        for e_no, entry in enumerate(entries):
            replace.append(
                {
                    "from": {
                        "paymentData": {"transactions": []},
                        "items": froms[e_no],
                        "shippingData": {"logisticsInfo": []},
                    },
                    "to": {
                        "items": tos[e_no],
                        "paymentData": {"transactions": []},
                        "receiptData": None,
                        "shippingData": {"logisticsInfo": self.render_logistics(entry, order)},
                    },
                }
            )
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
            **self._body(
                order,
                req.reason,
                req.entries,
                req.rendered_from,
                req.rendered_to,
                (req.manual_discount, req.manual_increment),
                req.total_change,
                [] if accepted else req.totals,
                settings,
                req.date,
                req.component,
            ),
        }
        if detail:
            body = {
                "requestId": body.pop("requestId"),
                "workflowId": body.pop("workflowId"),
                "status": req.status,
                "inProgress": req.in_progress,
                **body,
                "error": req.error,
                "logs": list(req.logs),
            }
        return body
