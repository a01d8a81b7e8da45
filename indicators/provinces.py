"""Which province a name in a spreadsheet means.

Ministry files and provincial plans spell the same province in several ways: with or without
"Tỉnh" or "TP." in front, with a hyphen ("Thừa Thiên - Huế"), with the tone mark on either
vowel of "oa", "oe", "uy" ("Hòa Bình" and "Hoà Bình" are both correct Vietnamese), composed or
decomposed Unicode (cp1258 files decode to decomposed letters). None of that changes the name,
so ``name_key`` erases exactly those differences and keeps every diacritic: "Hà Nam" never
matches "Hà Nội", and a name written with a wrong tone is unknown, not guessed.

A name typed without any diacritic ("Da Nang") carries no tones to compare, so it is matched
on letters alone, and only when exactly one province of that time reads that way.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dtiplan.spreadsheets.names import unknown_message
from indicators.models import Province, assessment_reference_date

# The five tone marks of Vietnamese, as combining characters after NFD decomposition. The
# vowel marks (circumflex, breve, horn) change the letter and stay where they are.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—−.,;:_/\\()\[\]'\"“”‘’]+")
# Administrative words in front of or after a name, already in key form (see ``_words``).
_PREFIXES = ("tinh", "thanh pho", "tp", "t p")
_SUFFIXES = ("province", "city")


class ProvinceNameError(ValueError):
    pass


def _words(name: str) -> list[str]:
    text = unicodedata.normalize("NFD", name).casefold()
    words = []
    for word in _SEPARATORS.split(text):
        if not word:
            continue
        # A syllable has one tone; where it is written does not matter, so put it last.
        tones = "".join(sorted(c for c in word if c in _TONES))
        words.append("".join(c for c in word if c not in _TONES) + tones)
    return words


def _fold(words: list[str]) -> str:
    """Letters only: every combining mark dropped and đ read as d."""
    text = " ".join(words).replace("đ", "d")
    return "".join(c for c in text if not unicodedata.combining(c))


def _strip_admin_words(words: list[str]) -> list[str]:
    changed = True
    while changed and words:
        changed = False
        for prefix in _PREFIXES:
            parts = prefix.split(" ")
            if _fold(words[: len(parts)]) == prefix and len(words) > len(parts):
                # "tỉnh" and "tinh" alike: an ASCII file writes the prefix without marks too.
                # Folded comparison is safe here: no province name starts with these words.
                words = words[len(parts) :]
                changed = True
        for suffix in _SUFFIXES:
            if len(words) > 1 and words[-1] == suffix:
                words = words[:-1]
                changed = True
    return words


def name_key(name: str) -> str:
    """The form two spellings of one name share; diacritics are kept."""
    return " ".join(_strip_admin_words(_words(name)))


def folded_key(name: str) -> str:
    return _fold(_strip_admin_words(_words(name)))


def has_diacritics(name: str) -> bool:
    return any(unicodedata.combining(c) or c in "đĐ" for c in unicodedata.normalize("NFD", name))


class ProvinceDirectory:
    """Every province, loaded once, looked up by name for an assessment year.

    One query whatever the number of rows looked up; an import of 34 × 98 scores costs the
    same here as one of a single row.
    """

    def __init__(self, provinces: Iterable[Province] | None = None) -> None:
        self.provinces = list(Province.objects.all() if provinces is None else provinces)
        self._by_key: dict[str, list[Province]] = defaultdict(list)
        self._by_folded: dict[str, list[Province]] = defaultdict(list)
        for province in self.provinces:
            for spelling in province.spellings():
                key, folded = name_key(spelling), folded_key(spelling)
                if province not in self._by_key[key]:
                    self._by_key[key].append(province)
                if province not in self._by_folded[folded]:
                    self._by_folded[folded].append(province)

    def resolve(self, name: str, year: int, *, day: dt.date | None = None) -> Province:
        """The one province ``name`` means in an assessment of ``year``: one of the provinces
        of that year, or of ``day`` for a later ranking of the year's results (DTI 2024 was
        also published for the 34 provinces of 1 July 2025).

        Raises ``ProvinceNameError`` with a message for the person who wrote the file.
        """
        name = (name or "").strip()
        if not name:
            raise ProvinceNameError(_("The province is missing."))
        day = day or assessment_reference_date(year)
        candidates = [p for p in self._by_key.get(name_key(name), []) if p.exists_on(day)]
        if not candidates and not has_diacritics(name):
            candidates = [p for p in self._by_folded.get(folded_key(name), []) if p.exists_on(day)]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise ProvinceNameError(
                _('"%(name)s" could mean %(provinces)s in %(year)s; write the name in full.')
                % {
                    "name": name,
                    "provinces": ", ".join(p.name for p in candidates),
                    "year": year,
                }
            )
        other_times = [p for p in self._by_key.get(name_key(name), []) if not p.exists_on(day)]
        merged = [p for p in other_times if p.successor_id and p.valid_until <= day]
        if merged:
            successor = next(s for s in self.provinces if s.pk == merged[0].successor_id)
            raise ProvinceNameError(
                _(
                    '"%(name)s" merged into %(successor)s on %(date)s; results for %(year)s '
                    "name %(successor)s."
                )
                % {
                    "name": name,
                    "successor": successor.name,
                    "date": date_format(merged[0].valid_until, "SHORT_DATE_FORMAT"),
                    "year": year,
                }
            )
        if other_times:
            raise ProvinceNameError(
                _('"%(name)s" did not exist as a province in %(year)s.')
                % {"name": name, "year": year}
            )
        existing = [p.name for p in self.provinces if p.exists_on(day)]
        close = difflib.get_close_matches(name_key(name), [name_key(n) for n in existing], n=3)
        suggestions = [n for n in existing if name_key(n) in close]
        raise ProvinceNameError(unknown_message(_("province"), name, suggestions))
