"""History rows (django-simple-history) of objects written in bulk, copied by the database.

``simple_history.utils.bulk_create_with_history`` builds one historical object per row in
Python and inserts them; for the tens of thousands of rows of a long import that costs as much
as the rows themselves. :func:`history_copy` writes the same rows with one ``INSERT ... SELECT``
from the rows just saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.db.models import CharField, DateTimeField, IntegerField, TextField, Value
from django.utils import timezone


def history_copy(
    model: type[models.Model], pks: Sequence[Any], *, history_type: str, user: Any
) -> None:
    """The history rows of ``model``'s objects ``pks`` as they are now in the database, as
    ``bulk_create_with_history`` (``history_type`` "+") or ``bulk_update_with_history`` ("~")
    write them: the tracked fields, now, ``user`` (or none), no change reason."""
    if not pks or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = model.history.model  # type: ignore[attr-defined]
    tracked = list(history.tracked_fields)
    marks = {
        "history_date": Value(timezone.now(), DateTimeField()),
        "history_user_id": Value(getattr(user, "pk", None), IntegerField()),
        "history_change_reason": Value(None, TextField()),
        "history_type": Value(history_type, CharField()),
    }
    names = [f"_copy_{name}" for name in marks]
    rows = (
        model._base_manager.filter(pk__in=list(pks))
        .annotate(**dict(zip(names, marks.values(), strict=True)))
        .values_list(*[field.attname for field in tracked], *names)
    )
    sql, params = rows.query.sql_with_params()
    connection = connections[rows.db]
    quote = connection.ops.quote_name
    columns = [history._meta.get_field(field.name).column for field in tracked] + [
        history._meta.get_field(name.removesuffix("_id")).column for name in marks
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} "
            f"({', '.join(quote(column) for column in columns)}) {sql}",
            params,
        )
