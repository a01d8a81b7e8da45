"""What every spreadsheet import and export in dtiplan shares.

People send us what Excel saves: CSV in UTF-8 with a byte-order mark or in the Windows
Vietnamese code page (cp1258), or XLSX. Their headers are our English column names or the
Vietnamese headers of real plan tables. This module turns that into rows our resources can
trust, and turns every problem into a message that names the row as the user sees it in the
spreadsheet (the header is row 1, the first data row is row 2) and the column by the header the
user wrote.

An import is all or nothing through every door (admin, ``manage.py import``, code calling
``import_data``): :class:`StrictResource` always runs in one transaction and rolls it back on
any error, validation errors included (django-import-export keeps the good rows by default).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Generic, TypeVar

import tablib
from django import forms
from django.conf import settings
from django.contrib import messages as admin_messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from import_export import resources
from import_export.formats import base_formats
from import_export.forms import ImportForm
from import_export.results import Result

T = TypeVar("T")

# --- Text ------------------------------------------------------------------------------------


def clean_text(value: object) -> str:
    """A cell as text: NFC (files from macOS and cp1258 carry decomposed diacritics), stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores a code or a year typed as a number as 7.0 / 2026.0.
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


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


# --- Cells -----------------------------------------------------------------------------------


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


# --- Matching names --------------------------------------------------------------------------


class NameIndex(Generic[T]):
    """Objects by a human-typed name (see :func:`name_key`), with "did you mean" suggestions.

    Built once per import from one query, so resolving a name costs no query per row.
    """

    def __init__(self, objects: Iterable[T], name: Callable[[T], str]) -> None:
        self._name = name
        self._by_key: dict[str, T] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: T) -> None:
        self._by_key[name_key(self._name(obj))] = obj

    def get(self, name: str) -> T | None:
        return self._by_key.get(name_key(name))

    def __contains__(self, name: str) -> bool:
        return name_key(name) in self._by_key

    def values(self) -> Iterable[T]:
        return self._by_key.values()

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        keys = difflib.get_close_matches(name_key(name), list(self._by_key), n=limit, cutoff=0.6)
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


# --- Headers ---------------------------------------------------------------------------------

# The Vietnamese headers of real plan tables, each to the column it means. One table for every
# resource: an entry only counts for a resource that has that column, so "Tiêu đề" is a plan's
# title in a plan file and a task's title in a task file. A resource can add its own entries in
# ``StrictResource.column_aliases`` (they win over these).
HEADER_ALIASES: dict[str, str] = {
    # Tasks
    "Kế hoạch": "plan",
    "Mã chỉ số": "indicator_code",
    "Chỉ số": "indicator_code",
    "Nhiệm vụ": "title",
    "Tên nhiệm vụ": "title",
    "Đơn vị chủ trì": "lead_unit",
    "Đơn vị thực hiện": "implementing_units",
    "Đơn vị phối hợp": "coordinating_units",
    "Đơn vị đầu mối theo dõi": "monitoring_unit",
    "Ngày bắt đầu": "start_date",
    "Thời hạn": "deadline",
    "Thời hạn hoàn thành": "deadline",
    "Sản phẩm": "expected_output",
    "Kết quả dự kiến": "expected_output",
    # Units
    "Tên đơn vị": "name",
    "Tên viết tắt": "short_name",
    "Loại": "kind",
    "Thư điện tử": "email",
    "Đơn vị cấp trên": "parent",
    "Đầu mối": "focal_points",
    "Cán bộ đầu mối": "focal_points",
    # Indicators
    "Bộ chỉ số": "framework",
    "Mã": "code",
    "Mã chỉ số cha": "parent_code",
    "Chỉ số chính": "parent_code",
    "Tên tiếng Việt": "name_vi",
    "Tên tiếng Anh": "name_en",
    "Điểm tối đa": "max_points",
    "Tính điểm": "scored",
    # Scores (the ministry's result tables)
    "Tỉnh": "province",
    "Tỉnh/thành phố": "province",
    "Tỉnh, thành phố": "province",
    "Tỉnh/TP": "province",
    "Địa phương": "province",
    "Điểm": "points",
    "Điểm số": "points",
    "Điểm đạt được": "points",
    "Số điểm": "points",
    # Plans
    "Tiêu đề": "title",
    "Năm": "year",
    "Quyết định": "decision",
    "Số quyết định": "decision",
}

# Ordinal-number columns ("STT", "TT") open nearly every Vietnamese table; they carry nothing.
IGNORED_HEADERS = {"stt", "tt", "số tt", "số thứ tự"}


def header_key(header: object) -> str:
    """Headers compare ignoring case, spaces, underscores and a trailing "*" or ":"."""
    text = clean_text(header).replace("_", " ").rstrip("*: ")
    return name_key(text)


# --- Reading files ---------------------------------------------------------------------------


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
    first_line = text.split("\n", 1)[0]
    # Excel on a machine whose list separator is ";" (common with a decimal comma) writes ";".
    delimiter = next((d for d in (",", ";", "\t") if d in first_line), ",")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return _dataset(rows)


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


# --- Errors as the user sees them ------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    row: int | None  # as numbered in the spreadsheet: the header is row 1
    column: str | None  # the header as the user wrote it
    message: str

    def __str__(self) -> str:
        if self.row is not None and self.column:
            return _('Row %(row)s, column "%(column)s": %(message)s') % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        if self.row is not None:
            return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        return self.message


def import_problems(result: Result) -> list[ImportProblem]:
    """Every problem of an import, in row order, whatever raised it."""
    problems = [ImportProblem(None, None, str(error.error)) for error in result.base_errors]
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            for message in messages:
                problems.append(
                    ImportProblem(
                        invalid.number, None if column == NON_FIELD_ERRORS else column, message
                    )
                )
    for error_row in result.error_rows:
        for error in error_row.errors:
            problems.append(ImportProblem(error_row.number, None, str(error.error)))
    return sorted(problems, key=lambda p: (p.row is not None, p.row or 0))


class SpreadsheetResult(Result):
    def row_errors(self) -> list[tuple[int, list[Any]]]:
        # The library numbers errors by their position among reported rows; ours carry the
        # spreadsheet row (see StrictResource._relabel).
        return [(row.number, row.errors) for row in self.error_rows]


class RowErrors:
    """Collects every problem of one row, so the user fixes a row in one go."""

    def __init__(self) -> None:
        self.by_column: dict[str, list[str]] = {}

    def add(self, column: str, message: str) -> None:
        self.by_column.setdefault(column, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_column)

    def raise_if_any(self) -> None:
        if self.by_column:
            raise ValidationError(self.by_column)


class _Diff(resources.Diff):
    @classmethod
    def _read_field_values(cls, resource: Any, instance: Any) -> list[Any]:
        # The admin preview shows what the export would write (unit lists, codes), not repr()s.
        return [resource.export_field(f, instance) for f in resource.get_import_fields()]


# --- Exports ---------------------------------------------------------------------------------

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
    return escape_formula(str(value))


# --- The base resource -----------------------------------------------------------------------


class StrictResource(resources.ModelResource):
    """All or nothing: one bad row imports nothing, whoever calls ``import_data``.

    Subclasses declare their columns as fields (the field's ``column_name`` is the English
    header), list which are required, and implement:

    - ``before_import``: load what rows refer to, one query per table, into dicts;
    - ``clean_row(row, errors)``: read every cell of a row at once, adding problems to
      ``errors`` under the column's name, and return the model attributes to set. Parsing a row
      in one place (rather than field by field) reports all of a row's problems together and
      keeps lookups out of the library's per-field path, which would query per cell;
    - ``existing_instance(values)``: the row's object, if it exists, from those dicts.
    """

    #: Columns a file must have.
    required_columns: ClassVar[tuple[str, ...]] = ()
    #: Extra header spellings for this resource only, merged over ``HEADER_ALIASES``.
    column_aliases: ClassVar[dict[str, str]] = {}

    class Meta:
        skip_unchanged = True  # re-importing the same file changes nothing
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sheet_rows: list[int] = []
        self._user_headers: dict[str, str] = {}
        self._values: dict[str, Any] = {}
        self._seen: dict[Any, int] = {}
        self.sheet_row = 0

    def earlier_row(self, key: Any) -> int | None:
        """The sheet row where ``key`` (what identifies a row's object) already stood in this
        file, or None; the first row that names it is the one later duplicates point to."""
        earlier = self._seen.get(key)
        self._seen.setdefault(key, self.sheet_row)
        return earlier

    # -- the door every import goes through --

    def import_data(
        self,
        dataset: tablib.Dataset,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> Result:
        # The two flags are forced: a caller (the admin, the library's command, a script)
        # cannot ask for a partial import.
        self._seen = {}
        prepared, problems = self._prepare(dataset)
        if problems:
            return self._problem_result(problems)
        result = super().import_data(
            prepared,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )
        self._relabel(result)
        return result

    @classmethod
    def get_result_class(cls) -> type[Result]:
        return SpreadsheetResult

    @classmethod
    def get_diff_class(cls) -> type[resources.Diff]:
        return _Diff

    # -- headers and rows --

    @classmethod
    def columns(cls) -> list[str]:
        """The English headers, in the documented order (``Meta.fields``)."""
        names = cls._meta.fields or list(cls.fields)
        return [cls.fields[name].column_name for name in names if name in cls.fields]

    @classmethod
    def header_map(cls) -> dict[str, str]:
        """header_key → column, for every spelling this resource accepts."""
        columns = cls.columns()
        accepted = {header_key(column): column for column in columns}
        for alias, column in {**HEADER_ALIASES, **cls.column_aliases}.items():
            if column in columns:
                accepted[header_key(alias)] = column
        return accepted

    def _prepare(self, dataset: tablib.Dataset) -> tuple[tablib.Dataset, list[ImportProblem]]:
        """Headers to our column names, blank rows out, cells cleaned, spreadsheet row numbers
        remembered; or the header problems, which make reading the rows pointless."""
        headers = list(dataset.headers or [])
        expected = ", ".join(self.columns())
        if not headers:
            return dataset, [ImportProblem(1, None, _("The file is empty: it has no header row."))]
        accepted = self.header_map()
        problems: list[ImportProblem] = []
        keep: list[tuple[int, str]] = []  # (position in the file, our column)
        self._user_headers = {}
        rows = [list(row) for row in dataset]
        for position, header in enumerate(headers):
            text = clean_text(header)
            if not text:
                if any(clean_text(row[position]) for row in rows):
                    problems.append(
                        ImportProblem(
                            1,
                            None,
                            _("Column %(number)s has data but no header.")
                            % {"number": position + 1},
                        )
                    )
                continue
            key = header_key(text)
            if key in IGNORED_HEADERS:
                continue
            column = accepted.get(key)
            if column is None:
                problems.append(
                    ImportProblem(
                        1,
                        text,
                        _('Unknown column "%(header)s". The columns are: %(expected)s.')
                        % {"header": text, "expected": expected},
                    )
                )
                continue
            if column in self._user_headers:
                problems.append(
                    ImportProblem(
                        1,
                        text,
                        _('Columns "%(first)s" and "%(second)s" both mean %(column)s.')
                        % {"first": self._user_headers[column], "second": text, "column": column},
                    )
                )
                continue
            self._user_headers[column] = text
            keep.append((position, column))
        for column in self.required_columns:
            if column not in self._user_headers:
                problems.append(
                    ImportProblem(
                        1,
                        column,
                        _(
                            'The required column "%(column)s" is missing. The columns are: '
                            "%(expected)s."
                        )
                        % {"column": column, "expected": expected},
                    )
                )
        if problems:
            return dataset, problems

        numbered: list[tuple[int, dict[str, Any]]] = []
        for index, row in enumerate(rows):
            cells = {column: self._clean_cell(row[position]) for position, column in keep}
            if any(value not in ("", None) for value in cells.values()):
                numbered.append((index + 2, cells))
        if not numbered:
            return dataset, [ImportProblem(2, None, _("The file has no rows under its header."))]
        numbered = self.order_rows(numbered)
        self._sheet_rows = [number for number, _cells in numbered]
        prepared = tablib.Dataset(headers=[column for _position, column in keep])
        for _number, cells in numbered:
            prepared.append([cells[column] for column in prepared.headers])
        return prepared, []

    @staticmethod
    def _clean_cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str):
            return unescape_formula(clean_text(value))
        return value  # numbers and dates from XLSX stay typed

    def order_rows(
        self, rows: list[tuple[int, dict[str, Any]]]
    ) -> list[tuple[int, dict[str, Any]]]:
        """Hook: the order rows are imported in (e.g. main indicators before components)."""
        return rows

    def user_column(self, column: str) -> str:
        return self._user_headers.get(column, column)

    def row_of(self, row_number: int) -> int:
        """The spreadsheet row of the library's 1-based row counter."""
        if 0 < row_number <= len(self._sheet_rows):
            return self._sheet_rows[row_number - 1]
        return row_number + 1

    def _problem_result(self, problems: list[ImportProblem]) -> Result:
        result = self.get_result_class()()
        result.diff_headers = self.columns()
        for problem in problems:
            column = problem.column or NON_FIELD_ERRORS
            result.append_invalid_row(problem.row, {}, ValidationError({column: [problem.message]}))
        return result

    def _relabel(self, result: Result) -> None:
        """Row numbers as the spreadsheet shows them; columns as the user wrote them."""
        attribute_columns = {
            field.attribute: field.column_name for field in self.fields.values() if field.attribute
        }
        for invalid in result.invalid_rows:
            invalid.number = self.row_of(invalid.number)
            relabelled: dict[str, list[str]] = OrderedDict()
            for key, messages in invalid.error_dict.items():
                if key != NON_FIELD_ERRORS:
                    key = self.user_column(attribute_columns.get(key, key))
                relabelled.setdefault(key, []).extend(messages)
            invalid.error_dict = relabelled
        for error_row in result.error_rows:
            error_row.number = self.row_of(error_row.number)
        result.diff_headers = [self.user_column(c) for c in result.diff_headers]

    def after_import(self, dataset: tablib.Dataset, result: Result, **kwargs: Any) -> None:
        """Nothing by default. ModelResource resets the table's id sequence here, which only
        matters when a file supplies ids; ours never do, so that query is skipped."""

    # -- one row --

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        self.sheet_row = self.row_of(kwargs.get("row_number", 0))
        errors = RowErrors()
        self._values = self.clean_row(row, errors)
        errors.raise_if_any()

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        raise NotImplementedError

    def existing_instance(self, values: dict[str, Any]) -> models.Model | None:
        raise NotImplementedError

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> models.Model | None:
        return self.existing_instance(self._values)

    def import_instance(self, instance: models.Model, row: dict[str, Any], **kwargs: Any) -> None:
        for attribute, value in self._values.items():
            setattr(instance, attribute, value)

    def validate_instance(
        self,
        instance: models.Model,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        """Field validators (lengths, e-mail, ranges) without a query per row.

        Related objects came from the per-import dicts, so checking that they exist
        (a query each) is pointless; uniqueness is settled by how rows find their object and by
        the duplicate checks in ``clean_row``; the database constraints still guard the save.
        """
        errors = dict(import_validation_errors or {})
        exclude = set(errors)
        for field in instance._meta.concrete_fields:
            if field.is_relation and field.is_cached(instance):
                exclude.add(field.name)
        try:
            instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    # -- export --

    def export_field(self, field: Any, instance: models.Model, **kwargs: Any) -> Any:
        method = getattr(self, f"dehydrate_{self.get_field_name(field)}", None)
        value = method(instance) if method is not None else field.get_value(instance)
        return render_cell(value, native=bool(kwargs.get("force_native_type")))


def related(instance: models.Model, name: str) -> Any:
    """``instance.<name>`` or None when unset, without a query for an unsaved instance."""
    field = instance._meta.get_field(name)
    if getattr(instance, field.attname) is None:
        return None
    return getattr(instance, name)


# --- Admin -----------------------------------------------------------------------------------


class SizeLimitedImportForm(ImportForm):
    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        # Checked before anything parses the file: XLSX parsing is slow and memory-hungry.
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; files up to %(limit)s can be imported. Split it into "
                    "smaller files."
                )
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


class SafeImportMixin:
    """Admin mixin for every model with spreadsheets.

    - CSV and XLSX only, in and out (settings leave ``IMPORT_EXPORT_FORMATS`` unset on purpose);
    - CSV read with encoding detection (UTF-8, UTF-16, cp1258) and exported with a BOM so that
      Excel shows Vietnamese correctly;
    - uploads over ``settings.IMPORT_MAX_UPLOAD_BYTES`` refused with a form error before parsing.
    """

    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    import_form_class = SizeLimitedImportForm
    to_encoding = "utf-8-sig"

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        problems = import_problems(result)
        if problems:
            # The preview was clean but the data changed before "Confirm import" (say, someone
            # renamed a unit): the import was rolled back. The library would still say
            # "Import finished: 0 new ..."; say what happened and send the user back to upload.
            shown = "; ".join(str(p) for p in problems[:5])
            if len(problems) > 5:
                shown += " " + _("(and %(count)d more)") % {"count": len(problems) - 5}
            admin_messages.error(
                request, _("Nothing was imported. %(problems)s") % {"problems": shown}
            )
            opts = self.model._meta  # type: ignore[attr-defined]
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import"))
        return super().process_result(result, request)  # type: ignore[misc]

    def add_data_read_fail_error_to_form(self, form: forms.Form, e: Exception) -> None:
        if isinstance(e, SpreadsheetReadError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)  # type: ignore[misc]
