"""Write a round's pack for the ministry (``plans.self_assessment_pack``) to a ZIP file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from plans.models import SelfAssessmentRound
from plans.self_assessment_pack import pack_write


class Command(BaseCommand):
    help = (
        "Write the self-assessment pack of an assessment year: an XLSX with one row per "
        "indicator and the evidence files in one folder per indicator code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="The assessment year.")
        parser.add_argument("file", type=Path, help="The ZIP file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        round_ = SelfAssessmentRound.objects.filter(year=options["year"]).first()
        if round_ is None:
            raise CommandError(f"No self-assessment round for {options['year']}.")
        target: Path = options["file"]
        partial = target.with_name(target.name + ".part")
        # Written beside the target and renamed at the end: a failed run leaves no half pack.
        with partial.open("wb") as out:
            stats = pack_write(round=round_, out=out)
        partial.replace(target)
        self.stdout.write(f"Wrote {target}: {stats.items} item(s), {stats.files} evidence file(s).")
        for name in stats.missing:
            self.stderr.write(f"Missing from the evidence storage: {name}")
