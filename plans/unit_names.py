"""Which units a cell of a plan names: by full name, short name, another name (``Unit.aliases``)
or a group (``UnitGroup``, expanded to its members), written as plans write them.

Plans abbreviate ("Sở KH&CN", "UBND tỉnh", "CA tỉnh"), place tone marks either way ("Uỷ ban",
"Ủy ban"), and list several units in one cell separated by ``;``, line breaks, commas or "và".
Names themselves contain commas and "và" ("Sở Văn hóa, Thể thao và Du lịch"), so a cell is
split on ``;`` and line breaks first, then each part is read as the longest known names
joined by commas or "và". A part nobody knows is an error with the nearest names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dtiplan.spreadsheets.text import single_line, spelling_key, split_names
from plans.models import Unit, UnitGroup

# Abbreviations of Vietnamese administration, in key form (see ``unit_key``), each to the words
# it stands for; applied to both sides, so "Sở KH&CN" and "Sở Khoa học và Công nghệ" meet.
ABBREVIATIONS: dict[str, str] = {
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "ca": "công an",
    "kh&cn": "khoa học và công nghệ",
    "khcn": "khoa học và công nghệ",
    "tt&tt": "thông tin và truyền thông",
    "tttt": "thông tin và truyền thông",
    "gd&đt": "giáo dục và đào tạo",
    "gdđt": "giáo dục và đào tạo",
    "nn&ptnt": "nông nghiệp và phát triển nông thôn",
    "tn&mt": "tài nguyên và môi trường",
    "tnmt": "tài nguyên và môi trường",
    "kh&đt": "kế hoạch và đầu tư",
    "khđt": "kế hoạch và đầu tư",
    "lđtb&xh": "lao động thương binh và xã hội",
    "lđ-tb&xh": "lao động thương binh và xã hội",
    "vh,tt&dl": "văn hóa thể thao và du lịch",
    "vhttdl": "văn hóa thể thao và du lịch",
    "gtvt": "giao thông vận tải",
    "bchqs": "bộ chỉ huy quân sự",
    "vp": "văn phòng",
    "tp": "thành phố",
}
# Separators inside a part of a cell: a comma, or "và" between two names.
_JOINS = re.compile(r"(\s*,\s*|\s+và\s+)", re.IGNORECASE)


def unit_key(name: str, *, expand: bool = True) -> str:
    """How unit names compare: as ``spelling_key`` (case, spaces, punctuation, tone
    placement aside) and, with ``expand``, the usual abbreviations written out."""
    text = single_line(name).casefold()
    if expand:
        for short in sorted(ABBREVIATIONS, key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(short)}(?!\w)", ABBREVIATIONS[short], text)
        text = text.replace("&", " và ")
    return spelling_key(text)


class How:
    NAME = gettext_lazy("name")
    SHORT_NAME = gettext_lazy("short name")
    ALIAS = gettext_lazy("other name")
    GROUP = gettext_lazy("group")
    ABBREVIATION = gettext_lazy("abbreviation")


@dataclass(frozen=True)
class UnitMatch:
    written: str
    units: tuple[Unit, ...]
    how: str  # a ``How`` value
    group: UnitGroup | None = None

    def describe(self) -> str:
        names = ", ".join(unit.name for unit in self.units)
        if self.group is not None:
            return _("%(written)s → group %(group)s: %(names)s") % {
                "written": self.written,
                "group": self.group.name,
                "names": names,
            }
        if single_line(self.written) == names:
            return names
        return f"{self.written} → {names} ({self.how})"


@dataclass(frozen=True)
class UnknownUnit:
    written: str
    suggestions: list[str]


# How many cells' readings a directory remembers: a long file names the same units over and
# over, and a bound keeps a file of ever new combinations from filling the memory.
_CELLS_REMEMBERED = 4096


class UnitDirectory:
    """Every unit and group by each of its names, built once per import (two queries)."""

    def __init__(self, units: Iterable[Unit], groups: Iterable[UnitGroup]) -> None:
        self._cells: dict[str, tuple[list[UnitMatch], list[UnknownUnit]]] = {}
        self._by_key: dict[str, tuple[Unit | UnitGroup, str]] = {}
        self._exact: dict[str, tuple[Unit | UnitGroup, str]] = {}  # abbreviations as written
        self._names: dict[str, str] = {}  # key → a name to suggest
        # Weaker spellings first, so that a unit's own name wins over another's alias.
        entries: list[tuple[str, Unit | UnitGroup, str]] = []
        units = list(units)
        for group in groups:
            for alias in _lines(group.aliases):
                entries.append((alias, group, How.GROUP))
            entries.append((group.name, group, How.GROUP))
        for unit in units:
            for alias in _lines(unit.aliases):
                entries.append((alias, unit, How.ALIAS))
        for unit in units:
            if unit.short_name:
                entries.append((unit.short_name, unit, How.SHORT_NAME))
        for unit in units:
            entries.append((unit.name, unit, How.NAME))
        for written, target, how in entries:
            key = unit_key(written)
            if key:
                self._by_key[key] = (target, how)
                self._exact[unit_key(written, expand=False)] = (target, how)
                self._names[key] = written

    def get(self, written: str) -> UnitMatch | None:
        found = self._exact.get(unit_key(written, expand=False))
        if found is None:
            found = self._by_key.get(unit_key(written))
            if found is None:
                return None
            found = (found[0], How.ABBREVIATION)
        target, how = found
        if isinstance(target, UnitGroup):
            members = tuple(sorted(target.members.all(), key=lambda u: u.name))
            return UnitMatch(single_line(written), members, str(How.GROUP), group=target)
        return UnitMatch(single_line(written), (target,), str(how))

    def suggest(self, written: str, limit: int = 3) -> list[str]:
        keys = difflib.get_close_matches(unit_key(written), list(self._names), n=limit, cutoff=0.6)
        return [self._names[key] for key in keys]

    def read(self, cell: object) -> tuple[list[UnitMatch], list[UnknownUnit]]:
        """The units a cell names, in order, and the parts nobody knows. A text read before
        is not read again (the lists returned are shared: do not change them)."""
        if not isinstance(cell, str):
            return self._read(cell)
        found = self._cells.get(cell)
        if found is None:
            if len(self._cells) >= _CELLS_REMEMBERED:
                self._cells.clear()
            found = self._cells[cell] = self._read(cell)
        return found

    def _read(self, cell: object) -> tuple[list[UnitMatch], list[UnknownUnit]]:
        matches: list[UnitMatch] = []
        unknown: list[UnknownUnit] = []
        for part in split_names(cell):
            part = part.lstrip("-+•·* ").strip()
            if not part:
                continue
            found, missing = self._read_part(part)
            matches += found
            unknown += [UnknownUnit(m, self.suggest(m)) for m in missing]
        return matches, unknown

    def _read_part(self, part: str) -> tuple[list[UnitMatch], list[str]]:
        whole = self.get(part)
        if whole is not None:
            return [whole], []
        pieces = _JOINS.split(part)  # name, separator, name, separator, ...
        names, separators = pieces[0::2], pieces[1::2]
        found: list[UnitMatch] = []
        missing: list[str] = []
        start = 0
        while start < len(names):
            # The longest run of pieces, rejoined as written, that is a known name.
            for end in range(len(names), start, -1):
                written = _rejoin(names, separators, start, end)
                match = self.get(written)
                if match is not None:
                    found.append(match)
                    start = end
                    break
            else:
                missing.append(names[start].strip())
                start += 1
        if missing and not found:
            return [], [part]  # nothing known in it: name the part as written
        return found, [m for m in missing if m]


def _rejoin(names: list[str], separators: list[str], start: int, end: int) -> str:
    text = names[start]
    for index in range(start + 1, end):
        text += separators[index - 1] + names[index]
    return text


def _lines(text: str) -> list[str]:
    return [line for line in (single_line(line) for line in text.splitlines()) if line]
