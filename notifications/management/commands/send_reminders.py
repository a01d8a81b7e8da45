"""``manage.py send_reminders``: the same sweep the schedule runs, for operators."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from notifications.clock import now_option
from notifications.preview import reminders_preview
from notifications.services import reminders_send_due


class Command(BaseCommand):
    help = (
        "Record and send the reminders due now (the sweep the schedule runs on working days "
        "at 08:00). Safe to run again: a reminder step is never sent twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print, per recipient, what would be sent; record and send nothing.",
        )
        parser.add_argument(
            "--now",
            type=now_option,
            help=(
                "Run as if it were this time: ISO, local time unless an offset is given; "
                "a bare date means 08:00 that day."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["now"] or timezone.now()
        local = timezone.localtime(now)
        if options["dry_run"]:
            self._preview(now)
            return
        report = reminders_send_due(now=now)
        self.stdout.write(
            f"{local:%d/%m/%Y %H:%M}: {report.due} reminders due, {report.created} new; "
            f"{report.emails_sent} e-mails sent ({report.rows_sent} reminders), "
            f"{report.rows_failed} failed, {report.rows_skipped} no longer due."
        )
        for error in report.errors:
            self.stderr.write(f"failed: {error}")
        if report.rows_failed:
            raise CommandError(
                f"{report.rows_failed} reminders could not be sent; they are retried on the "
                "next run (see the delivery log in the admin)."
            )

    def _preview(self, now: dt.datetime) -> None:
        preview = reminders_preview(now=now)
        self.stdout.write(
            f"Dry run at {timezone.localtime(now):%d/%m/%Y %H:%M}: nothing is recorded or sent."
        )
        for email, lines in preview.items():
            self.stdout.write(f"{email}: {len(lines)} reminder(s)")
            for line in lines:
                task = line.task
                when = (
                    f"{line.days_overdue} days overdue"
                    if line.days_overdue
                    else f"due in {line.days_left} days"
                    if line.days_left
                    else "due today"
                )
                self.stdout.write(
                    f"  - [{line.rule_label}] {task.title} [{task.indicator.code}] – "
                    f"{task.deadline:%d/%m/%Y}, {when}, lead: {task.lead_unit.name}"
                )
        if not preview:
            self.stdout.write("No reminder would be sent.")
