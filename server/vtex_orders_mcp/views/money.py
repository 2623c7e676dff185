"""Money as the store writes it: VTEX amounts are hundredths of the unit, formatted with the
store's own symbol and separators (``storePreferencesData``), or the usual ones of a currency."""

from __future__ import annotations

from decimal import Decimal, ROUND_HALF_UP, localcontext
from typing import Any

__all__ = ["Money"]

# How stores of the common VTEX currencies format money, for documents that carry only a currency
# code (list rows): symbol, decimal digits, decimal and group separators.
_CURRENCY_FORMATS: dict[str, tuple[str, int, str, str]] = {
    "BRL": ("R$", 2, ",", "."),
    "USD": ("$", 2, ".", ","),
    "EUR": ("€", 2, ",", "."),
    "ARS": ("$", 2, ",", "."),
    "MXN": ("$", 2, ".", ","),
    "COP": ("$", 2, ",", "."),
    "CLP": ("$", 0, ",", "."),
    "PEN": ("S/", 2, ".", ","),
    "GBP": ("£", 2, ".", ","),
}


def _known_format(currency: str | None) -> dict[str, Any]:
    if currency not in _CURRENCY_FORMATS:
        return {}
    symbol, digits, dec, group = _CURRENCY_FORMATS[currency]
    return {
        "currencySymbol": symbol,
        "currencyFormatInfo": {
            "CurrencyDecimalDigits": digits,
            "CurrencyDecimalSeparator": dec,
            "CurrencyGroupSeparator": group,
            "StartsWithCurrencySymbol": True,
        },
    }


class Money:
    """Formats VTEX amounts (hundredths of the unit) the way the store does (``storePreferencesData``)."""

    def __init__(self, prefs: dict[str, Any] | None = None, currency: str | None = None) -> None:
        prefs = prefs if isinstance(prefs, dict) else {}
        # A document without its own format (a list row, or preferences whose currencyFormatInfo is
        # null) is formatted the way stores of its currency usually are.
        known = _known_format(currency or prefs.get("currencyCode"))
        fmt = prefs.get("currencyFormatInfo") or known.get("currencyFormatInfo") or {}
        code = currency or prefs.get("currencyCode")
        self.symbol = prefs.get("currencySymbol") or known.get("currencySymbol") or code or ""
        digits = fmt.get("CurrencyDecimalDigits")  # null or malformed: the common two decimals
        self.digits = int(str(digits)) if str(digits).isdigit() else 2
        self.dec = fmt.get("CurrencyDecimalSeparator") or "."
        self.group = fmt.get("CurrencyGroupSeparator") or ","
        self.symbol_first = fmt.get("StartsWithCurrencySymbol") is not False  # null: VTEX's default, first

    def __call__(self, cents: int | float | None) -> str | None:
        if cents is None or isinstance(cents, bool):
            return None
        negative, units, frac = self._whole(cents) if isinstance(cents, int) else self._decimal(cents)
        sign = "-" if negative else ""
        whole = f"{int(units):,}".replace(",", self.group)
        number = f"{whole}{self.dec}{frac}" if self.digits else whole
        if not self.symbol:  # no symbol: no separating space either ("-0.05", not "- 0.05")
            return f"{sign}{number}"
        return f"{sign}{self.symbol} {number}" if self.symbol_first else f"{sign}{number} {self.symbol}"

    # VTEX amounts are hundredths of the currency unit whatever the currency: a CLP store's
    # $ 14.990 is 1499000. CurrencyDecimalDigits only says how many decimals the store shows, so
    # the amount is rounded (half up) to those, never re-scaled by them. Both readings below give
    # (negative, units, decimals) of that rounded amount; a zero is never negative.

    def _whole(self, cents: int) -> tuple[bool, str, str]:
        """An integer amount, in integers (exact, and what nearly every amount is: list pages
        format one per row)."""
        magnitude = abs(cents)
        if self.digits >= 2:
            shown = magnitude * 10 ** (self.digits - 2)
        else:
            step = 10 ** (2 - self.digits)
            shown = (magnitude + step // 2) // step  # half up, away from zero
        units, frac = divmod(shown, 10**self.digits)
        return cents < 0 and shown > 0, str(units), f"{frac:0{self.digits}d}" if self.digits else ""

    def _decimal(self, cents: float) -> tuple[bool, str, str]:
        """A fractional amount, through Decimal."""
        # The schemas put no ceiling on an amount (VTEX documents none), so the context holds every
        # digit it has: the default 28 would raise on a 30-digit invoice value.
        # (digits from the exponent: 1e+30 is 31 of them, though its text is 5 characters)
        exact = Decimal(str(cents))
        with localcontext() as context:
            context.prec = max(28, exact.adjusted() + self.digits + 4)
            amount = (exact / 100).quantize(Decimal(1).scaleb(-self.digits), rounding=ROUND_HALF_UP)
        units, _, frac = f"{amount.copy_abs():f}".partition(".")  # copy_abs: no rounding context
        return amount < 0, units, frac
