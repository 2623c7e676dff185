"""Validation of the order-modification request bodies (#29 create, #32 preview, #33 retry) and of
the settings body (#35), into plain dicts the service works on.

Every refusal here is ORDMOD002 (400): VTEX validates the body before answering 202.

`add` / `remove` are folded into `replace` entries (`from` empty / `to` empty): the spec types them
as an array of strings in the 202 and detail responses and as an object in the history, so `null`
is the only value valid everywhere; VTEX itself describes `add` as a `to` and `remove` as a `from`.
"""

from __future__ import annotations

from typing import Any

from ..state import SandboxError

__all__ = ["parse_change_body", "parse_settings"]


def _bad(message: str) -> SandboxError:
    return SandboxError(400, "ORDMOD002", message)


def _int_value(value: Any, name: str, *, minimum: int | None = None) -> int:
    # bool is an int subclass in Python; VTEX's schema says integer, so true/false are refused.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{name} must be an integer (cents or units, no decimal separator)")
    if minimum is not None and value < minimum:
        raise _bad(f"{name} must be >= {minimum}")
    return value


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
        parsed: dict[str, Any] = {
            "id": sku,
            "quantity": _int_value(item.get("quantity"), f"{path}.quantity", minimum=1),
        }
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
        lines.append(
            {
                "itemIndex": index,
                "selectedSla": line["selectedSla"],
                "selectedDeliveryChannel": channel,
                "addressId": line["addressId"],
                "price": _int_value(line.get("price"), f"{path}.price", minimum=0),
            }
        )
    return lines


def _parse_replace_pair(pair: Any, where: str) -> dict:
    """One `replace[n]` pair into a {from, to, logistics} entry."""
    if not isinstance(pair, dict) or not isinstance(pair.get("from"), dict) or not isinstance(pair.get("to"), dict):
        raise _bad(f"{where} needs a 'from' and a 'to' object")
    src = _parse_items(pair["from"].get("items"), f"{where}.from", side="from")
    dst = _parse_items(pair["to"].get("items"), f"{where}.to", side="to")
    if not src and not dst:
        raise _bad(f"{where} has no items")
    logistics = []
    if pair["to"].get("shippingData") is not None:
        logistics = _parse_logistics(pair["to"]["shippingData"], f"{where}.to", dst)
    return {"from": src, "to": dst, "logistics": logistics}


def _replace_entries(replace: Any) -> list[dict]:
    """The body's `replace` array (absent or null: none) as entries."""
    if replace is None:
        return []
    if not isinstance(replace, list):
        raise _bad("replace must be an array")
    return [_parse_replace_pair(pair, f"replace[{n}]") for n, pair in enumerate(replace)]


def _remove_and_add_entries(body: dict) -> list[dict]:
    """`remove` then `add`, each folded into a replace entry (`to` empty / `from` empty)."""
    entries: list[dict] = []
    for key, side in (("remove", "from"), ("add", "to")):
        part = body.get(key)
        if part is None:
            continue
        if not isinstance(part, dict):
            raise _bad(f"{key} must be an object with items")
        items = _parse_items(part.get("items"), key, side=side)
        if items:
            entries.append(
                {"from": items if side == "from" else [], "to": items if side == "to" else [], "logistics": []}
            )
    return entries


def _manual_values(body: dict, entries: list[dict]) -> dict[str, int]:
    """manualDiscountValue / manualIncrementValue of the request: the body's plus its items'."""
    manual: dict[str, int] = {}
    for key in ("manualDiscountValue", "manualIncrementValue"):
        manual[key] = _int_value(body[key], key, minimum=0) if body.get(key) is not None else 0
        # item-level manual values (to.items[].manualDiscountValue / manualIncrementValue) are part
        # of the request's manual totals [inference: the spec does not say how they combine]
        manual[key] += sum(dst.get(key, 0) for entry in entries for dst in entry["to"])
    return manual


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
    entries = _replace_entries(body.get("replace"))
    entries += _remove_and_add_entries(body)
    manual = _manual_values(body, entries)
    if not entries and not (manual["manualDiscountValue"] or manual["manualIncrementValue"]):
        raise _bad("Nothing to modify: send replace, add, remove or a manual value")
    settings = None
    if body.get("settings") is not None:
        settings = parse_settings(body["settings"], where="settings")
    return {"reason": reason, "entries": entries, "settings": settings, **manual}


def _payment_configuration(pay: Any, where: str) -> dict:
    if not isinstance(pay, dict):
        raise _bad(f"{where}.paymentConfiguration must be an object")
    out: dict[str, Any] = {}
    if "customPaymentSystemsAllowed" in pay:
        ids = pay["customPaymentSystemsAllowed"]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise _bad(
                f"{where}.paymentConfiguration.customPaymentSystemsAllowed must be an array of "
                "payment system id strings"
            )
        out["customPaymentSystemsAllowed"] = list(ids)
    return out


def _rollout_configuration(roll: Any, where: str) -> dict:
    if not isinstance(roll, dict):
        raise _bad(f"{where}.rolloutConfiguration must be an object")
    out: dict[str, Any] = {}
    if "enableApi" in roll:
        if not isinstance(roll["enableApi"], bool):
            raise _bad(f"{where}.rolloutConfiguration.enableApi must be a boolean")
        out["enableApi"] = roll["enableApi"]
    for key in ("enableAdminOrders", "enableMyOrders"):
        if key in roll:
            ws = roll[key].get("enabledWorkspaces") if isinstance(roll[key], dict) else None
            if not isinstance(ws, list) or not all(isinstance(w, str) for w in ws):
                raise _bad(f"{where}.rolloutConfiguration.{key}.enabledWorkspaces must be an array of strings")
            out[key] = {"enabledWorkspaces": list(ws)}
    return out


def _pipeline_configuration(pipe: Any, where: str) -> dict:
    if not isinstance(pipe, dict):
        raise _bad(f"{where}.pipelineConfiguration must be an object")
    out: dict[str, Any] = {}
    for key in (
        "enableTaxHubRecalculation",
        "compensateShippingChanges",
        "enablePromotionRecalculation",
        "enableNativeTaxRecalculation",
    ):
        if key in pipe:
            if not isinstance(pipe[key], bool):
                raise _bad(f"{where}.pipelineConfiguration.{key} must be a boolean")
            out[key] = pipe[key]
    return out


def parse_settings(raw: Any, *, where: str = "body") -> dict:
    """Validate a (partial) settings object; returns only the keys that were sent."""
    if not isinstance(raw, dict):
        raise _bad(f"{where} must be an object")
    out: dict[str, dict] = {}
    if raw.get("paymentConfiguration") is not None:
        out["paymentConfiguration"] = _payment_configuration(raw["paymentConfiguration"], where)
    if raw.get("rolloutConfiguration") is not None:
        out["rolloutConfiguration"] = _rollout_configuration(raw["rolloutConfiguration"], where)
    if raw.get("pipelineConfiguration") is not None:
        out["pipelineConfiguration"] = _pipeline_configuration(raw["pipelineConfiguration"], where)
    return out
