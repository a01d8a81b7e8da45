"""The base of every import resource: all or nothing, rows and columns named as the user sees
them.

An import is all or nothing through every door (admin, ``manage.py import``, code calling
``import_data``): :class:`StrictResource` always runs in one transaction and rolls it back on
any error, validation errors included (django-import-export keeps the good rows by default).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, ClassVar

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.translation import gettext as _
from import_export import resources
from import_export.results import Result

from dtiplan.spreadsheets.errors import (
    ImportProblem,
    RowErrors,
    SpreadsheetResult,
    import_problems,
)
from dtiplan.spreadsheets.exports import render_cell, unescape_formula
from dtiplan.spreadsheets.headers import IGNORED_HEADERS, header_key
from dtiplan.spreadsheets.tables import find_table
from dtiplan.spreadsheets.text import clean_text


class _Diff(resources.Diff):
    """The admin preview shows what the export would write (unit lists, codes, labels), not
    ``str()`` of each attribute. The library's ``Diff`` calls ``Diff._read_field_values`` by
    its own class name, so both places that read the values are overridden here."""

    def __init__(self, resource: Any, instance: Any, new: bool) -> None:
        # A new row has nothing on the left (the preview blanks it anyway), and its unsaved
        # instance may lack what an export reads.
        self.left = self._read_field_values(resource, None if new else instance)
        self.right: list[Any] = []
        self.new = new

    def compare_with(self, resource: Any, instance: Any) -> None:
        self.right = self._read_field_values(resource, instance)

    @classmethod
    def _read_field_values(cls, resource: Any, instance: Any) -> list[Any]:
        fields = resource.get_import_fields()
        if instance is None:  # a deleted row
            return ["" for _field in fields]
        return [resource.export_field(f, instance) for f in fields]


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
    #: Whether a column nobody knows is left out (listed in ``ignored_columns``) rather than
    #: refused: tables laid out for people carry columns of their own.
    unknown_columns_ignored: ClassVar[bool] = False
    #: The headers people write for these columns (e.g. the Vietnamese headers of real tables),
    #: each to the column it means; declared by each app next to its resources.
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
        self.ignored_columns: list[str] = []
        self._row_notes: dict[int, list[str]] = {}

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
        self._row_notes = {}
        prepared, problems = self._prepare(dataset)
        if problems:
            result = self._problem_result(problems)
            result.ignored_columns = self.ignored_columns
            result.problems = import_problems(result)
            return result
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
        result.ignored_columns = self.ignored_columns
        result.problems = import_problems(result)  # what the admin page lists in full
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
        for alias, column in cls.column_aliases.items():
            if column in columns:
                accepted[header_key(alias)] = column
        return accepted

    def _prepare(self, dataset: tablib.Dataset) -> tuple[tablib.Dataset, list[ImportProblem]]:
        """Headers to our column names, blank rows out, cells cleaned, spreadsheet row numbers
        remembered; or the header problems, which make reading the rows pointless.

        The header is found below any title rows, over one or two rows (``tables``); a
        column numbering row under it and the header repeated on a later page are skipped.
        """
        expected = ", ".join(self.columns())
        accepted = self.header_map()

        def recognise(text: str) -> str | None:
            key = header_key(text)
            return None if key in IGNORED_HEADERS else accepted.get(key)

        grids = getattr(dataset, "grids", None)
        if grids is None:  # a dataset built by code: its headers are the header row
            grids = [[list(dataset.headers or []), *(list(row) for row in dataset)]]
        table = find_table(grids, recognise)
        if table is None or not any(clean_text(c.header) for c in table.columns):
            return dataset, [ImportProblem(1, None, _("The file is empty: it has no header row."))]
        header_row = table.header_row
        problems: list[ImportProblem] = []
        keep: list[tuple[int, str]] = []  # (position in the file, our column)
        ordinal: int | None = None  # the position of an "STT" column
        self._user_headers = {}
        self.ignored_columns = []
        for spec in table.columns:
            position, text = spec.position, clean_text(spec.header)
            if not text:
                if any(clean_text(row[position]) for _number, row in table.rows):
                    problems.append(
                        ImportProblem(
                            header_row,
                            None,
                            _("Column %(number)s has data but no header.")
                            % {"number": position + 1},
                        )
                    )
                continue
            if spec.ordinal:
                ordinal = position if ordinal is None else ordinal
                continue
            column = spec.column
            if column is None:
                if self.unknown_columns_ignored:
                    self.ignored_columns.append(text)
                    continue
                problems.append(
                    ImportProblem(
                        header_row,
                        text,
                        _('Unknown column "%(header)s". The columns are: %(expected)s.')
                        % {"header": text, "expected": expected},
                    )
                )
                continue
            if column in self._user_headers:
                problems.append(
                    ImportProblem(
                        header_row,
                        text,
                        _('Columns "%(first)s" and "%(second)s" both mean %(column)s.')
                        % {"first": self._user_headers[column], "second": text, "column": column},
                    )
                )
                continue
            self._user_headers[column] = text
            keep.append((position, column))
        for column in self.required_columns:
            if column not in self._user_headers and column not in self.columns_given():
                problems.append(
                    ImportProblem(
                        header_row,
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
        for number, row in table.rows:
            cells = {column: self._clean_cell(row[position]) for position, column in keep}
            if not any(value not in ("", None) for value in cells.values()):
                continue
            stt = clean_text(row[ordinal]) if ordinal is not None else ""
            if self.heading_row(number, cells, stt):
                continue
            numbered.append((number, cells))
        if not numbered:
            return dataset, [
                ImportProblem(header_row + 1, None, _("The file has no rows under its header."))
            ]
        numbered = self.order_rows(numbered)
        self._sheet_rows = [number for number, _cells in numbered]
        given = sorted(self.columns_given() - set(self._user_headers))
        prepared = tablib.Dataset(headers=[column for _position, column in keep] + given)
        for _number, cells in numbered:
            prepared.append([cells[column] for _position, column in keep] + [""] * len(given))
        return prepared, []

    def columns_given(self) -> set[str]:
        # Present in the prepared rows, empty: the resource reads them from where it got them.
        """Hook: columns the import is given otherwise than in the file (e.g. the plan chosen
        on the import form), so that the file need not have them."""
        return set()

    def heading_row(self, number: int, cells: dict[str, Any], ordinal: str) -> bool:
        """Hook: whether a row is a heading over the rows below it rather than data (the
        resource remembers what it says). ``ordinal`` is the row's "STT" text."""
        return False

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

    def column_label(self, column: str) -> str:
        """A column's header in the preview: as the file wrote it when it used its own words,
        else the model field's name in the UI language ("hạn chót" rather than "deadline")."""
        header = self._user_headers.get(column)
        if header and header_key(header) != header_key(column):
            return header
        field = self.fields.get(column)
        model = self._meta.model
        names = {f.name: f for f in model._meta.get_fields()} if model is not None else {}
        model_field = names.get(field.attribute) if field is not None and field.attribute else None
        if model_field is not None and hasattr(model_field, "verbose_name"):
            return str(model_field.verbose_name)
        return header or column

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
            if getattr(invalid, "sheet_numbered", False):
                continue
            invalid.number = self.row_of(invalid.number)
            relabelled: dict[str, list[str]] = OrderedDict()
            for key, messages in invalid.error_dict.items():
                if key != NON_FIELD_ERRORS:
                    key = self.user_column(attribute_columns.get(key, key))
                relabelled.setdefault(key, []).extend(messages)
            invalid.error_dict = relabelled
        for error_row in result.error_rows:
            error_row.number = self.row_of(error_row.number)
        result.diff_headers = [self.column_label(c) for c in result.diff_headers]

    def add_sheet_problem(self, result: Result, row: int, column: str, message: str) -> None:
        """A problem of a row the import does not read as data (e.g. a heading), numbered as
        the spreadsheet shows it; added before the import ends, it rolls the import back."""
        header = self.user_column(column)
        result.append_invalid_row(row, {}, ValidationError({header: [message]}))
        result.invalid_rows[-1].sheet_numbered = True

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

    def note(self, text: str) -> None:
        """A line the preview (admin, ``import --dry-run``) shows under the current row: how a
        cell was read, or what the row changes beyond its cells."""
        self._row_notes.setdefault(self.sheet_row, []).append(text)

    def after_import_row(self, row: dict[str, Any], row_result: Any, **kwargs: Any) -> None:
        row_result.sheet_row = self.sheet_row
        row_result.notes = self._row_notes.get(self.sheet_row, [])

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
