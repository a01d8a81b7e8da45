"""Reading uploaded files into rows: CSV as Excel saves it (any encoding or delimiter), XLSX."""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

import tablib
from django.utils.translation import gettext as _
from import_export.formats import base_formats

from dtiplan.spreadsheets.text import clean_text


class SpreadsheetReadError(Exception):
    """A file we cannot read at all; the message is for the person who uploaded it."""


def decode_csv(data: bytes | str) -> str:
    """Text of a CSV as Excel saves it: UTF-8 (with or without BOM), UTF-16 ("Unicode text"),
    or the Windows Vietnamese code page cp1258 ("CSV" on a Vietnamese Windows)."""
    if isinstance(data, str):
        text = data
    elif data.startswith(b"PK\x03\x04"):
        raise SpreadsheetReadError(
            _("This is an Excel workbook (.xlsx), not a CSV file: choose the xlsx format.")
        )
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1258")
            except UnicodeDecodeError as exc:
                raise SpreadsheetReadError(
                    _(
                        "The file is neither UTF-8 nor Windows-1258 (Vietnamese) text. "
                        "In Excel, save it as “CSV UTF-8” or as an Excel workbook."
                    )
                ) from exc
    # cp1258 writes tone marks as combining characters: compose them so that names match.
    return unicodedata.normalize("NFC", text.lstrip("\ufeff"))


def read_csv(data: bytes | str) -> tablib.Dataset:
    """Every row is kept, blank ones included, so that row N of the dataset is row N + 2 of
    the file; :meth:`StrictResource.import_data` drops blank rows and remembers the numbers."""
    text = decode_csv(data)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text)))
    return _dataset(rows)


# Lines the delimiter is guessed from: enough to see which character every line splits on.
_SNIFF_LINES = 50
CSV_DELIMITERS = (",", ";", "\t")


def csv_delimiter(text: str) -> str:
    """``,``, ``;`` (Excel on a machine whose list separator is ";", common with a decimal
    comma) or a tab, guessed from the first lines.

    The delimiter is the one that splits the header into several cells and every line into as
    many cells as the header, with no cell starting with a space (Excel never writes one after
    a delimiter, while "Tỉnh, thành phố" or "2, 5" do after a comma that is text). Ties go to
    more columns. ``csv.Sniffer`` is not enough on its own: when a text comma appears once on
    every line (a decimal comma in each row), both characters are consistent and it prefers
    the comma. A file of one column has none of them: a comma then.
    """
    stream = io.StringIO(text, newline="")
    sample = [stream.readline() for _line in range(_SNIFF_LINES)]
    best: tuple[tuple[float, int, int], str] | None = None
    for delimiter in CSV_DELIMITERS:
        rows = [row for row in csv.reader(sample, delimiter=delimiter) if any(row)]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for row in rows if len(row) == width) / len(rows)
        spaced = sum(1 for row in rows for cell in row if cell[:1].isspace())
        key = (consistent, -spaced, width)
        if best is None or key > best[0]:
            best = (key, delimiter)
    return best[1] if best else ","


def read_xlsx(data: bytes) -> tablib.Dataset:
    """The first sheet; typed cells (numbers, dates) are kept for the parsers above."""
    import openpyxl  # imported here: only XLSX uploads pay for it

    if not data.startswith(b"PK"):
        raise SpreadsheetReadError(_("This is not an Excel workbook (.xlsx)."))
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SpreadsheetReadError(_("The Excel workbook could not be opened.")) from exc
    try:
        rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    finally:
        book.close()
    return _dataset(rows)


def _dataset(rows: list[list[Any]]) -> tablib.Dataset:
    dataset = tablib.Dataset()
    if not rows:
        return dataset
    width = max(len(row) for row in rows)
    header = rows[0] + [None] * (width - len(rows[0]))
    # tablib refuses rows of unequal width; a short CSV line means empty cells at its end.
    dataset.headers = [clean_text(h) for h in header]
    for row in rows[1:]:
        dataset.append(row + [None] * (width - len(row)))
    return dataset


class CSVFormat(base_formats.CSV):
    """CSV that detects its encoding. Declared binary so that the admin hands us bytes
    (``from_encoding`` would otherwise decode everything as UTF-8 and fail on cp1258)."""

    def create_dataset(self, in_stream: bytes | str, **kwargs: Any) -> tablib.Dataset:
        # ``self.encoding`` is ignored on purpose: the admin sets it to its ``from_encoding``
        # (UTF-8) whatever the file is. ``manage.py import --encoding`` decodes before calling.
        return read_csv(in_stream)

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"


class XLSXFormat(base_formats.XLSX):
    def create_dataset(self, in_stream: bytes) -> tablib.Dataset:
        return read_xlsx(in_stream)


IMPORT_FORMATS: list[type[base_formats.Format]] = [CSVFormat, XLSXFormat]
EXPORT_FORMATS: list[type[base_formats.Format]] = [base_formats.CSV, base_formats.XLSX]


def format_for_file(file_name: str) -> base_formats.Format:
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix == "csv":
        return CSVFormat()
    if suffix == "xlsx":
        return XLSXFormat()
    raise SpreadsheetReadError(
        _("Only .csv and .xlsx files can be imported, not “%(name)s”.") % {"name": file_name}
    )
