"""The base of every import resource: all or nothing, rows and columns named as the user sees
them.

An import is all or nothing through every door (admin, ``manage.py import``, code calling
``import_data``): :class:`StrictResource` always runs in one transaction and rolls it back on
any error, validation errors included (django-import-export keeps the good rows by default).

Rows go through in batches (``settings.IMPORT_BATCH_ROWS``): each batch is read, checked and
written before the next is read, inside the import's one transaction. A resource that
``streams`` (a task table) reads the file as it goes, so its memory is that of one batch
whatever the file's length; the others read the whole table first (their rows may refer to
rows further down).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import nullcontext
from itertools import islice
from typing import Any, ClassVar

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, models, reset_queries, transaction
from django.utils.translation import gettext as _
from import_export import exceptions, resources
from import_export.results import Result, RowResult

from dtiplan.spreadsheets.errors import (
    ImportProblem,
    RowErrors,
    SpreadsheetResult,
    import_problems,
)
from dtiplan.spreadsheets.exports import render_cell, unescape_formula
from dtiplan.spreadsheets.headers import IGNORED_HEADERS, header_key
from dtiplan.spreadsheets.names import NameIndex
from dtiplan.spreadsheets.tables import find_table
from dtiplan.spreadsheets.text import clean_text, name_key, single_line


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
    #: Whether rows are imported as they are read. Such a resource's ``before_import`` sees
    #: the columns but no rows (it loads what a batch refers to as rows name it), and it keeps
    #: nothing per row beyond what finds duplicates. Otherwise the whole table is read first:
    #: ``order_rows`` and ``before_import`` see every row.
    streams: ClassVar[bool] = False

    class Meta:
        skip_unchanged = True  # re-importing the same file changes nothing
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._user_headers: dict[str, str] = {}
        self._values: dict[str, Any] = {}
        self._seen: dict[Any, int] = {}
        self._late_problems: list[ImportProblem] = []
        self._unheaded: list[int] = []
        self._kept_columns: list[str] = []  # a row's: the file's, then those it is given
        self.sheet_row = 0
        self.ignored_columns: list[str] = []
        self._row_notes: list[str] = []  # the current row's, for the preview
        self.rows_kept = True

    def earlier_row(self, key: Any) -> int | None:
        """The sheet row where ``key`` (what identifies a row's object) already stood in this
        file, or None; the first row that names it is the one later duplicates point to."""
        earlier = self._seen.get(key)
        self._seen.setdefault(key, self.sheet_row)
        return earlier

    def named_row(
        self,
        row: dict[str, Any],
        errors: RowErrors,
        column: str,
        index: NameIndex[Any],
        *,
        missing: str,
        repeated: str,
    ) -> tuple[str | None, Any]:
        """The row's own name, in ``column``: required (``missing`` otherwise), once in the file
        (``repeated``, formatted with ``name`` or ``title`` and ``row``, otherwise) and, when it
        names an object ``index`` holds (ignoring case and spaces), spelled as that object is
        stored. Returns that name and the object (None when new); (None, None) for an empty
        cell."""
        name = single_line(row[column])
        if not name:
            errors.add(column, missing)
            return None, None
        earlier = self.earlier_row(name_key(name))
        if earlier:
            errors.add(column, repeated % {"name": name, "title": name, "row": earlier})
        existing = index.get(name)
        return (index.name_of(existing) if existing is not None else name), existing

    # -- the door every import goes through --

    def import_data(
        self,
        dataset: Any,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        rows_kept: bool = True,
        **kwargs: Any,
    ) -> Result:
        """Imports ``dataset`` (a tablib dataset, or an object whose ``grids`` are a file's
        tables read lazily) in one transaction, rolled back on any problem or a dry run.

        ``rows_kept=False`` (``manage.py import``) keeps the problems and the counts, not a
        result and a diff per row: the admin's preview shows those, a long file cannot."""
        # The transaction and the rollback are forced: a caller (the admin, the library's
        # command, a script) cannot ask for a partial import.
        self._seen = {}
        self._late_problems = []
        self.rows_kept = rows_kept
        rows, problems = self._prepare(dataset)
        if problems:
            return self._problem_result(problems)
        prepared = tablib.Dataset(headers=self._kept_columns)
        if not self.streams:
            every_row = self.order_rows(list(rows))
            if self._late_problems:
                return self._problem_result(self._late_problems)
            for _number, row in every_row:
                prepared.append([row[column] for column in prepared.headers])
            rows = iter(every_row)
        with transaction.atomic():
            result = self._import_rows(rows, prepared, dry_run, raise_errors, **kwargs)
            if self._late_problems:
                # Found once every row was read (data under no header, no rows at all): as
                # when found first, they are what the file must fix, nothing is imported.
                result = self._problem_result(self._late_problems)
            if dry_run or result.has_errors() or result.has_validation_errors():
                transaction.set_rollback(True)
        self._relabel(result)
        result.ignored_columns = self.ignored_columns
        result.problems = import_problems(result)  # what the admin page lists in full
        return result

    def _import_rows(
        self,
        rows: Iterator[tuple[int, dict[str, Any]]],
        dataset: tablib.Dataset,
        dry_run: bool,
        raise_errors: bool,
        **kwargs: Any,
    ) -> Result:
        """The library's ``import_data_inner``, batch by batch: a batch's rows are checked,
        then written (in bulk for a ``use_bulk`` resource), then ``after_batch`` runs, before
        the next batch is read. Every row's number is its spreadsheet row."""
        result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = 0
        try:
            self.before_import(dataset, **kwargs)
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        while batch := list(islice(rows, settings.IMPORT_BATCH_ROWS)):
            for number, row in batch:
                self._import_one(number, row, result, dry_run, raise_errors, **kwargs)
            if self._meta.use_bulk:
                with transaction.atomic():
                    size = self._meta.batch_size
                    self.bulk_create(True, dry_run, raise_errors, batch_size=size, result=result)
                    self.bulk_update(True, dry_run, raise_errors, batch_size=size, result=result)
            try:
                with transaction.atomic():
                    self.after_batch(result)
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            _forget_batch_queries()
        try:
            with transaction.atomic():
                self.after_import(dataset, result, **kwargs)
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        return result

    def _import_one(
        self,
        number: int,
        row: dict[str, Any],
        result: Result,
        dry_run: bool,
        raise_errors: bool,
        **kwargs: Any,
    ) -> None:
        """One row into ``result``: its problems always, its row result if rows are kept."""
        kwargs.update(dry_run=dry_run, using_transactions=True, row_number=number)
        # A row saved on its own (not in bulk) gets a savepoint: a failed save spoils no other.
        with transaction.atomic() if not self._meta.use_bulk else nullcontext():
            row_result = self.import_row(row, None, **kwargs)
        result.total_rows += 1
        result.increment_row_result_total(row_result)
        if row_result.errors:
            result.append_error_row(number, row, row_result.errors)
            if raise_errors:
                raise exceptions.ImportError(row_result.errors[-1].error, number=number, row=row)
        elif row_result.validation_error:
            result.append_invalid_row(number, row, row_result.validation_error)
            if raise_errors:
                raise exceptions.ImportError(row_result.validation_error, number=number, row=row)
        if self.rows_kept and (
            row_result.import_type != RowResult.IMPORT_TYPE_SKIP or self._meta.report_skipped
        ):
            result.append_row_result(row_result)

    def import_row(self, row: dict[str, Any], instance_loader: Any, **kwargs: Any) -> RowResult:
        """The library's ``import_row`` for our resources (which never delete), without its
        copy of every row's object: what ``skip_row`` compares with is the row's fields as
        read before the row is applied, and the preview's diff (only when rows are kept) is
        read at the same moment."""
        row_result = self.get_row_result_class()()
        try:
            self.before_import_row(row, **kwargs)
            instance, new = self.get_or_init_instance(instance_loader, row)
            self.after_init_instance(instance, new, row, **kwargs)
            row_result.import_type = (
                RowResult.IMPORT_TYPE_NEW if new else RowResult.IMPORT_TYPE_UPDATE
            )
            diff = self.get_diff_class()(self, instance, new) if self.rows_kept else None
            before = None if new else self._field_values(instance)
            errors: dict[str, Any] = {}
            try:
                self.import_instance(instance, row, **kwargs)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
            if self.skip_row(instance, before, row, errors):
                row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            else:
                self.validate_instance(instance, errors)
                self.save_instance(instance, new, row, **kwargs)
            row_result.add_instance_info(instance)
            if kwargs.get("retain_instance_in_row_result"):  # the admin logs each change
                row_result.instance = instance
            if diff is not None:
                diff.compare_with(self, instance)
                row_result.diff = diff.as_html()
            self.after_import_row(row, row_result, **kwargs)
        except ValidationError as error:
            row_result.import_type = RowResult.IMPORT_TYPE_INVALID
            row_result.validation_error = error
        except Exception as error:
            row_result.import_type = RowResult.IMPORT_TYPE_ERROR
            row_result.errors.append(
                self.get_error_result_class()(error, row=row, number=kwargs["row_number"])
            )
        return row_result

    def _field_values(self, instance: models.Model) -> dict[str, Any]:
        return {
            field.column_name: field.get_value(instance)
            for field in self.get_import_fields()
            if field.attribute
        }

    def skip_row(
        self,
        instance: models.Model,
        original: dict[str, Any] | None,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        """Unchanged: an existing object whose fields are what they were before the row
        (``original``: their values then; None for a new object). Subclasses add what else a
        row changes (units, focal points)."""
        if original is None or import_validation_errors or not self._meta.skip_unchanged:
            return False
        return self._field_values(instance) == original

    def after_batch(self, result: Result) -> None:
        """Hook: write what a batch's rows need beyond their own objects (e.g. a task's
        units), once the batch's objects are saved. Nothing by default."""

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

    def _prepare(
        self, dataset: Any
    ) -> tuple[Iterator[tuple[int, dict[str, Any]]], list[ImportProblem]]:
        """Headers to our column names, then the rows, read lazily: blank rows and headings
        out, cells cleaned, each with its spreadsheet row number; or the header problems,
        which make reading the rows pointless.

        The header is found below any title rows, over one or two rows (``tables``); a
        column numbering row under it and the header repeated on a later page are skipped.
        Problems only the rows show (data under no header, no rows at all) are in
        ``_late_problems`` once the rows have been read.
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
            return iter(()), [ImportProblem(1, None, _("The file is empty: it has no header row."))]
        header_row = table.header_row
        problems: list[tuple[int, ImportProblem]] = []  # (position, problem): in column order
        keep: list[tuple[int, str]] = []  # (position in the file, our column)
        ordinal: int | None = None  # the position of an "STT" column
        self._user_headers = {}
        self.ignored_columns = []
        headerless: list[int] = []
        for spec in table.columns:
            position, text = spec.position, clean_text(spec.header)
            if not text:
                headerless.append(position)
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
                    (
                        position,
                        ImportProblem(
                            header_row,
                            text,
                            _('Unknown column "%(header)s". The columns are: %(expected)s.')
                            % {"header": text, "expected": expected},
                        ),
                    )
                )
                continue
            if column in self._user_headers:
                problems.append(
                    (
                        position,
                        ImportProblem(
                            header_row,
                            text,
                            _('Columns "%(first)s" and "%(second)s" both mean %(column)s.')
                            % {
                                "first": self._user_headers[column],
                                "second": text,
                                "column": column,
                            },
                        ),
                    )
                )
                continue
            self._user_headers[column] = text
            keep.append((position, column))
        for column in self.required_columns:
            if column not in self._user_headers and column not in self.columns_given():
                problems.append(
                    (
                        len(table.columns),
                        ImportProblem(
                            header_row,
                            column,
                            _(
                                'The required column "%(column)s" is missing. The columns '
                                "are: %(expected)s."
                            )
                            % {"column": column, "expected": expected},
                        ),
                    )
                )
        given = sorted(self.columns_given() - set(self._user_headers))
        self._kept_columns = [column for _position, column in keep] + given
        rows = self._rows(table, keep, given, ordinal, headerless)
        if problems:
            for _number, _row in rows:  # to say too which columns hold data under no header
                pass
            unheaded = list(zip(self._unheaded, self._late_problems, strict=False))
            ordered = sorted(problems + unheaded, key=lambda item: item[0])
            return iter(()), [problem for _position, problem in ordered]
        return rows, []

    def _rows(
        self,
        table: Any,
        keep: list[tuple[int, str]],
        given: list[str],
        ordinal: int | None,
        headerless: list[int],
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """The table's data rows as dicts of our columns (those the import is given, empty),
        read as they are asked for; then ``_late_problems``: a column holding data under no
        header (also a cell beyond the header's last), or no data row at all."""
        width = len(table.columns)
        filled: set[int] = set()
        found = False
        for number, row in table.rows:
            for position in (*headerless, *range(width, len(row))):
                if position < len(row) and clean_text(row[position]):
                    filled.add(position)
            cells = {
                column: self._clean_cell(row[position] if position < len(row) else None)
                for position, column in keep
            }
            if not any(value not in ("", None) for value in cells.values()):
                continue
            stt = clean_text(row[ordinal]) if ordinal is not None and ordinal < len(row) else ""
            if self.heading_row(number, cells, stt):
                continue
            found = True
            yield number, {**cells, **dict.fromkeys(given, "")}
        self._unheaded = sorted(filled)
        self._late_problems = [
            ImportProblem(
                table.header_row,
                None,
                _("Column %(number)s has data but no header.") % {"number": position + 1},
            )
            for position in self._unheaded
        ]
        if not found and not self._late_problems:
            self._late_problems.append(
                ImportProblem(
                    table.header_row + 1, None, _("The file has no rows under its header.")
                )
            )

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
        # A column set by the resource itself (a many-to-many, say) is named by the model field
        # of its name, if there is one.
        attribute = field and (field.attribute or field.column_name)
        model_field = names.get(attribute) if attribute else None
        if model_field is not None and hasattr(model_field, "verbose_name"):
            return str(model_field.verbose_name)
        return header or column

    def user_column(self, column: str) -> str:
        return self._user_headers.get(column, column)

    def _problem_result(self, problems: list[ImportProblem]) -> Result:
        """The result of a file refused as a whole (its header, its shape): nothing was
        imported, the problems are all there is to say."""
        result = self.get_result_class()()
        result.diff_headers = self.columns()
        for problem in problems:
            column = problem.column or NON_FIELD_ERRORS
            result.append_invalid_row(problem.row, {}, ValidationError({column: [problem.message]}))
            result.invalid_rows[-1].sheet_numbered = True
        result.ignored_columns = self.ignored_columns
        result.problems = import_problems(result)
        return result

    def _relabel(self, result: Result) -> None:
        """Columns as the user wrote them (rows carry their spreadsheet number already)."""
        attribute_columns = {
            field.attribute: field.column_name for field in self.fields.values() if field.attribute
        }
        for invalid in result.invalid_rows:
            if getattr(invalid, "sheet_numbered", False):
                continue
            relabelled: dict[str, list[str]] = OrderedDict()
            for key, messages in invalid.error_dict.items():
                if key != NON_FIELD_ERRORS:
                    key = self.user_column(attribute_columns.get(key, key))
                relabelled.setdefault(key, []).extend(messages)
            invalid.error_dict = relabelled
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
        self.sheet_row = kwargs.get("row_number", 0)
        self._row_notes = []
        errors = RowErrors()
        self._values = self.clean_row(row, errors)
        errors.raise_if_any()

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        raise NotImplementedError

    def note(self, text: str) -> None:
        """A line the preview (admin, ``import --dry-run``) shows under the current row: how a
        cell was read, or what the row changes beyond its cells."""
        self._row_notes.append(text)

    def after_import_row(self, row: dict[str, Any], row_result: Any, **kwargs: Any) -> None:
        row_result.sheet_row = self.sheet_row
        row_result.notes = self._row_notes

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


def _forget_batch_queries() -> None:
    """With DEBUG on, Django keeps the SQL of every statement; a batch's bulk INSERTs are some
    400 KB of text per 1,000 rows, which a long import would pile up. They are dropped once
    written, unless someone is counting them (``CaptureQueriesContext``)."""
    if settings.DEBUG and not connection.force_debug_cursor:
        reset_queries()


def related(instance: models.Model, name: str) -> Any:
    """``instance.<name>`` or None when unset, without a query for an unsaved instance."""
    field = instance._meta.get_field(name)
    if getattr(instance, field.attname) is None:
        return None
    return getattr(instance, name)
