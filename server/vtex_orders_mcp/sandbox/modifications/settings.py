"""The account's order-modification settings: VTEX's defaults, the seeded account's own, and a
request's override over them.

VTEX documents every switch of a new account as false, `enableApi` included ("The account can only
use the Order modifications via VTEX Admin or via API if this field is set to `true`", default
`false`): `default_settings()` is that new account. The seeded sandbox account is one that turned
modifications on, so that they work out of the box: its saved settings are
`SEEDED_ACCOUNT_SETTINGS`, merged over the defaults, and GET reports `usingDefaultBehavior: false`
for it, as VTEX does for an account that saved its settings. `Sandbox(modification_settings=None)`
is an account that never saved any (VTEX's defaults, `usingDefaultBehavior: true`).

A change request may carry its own `settings`; they apply to that request only, merged section by
section over the account's (`merge_settings`). Parsing of a settings body is in `parsing`.
"""

from __future__ import annotations

import copy

__all__ = ["SEEDED_ACCOUNT_SETTINGS", "default_settings", "merge_settings"]

# What the seeded account saved (merged over VTEX's defaults): modifications through the API on.
SEEDED_ACCOUNT_SETTINGS: dict = {"rolloutConfiguration": {"enableApi": True}}


def default_settings() -> dict:
    """A new account's settings, before any PUT: VTEX's documented defaults (every switch false)."""
    return {
        "paymentConfiguration": {"customPaymentSystemsAllowed": []},
        "rolloutConfiguration": {
            "enableApi": False,
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
