"""``manage.py send_report [--period YYYY-MM|YYYY-Qn] [--now ISO] [--dry-run]``: the report
pack, by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from notifications.clock import now_option
from notifications.preview import report_preview
from notifications.services import report_send
from plans.periods import parse_period, period_before


class Command(BaseCommand):
    help = (
        "E-mail the steering committee the report pack for a month or a quarter (what the "
        "schedule does on the first working day after the period, by REPORTS_PERIOD). A member "
        "already sent that period's pack is not sent it again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--period",
            help=(
                "The period reported on: a month YYYY-MM or a quarter YYYY-Qn (default: the "
                "last period of REPORTS_PERIOD ended before --now)."
            ),
        )
        parser.add_argument(
            "--now",
            type=now_option,
            help=(
                "Report as of this time: ISO, local time unless an offset is given; a bare "
                "date means 08:00 that day (default: now)."
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print who would receive it; record and send nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["now"] or timezone.now()
        try:
            period = (
                parse_period(options["period"])
                if options["period"]
                else period_before(timezone.localdate(now))
            )
        except ValueError as exc:
            raise CommandError(f"--period {exc}") from exc
        label = period.label
        if options["dry_run"]:
            to_send, sent = report_preview(period=period)
            self.stdout.write(f"Dry run: the pack for {label}; nothing is recorded or sent.")
            for email in to_send:
                self.stdout.write(f"would send to {email}")
            for email in sent:
                self.stdout.write(f"already sent to {email}")
            if not to_send and not sent:
                self.stdout.write("The steering committee has no member with an e-mail address.")
            return
        result = report_send(period=period, now=now)
        self.stdout.write(
            f"The pack for {label}: {len(result.recipients)} committee members, "
            f"{result.created} new, {result.sent} sent, {result.failed} failed."
        )
        for error in result.errors:
            self.stderr.write(f"failed: {error}")
        if result.failed:
            raise CommandError(
                f"{result.failed} packs could not be sent; they are retried every 15 minutes "
                "(see Report deliveries in the admin)."
            )
