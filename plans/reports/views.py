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

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from plans.coverage import TASKS_PER_ROW
from plans.models import ItemStatus, Plan, SelfAssessmentRound, TargetKind
from plans.periods import QUARTER, Period, parse_period, period_before
from plans.reports import charts, exports, queries
from plans.reports.filters import ReportFilters, ReportFilterSet
from plans.self_assessment import readiness
from plans.targets import projected_rank, target_lines


def _pack_name(kind: str | None = None) -> str:
    """The pack's name for a kind of period, by default the installation's
    (``REPORTS_PERIOD``): the menu's entry, and the page's title for the period shown."""
    if (kind or settings.REPORTS_PERIOD) == QUARTER:
        return _("Quarterly pack")
    return _("Monthly pack")


pack_name = lazy(_pack_name, str)()

REPORTS: list[tuple[str, Any]] = [
    ("overview", gettext_lazy("Overview")),
    ("units", gettext_lazy("Units")),
    ("owners", gettext_lazy("Indicator owners")),
    ("coverage", gettext_lazy("Coverage")),
    ("overdue", gettext_lazy("Overdue")),
    ("trend", gettext_lazy("Trend")),
    ("pack", pack_name),
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


def _download(
    name: str, table: exports.Table | list[exports.Table], now: dt.datetime
) -> HttpResponse:
    """An XLSX of one table, or of several (one sheet each)."""
    tables = table if isinstance(table, list) else [table]
    response = HttpResponse(exports.xlsx_bytes(tables), content_type=exports.XLSX_TYPE)
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
def owners(request: HttpRequest) -> HttpResponse:
    """Progress per presiding unit of the plans' indicators (``queries.owners``)."""
    now = timezone.now()
    filterset, filters = _filters(request)
    data = queries.owners(filters=filters, now=now)
    if request.GET.get("download") == "xlsx":
        return _download("owners", exports.owners_table(data), now)
    for line in data.lines:
        line.cells = [line.items[value] for value in ItemStatus.values]
    late = [line for line in data.lines if line.overdue][:15]
    return _page(
        request,
        "owners",
        filterset,
        data=data,
        statuses=ItemStatus.choices if data.round else [],
        chart=charts.stacked_bars(
            [
                (line.unit.name if line.unit else _("No presiding unit"), [line.overdue])
                for line in late
            ],
            [charts.Segment(_("Overdue"), charts.RED)],
            title=_("Presiding units with overdue tasks on their indicators"),
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


def period_of(value: str | None, now: dt.datetime) -> Period:
    """'2026-05' → May 2026, '2026-Q3' → the third quarter; empty or unreadable: the last
    period ended before ``now``, of the installation's kind (the pack sent early in June is
    May's, or early in July the second quarter's)."""
    if value:
        try:
            return parse_period(value)
        except ValueError:
            pass
    return period_before(timezone.localdate(now))


def _recent_quarters(now: dt.datetime, count: int = 8) -> list[Period]:
    """The quarter under way and those before it, latest first: the pack page's choices."""
    quarter = Period.containing(timezone.localdate(now), QUARTER)
    quarters = [quarter]
    for _n in range(count - 1):
        quarters.append(quarters[-1].previous())
    return quarters


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
    as_of = exports.pack_moment(period, now)
    quarters = _recent_quarters(now)
    if period.kind == QUARTER and period not in quarters:
        quarters.append(period)
    return _page(
        request,
        "pack",
        None,  # the pack is every plan not closed: no filter form
        title=_pack_name(period.kind),  # ?period=2026-Q3 on a monthly installation
        period=period,
        quarters=quarters if period.kind == QUARTER else [],
        headers=exports.pack_headers(),
        rows=exports.pack_rows(as_of, limit=PACK_PREVIEW_ROWS),
        now=as_of,  # "Figures as of": the period's end for a past period
    )


@reports_view
def self_assessment(request: HttpRequest) -> HttpResponse:
    """Where a round stands (``plans.self_assessment.readiness``): items by status and without
    evidence, by unit, the projected DTI value and the rank it would take among the other
    provinces' latest results (``plans.targets.projected_rank``); ``?year=`` picks the round."""
    rounds = list(
        SelfAssessmentRound.objects.select_related("indicator_set", "plan__province").order_by(
            "-year"
        )
    )
    chosen = next((r for r in rounds if str(r.year) == request.GET.get("year")), None)
    chosen = chosen or (rounds[0] if rounds else None)
    data = readiness(round=chosen) if chosen else None
    if data is not None and request.GET.get("download") == "xlsx":
        return _download(
            f"self-assessment-{chosen.year}", exports.readiness_table(data), timezone.now()
        )
    lines = []
    province = chosen.plan.province if chosen and chosen.plan else None
    rank = None
    if data is not None and province is not None:
        rank = projected_rank(value=data.projected_value, province_id=province.pk, year=chosen.year)
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
        province=province,
        projected_rank=rank,
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
    most recoverable points first, with the running total; for main indicators in the top,
    each main indicator's gap to the province at rank M and the cheapest ones to bring in."""
    plans = list(_plans_with_targets())
    choices = [t for p in plans for t in p.targets.all()]
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
        if chosen is not None and chosen.kind == TargetKind.MAIN_IN_TOP:
            return _download(name, exports.main_indicators_tables(line), timezone.now())
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
