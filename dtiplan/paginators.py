"""A paginator for the admin's big lists: an unfiltered list of a large table is counted from
the database's statistics, not with ``COUNT(*)``.

Counting every row costs time in proportion to the table (PostgreSQL has no stored row count),
and the admin counts on every page of a list. When the list is the whole table and the
planner's estimate (``pg_class.reltuples``, kept by autovacuum's ANALYZE) says it is large,
that estimate serves: the page still shows its 100 rows, and "about 100,000" pages are
navigable. A filtered or searched list, a small table and SQLite are counted exactly, so what
someone narrows down is always counted right.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model, QuerySet
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap, and a list that small is worth counting right.
ESTIMATE_FROM = 50_000


def is_whole_table(queryset: QuerySet) -> bool:
    """No filter, no DISTINCT, no grouping, no slice: the queryset has every row of its table."""
    query = queryset.query
    return not (
        query.where
        or query.distinct
        or query.group_by
        or query.combinator
        or query.low_mark
        or query.high_mark is not None
    )


def table_estimate(model: type[Model], using: str) -> int | None:
    """The planner's row count of the model's table on PostgreSQL; None elsewhere, or when the
    table was never analyzed."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        row = cursor.fetchone()
    # -1: never analyzed (PostgreSQL 14+); None: no such table.
    return int(row[0]) if row and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet) and is_whole_table(rows):
            estimate = table_estimate(rows.model, rows.db)
            if estimate is not None and estimate >= ESTIMATE_FROM:
                return estimate
        return super().count
