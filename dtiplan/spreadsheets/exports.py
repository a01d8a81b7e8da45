"""Exported cells: formulas neutralised, dates and numbers written one way everywhere."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from dtiplan.text import printable

# A cell starting with one of these is a formula (or becomes one) in Excel and LibreOffice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def unescape_formula(value: str) -> str:
    """Undo :func:`escape_formula`, so that an exported file imports back unchanged."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def render_cell(value: Any, *, native: bool = False) -> Any:
    """One exported cell. Text formulas are neutralised; dates are YYYY-MM-DD everywhere.

    ``native`` (XLSX) keeps numbers as numbers; everything else is text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = value.normalize()
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
        return value if native else format(value, "f")
    if isinstance(value, int):
        return value if native else str(value)
    return escape_formula(printable(str(value)))
