"""``manage.py export FORMAT RESOURCE [--encoding E] > file``.

Replaces django-import-export's command of the same name for two reasons: CSV is written with
a byte-order mark by default (Excel otherwise shows Vietnamese as mojibake), and XLSX cells keep
numbers as numbers. Formula escaping and the column layout come from the resource, so a file
exported here imports back unchanged.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from import_export.command_utils import get_resource_class
from import_export.formats.base_formats import CSV, XLSX


class Command(BaseCommand):
    help = (
        "Export a resource as CSV or XLSX to stdout, e.g. `export CSV plans.resources.TaskResource`"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("format", help="CSV or XLSX.")
        parser.add_argument(
            "resource", help="Resource class as a dotted path, e.g. plans.resources.TaskResource."
        )
        parser.add_argument(
            "--encoding", help="A CSV file's encoding (default: UTF-8 with a byte-order mark)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Cells the resource words (e.g. "Dự thảo: …") are in the site's language, whatever
        # language the calling process happens to have active.
        with translation.override(settings.LANGUAGE_CODE):
            self._export(options)

    def _export(self, options: dict[str, Any]) -> None:
        name = options["format"].upper()
        if name not in ("CSV", "XLSX"):
            raise CommandError(_("Export as CSV or XLSX."))
        file_format = CSV() if name == "CSV" else XLSX()
        resource = get_resource_class(options["resource"])()
        dataset = resource.export(force_native_type=file_format.is_binary())
        data = file_format.export_data(dataset)
        if not file_format.is_binary():
            data = data.encode(options["encoding"] or "utf-8-sig")
        buffer = getattr(self.stdout._out, "buffer", None)
        if buffer is None:
            # An in-memory text stream (call_command(stdout=StringIO())): text formats only.
            if file_format.is_binary():
                raise CommandError(_("XLSX is binary: write it to a file, not a text stream."))
            self.stdout.write(data.decode(options["encoding"] or "utf-8-sig"), ending="")
            return
        if file_format.is_binary() and buffer.isatty():
            raise CommandError(_("XLSX is binary: redirect the output to a file."))
        buffer.write(data)
        buffer.flush()
