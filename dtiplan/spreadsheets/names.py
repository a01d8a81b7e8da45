"""Objects found by the name a person typed, with "did you mean" suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from django.utils.translation import gettext as _

from dtiplan.spreadsheets.text import name_key

T = TypeVar("T")


class NameIndex(Generic[T]):
    """Objects by a human-typed name (see :func:`name_key`), with "did you mean" suggestions.

    Built once per import from one query, so resolving a name costs no query per row.
    """

    def __init__(
        self,
        objects: Iterable[T],
        name: Callable[[T], str],
        key: Callable[[object], str] = name_key,
    ) -> None:
        """``key``: how names compare (:func:`name_key`; ``spelling_key`` for names people
        write in documents, where the tone mark may sit on either vowel)."""
        self._name = name
        self._key = key
        self._by_key: dict[str, T] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: T) -> None:
        self._by_key[self._key(self._name(obj))] = obj

    def add_name(self, name: str, obj: T) -> None:
        """Another name ``obj`` is found by (it is suggested by its own name)."""
        self._by_key.setdefault(self._key(name), obj)

    def get(self, name: str) -> T | None:
        return self._by_key.get(self._key(name))

    def name_of(self, obj: T) -> str:
        """The name ``obj`` is stored under (the name it is suggested by)."""
        return self._name(obj)

    def __contains__(self, name: str) -> bool:
        return self._key(name) in self._by_key

    def values(self) -> Iterable[T]:
        return self._by_key.values()

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        keys = difflib.get_close_matches(self._key(name), list(self._by_key), n=limit, cutoff=0.6)
        return [self._name(self._by_key[key]) for key in keys]


def unknown_message(what: str, value: str, suggestions: Sequence[str], hint: str = "") -> str:
    """'Unknown unit "X". Did you mean "Y"?' — the one wording every lookup error uses."""
    message = _('Unknown %(what)s "%(value)s".') % {"what": what, "value": value}
    if suggestions:
        quoted = ", ".join(f'"{s}"' for s in suggestions)
        message += " " + _("Did you mean %(suggestions)s?") % {"suggestions": quoted}
    elif hint:
        message += " " + hint
    return message
