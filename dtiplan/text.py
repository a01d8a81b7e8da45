"""Text that every output can carry.

XML 1.0 (XLSX, DOCX) has no place for the C0 control characters other than tab and line breaks,
nor for U+FFFE / U+FFFF and lone surrogates: openpyxl raises ``IllegalCharacterError`` and lxml
refuses them, so one such character pasted into a progress note would break every report that
includes it. Forms clean text on the way in and every export on the way out (rows stored before
either existed are covered by the latter).
"""

from __future__ import annotations

import re

_NEVER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_BREAKS = re.compile("[\t\n\r]+")


def printable(text: str, *, multiline: bool = True) -> str:
    """``text`` without the characters no output can carry. ``multiline`` keeps tab and line
    breaks (Windows line ends become plain ones); otherwise each run of them becomes one space
    (a title, a name)."""
    text = text.replace("\r\n", "\n") if multiline else _BREAKS.sub(" ", text)
    return _NEVER.sub("", text)
