"""Cell text as people type it: normalised Unicode, names compared the way a reader would."""

from __future__ import annotations

import re
import unicodedata

from dtiplan.text import printable


def clean_text(value: object) -> str:
    """A cell as text: NFC (files from macOS and cp1258 carry decomposed diacritics), without
    characters no output can carry, stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores a code or a year typed as a number as 7.0 / 2026.0.
        value = int(value)
    return printable(unicodedata.normalize("NFC", str(value))).strip()


def single_line(value: object) -> str:
    """A name or title: runs of spaces and line breaks become one space."""
    return " ".join(clean_text(value).split())


def name_key(value: object) -> str:
    """How names are compared: ignoring case and extra spaces, never ignoring diacritics.

    "Sở  tài chính" matches "Sở Tài chính"; "So Tai chinh" does not.
    """
    return single_line(value).casefold()


def split_names(value: object) -> list[str]:
    """Several units in one cell, separated by ``;`` or by line breaks (Alt+Enter in Excel).

    A comma is not a separator: unit names contain commas.
    """
    text = clean_text(value).replace("\r", "\n").replace("\n", ";")
    names: list[str] = []
    for part in text.split(";"):
        name = single_line(part)
        if name and name_key(name) not in {name_key(n) for n in names}:
            names.append(name)
    return names


def split_emails(value: object) -> list[str]:
    """E-mail addresses separated by ``;`` (commas, spaces and line breaks are forgiven)."""
    text = clean_text(value)
    for separator in (",", "\n", "\r", "\t", " "):
        text = text.replace(separator, ";")
    emails: list[str] = []
    for part in text.split(";"):
        if part and part.lower() not in {e.lower() for e in emails}:
            emails.append(part)
    return emails


# The five tone marks of Vietnamese, as combining characters after NFD decomposition. The
# vowel marks (circumflex, breve, horn) change the letter and stay where they are.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_PUNCTUATION = re.compile(r"[\s\-‐‑–—.,;:()\"“”'‘’/]+")


def spelling_key(value: object) -> str:
    """How two spellings of one name compare when people type them: case, spaces,
    punctuation and where the tone mark sits ("Hòa"/"Hoà", "Ủy"/"Uỷ", both correct) aside;
    every diacritic kept ("So Tai chinh" is not "Sở Tài chính")."""
    text = _PUNCTUATION.sub(" ", single_line(value).casefold())
    words = []
    for word in unicodedata.normalize("NFD", text).split():
        tones = "".join(sorted(c for c in word if c in _TONES))
        letters = "".join(c for c in word if c not in _TONES)
        words.append(unicodedata.normalize("NFC", letters) + tones)
    return " ".join(words)
