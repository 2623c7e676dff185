"""The account's order-modification settings: their defaults and a request's override over them.

A change request may carry its own `settings`; they apply to that request only, merged section by
section over the account's (`merge_settings`). Parsing of a settings body is in `parsing`.
"""

from __future__ import annotations

import copy

__all__ = ["default_settings", "merge_settings"]


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


def merge_settings(base: dict, override: dict | None) -> dict:
    merged = copy.deepcopy(base)
    for section, values in (override or {}).items():
        merged.setdefault(section, {}).update(copy.deepcopy(values))
    return merged
