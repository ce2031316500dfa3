"""Money arithmetic for tables and downloads: exact Decimal, rounded to the cent (pure: no Django).

Money is Decimal in the database and stays Decimal in every frame the pages and exports are made
of, so a download says exactly what is stored (a binary float would write 258041.03 as
258041.03000000003); charts turn it into numbers for Plotly on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal | int) -> Decimal:
    """`value` rounded to the cent (half to even, the bankers' rounding Decimal uses by default)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def money_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of amounts, to the cent (0.00 for none)."""
    return cents(sum(values, ZERO))
