"""``manage.py import RESOURCE FILE [--no-input] [--dry-run] [--plan TITLE]``, all or nothing.

Replaces django-import-export's command of the same name (our apps come first in
INSTALLED_APPS). The library's command ignores validation errors: it prints "Import finished"
while the bad rows were left out and the good ones saved. This one imports everything or
nothing, prints every problem as ``Row N, column "X": message`` and exits with status 1.

It reads CSV, XLSX and the tables of a Word document (.docx), with the size limits of the
admin (``--max-rows``/``--max-columns`` raise them for one run).
"""

from __future__ import annotations

import io
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export.command_utils import get_resource_class
from import_export.formats.base_formats import Format
from import_export.results import Result, RowResult

from dtiplan.spreadsheets.errors import import_problems
from dtiplan.spreadsheets.files import (
    FORMATS_BY_NAME,
    CSVFormat,
    SpreadsheetReadError,
    TableLimits,
    format_for_file,
)
from dtiplan.spreadsheets.resources import StrictResource


class Command(BaseCommand):
    help = (
        "Import a CSV, XLSX or Word (.docx) table, all or nothing, e.g. "
        "`import plans.resources.TaskResource appendix.docx --plan 'Kế hoạch 2026' --no-input`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "resource", help="Resource class as a dotted path, e.g. plans.resources.UnitResource."
        )
        parser.add_argument(
            "import_file_name", help='The .csv, .xlsx or .docx file ("-" for stdin).'
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )
        parser.add_argument(
            "-n", "--dry-run", action="store_true", help="Check the file; save nothing."
        )
        parser.add_argument(
            "--format",
            type=str.lower,
            choices=sorted(FORMATS_BY_NAME),
            help="The file's format when its name does not say it (or for stdin).",
        )
        parser.add_argument(
            "--plan",
            help="The plan every row goes into, for a task table without a plan column "
            "(its title).",
        )
        parser.add_argument(
            "--max-rows",
            type=int,
            help="Refuse a table with more rows (default: the IMPORT_MAX_ROWS setting).",
        )
        parser.add_argument(
            "--max-columns",
            type=int,
            help="Refuse a table with more columns (default: the IMPORT_MAX_COLUMNS setting).",
        )
        parser.add_argument(
            "--encoding",
            help="A CSV file's encoding; by default UTF-8 (with or without BOM), UTF-16 or "
            "Windows-1258 is detected.",
        )
        parser.add_argument(
            "--raise-errors", action="store_true", help="Stop with a traceback at the first error."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        file_name: str = options["import_file_name"]
        if options["interactive"]:
            answer = input(_("Import %(file)s? Type yes to continue: ") % {"file": file_name})
            if answer != "yes":
                raise CommandError(_("Import cancelled."))

        resource_class = get_resource_class(options["resource"])
        try:
            resource = (
                resource_class(plan=options["plan"]) if options["plan"] else resource_class()
            )
        except TypeError as exc:
            raise CommandError(_("This resource takes no --plan.")) from exc
        input_format = self._format(file_name, options["format"])
        default = TableLimits.from_settings()
        input_format.limits = TableLimits(
            rows=options["max_rows"] or default.rows,
            columns=options["max_columns"] or default.columns,
            unpacked_bytes=default.unpacked_bytes,
        )
        with self._open(file_name) as source:
            try:
                result = self._import(resource, input_format, source, options)
            except (LookupError, UnicodeDecodeError) as exc:  # --encoding does not fit
                raise CommandError(str(exc)) from exc
            except SpreadsheetReadError as exc:
                raise CommandError(str(exc)) from exc
        ignored = getattr(result, "ignored_columns", [])
        if ignored:
            self.stderr.write(
                _("Left out, not a column we know: %(columns)s.")
                % {"columns": ", ".join(f'"{c}"' for c in ignored)}
            )
        problems = import_problems(result)
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(
                ngettext(
                    "Nothing was imported: the file has %(count)d problem.",
                    "Nothing was imported: the file has %(count)d problems.",
                    len(problems),
                )
                % {"count": len(problems)}
            )
        self._report(
            resource, result, dry_run=options["dry_run"], verbosity=options["verbosity"]
        )

    def _format(self, file_name: str, format_name: str | None) -> Format:
        if file_name == "-" and not format_name:
            raise CommandError(_("Reading from stdin needs --format csv, xlsx or docx."))
        try:
            return format_for_file(file_name, format_name)
        except SpreadsheetReadError as exc:
            raise CommandError(str(exc)) from exc

    def _import(
        self, resource: Any, input_format: Format, source: BinaryIO, options: dict[str, Any]
    ) -> Result:
        """Our resources read the file as they import it, a batch of rows at a time, and keep
        only the problems (and, to print them, how each row was read); the library's are given
        the whole file. All or nothing either way."""
        encoding = options["encoding"] if isinstance(input_format, CSVFormat) else None
        common = {
            "dry_run": options["dry_run"],
            "raise_errors": options["raise_errors"],
            "use_transactions": True,
            "rollback_on_validation_errors": True,
        }
        if isinstance(resource, StrictResource):
            verbose = options["dry_run"] or options["verbosity"] >= 2
            tables = input_format.stream(source, encoding=encoding)
            return resource.import_data(tables, rows_kept=verbose, **common)
        data: bytes | str = source.read()
        if encoding:
            data = data.decode(encoding)
        return resource.import_data(input_format.create_dataset(data), **common)

    def _open(self, file_name: str) -> BinaryIO:
        """The file, seekable (CSV is read twice: its encoding, then its rows)."""
        if file_name == "-":
            return io.BytesIO(sys.stdin.buffer.read())
        try:
            return Path(file_name).open("rb")
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file_name, "error": exc.strerror}
            ) from exc

    def _report(self, resource: Any, result: Any, *, dry_run: bool, verbosity: int) -> None:
        """The counts; with --dry-run (a preview) or -v 2, how each row was read too."""
        totals = result.totals
        counts = _("%(new)d new, %(updated)d updated, %(unchanged)d unchanged %(things)s.") % {
            "new": totals[RowResult.IMPORT_TYPE_NEW],
            "updated": totals[RowResult.IMPORT_TYPE_UPDATE],
            "unchanged": totals[RowResult.IMPORT_TYPE_SKIP],
            "things": resource._meta.model._meta.verbose_name_plural,
        }
        if dry_run:
            self.stdout.write(_("Dry run, nothing was saved. The file would give: %s") % counts)
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported: %s") % counts))
        for row in result.valid_rows():
            notes = getattr(row, "notes", None)
            if notes and (dry_run or verbosity >= 2):
                self.stdout.write(
                    _("Row %(row)s: %(notes)s")
                    % {"row": row.sheet_row, "notes": "; ".join(str(n) for n in notes)}
                )
        accounts = getattr(resource, "new_accounts", [])
        if accounts:
            self.stdout.write(
                ngettext(
                    "%(count)d new account for a focal point (%(emails)s); its owner sets a "
                    "password through “Forgotten your password?” on the login page.",
                    "%(count)d new accounts for focal points (%(emails)s); their owners set a "
                    "password through “Forgotten your password?” on the login page.",
                    len(accounts),
                )
                % {"count": len(accounts), "emails": ", ".join(accounts)}
            )
