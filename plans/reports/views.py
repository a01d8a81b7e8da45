"""The report pages: read-only admin views under /admin/reports/.

Each page is a GET: the filter form, the figures (``queries``), a chart (``charts``) and a
download of the same figures (``?download=xlsx``). Anything but GET and HEAD answers 405, so
the steering committee cannot change anything here; who may read is ``plans.view_reports``
(coordinators and the steering committee, granted in ``plans.roles``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from plans.coverage import TASKS_PER_ROW
from plans.models import ItemStatus, Plan, SelfAssessmentRound, TargetKind
from plans.periods import parse_month, previous_month
from plans.reports import charts, exports, queries
from plans.reports.filters import ReportFilters, ReportFilterSet
from plans.self_assessment import readiness
from plans.targets import target_lines

REPORTS: list[tuple[str, Any]] = [
    ("overview", gettext_lazy("Overview")),
    ("units", gettext_lazy("Units")),
    ("coverage", gettext_lazy("Coverage")),
    ("overdue", gettext_lazy("Overdue")),
    ("trend", gettext_lazy("Trend")),
    ("pack", gettext_lazy("Monthly pack")),
    ("self_assessment", gettext_lazy("Self-assessment")),
    ("targets", gettext_lazy("Targets")),
]
PERMISSION = "plans.view_reports"
PACK_PREVIEW_ROWS = 50


def reports_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff sign-in (the admin's), then the reports permission, then GET only."""

    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return admin.site.admin_view(require_safe(checked))


def _download(name: str, table: exports.Table, now: dt.datetime) -> HttpResponse:
    response = HttpResponse(exports.xlsx_bytes([table]), content_type=exports.XLSX_TYPE)
    stamp = timezone.localdate(now).isoformat()
    response["Content-Disposition"] = f'attachment; filename="dtiplan-{name}-{stamp}.xlsx"'
    return response


def _page(
    request: HttpRequest, name: str, filterset: ReportFilterSet | None, **context: Any
) -> TemplateResponse:
    query = request.GET.copy()
    query.pop("page", None)
    query["download"] = "xlsx"
    return TemplateResponse(
        request,
        f"admin/reports/{name}.html",
        {
            **admin.site.each_context(request),
            "title": dict(REPORTS).get(name, ""),
            "reports": [(key, label, reverse(f"reports:{key}")) for key, label in REPORTS],
            "current": name,
            "filterset": filterset,
            "download_url": f"?{query.urlencode()}",
            "now": timezone.now(),
            **context,
        },
    )


def _filters(request: HttpRequest) -> tuple[ReportFilterSet, ReportFilters]:
    filterset = ReportFilterSet(request.GET or None, request=request)
    return filterset, filterset.report_filters()


PROGRESS = (
    charts.Segment(gettext_lazy("Completed"), charts.GREEN),
    charts.Segment(gettext_lazy("In progress"), charts.BLUE),
    charts.Segment(gettext_lazy("Overdue"), charts.RED),
)


def _progress_rows(lines: list[queries.ProgressLine]) -> list[tuple[str, list[int]]]:
    return [(line.label, [line.completed, line.in_progress, line.overdue]) for line in lines]


@reports_view
def overview(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filterset, filters = _filters(request)
    data = queries.overview(filters=filters, now=now)
    if request.GET.get("download") == "xlsx":
        return _download("overview", exports.overview_table(data), now)
    segments = [charts.Segment(str(s.label), s.colour) for s in PROGRESS]
    return _page(
        request,
        "overview",
        filterset,
        data=data,
        indicator_chart=charts.stacked_bars(
            _progress_rows(data.indicators), segments, title=_("Tasks per main indicator")
        ),
        pillar_chart=charts.stacked_bars(
            _progress_rows(data.pillars), segments, title=_("Tasks per pillar")
        ),
    )


@reports_view
def units(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filterset, filters = _filters(request)
    lines = queries.units(filters=filters, now=now)
    if request.GET.get("download") == "xlsx":
        return _download("units", exports.units_table(lines), now)
    late = [line for line in lines if line.overdue][:15]
    return _page(
        request,
        "units",
        filterset,
        lines=lines,
        chart=charts.stacked_bars(
            [(line.unit.name, [line.overdue]) for line in late],
            [charts.Segment(_("Overdue now"), charts.RED)],
            title=_("Units with overdue tasks (as lead)"),
        )
        if late
        else None,
    )


@reports_view
def coverage(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filterset, filters = _filters(request)
    if request.GET.get("download") == "xlsx":
        data = queries.coverage(filters=filters, now=now)  # every task, in the file
        return _download("coverage", exports.coverage_table(data), now)
    data = queries.coverage(filters=filters, now=now, tasks_per_row=TASKS_PER_ROW)
    return _page(
        request,
        "coverage",
        filterset,
        data=data,
        chart=charts.stacked_bars(
            [(_("Weak indicators"), [data.covered, data.drafted, data.uncovered])],
            [
                charts.Segment(_("Addressed by a task"), charts.GREEN),
                charts.Segment(_("Only draft tasks"), charts.GREY),
                charts.Segment(_("No task"), charts.RED),
            ],
            title=_("Weak indicators addressed by a task of the province's plans"),
        )
        if data.rows
        else None,
    )


@reports_view
def overdue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filterset, filters = _filters(request)
    if request.GET.get("download") == "xlsx":
        tasks = queries.overdue_tasks(filters=filters, now=now)
        return _download("overdue", exports.overdue_table(tasks.iterator(2000), now), now)
    data = queries.overdue(filters=filters, now=now, page=request.GET.get("page", 1))
    for task in data.page.object_list:
        task.days_late = task.days_overdue(now)
    labels = {
        "1-7": _("1–7 days"),
        "8-30": _("8–30 days"),
        "31-90": _("31–90 days"),
        "91+": _("more than 90 days"),
    }
    bands = [(labels[key], count) for key, count in data.bands]
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "overdue",
        filterset,
        data=data,
        bands=bands,
        page_query=query.urlencode(),
        chart=charts.stacked_bars(
            [(label, [count]) for label, count in bands],
            [charts.Segment(_("Overdue tasks"), charts.RED)],
            title=_("Overdue tasks by days overdue"),
        ),
    )


@reports_view
def trend(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filterset, filters = _filters(request)
    data = queries.trend(filters=filters, now=now)
    if filters.main_indicator is not None:
        for year in data.years:
            year.indicators[:] = [
                i for i in year.indicators if i.indicator.pk == filters.main_indicator.pk
            ]
    if request.GET.get("download") == "xlsx":
        return _download("trend", exports.trend_table(data), now)
    province_name = data.province.name if data.province else ""
    series = (
        charts.Segment(province_name, charts.BLUE),
        charts.Segment(_("Mean of the provinces loaded"), charts.GREY),
    )
    dti_chart = indicator_chart = None
    if data.years:
        dti_chart = charts.lines(
            [str(y.year) for y in data.years],
            [
                (series[0], [y.dti.official_value if y.dti else None for y in data.years]),
                (series[1], [y.dti_mean for y in data.years]),
            ],
            title=_("DTI value by year"),
            notes=[
                _("rank %(rank)s/%(of)s")
                % {"rank": y.dti.official_rank, "of": y.dti.official_out_of}
                if y.dti and y.dti.official_rank
                else ""
                for y in data.years
            ],
        )
        latest = data.years[-1]
        indicator_chart = charts.paired_bars(
            [(str(line.indicator), line.value, line.mean) for line in latest.indicators],
            series,
            title=_("Main indicators in %(year)s") % {"year": latest.year},
        )
    # One row per main indicator (a label: the sets of different years have their own rows),
    # one cell per year.
    by_label: dict[str, dict[int, Any]] = {}
    for year in data.years:
        for line in year.indicators:
            by_label.setdefault(str(line.indicator), {})[year.year] = line
    indicator_rows = [
        (label, [cells.get(year.year) for year in data.years]) for label, cells in by_label.items()
    ]
    return _page(
        request,
        "trend",
        filterset,
        data=data,
        indicator_rows=indicator_rows,
        dti_chart=dti_chart,
        indicator_chart=indicator_chart,
    )


def period_of(value: str | None, now: dt.datetime) -> dt.date:
    """'2026-05' → 1 May 2026; empty: the month before ``now`` (the pack sent on the first
    working day of June is May's)."""
    if value:
        try:
            return parse_month(value)
        except ValueError:
            pass
    return previous_month(timezone.localdate(now))


@reports_view
def pack(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    period = period_of(request.GET.get("period"), now)
    download = request.GET.get("download")
    if download in ("xlsx", "docx"):
        _pack, files = exports.pack_files(period=period, now=now)
        name, content, mime = files[0] if download == "xlsx" else files[1]
        response = HttpResponse(content, content_type=mime)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    filterset, _filters_unused = _filters(request)
    as_of = exports.pack_moment(period, now)
    return _page(
        request,
        "pack",
        filterset,
        period=period,
        headers=exports.pack_headers(),
        rows=exports.pack_rows(as_of, limit=PACK_PREVIEW_ROWS),
        now=as_of,  # "Figures as of": the period's end for a past month
    )


@reports_view
def self_assessment(request: HttpRequest) -> HttpResponse:
    """Where a round stands (``plans.self_assessment.readiness``): items by status and without
    evidence, by unit, and the projected DTI value; ``?year=`` picks the round."""
    rounds = list(SelfAssessmentRound.objects.select_related("indicator_set").order_by("-year"))
    chosen = next((r for r in rounds if str(r.year) == request.GET.get("year")), None)
    chosen = chosen or (rounds[0] if rounds else None)
    data = readiness(round=chosen) if chosen else None
    if data is not None and request.GET.get("download") == "xlsx":
        return _download(
            f"self-assessment-{chosen.year}", exports.readiness_table(data), timezone.now()
        )
    lines = []
    if data is not None:
        for line in data.units:
            line.cells = [line.counts[value] for value in ItemStatus.values]
            lines.append(line)
    return _page(
        request,
        "self_assessment",
        None,
        rounds=rounds,
        round=chosen,
        data=data,
        lines=lines,
        statuses=ItemStatus.choices,
        total_cells=[data.counts[value] for value in ItemStatus.values] if data else [],
    )


def _plans_with_targets() -> Any:
    return (
        Plan.objects.filter(targets__isnull=False, province__isnull=False)
        .distinct()
        .select_related("province")
        .prefetch_related("targets")
        .order_by("-year", "title")
    )


@reports_view
def targets(request: HttpRequest) -> HttpResponse:
    """Per target of each plan: the latest published position, the gap and the earlier years
    (``plans.targets.target_lines``); ``?plan=`` keeps one plan."""
    plans = list(_plans_with_targets())
    chosen = next((p for p in plans if str(p.pk) == request.GET.get("plan")), None)
    lines = target_lines(plans=[chosen] if chosen else plans)
    if request.GET.get("download") == "xlsx":
        return _download("targets", exports.targets_table(lines), timezone.now())
    return _page(request, "targets", None, plans=plans, plan=chosen, lines=lines)


@reports_view
def what_it_takes(request: HttpRequest) -> HttpResponse:
    """One target (``?target=``, else the first): the points still needed against the other
    provinces' latest published results and the weak indicators that would close the gap,
    most recoverable points first."""
    plans = list(_plans_with_targets())
    choices = [t for p in plans for t in p.targets.all() if t.kind != TargetKind.MAIN_IN_TOP]
    chosen = next((t for t in choices if str(t.pk) == request.GET.get("target")), None)
    if chosen is None and request.GET.get("target"):
        raise Http404
    chosen = chosen or (choices[0] if choices else None)
    line = None
    if chosen is not None:
        plan = next(p for p in plans if p.pk == chosen.plan_id)
        line = next(
            line
            for line in target_lines(plans=[plan], with_weak=True)
            if line.target.pk == chosen.pk
        )
    if request.GET.get("download") == "xlsx":
        name = f"target-{chosen.pk}" if chosen else "target"
        return _download(name, exports.what_it_takes_table(line), timezone.now())
    return _page(
        request,
        "what_it_takes",
        None,
        targets=choices,
        target=chosen,
        line=line,
        title=_("What it takes"),
        current="targets",
    )
