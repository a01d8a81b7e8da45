"""Typed cells: dates, numbers, yes/no and choices as Vietnamese offices write them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from dtiplan.spreadsheets.text import clean_text, name_key


class CellError(ValueError):
    """A cell that cannot be read; the message is for the person who typed it."""


def parse_date(value: object) -> dt.date | None:
    """YYYY-MM-DD or dd/mm/yyyy (how Vietnamese offices write dates), or an Excel date cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean_text(value)
    if not text:
        return None
    for date_format in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    raise CellError(
        _('"%(value)s" is not a date. Write it as YYYY-MM-DD or dd/mm/yyyy, e.g. 30/06/2026.')
        % {"value": text}
    )


def parse_decimal(value: object) -> Decimal | None:
    """A number; a decimal comma (Vietnamese Excel) is accepted as well as a decimal point."""
    if isinstance(value, bool):
        raise CellError(_('"%(value)s" is not a number.') % {"value": value})
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    text = clean_text(value)
    if not text:
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise CellError(_('"%(value)s" is not a number.') % {"value": clean_text(value)})
    return number


def parse_int(value: object) -> int | None:
    number = parse_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise CellError(_('"%(value)s" is not a whole number.') % {"value": clean_text(value)})
    return int(number)


def parse_out_of(value: object) -> tuple[Decimal | None, int | None]:
    """A figure and the whole it is out of, as plans write targets: "800/1.000" (points of
    1,000), "10/34" (the top 10 of 34 provinces), "4/8" (4 of the 8 main indicators); or the
    figure alone (the whole is then None). The whole may carry thousands separators."""
    if isinstance(value, dt.date):
        # Excel turns "4/8" typed into a cell into a date.
        raise CellError(
            _(
                "This cell holds a date (Excel read the fraction as one). Write the number "
                "alone, or put an apostrophe before the fraction: '4/8."
            )
        )
    text = clean_text(value) if isinstance(value, str) else ""
    if "/" not in text:
        return parse_decimal(value), None
    figure, _slash, whole = text.partition("/")
    digits = re.sub(r"[.,\s]", "", whole)
    if not digits.isdigit():
        raise CellError(
            _('"%(value)s" is not a number out of a whole, such as 800/1.000 or 10/34.')
            % {"value": text}
        )
    return parse_decimal(figure), int(digits)


_TRUE = {"1", "true", "yes", "y", "x", "có", "c"}
_FALSE = {"0", "false", "no", "n", "không", "k"}


def parse_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = name_key(value)
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(
        _('"%(value)s" is not yes or no. Write 1 or 0 (or yes/no, có/không).')
        % {"value": clean_text(value)}
    )


def parse_choice(value: object, choices: type[models.TextChoices]) -> str | None:
    """A choice by its stored value or by its label in any of the site's languages."""
    text = name_key(value)
    if not text:
        return None
    accepted: dict[str, str] = {}
    for code, _language_name in settings.LANGUAGES:
        with translation.override(code):
            for choice in choices:
                accepted[name_key(choice.label)] = choice.value
    for choice in choices:
        accepted[name_key(choice.value)] = choice.value
    if text in accepted:
        return accepted[text]
    listed = ", ".join(f"{c.value} ({c.label})" for c in choices)
    raise CellError(
        _('"%(value)s" is not one of: %(choices)s.')
        % {"value": clean_text(value), "choices": listed}
    )
