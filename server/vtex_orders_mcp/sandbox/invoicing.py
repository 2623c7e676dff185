"""Invoice arithmetic shared by the invoice routes and the seed: what has been invoiced, returned,
and what remains, all in integer cents.

The order's full total is sum(totals[].value) (see Store.recompute_totals); `value` becomes the
invoiced amount once invoices exist. An order is *partially invoiced* when it has Output invoices
whose sum is below that total and it is not (yet) in `invoiced` status.
"""

from __future__ import annotations


def packages(order: dict) -> list[dict]:
    """The order's invoices (read-only view; [] when it has none)."""
    return (order.get("packageAttachment") or {}).get("packages") or []


def ensure_packages(order: dict) -> list[dict]:
    """The order's invoice list, created in the document when missing (for appending)."""
    attachment = order.get("packageAttachment")
    if not attachment:
        attachment = order["packageAttachment"] = {"packages": []}
    if attachment.get("packages") is None:
        attachment["packages"] = []
    return attachment["packages"]


def order_total(order: dict) -> int:
    return sum(int(t.get("value") or 0) for t in order.get("totals") or [])


def invoiced_total(order: dict) -> int:
    return sum(int(p.get("invoiceValue") or 0) for p in packages(order) if p.get("type") == "Output")


def returned_total(order: dict) -> int:
    return sum(int(p.get("invoiceValue") or 0) for p in packages(order) if p.get("type") == "Input")


def remaining(order: dict) -> int:
    return max(0, order_total(order) - invoiced_total(order))


def is_partially_invoiced(order: dict) -> bool:
    return order.get("status") != "invoiced" and invoiced_total(order) > 0


def find_package(order: dict, invoice_number: str) -> dict | None:
    return next((p for p in packages(order) if p.get("invoiceNumber") == invoice_number), None)


def has_input_invoice(order: dict) -> bool:
    return any(p.get("type") == "Input" for p in packages(order))


def quantities(order: dict, kind: str) -> dict[int, int]:
    """Units per item index (`itemIndex`) the order's invoices of `kind` (Output/Input) cover."""
    out: dict[int, int] = {}
    for package in packages(order):
        if package.get("type") == kind:
            for item in package.get("items") or []:
                at = int(item.get("itemIndex") or 0)
                out[at] = out.get(at, 0) + int(item.get("quantity") or 0)
    return out
