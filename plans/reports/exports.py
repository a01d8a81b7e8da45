"""The reports as files: each report as a table (``Table``) written to XLSX; the periodic pack
(a month's or a quarter's) as XLSX and DOCX in the layout provincial reports use.

Text cells go through ``dtiplan.spreadsheets.exports.escape_formula`` (a cell starting with = + - @
tab or carriage return would run as a formula); numbers stay numbers and dates are real dates
shown dd/mm/yyyy, so the committee's secretariat can sum and sort them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm, Pt
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from dtiplan.spreadsheets.exports import escape_formula
from dtiplan.text import printable
from plans.models import (
    Assignment,
    CompletionSubmission,
    Decision,
    Evidence,
    ExtensionRequest,
    ItemStatus,
    Plan,
    ProgressUpdate,
    Task,
)
from plans.periods import QUARTER, Period
from plans.reports import queries
from plans.reports.filters import NOT_WORK, ReportFilters, report_tasks

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: Iterable[Sequence[Any]]
    widths: list[int] = field(default_factory=list)


def cell_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    if isinstance(value, dt.date | int | float | Decimal):
        return value
    return escape_formula(printable(str(value)))


def _write_sheet(workbook: Workbook, table: Table) -> Worksheet:
    # Sheet titles: at most 31 characters, and none of []:*?/\ .
    title = "".join(c for c in table.title if c not in "[]:*?/\\")[:31]
    sheet = workbook.create_sheet(title=title)
    for index, width in enumerate(table.widths, start=1):
        sheet.column_dimensions[_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for name in table.headers:
        cell = WriteOnlyCell(sheet, value=cell_value(name))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=cell_value(value))
            if isinstance(cell.value, dt.date):
                cell.number_format = "DD/MM/YYYY"
            cells.append(cell)
        sheet.append(cells)
    return sheet


def _column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    # Write-only mode streams rows: 10,000 tasks do not build a tree of cell objects.
    workbook = Workbook(write_only=True)
    for table in tables:
        _write_sheet(workbook, table)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- The reports as tables -------------------------------------------------------------------


def overview_table(data: queries.Overview) -> Table:
    headers = [
        _("Main indicator"),
        _("Pillar"),
        _("Tasks"),
        _("Completed"),
        _("In progress"),
        _("Overdue"),
        _("% complete"),
        _("Points targeted"),
    ]
    rows: list[list[Any]] = []
    for line in data.indicators:
        rows.append(_progress_row(line.label, _pillar_label(line.pillar), line))
    rows.append([])
    for line in data.pillars:
        rows.append(_progress_row(_("Pillar: %(name)s") % {"name": line.label}, "", line))
    rows.append(_progress_row(_("Total"), "", data.total))
    return Table(_("Overview"), headers, rows, [44, 20, 8, 11, 11, 9, 11, 14])


def _pillar_label(value: str) -> str:
    from indicators.models import Pillar

    return str(Pillar(value).label) if value else ""


def _progress_row(label: str, pillar: str, line: queries.ProgressLine) -> list[Any]:
    return [
        label,
        pillar,
        line.total,
        line.completed,
        line.in_progress,
        line.overdue,
        line.percent_complete,
        line.points_targeted,
    ]


def units_table(lines: list[queries.UnitLine]) -> Table:
    headers = [
        _("Unit"),
        _("Tasks as lead"),
        _("Completed on time"),
        _("Completed late"),
        _("Overdue now"),
        _("Tasks with a role"),
        _("Acknowledged"),
        _("% acknowledged"),
        _("Last progress report"),
    ]
    rows = [
        [
            line.unit.name,
            line.lead,
            line.completed_on_time,
            line.completed_late,
            line.overdue,
            line.with_role,
            line.acknowledged,
            line.acknowledged_share,
            line.last_report_at,
        ]
        for line in lines
    ]
    return Table(_("Units"), headers, rows, [40, 10, 12, 12, 10, 10, 12, 12, 14])


def coverage_table(data: queries.Coverage) -> Table:
    headers = [
        _("Province"),
        _("Year"),
        _("Indicator"),
        _("Points"),
        _("Max points"),
        _("Value"),
        _("Points to win"),
        _("Tasks"),
        _("Rule"),
    ]
    rule = data.reading.rule.label if data.reading else ""
    rows = [
        [
            row.assessment.province.name_in_year(row.assessment.year),
            row.assessment.year,
            str(row.indicator),
            row.points,
            row.indicator.max_points,
            row.value,
            None
            if row.recoverable_points is None
            else Decimal(row.recoverable_points).quantize(Decimal("0.01")),
            "; ".join(
                f"{t.title} ({t.lead_unit.name}, {t.get_status_display()})"
                for t in row.addressing_tasks
            )
            or _("No task"),
            rule,
        ]
        for row in data.rows
    ]
    return Table(_("Coverage"), headers, rows, [20, 8, 44, 8, 10, 8, 12, 60, 40])


def overdue_table(tasks: Iterable[Task], now: dt.datetime) -> Table:
    headers = [
        _("Task"),
        _("Indicator"),
        _("Lead unit"),
        _("Deadline"),
        _("Days overdue"),
        _("% done"),
        _("Last progress report"),
        _("Reason for the delay"),
    ]
    rows = (
        [
            task.title,
            str(task.indicator),
            task.lead_unit.name,
            task.deadline,
            task.days_overdue(now),
            task.percent_done,
            task.last_report_at,
            task.delay_reason,
        ]
        for task in tasks
    )
    return Table(_("Overdue"), headers, rows, [50, 30, 30, 12, 10, 8, 14, 50])


def trend_table(data: queries.Trend) -> Table:
    headers = [_("Year"), _("Set"), _("Indicator"), _("Value"), _("Rank"), _("Mean of provinces")]
    rows: list[list[Any]] = []
    for year in data.years:
        rows.append(
            [
                year.year,
                year.framework,
                "DTI",
                year.dti.official_value if year.dti else None,
                f"{year.dti.official_rank}/{year.dti.official_out_of}"
                if year.dti and year.dti.official_rank
                else None,
                year.dti_mean,
            ]
        )
        for line in year.indicators:
            rows.append(
                [year.year, year.framework, str(line.indicator), line.value, None, line.mean]
            )
    return Table(_("Trend"), headers, rows, [8, 10, 44, 10, 10, 16])


def owners_table(data: queries.Owners) -> Table:
    """Progress per presiding unit (``queries.owners``); the self-assessment columns only when
    a round is open."""
    statuses = list(ItemStatus.choices) if data.round else []
    headers = [
        _("Presiding unit"),
        _("Indicators"),
        _("Weak indicators"),
        _("Tasks"),
        _("Completed"),
        _("In progress"),
        _("Overdue"),
        *[_("Self-assessment: %(status)s") % {"status": label} for _v, label in statuses],
    ]
    rows = [
        [
            line.unit.name if line.unit else _("No presiding unit"),
            line.indicators,
            line.weak,
            line.total,
            line.completed,
            line.in_progress,
            line.overdue,
            *[line.items[value] for value, _label in statuses],
        ]
        for line in data.lines
    ]
    return Table(
        _("Indicator owners"), headers, rows, [40, 10, 10, 8, 11, 11, 9, *[14 for _s in statuses]]
    )


# --- The periodic pack -----------------------------------------------------------------------

# The columns of the provinces' own progress reports. In Vietnamese they are the provinces' own
# words (the pack's layout is theirs); in English, their meaning.
PACK_HEADERS = [
    pgettext_lazy("monthly pack column", "No."),
    pgettext_lazy("monthly pack column", "Task"),
    pgettext_lazy("monthly pack column", "Indicator"),
    pgettext_lazy("monthly pack column", "Lead unit"),
    pgettext_lazy("monthly pack column", "Coordinating units"),
    pgettext_lazy("monthly pack column", "Deadline"),
    pgettext_lazy("monthly pack column", "Progress / Result"),
    pgettext_lazy("monthly pack column", "Difficulties"),
    pgettext_lazy("monthly pack column", "Proposals"),
    pgettext_lazy("monthly pack column", "Evidence"),
]


def pack_headers() -> list[str]:
    """The pack's column headers in the active language."""
    return [str(header) for header in PACK_HEADERS]


PACK_WIDTHS = [6, 45, 30, 25, 30, 12, 45, 35, 35, 25]


def pack_tasks() -> Any:
    """The tasks of the plans not closed, with what each pack column needs as annotations:
    one query, plus one for the coordinating units of all of them."""
    progress = ProgressUpdate.objects.filter(task=OuterRef("pk")).order_by("-created_at", "-pk")
    completion = CompletionSubmission.objects.filter(
        task=OuterRef("pk"), status__in=[Decision.APPROVED, Decision.PENDING]
    ).order_by("-submitted_at", "-pk")
    extension = ExtensionRequest.objects.filter(
        task=OuterRef("pk"), status=Decision.PENDING
    ).order_by("-requested_at")
    evidence = (
        Evidence.objects.filter(task=OuterRef("pk"))
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        report_tasks(ReportFilters())
        .exclude(plan__status=Plan.Status.CLOSED)
        .with_list_columns()
        .annotate(
            last_note=Subquery(progress.values("note")[:1]),
            last_report_at=Subquery(progress.values("created_at")[:1]),
            delay_reason=Coalesce(
                Subquery(progress.filter(~Q(delay_reason="")).values("delay_reason")[:1]),
                Subquery(completion.filter(~Q(delay_reason="")).values("delay_reason")[:1]),
            ),
            document_number=Subquery(completion.values("document_number")[:1]),
            document_summary=Subquery(completion.values("summary")[:1]),
            extension_to=Subquery(extension.values("new_deadline")[:1]),
            extension_reason=Subquery(extension.values("reason")[:1]),
            evidence_count=Subquery(evidence),
        )
        .order_by("plan__year", "plan_id", "indicator__sort_key", "deadline", "pk")
    )


def _coordinating_units(task_ids: Any) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        Assignment.objects.filter(task__in=task_ids, role=Assignment.Role.COORDINATING)
        .order_by("unit__name")
        .values_list("task_id", "unit__name")
    )
    for task_id, name in rows:
        names[task_id].append(name)
    return names


def _day(value: dt.date | None) -> str:
    return date_format(value, "d/m/Y") if value else ""


def pack_row(number: int, task: Task, coordinating: list[str], now: dt.datetime) -> list[Any]:
    deadline = _day(task.deadline)
    if task.original_deadline and task.original_deadline != task.deadline:
        deadline += " " + _("(was %(date)s)") % {"date": _day(task.original_deadline)}
    # A percentage says how far work has come: only while the task is worked on (a submitted
    # task is done as far as the unit knows, a completed or cancelled one is past it).
    progress = (
        f"{task.get_status_display()}, {task.percent_done}%"
        if task.status in Task.OPEN_STATUSES
        else str(task.get_status_display())
    )
    if task.is_overdue(now):
        days = task.days_overdue(now)
        progress += " – " + ngettext("%(days)d day overdue", "%(days)d days overdue", days) % {
            "days": days
        }
    if task.document_summary and task.status in (Task.Status.SUBMITTED, Task.Status.COMPLETED):
        progress += f"\n{task.document_summary}"
    elif task.last_note:
        progress += f"\n{task.last_note}"
    proposal = ""
    if task.extension_to:
        proposal = _("Extension to %(date)s: %(reason)s") % {
            "date": _day(task.extension_to),
            "reason": task.extension_reason,
        }
    evidence = []
    if task.document_number:
        evidence.append(task.document_number)
    if task.evidence_count:
        evidence.append(
            ngettext("%(count)d file or link", "%(count)d files or links", task.evidence_count)
            % {"count": task.evidence_count}
        )
    return [
        number,
        task.title,
        str(task.indicator),
        task.lead_unit.name,
        "; ".join(coordinating),
        deadline,
        progress,
        task.delay_reason or "",
        proposal,
        "; ".join(evidence),
    ]


# The pack's first ``limit`` tasks in its order (plan year, plan, indicator's place, deadline),
# on PostgreSQL: for each plan not closed and each indicator, its first ``limit`` work tasks
# through the index task_pack_order, then the first ``limit`` of those. The order spans three
# tables, so no index serves it whole: sorting every task of the open plans instead took
# 228 ms at 100,000 tasks, this 35 ms (plans × indicators index probes, whatever the tasks).
PACK_FIRST_SQL = """
SELECT task.id
FROM plans_plan AS plan
CROSS JOIN indicators_indicator AS indicator
CROSS JOIN LATERAL (
    SELECT id, deadline FROM plans_task
    WHERE plan_id = plan.id AND indicator_id = indicator.id AND NOT (status = ANY(%(not_work)s))
    ORDER BY deadline, id
    LIMIT %(limit)s
) AS task
WHERE plan.status <> %(closed)s
ORDER BY plan.year, plan.id, indicator.sort_key, task.deadline, task.id
LIMIT %(limit)s
"""


def pack_first_ids(tasks: Any, limit: int) -> list[int]:
    """The ids of the pack's first ``limit`` tasks (``pack_tasks``' rows and order)."""
    if connection.vendor != "postgresql":
        return list(tasks.values_list("pk", flat=True)[:limit])
    params = {"not_work": list(NOT_WORK), "limit": limit, "closed": Plan.Status.CLOSED}
    with connection.cursor() as cursor:
        cursor.execute(PACK_FIRST_SQL, params)
        return [pk for (pk,) in cursor.fetchall()]


def pack_rows(now: dt.datetime, limit: int | None = None) -> list[list[Any]]:
    tasks = pack_tasks()
    if limit:
        # The first rows are picked on the bare tasks, then annotated: the columns'
        # subqueries run for these rows only, not for every task ahead of the sort.
        tasks = tasks.filter(pk__in=pack_first_ids(tasks, limit))
    tasks = list(tasks)
    coordinating = _coordinating_units([t.pk for t in tasks])
    return [
        pack_row(number, task, coordinating.get(task.pk, []), now)
        for number, task in enumerate(tasks, start=1)
    ]


def pack_title(period: Period) -> str:
    return _("DTI improvement plan: progress report, %(period)s") % {"period": period.phrase}


@dataclass
class Pack:
    period: Period
    title: str
    rows: list[list[Any]]
    overview: queries.Overview
    units: list[queries.UnitLine]
    owners: queries.Owners
    coverage: queries.Coverage
    trend: queries.Trend
    overdue: list[Task]
    as_of: dt.datetime


def pack_moment(period: Period, now: dt.datetime) -> dt.datetime:
    """The moment a period's pack describes: the end of its month or quarter, or ``now`` for
    the period still running. An October pack sent on 3 November counts days overdue up to 31
    October."""
    end = timezone.make_aware(dt.datetime.combine(period.end, dt.time.max))
    return min(now, end)


def pack_build(*, period: Period, now: dt.datetime) -> Pack:
    """Everything the pack holds, for every plan not closed: overdue and days overdue as of the
    end of the period (``pack_moment``), the tasks as they stand."""
    now = pack_moment(period, now)
    filters = ReportFilters()
    return Pack(
        period=period,
        title=pack_title(period),
        rows=pack_rows(now),
        overview=queries.overview(filters=filters, now=now),
        units=queries.units(filters=filters, now=now),
        owners=queries.owners(filters=filters, now=now),
        coverage=queries.coverage(filters=filters, now=now),
        trend=queries.trend(filters=filters, now=now),
        overdue=list(queries.overdue_tasks(filters=filters, now=now)),
        as_of=now,
    )


def pack_sheet_title(period: Period) -> str:
    return _("Quarterly report") if period.kind == QUARTER else _("Monthly report")


def pack_xlsx(pack: Pack, now: dt.datetime) -> bytes:
    return xlsx_bytes(
        [
            Table(pack_sheet_title(pack.period), pack_headers(), pack.rows, PACK_WIDTHS),
            overview_table(pack.overview),
            units_table(pack.units),
            owners_table(pack.owners),
            overdue_table(pack.overdue, pack.as_of),
            coverage_table(pack.coverage),
            trend_table(pack.trend),
        ]
    )


def pack_docx(pack: Pack) -> bytes:
    """The pack's task table as a Word document (landscape A4), the form provincial reports
    are filed in. Built from raw XML rows: python-docx's ``add_row``/``cell`` API re-reads the
    whole table per cell and takes minutes for 10,000 tasks."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    document.styles["Normal"].font.size = Pt(9)
    document.add_heading(pack.title, level=1)
    total = pack.overview.total
    document.add_paragraph(
        _(
            "%(total)d tasks: %(completed)d completed, %(in_progress)d in progress, "
            "%(overdue)d overdue."
        )
        % {
            "total": total.total,
            "completed": total.completed,
            "in_progress": total.in_progress,
            "overdue": total.overdue,
        }
    )
    headers = pack_headers()
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, headers, strict=True):
        cell.text = name
        for run in cell.paragraphs[0].runs:
            run.font.bold = True

    def paragraph(text: str) -> str:
        text = printable(str(text))
        lines = text.split("\n")
        runs = "<w:r><w:br/></w:r>".join(
            f'<w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r>' for line in lines
        )
        return f"<w:tc><w:p>{runs}</w:p></w:tc>"

    tbl = table._tbl
    for row in pack.rows:
        cells = "".join(paragraph("" if value is None else value) for value in row)
        tbl.append(parse_xml(f"<w:tr {nsdecls('w')}>{cells}</w:tr>"))
    _docx_table(document, owners_table(pack.owners))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_table(document: Any, table: Table) -> None:
    """A small table (one row per unit) under its heading, through python-docx's own API."""
    document.add_heading(table.title, level=2)
    grid = document.add_table(rows=1, cols=len(table.headers))
    grid.style = "Table Grid"
    for cell, name in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.text = name
        for run in cell.paragraphs[0].runs:
            run.font.bold = True
    for row in table.rows:
        for cell, value in zip(grid.add_row().cells, row, strict=True):
            cell.text = printable(str("" if value is None else value))


def pack_files(*, period: Period, now: dt.datetime) -> tuple[Pack, list[tuple[str, bytes, str]]]:
    """The pack and its attachments (file name, content, MIME type)."""
    pack = pack_build(period=period, now=now)
    stem = f"dtiplan-bao-cao-{period.slug}"
    return pack, [
        (f"{stem}.xlsx", pack_xlsx(pack, now), XLSX_TYPE),
        (f"{stem}.docx", pack_docx(pack), DOCX_TYPE),
    ]


def readiness_table(data: Any) -> Table:
    """A self-assessment round's readiness by presiding unit (``plans.self_assessment``)."""
    statuses = list(ItemStatus.choices)
    rows = [
        [
            line.unit.name if line.unit else _("No presiding unit"),
            line.total,
            *[line.counts[value] for value, _label in statuses],
            line.without_evidence,
        ]
        for line in data.units
    ]
    rows.append(
        [_("Total"), data.total, *[data.counts[v] for v, _l in statuses], data.without_evidence]
    )
    return Table(
        title=_("Self-assessment %(year)s") % {"year": data.round.year},
        headers=[
            _("Presiding unit"),
            _("Items"),
            *[label for _value, label in statuses],
            _("Without evidence"),
        ],
        rows=rows,
        widths=[40, 8, *[12 for _s in statuses], 12],
    )


def targets_table(lines: Iterable[Any]) -> Table:
    """The targets report (``plans.targets.target_lines``): one row per target."""
    rows = []
    for line in lines:
        latest = line.latest
        rows.append(
            [
                line.target.plan.title,
                line.target.plan.province.name,
                str(line.target),
                latest.year if latest else None,
                line.current,
                latest.rank if latest else None,
                latest.out_of if latest else None,
                line.gap,
                _("yes") if line.reached else _("no"),
                "; ".join(f"{year}: {measure}" for year, measure in line.trend_measures),
            ]
        )
    return Table(
        title=_("Targets"),
        headers=[
            _("Plan"),
            _("Province"),
            _("Target"),
            _("Latest year"),
            _("Latest position"),
            _("Rank"),
            _("Out of"),
            _("Gap"),
            _("Reached"),
            _("Earlier years"),
        ],
        rows=rows,
        widths=[36, 20, 40, 10, 12, 8, 8, 10, 10, 30],
    )


def _weak_cells(weak: Any) -> list[Any]:
    """A weak indicator's figures: code, name, max points, points, value, recoverable."""
    indicator = weak.score.indicator
    return [
        indicator.code,
        indicator.name,
        indicator.max_points,
        weak.score.points,
        weak.score.value,
        weak.recoverable,
    ]


def _owner_cells(weak: Any) -> list[str]:
    """A weak indicator's presiding and monitoring unit."""
    owners = weak.owners
    return [
        owners.presiding.name if owners and owners.presiding else "",
        owners.monitoring.name if owners and owners.monitoring else "",
    ]


def what_it_takes_table(line: Any) -> Table:
    """The weak indicators that would close a target's gap, most recoverable points first,
    with the running total and the line where it covers the points still needed."""
    closes = ""
    if line is not None and line.points_needed is not None:
        closes = _("closes the gap here (%(points)s points needed)") % {
            "points": line.points_needed
        }
    rows = [
        [
            *_weak_cells(weak),
            weak.running_total,
            *_owner_cells(weak),
            closes if weak.closes_gap else "",
        ]
        for weak in (line.weak if line else [])
    ]
    return Table(
        title=_("What it takes"),
        headers=[
            _("Code"),
            _("Indicator"),
            _("Max points"),
            _("Points"),
            _("Value"),
            _("Recoverable points"),
            _("Running total"),
            _("Presiding unit"),
            _("Monitoring unit"),
            _("Gap closed"),
        ],
        rows=rows,
        widths=[10, 50, 10, 10, 10, 12, 12, 30, 30, 30],
    )


def main_indicators_tables(line: Any) -> list[Table]:
    """A "main indicators in the top M" target: each main indicator against the province at
    rank M, then the weak components of the cheapest ones to bring in."""
    top = line.target.rank
    mains = [
        [
            main.indicator.code,
            main.indicator.name,
            main.value,
            main.rank,
            main.rival_name,
            main.rival_value,
            main.gap,
            _("yes") if main.in_top else _("no"),
            main.order,
        ]
        for main in line.mains
    ]
    components = [
        [main.order, main.indicator.code, *_weak_cells(weak), *_owner_cells(weak)]
        for main in line.mains_to_bring_in
        for weak in main.weak
    ]
    return [
        Table(
            title=_("Main indicators"),
            headers=[
                _("Code"),
                _("Main indicator"),
                _("Value"),
                _("Rank"),
                _("Province at rank %(rank)s") % {"rank": top},
                _("Its value"),
                _("Value still needed"),
                _("In the top %(rank)s") % {"rank": top},
                _("To bring in"),
            ],
            rows=mains,
            widths=[8, 40, 10, 8, 24, 10, 12, 12, 10],
        ),
        Table(
            title=_("Weak components"),
            headers=[
                _("To bring in"),
                _("Main indicator"),
                _("Code"),
                _("Indicator"),
                _("Max points"),
                _("Points"),
                _("Value"),
                _("Recoverable points"),
                _("Presiding unit"),
                _("Monitoring unit"),
            ],
            rows=components,
            widths=[10, 10, 10, 50, 10, 10, 10, 12, 30, 30],
        ),
    ]
