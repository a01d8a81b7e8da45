"""What changed since the last complete sweep, as the database itself records it.

A same-day sweep derives the same date windows as the sweep before it, so it can only find a
new step where something it reads has changed since: a task, its units, acknowledgements,
reports and requests, a plan, a unit, a membership, a self-assessment round or item, the
policy, the calendar, or a recorded row that was deleted or rewritten. Each of those tables has
a trigger that writes a ``SweepChange`` row in the changing transaction, whatever wrote the
change (a form, ``QuerySet.update``, ``bulk_create``, an import, a cascade, raw SQL). The
people told (focal points, heads, groups) are compared by ``sweep.Audiences``.

``SweepMarker`` is the sweep's side: a sweep may skip deriving only when the last complete
sweep derived the same day, no change row is left, every trigger is in place and nobody's
audience changed. A complete sweep removes exactly the change rows it read before deriving
(those committed later stay for the next sweep) and records its day, in one transaction with
the people it told, after its rows are in; a sweep that fails before then changes nothing,
and one that raced another sweep (the mark's version moved meanwhile) leaves the mark unset,
so the next sweep derives in full. See docs/reminders.md.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from functools import reduce

from django.apps import apps
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, F, Q

from notifications.models import SweepChange, SweepMark

# Every table a sweep's derivation reads (users and groups excepted: ``Audiences``).
WATCHED = (
    "plans.Plan",
    "plans.Task",
    "plans.Assignment",
    "plans.Acknowledgement",
    "plans.ProgressUpdate",
    "plans.ExtensionRequest",
    "plans.CompletionSubmission",
    "plans.Unit",
    "plans.UnitMembership",
    "plans.SelfAssessmentRound",
    "plans.SelfAssessmentItem",
    "notifications.ReminderPolicy",
    "notifications.CalendarException",
)
# The recorded rows: a deleted row, or one whose key changed, is a step to record again;
# their sending (status, claims, attempts) is not a change.
ROWS = "notifications.Notification"
ROW_KEY = ("task_id", "item_id", "rule", "step", "anchor_date", "recipient_email")

TRIGGER = "dtiplan_sweep_change"
FUNCTION = "dtiplan_sweep_changed"
FLAG = "dtiplan.sweep_changed"  # set in a transaction that has written its change row


def _tables() -> list[tuple[str, str | None]]:
    """(table, None) for every watched table, and (the recorded rows' table, "rows")."""
    return [(apps.get_model(label)._meta.db_table, None) for label in WATCHED] + [
        (apps.get_model(ROWS)._meta.db_table, "rows")
    ]


def _change_table() -> str:
    return SweepChange._meta.db_table


def _postgresql_statements() -> list[str]:
    """One statement-level trigger per table, writing one change row per transaction: an
    import of 100,000 rows writes one. The flag is transaction-local (``set_config(…, true)``)
    and goes with a rolled-back savepoint, as the row does."""
    changes = _change_table()
    statements = [
        # Identifiers from the models' own metadata: DDL takes no parameters.
        f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('{FLAG}', true) IS DISTINCT FROM 'on' THEN
                INSERT INTO {changes} ("table") VALUES (TG_TABLE_NAME);
                PERFORM set_config('{FLAG}', 'on', true);
            END IF;
            RETURN NULL;
        END $$"""  # noqa: S608
    ]
    for table, kind in _tables():
        events = (
            f"DELETE OR UPDATE OF {', '.join(ROW_KEY)} OR TRUNCATE"
            if kind == "rows"
            else "INSERT OR UPDATE OR DELETE OR TRUNCATE"
        )
        statements += [
            f'DROP TRIGGER IF EXISTS {TRIGGER} ON "{table}"',
            # The flag is tested in the WHEN clause: a transaction's later statements do not
            # even call the function (0.03 ms a statement otherwise).
            f'CREATE TRIGGER {TRIGGER} AFTER {events} ON "{table}" FOR EACH STATEMENT '
            f"WHEN (current_setting('{FLAG}', true) IS DISTINCT FROM 'on') "
            f"EXECUTE FUNCTION {FUNCTION}()",
        ]
    return statements


def _sqlite_triggers() -> dict[str, str]:
    """Name → definition: SQLite has row-level triggers only, one per event."""
    changes = _change_table()
    triggers = {}
    for table, kind in _tables():
        events = (
            {"delete": "DELETE", "update": f"UPDATE OF {', '.join(ROW_KEY)}"}
            if kind == "rows"
            else {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}
        )
        for name, event in events.items():
            trigger = f"{TRIGGER}_{table}_{name}"
            insert = f'INSERT INTO "{changes}" ("table") VALUES (\'{table}\')'  # noqa: S608
            triggers[trigger] = (
                f'CREATE TRIGGER IF NOT EXISTS "{trigger}" AFTER {event} ON "{table}" '
                f"BEGIN {insert}; END"
            )
    return triggers


def triggers_install(using: BaseDatabaseWrapper | None = None) -> None:
    """Create (or re-create) the triggers, and unset the mark: run after every ``migrate``
    (``post_migrate``), that is every release. A migration that rebuilds a table on SQLite
    drops its triggers, and writes nothing while it has none; a release may change the rules
    themselves. The next sweep then derives in full."""
    db = using or connection
    needed = {table for table, _kind in _tables()} | {_change_table()}
    if needed - set(db.introspection.table_names()):
        return  # not migrated yet: the run that creates the tables installs them
    SweepMark.objects.using(db.alias).update(day=None, version=F("version") + 1)
    if db.vendor == "postgresql":
        statements = _postgresql_statements()
    elif db.vendor == "sqlite":
        statements = list(_sqlite_triggers().values())
    else:  # pragma: no cover - dtiplan runs on PostgreSQL and SQLite only
        return
    with db.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def triggers_installed(using: BaseDatabaseWrapper | None = None) -> bool:
    """Every watched table has its trigger, enabled (one catalog query). Without them a sweep
    never skips: it derives in full, as before there were any."""
    db = using or connection
    tables = [table for table, _kind in _tables()]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM unnest(%s::text[]) AS name WHERE EXISTS ("
                " SELECT 1 FROM pg_trigger t WHERE t.tgrelid = to_regclass(quote_ident(name))"
                " AND t.tgname = %s AND t.tgenabled <> 'D')",
                [tables, TRIGGER],
            )
            return cursor.fetchone()[0] == len(tables)
        if db.vendor == "sqlite":
            names = list(_sqlite_triggers())
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                " AND name IN (SELECT value FROM json_each(%s))",
                [json.dumps(names)],
            )
            return cursor.fetchone()[0] == len(names)
    return False  # pragma: no cover


def _runs(ids: list[int]) -> list[tuple[int, int]]:
    """Sorted ids as runs of consecutive ids: (first, last)."""
    runs: list[tuple[int, int]] = []
    for pk in ids:
        if runs and runs[-1][1] == pk - 1:
            runs[-1] = (runs[-1][0], pk)
        else:
            runs.append((pk, pk))
    return runs


class SweepMarker:
    """Whether the sweep may skip deriving, and the mark a complete sweep leaves."""

    def __init__(self) -> None:
        self.version = 0
        self.day: dt.date | None = None
        self.seen: list[tuple[int, int]] = []  # the change rows read, as runs of ids
        self.watched = False
        self.derived: dt.date | None = None

    def read(self) -> None:
        """The mark, whether any change row is left (and which), and whether the triggers are
        in place (two queries when nothing changed).
        Read before deriving: every change committed before this read is in what the
        derivation sees."""
        mark = (
            SweepMark.objects.filter(pk=1)
            .annotate(changed=Exists(SweepChange.objects.all()))
            .values_list("day", "version", "changed")
            .first()
        )
        self.day, self.version, changed = mark or (None, 0, True)
        if changed:
            ids = SweepChange.objects.order_by("pk").values_list("pk", flat=True)
            self.seen = _runs(list(ids))
        self.watched = triggers_installed()

    def quiet(self, today: dt.date) -> bool:
        """Nothing the derivation reads changed since a complete sweep derived ``today``."""
        return self.watched and self.day == today and not self.seen

    def complete(self) -> None:
        """After a derivation's rows are in, in the caller's transaction: remove the change
        rows it saw and record its day, unless another sweep completed since ``read`` (then
        the mark is unset: who saw what is unknown). Nothing when no derivation ran."""
        if self.derived is None:
            return
        mark = SweepMark.objects.select_for_update().filter(pk=1).first()
        if mark is None:  # none yet (the migration writes it; a flush removes it)
            SweepMark.objects.bulk_create([SweepMark(pk=1)], ignore_conflicts=True)
            mark = SweepMark.objects.select_for_update().get(pk=1)
        if mark.version == self.version:
            # Runs of ids, not "up to the last id read": a change committed later may have a
            # smaller id, and it must stay.
            for start in range(0, len(self.seen), 200):
                runs = self.seen[start : start + 200]
                SweepChange.objects.filter(
                    reduce(operator.or_, (Q(pk__range=run) for run in runs))
                ).delete()
            if connection.vendor == "postgresql":
                # A transaction that goes on writing (a test's) must write a row again.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, '', true)", [FLAG])
            mark.day = self.derived
        else:
            mark.day = None
        mark.version += 1
        mark.save()
