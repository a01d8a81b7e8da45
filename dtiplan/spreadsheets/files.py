"""Reading uploaded files into rows: CSV as Excel saves it (any encoding or delimiter), XLSX."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, BinaryIO
from xml.etree.ElementTree import ParseError

import tablib
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from import_export.formats import base_formats

from dtiplan.spreadsheets.text import clean_text


class SpreadsheetReadError(Exception):
    """A file we cannot read at all; the message is for the person who uploaded it."""


@dataclass
class StreamedTables:
    """A file's tables (``grids``), each read row by row as the import asks for them: what
    :meth:`StrictResource.import_data` takes in place of a dataset, so that a long file is
    never in memory as a whole. Reading may still raise :class:`SpreadsheetReadError` (a row
    beyond the limits)."""

    grids: list[Iterable[list[Any]]]


@dataclass(frozen=True)
class TableLimits:
    """The largest table a file may hold, checked before the table is read into memory.

    The admin and ``manage.py import`` use the settings (``IMPORT_MAX_ROWS``,
    ``IMPORT_MAX_COLUMNS``); the command can raise them for one run.
    """

    rows: int
    columns: int
    unpacked_bytes: int

    @classmethod
    def from_settings(cls) -> TableLimits:
        return cls(
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_BYTES,
        )

    def check(self, rows: int, columns: int) -> None:
        if rows > self.rows or columns > self.columns:
            raise SpreadsheetReadError(
                _(
                    "The table reaches row %(rows)s and column %(columns)s; a file to import "
                    "may have at most %(max_rows)s rows and %(max_columns)s columns. Delete "
                    "what lies outside the table (Excel: select the empty rows and columns "
                    "after it, Delete, then save) or split the file."
                )
                % {
                    "rows": rows,
                    "columns": columns,
                    "max_rows": self.rows,
                    "max_columns": self.columns,
                }
            )


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


def read_csv(data: bytes | str, limits: TableLimits | None = None) -> tablib.Dataset:
    """Every row is kept, blank ones included, so that row N of the dataset is row N of the
    file; :meth:`StrictResource.import_data` finds the header and drops blank rows."""
    limits = limits or TableLimits.from_settings()
    text = decode_csv(data)
    lines = io.StringIO(text, newline="")
    return _dataset([list(_csv_rows(lines, csv_delimiter(text), limits))])


def stream_csv(
    source: BinaryIO, limits: TableLimits | None = None, encoding: str | None = None
) -> StreamedTables:
    """A CSV file read line by line (``source`` must be seekable). The encoding is detected
    as :func:`decode_csv` does, by reading the file once without keeping it; ``encoding``
    forces one (LookupError, UnicodeDecodeError when it does not fit the file)."""
    limits = limits or TableLimits.from_settings()
    if encoding is None:
        encoding = _csv_encoding(source)
    else:
        _check_decodes(source, encoding)
    return StreamedTables([_csv_stream_rows(source, encoding, limits)])


def _csv_encoding(source: BinaryIO) -> str:
    start = source.read(4)
    source.seek(0)
    if start.startswith(b"PK\x03\x04"):
        raise SpreadsheetReadError(
            _("This is an Excel workbook (.xlsx), not a CSV file: choose the xlsx format.")
        )
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            _check_decodes(source, encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise SpreadsheetReadError(
        _(
            "The file is neither UTF-8 nor Windows-1258 (Vietnamese) text. "
            "In Excel, save it as “CSV UTF-8” or as an Excel workbook."
        )
    )


def _check_decodes(source: BinaryIO, encoding: str) -> None:
    """Raises UnicodeDecodeError unless the whole file is text in ``encoding``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := source.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    finally:
        source.seek(0)


def _csv_stream_rows(source: BinaryIO, encoding: str, limits: TableLimits) -> Iterator[list[Any]]:
    text = io.TextIOWrapper(source, encoding=encoding, newline="")
    head = [text.readline() for _line in range(_SNIFF_LINES)]
    head[0] = head[0].lstrip("\ufeff")
    # cp1258 writes tone marks as combining characters: compose them so that names match.
    lines = (unicodedata.normalize("NFC", line) for line in chain(head, text))
    yield from _csv_rows(lines, csv_delimiter("".join(head)), limits)


def _csv_rows(lines: Iterable[str], delimiter: str, limits: TableLimits) -> Iterator[list[Any]]:
    count = 0
    try:
        for row in csv.reader(lines, delimiter=delimiter):
            # Checked row by row: a line of 100,000 cells is refused before the next is read.
            limits.check(count + 1, len(row))
            count += 1
            yield row
    except csv.Error as exc:  # a cell longer than the csv module's limit (128 KB)
        raise SpreadsheetReadError(
            _("Row %(row)s of the file cannot be read as CSV: %(error)s")
            % {"row": count + 1, "error": exc}
        ) from exc


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
        try:
            rows = [row for row in csv.reader(sample, delimiter=delimiter) if any(row)]
        except csv.Error:  # e.g. a "cell" too long: not this delimiter
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for row in rows if len(row) == width) / len(rows)
        spaced = sum(1 for row in rows for cell in row if cell[:1].isspace())
        key = (consistent, -spaced, width)
        if best is None or key > best[0]:
            best = (key, delimiter)
    return best[1] if best else ","


def read_xlsx(data: bytes, limits: TableLimits | None = None) -> tablib.Dataset:
    """The first sheet (see :func:`stream_xlsx`), in memory."""
    if not data.startswith(b"PK"):
        raise SpreadsheetReadError(_("This is not an Excel workbook (.xlsx)."))
    return _dataset([list(grid) for grid in stream_xlsx(io.BytesIO(data), limits).grids])


def stream_xlsx(source: BinaryIO, limits: TableLimits | None = None) -> StreamedTables:
    """The first sheet, read row by row; typed cells (numbers, dates) are kept for the
    parsers. A merged cell's value is in every cell it covers.

    The sheet's XML is scanned first, streaming, for its declared size, the cells that hold a
    value and the merged ranges: a sheet declaring or holding a cell beyond ``limits`` is
    refused before anything is read into memory (a 5 KB file with one cell at XFD1048576 would
    otherwise become a billion empty cells). Then openpyxl reads, in streaming (read-only)
    mode, only the rectangle that holds values.
    """
    import openpyxl  # imported here: only XLSX uploads pay for it

    limits = limits or TableLimits.from_settings()
    if not source.read(2).startswith(b"PK"):
        raise SpreadsheetReadError(_("This is not an Excel workbook (.xlsx)."))
    source.seek(0)
    archive = _open_zip(source, _("The Excel workbook could not be opened."), limits)
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SpreadsheetReadError(_("The Excel workbook could not be opened.")) from exc
    try:
        sheet = book.active
        # The sheet's file in the archive, for the streaming scan (a read-only sheet keeps it).
        path = getattr(sheet, "_worksheet_path", None)
        if path is None:
            raise SpreadsheetReadError(_("The Excel workbook has no sheet."))
        extent, merged = _scan_sheet(archive, path, limits)
    except BaseException:
        book.close()
        raise
    return StreamedTables([_xlsx_rows(book, sheet, extent, merged)])


def _xlsx_rows(
    book: Any, sheet: Any, extent: tuple[int, int], merged: list[tuple[int, int, int, int]]
) -> Iterator[list[Any]]:
    try:
        if extent[0] and extent[1]:
            rows = sheet.iter_rows(
                min_row=1, max_row=extent[0], max_col=extent[1], values_only=True
            )
            yield from _fill_merged(rows, merged)
    except ParseError as exc:
        # An entity the parser refuses to expand (an external file, "billion laughs"):
        # never a spreadsheet Excel itself writes.
        raise SpreadsheetReadError(
            _("The Excel workbook holds XML that is refused (entities or a damaged sheet).")
        ) from exc
    finally:
        book.close()


def read_docx(data: bytes, limits: TableLimits | None = None) -> tablib.Dataset:
    """The tables of a Word document, each a grid of cell texts (a cell's paragraphs joined by
    line breaks). Word repeats a merged cell's text in every grid cell it covers, across
    columns and down rows. The resource picks the table whose header it knows, and the
    tables that continue it (a table split across pages with its header repeated)."""
    import docx  # python-docx; imported here: only DOCX uploads pay for it

    limits = limits or TableLimits.from_settings()
    if not data.startswith(b"PK"):
        raise SpreadsheetReadError(_("This is not a Word document (.docx)."))
    _open_zip(data, _("The Word document could not be opened."), limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds for a damaged file
        raise SpreadsheetReadError(_("The Word document could not be opened.")) from exc
    grids: list[list[list[Any]]] = []
    for table in document.tables:
        limits.check(len(table.rows), len(table.columns))
        # A row may start after the first grid column (Word allows it): keep columns aligned.
        grids.append(
            [[""] * row.grid_cols_before + [cell.text for cell in row.cells] for row in table.rows]
        )
    if not grids:
        raise SpreadsheetReadError(
            _("The Word document has no table: the tasks must be in a table (the appendix).")
        )
    return _dataset(grids)


def _open_zip(data: bytes | BinaryIO, message: str, limits: TableLimits) -> zipfile.ZipFile:
    """The archive of an XLSX or DOCX, refused when it would unpack to more than
    ``limits.unpacked_bytes`` (a few KB can hold gigabytes of repeated XML)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetReadError(message) from exc
    if unpacked > limits.unpacked_bytes:
        raise SpreadsheetReadError(
            _(
                "The file unpacks to %(size)s, more than the %(limit)s a file to import may "
                "hold. Keep only the table to import and save it again."
            )
            % {"size": filesizeformat(unpacked), "limit": filesizeformat(limits.unpacked_bytes)}
        )
    return archive


_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def _cell_position(ref: str) -> tuple[int, int] | None:
    """(row, column), 1-based, of a reference such as "XFD1048576"."""
    match = _CELL_REF.match(ref)
    if match is None:
        return None
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(match.group(2)), column


def _scan_sheet(
    archive: zipfile.ZipFile, path: str, limits: TableLimits
) -> tuple[tuple[int, int], list[tuple[int, int, int, int]]]:
    """The last row and column holding a value, and the merged ranges (first row, first
    column, last row, last column), read from the sheet's XML without keeping it."""
    from lxml import etree  # python-docx's and openpyxl's parser

    max_row = max_column = 0
    merged: list[tuple[int, int, int, int]] = []
    try:
        with archive.open(path.lstrip("/")) as stream:
            # Entities are not expanded: the XML of an upload is untrusted.
            events = etree.iterparse(
                stream, events=("end",), resolve_entities=False, no_network=True
            )
            for _event, element in events:
                tag = element.tag.rsplit("}", 1)[-1]
                if tag == "dimension":
                    last = element.get("ref", "").split(":")[-1]
                    if (position := _cell_position(last)) is not None:
                        limits.check(*position)
                elif tag == "c":
                    position = _cell_position(element.get("r", ""))
                    if position is not None and any(
                        child.tag.rsplit("}", 1)[-1] in ("v", "is") for child in element
                    ):
                        limits.check(*position)
                        max_row = max(max_row, position[0])
                        max_column = max(max_column, position[1])
                    element.clear()
                elif tag == "row":
                    element.clear()
                    while element.getprevious() is not None:  # keep memory flat
                        del element.getparent()[0]
                elif tag == "mergeCell":
                    first, _sep, last = element.get("ref", "").partition(":")
                    start, end = _cell_position(first), _cell_position(last or first)
                    if start and end:
                        merged.append((start[0], start[1], end[0], end[1]))
    except (KeyError, etree.XMLSyntaxError) as exc:  # a missing or broken sheet
        raise SpreadsheetReadError(_("The Excel workbook could not be opened.")) from exc
    return (max_row, max_column), merged


def _fill_merged(
    rows: Iterable[Iterable[Any]], merged: list[tuple[int, int, int, int]]
) -> Iterator[list[Any]]:
    """The rows, with the value of each merged range's first cell in every cell of the range
    (within the rows read: a range reaching past the last value adds nothing)."""
    starting: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for merged_range in merged:
        starting[merged_range[0]].append(merged_range)
    active: list[tuple[int, int, int, Any]] = []  # (first column, last column, last row, value)
    for number, cells in enumerate(rows, 1):
        row = list(cells)
        for _first_row, first_column, last_row, last_column in starting.pop(number, ()):
            value = row[first_column - 1] if first_column <= len(row) else None
            active.append((first_column, last_column, last_row, value))
        active = [entry for entry in active if entry[2] >= number]
        for first_column, last_column, _last_row, value in active:
            for column in range(first_column - 1, min(last_column, len(row))):
                row[column] = value
        yield row


def _dataset(grids: list[list[list[Any]]]) -> tablib.Dataset:
    """The first grid as a dataset whose headers are its first row (what code building a
    dataset by hand gives too), and every grid in ``dataset.grids`` for
    :meth:`StrictResource.import_data`, which finds the header row itself."""
    dataset = tablib.Dataset()
    grids = [_rectangular(grid) for grid in grids]
    dataset.grids = grids
    if not grids or not grids[0]:
        return dataset
    rows = grids[0]
    # tablib refuses rows of unequal width; a short CSV line means empty cells at its end.
    dataset.headers = [clean_text(h) for h in rows[0]]
    for row in rows[1:]:
        dataset.append(row)
    return dataset


def _rectangular(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(row) for row in rows), default=0)
    return [list(row) + [None] * (width - len(row)) for row in rows]


class CSVFormat(base_formats.CSV):
    """CSV that detects its encoding. Declared binary so that the admin hands us bytes
    (``from_encoding`` would otherwise decode everything as UTF-8 and fail on cp1258)."""

    #: None: the settings' limits (``manage.py import --max-rows`` sets its own).
    limits: TableLimits | None = None

    def create_dataset(self, in_stream: bytes | str, **kwargs: Any) -> tablib.Dataset:
        # ``self.encoding`` is ignored on purpose: the admin sets it to its ``from_encoding``
        # (UTF-8) whatever the file is. ``manage.py import --encoding`` decodes before calling.
        return read_csv(in_stream, self.limits)

    def stream(self, source: BinaryIO, encoding: str | None = None) -> StreamedTables:
        return stream_csv(source, self.limits, encoding)

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"


class XLSXFormat(base_formats.XLSX):
    limits: TableLimits | None = None

    def create_dataset(self, in_stream: bytes) -> tablib.Dataset:
        return read_xlsx(in_stream, self.limits)

    def stream(self, source: BinaryIO, encoding: str | None = None) -> StreamedTables:
        return stream_xlsx(source, self.limits)


class DOCXFormat(base_formats.Format):
    """The tables of a Word document (import only)."""

    limits: TableLimits | None = None

    def __init__(self, encoding: str | None = None) -> None:
        self.encoding = encoding  # what the admin passes every format; a .docx has its own

    def get_title(self) -> str:
        return "docx"

    def get_extension(self) -> str:
        return "docx"

    def get_content_type(self) -> str:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    def can_import(self) -> bool:
        return True

    def create_dataset(self, in_stream: bytes) -> tablib.Dataset:
        return read_docx(in_stream, self.limits)

    def stream(self, source: BinaryIO, encoding: str | None = None) -> StreamedTables:
        # python-docx reads a whole document; a Word table is never that long.
        return StreamedTables(read_docx(source.read(), self.limits).grids)


IMPORT_FORMATS: list[type[base_formats.Format]] = [CSVFormat, XLSXFormat, DOCXFormat]
EXPORT_FORMATS: list[type[base_formats.Format]] = [base_formats.CSV, base_formats.XLSX]


FORMATS_BY_NAME: dict[str, type[base_formats.Format]] = {
    "csv": CSVFormat,
    "xlsx": XLSXFormat,
    "docx": DOCXFormat,
}


def format_for_file(file_name: str, format_name: str | None = None) -> base_formats.Format:
    """The reader for a file: named (``--format``), else from the file name's extension."""
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    reader = FORMATS_BY_NAME.get((format_name or suffix).lower())
    if reader is None:
        raise SpreadsheetReadError(
            _("Only .csv, .xlsx and .docx files can be imported, not “%(name)s”.")
            % {"name": file_name}
        )
    return reader()
