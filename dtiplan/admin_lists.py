"""Admin lists whose cost does not grow with their table: ``BigListAdmin`` for the lists of
tables that grow with the tasks (tasks, their records, the delivery log).

Two things on a Django admin list read every row of the table, whatever the page shows:

- the count: PostgreSQL keeps no row count, so ``COUNT(*)`` reads the table. An unfiltered
  list of a large table is counted from the planner's estimate instead (``pg_class.reltuples``,
  kept by autovacuum's ANALYZE): the page still shows its rows, and "about 100,000" pages are
  navigable. A filtered or searched list, a small table and SQLite are counted exactly, so
  what someone narrows down is always counted right;
- the date drill-down (``date_hierarchy``): Django lists the years (months, days) that have
  rows with ``SELECT DISTINCT`` over every row. Here, for a list of more than ``FEW_ROWS``
  rows, the first and last date are read from the index and each year (month, day) between
  them is asked "any row?" (``EXISTS``), all in one query: the cost follows the years shown,
  not the rows. A list narrowed to ``FEW_ROWS`` or fewer (counted exactly, just before) reads
  its rows' distinct dates once instead, for the bounds and every level: each ``EXISTS`` would
  apply the list's filter again, and a search or a unit's tasks, which find their ids first,
  would find them once per year.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import DateField, DateTimeField, Exists, Max, Min, Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap, and a list that small is worth counting right.
ESTIMATE_FROM = 50_000
# A drill-down spanning more periods than this (a mistyped year 2206) asks Django's way.
MAX_PERIODS = 120
# A list of at most this many rows finds its drill-down's periods in one pass over its rows.
FEW_ROWS = 10_000


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


def _next(start: dt.date, kind: str) -> dt.date:
    if kind == "year":
        return start.replace(year=start.year + 1)
    if kind == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def _first(day: dt.date, kind: str) -> dt.date:
    if kind == "year":
        return day.replace(month=1, day=1)
    if kind == "month":
        return day.replace(day=1)
    return day


def _is_few(queryset: QuerySet) -> bool:
    found = getattr(queryset, "_rows_found", None)
    return found is not None and found <= FEW_ROWS


def periods_with_rows(queryset: QuerySet, field: str, kind: str, *, aware: bool) -> list | None:
    """The starts of the years, months or days (``kind``) in which ``queryset`` has a row, in
    two queries that read the index: the first and last value (or the ones the drill-down
    already asked this queryset for, ``_PeriodsQuerySet.aggregate``), then one EXISTS per period
    between them. A list that found at most ``FEW_ROWS`` rows (``_BigChangeList``) takes its
    periods from the distinct days its bounds question read (a date field), or None for
    Django's one pass over its rows (a datetime field); so does a span of more than
    ``MAX_PERIODS``. ``aware``: a datetime field, cut into periods in the current time
    zone."""
    if _is_few(queryset):
        days = getattr(queryset, "_days", {}).get(field)
        if days is None or aware:
            return None
        return sorted({_first(day, kind) for day in days})
    bounds = getattr(queryset, "_date_bounds", {}).get(field)
    if bounds is None:
        bounds = queryset.order_by().aggregate(first=Min(field), last=Max(field))
    if bounds["first"] is None:
        return []
    first, last = bounds["first"], bounds["last"]
    if aware:
        first, last = timezone.localdate(first), timezone.localdate(last)
    starts = [_first(first, kind)]
    while _next(starts[-1], kind) <= last:
        starts.append(_next(starts[-1], kind))
        if len(starts) > MAX_PERIODS:
            return None

    def edge(day: dt.date) -> dt.date | dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time())) if aware else day

    checks = {
        f"p{n}": Exists(
            queryset.order_by().filter(
                **{f"{field}__gte": edge(start), f"{field}__lt": edge(_next(start, kind))}
            )
        )
        for n, start in enumerate(starts)
    }
    found = queryset.model._default_manager.using(queryset.db).order_by()
    row = found.annotate(**checks).values(*checks).first() or {}
    return [edge(start) for n, start in enumerate(starts) if row.get(f"p{n}")]


def _bounds_of(args: tuple, kwargs: dict[str, Any]) -> str | None:
    """The field of an ``aggregate(first=Min(field), last=Max(field))``, the drill-down's
    question for its starting level; None for any other aggregate."""
    first, last = kwargs.get("first"), kwargs.get("last")
    if args or set(kwargs) != {"first", "last"}:
        return None
    if not (isinstance(first, Min) and isinstance(last, Max)):
        return None
    names = {
        getattr(expression.get_source_expressions()[0], "name", None)
        for expression in (first, last)
    }
    return names.pop() if len(names) == 1 else None


class _PeriodsQuerySet(QuerySet):
    """``dates()`` and ``datetimes()`` as the date drill-down calls them, by
    :func:`periods_with_rows`. The drill-down first asks the list's queryset for its first and
    last date, then for its periods: the answer to the first question is kept on the queryset,
    so the second does not ask it again."""

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        field = _bounds_of(args, kwargs)
        if field is not None and _is_few(self) and self._is_date(field):
            # A few rows: their distinct days, once, answer the bounds and every level.
            days = sorted(self.order_by().values_list(field, flat=True).distinct())
            self._days = {field: days}
            return {"first": days[0] if days else None, "last": days[-1] if days else None}
        result = super().aggregate(*args, **kwargs)
        if field is not None:
            self._date_bounds = {field: result}
        return result

    def _is_date(self, name: str) -> bool:
        """A date (not a datetime) field of the list's own model."""
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:  # a related path: Django's way
            return False
        return isinstance(field, DateField) and not isinstance(field, DateTimeField)

    def dates(self, field_name: str, kind: str, order: str = "ASC") -> Any:
        found = periods_with_rows(self, field_name, kind, aware=False)
        if found is None:
            return super().dates(field_name, kind, order)
        return found if order == "ASC" else found[::-1]

    def datetimes(self, field_name: str, kind: str, order: str = "ASC", **kwargs: Any) -> Any:
        found = None
        if kind in ("year", "month", "day") and not kwargs:
            found = periods_with_rows(self, field_name, kind, aware=True)
        if found is None:
            return super().datetimes(field_name, kind, order, **kwargs)
        return found if order == "ASC" else found[::-1]


@functools.cache
def _with_periods(cls: type[QuerySet]) -> type[QuerySet]:
    return type(f"Periods{cls.__name__}", (_PeriodsQuerySet, cls), {})


class _BigChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        queryset = super().get_queryset(request, exclude_parameters)
        # The same queryset (its clones too), answering the drill-down's dates() cheaply.
        queryset.__class__ = _with_periods(queryset.__class__)
        return queryset

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # The drill-down then asks this queryset (not a clone): how many rows the list has
        # picks its way of finding the periods (``periods_with_rows``).
        self.queryset._rows_found = self.result_count


class BigListAdmin(admin.ModelAdmin):
    """A list of a table that grows with the data: counted from the estimate when whole, its
    date drill-down read from the index, and no second count of the whole table."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _BigChangeList
