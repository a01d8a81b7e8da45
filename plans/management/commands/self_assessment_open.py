"""Open the self-assessment round of an assessment year (``plans.self_assessment``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from plans.models import Plan
from plans.self_assessment import self_assessment_open


class Command(BaseCommand):
    help = (
        "Open the self-assessment round of an assessment year: one item per scored indicator "
        "of the year's set, given to its presiding unit in the plan of that year."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="The assessment year.")
        parser.add_argument(
            "--deadline",
            type=dt.date.fromisoformat,
            required=True,
            help="The internal deadline, YYYY-MM-DD.",
        )
        parser.add_argument(
            "--plan",
            help="The title of the plan whose indicator owners get the items "
            "(default: the plan of the assessment year).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        plan = None
        if options["plan"]:
            plan = Plan.objects.filter(title__iexact=options["plan"].strip()).first()
            if plan is None:
                raise CommandError(f"No plan is titled {options['plan']!r}.")
        try:
            opened = self_assessment_open(
                year=options["year"], deadline=options["deadline"], plan=plan, by=None
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        round_ = opened.round
        self.stdout.write(
            f"Opened the self-assessment of DTI {round_.year} ({round_.indicator_set.code}, "
            f"plan: {round_.plan or '-'}), deadline {round_.deadline:%d/%m/%Y}: "
            f"{opened.items} item(s)."
        )
        if opened.without_owner:
            codes = ", ".join(i.code for i in opened.without_owner)
            self.stdout.write(f"No presiding unit for {len(opened.without_owner)}: {codes}")
