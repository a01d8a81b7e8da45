"""Import problems as the user sees them: the row as the spreadsheet numbers it, the column as
the user wrote it, and a message saying what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _
from import_export.results import Result


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
