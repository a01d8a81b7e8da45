"""``manage.py send_reminders``: the same sweep the schedule runs, for operators.

It speaks the site's language (``LANGUAGE_CODE``, Vietnamese by default) and ends with a
summary a person can read: reminders recorded, e-mails sent, failures. On a day that is not a
working day nothing is sent; it says so, names the next working day and how to see that day's
reminders now.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import holidays
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications.clock import now_option
from notifications.preview import reminders_preview
from notifications.services import reminders_send_due
from notifications.sweep import work_calendar


def _day(day: dt.date) -> str:
    """'Monday 30/11/2026', in the active language."""
    return dateformat.format(day, "l d/m/Y")


def _holiday_name(day: dt.date) -> str:
    """The public holiday's name in the active language (the calendar's own is English)."""
    language = "vi" if translation.get_language() == "vi" else "en_US"
    names = holidays.country_holidays("VN", years=day.year, language=language)
    return names.get(day) or ""


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """The sweep logs its counts for the worker's log; here the summary says it in words."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


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
                "Run as if it were this time: a date (2026-11-30, meaning 08:00 that day) or "
                "an ISO date-time, local time unless an offset is given."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["now"] or timezone.now()
        with translation.override(settings.LANGUAGE_CODE):
            if not self._working_day(now, options["dry_run"]):
                return
            if options["dry_run"]:
                self._preview(now)
                return
            self._send(now)

    def _working_day(self, now: dt.datetime, dry_run: bool) -> bool:
        """Says why nothing goes out on a day off, and what to run to see the next working
        day's reminders now."""
        today = timezone.localdate(now)
        calendar = work_calendar(today)
        if calendar.is_working_day(today):
            return True
        holiday = calendar.holiday_name(today) and _holiday_name(today)
        if holiday:
            self.stdout.write(
                _("%(day)s is a public holiday (%(name)s): no reminder is sent today.")
                % {"day": _day(today), "name": holiday}
            )
        else:
            self.stdout.write(
                _("%(day)s is not a working day: no reminder is sent today.") % {"day": _day(today)}
            )
        following = calendar.add_working_days(today, 1)
        command = f"manage.py send_reminders {'--dry-run ' if dry_run else ''}--now {following}"
        self.stdout.write(
            _("The next working day is %(day)s. To see its reminders now, run: %(command)s")
            % {"day": _day(following), "command": command}
        )
        return False

    def _send(self, now: dt.datetime) -> None:
        with _quiet("notifications.services"):
            report = reminders_send_due(now=now)
        local = timezone.localtime(now)
        self.stdout.write(
            _("Reminders at %(time)s on %(day)s:")
            % {"time": f"{local:%H:%M}", "day": _day(local.date())}
        )
        self.stdout.write(
            "- "
            + ngettext(
                "%(count)d new reminder due today, %(new)d of them recorded now;",
                "%(count)d new reminders due today, %(new)d of them recorded now;",
                report.due,
            )
            % {"count": report.due, "new": report.created}
        )
        self.stdout.write(
            "- "
            + ngettext(
                "%(count)d e-mail sent, listing %(rows)d items (reminders, and news held for "
                "the morning);",
                "%(count)d e-mails sent, listing %(rows)d items (reminders, and news held for "
                "the morning);",
                report.emails_sent,
            )
            % {"count": report.emails_sent, "rows": report.rows_sent}
        )
        self.stdout.write(
            "- "
            + _("%(failed)d could not be sent; %(skipped)d were no longer due.")
            % {"failed": report.rows_failed, "skipped": report.rows_skipped}
        )
        if report.due and not report.created:
            self.stdout.write(_("Everything due today had been recorded by an earlier run."))
        if not report.due and not report.emails_sent:
            self.stdout.write(
                _(
                    "Nothing new was due: what is due today had been recorded by an earlier "
                    "run, or no task is near or past its deadline."
                )
            )
        for error in report.errors:
            self.stderr.write(_("Failed: %(error)s") % {"error": error})
        if report.rows_failed:
            raise CommandError(
                _(
                    "%(count)d reminders could not be sent; they are retried on the next run "
                    "(see the delivery log in the administration)."
                )
                % {"count": report.rows_failed}
            )

    def _preview(self, now: dt.datetime) -> None:
        preview = reminders_preview(now=now)
        self.stdout.write(
            _("Dry run at %(time)s on %(day)s: nothing is recorded or sent.")
            % {"time": f"{timezone.localtime(now):%H:%M}", "day": _day(timezone.localdate(now))}
        )
        for email, lines in preview.items():
            self.stdout.write(
                ngettext(
                    "%(email)s: %(count)d reminder", "%(email)s: %(count)d reminders", len(lines)
                )
                % {"email": email, "count": len(lines)}
            )
            for line in lines:
                if line.days_overdue:
                    when = ngettext(
                        "%(days)d day overdue", "%(days)d days overdue", line.days_overdue
                    ) % {"days": line.days_overdue}
                elif line.days_left:
                    when = ngettext(
                        "due in %(days)d day", "due in %(days)d days", line.days_left
                    ) % {"days": line.days_left}
                else:
                    when = _("due today")
                self.stdout.write(
                    f"  - [{line.rule_label}] {line.title} [{line.code}] – "
                    f"{line.deadline:%d/%m/%Y}, {when}, "
                    + _("lead: %(unit)s")
                    % {"unit": line.unit_name}
                )
        if not preview:
            self.stdout.write(
                _("No reminder would be sent: nothing is due, or everything due was sent already.")
            )
