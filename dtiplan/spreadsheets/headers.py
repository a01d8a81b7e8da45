"""How a file's headers are compared with the columns a resource accepts.

Each app declares the Vietnamese headers of its own tables next to its resources
(``StrictResource.column_aliases``); this module only knows what every table shares.
"""

from __future__ import annotations

from dtiplan.spreadsheets.text import clean_text, name_key

# Ordinal-number columns ("STT", "TT") open nearly every Vietnamese table; they carry nothing.
IGNORED_HEADERS = {"stt", "tt", "số tt", "số thứ tự"}


def header_key(header: object) -> str:
    """Headers compare ignoring case, spaces, underscores and a trailing "*" or ":"."""
    text = clean_text(header).replace("_", " ").rstrip("*: ")
    return name_key(text)
