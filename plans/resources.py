"""Plans, units and plan tasks as spreadsheets (columns in docs/spreadsheets.md).

Each resource loads what its rows refer to once per import (one query per table) and resolves
names from those dicts, so an import's query count grows with the number of tables, not rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.fields import Field
from import_export.results import Result

from dtiplan.history import history_copy
from dtiplan.spreadsheets.cells import (
    CellError,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_int,
    parse_out_of,
)
from dtiplan.spreadsheets.errors import RowErrors
from dtiplan.spreadsheets.names import NameIndex, unknown_message
from dtiplan.spreadsheets.periods import parse_deadline
from dtiplan.spreadsheets.resources import StrictResource, related
from dtiplan.spreadsheets.tables import same_text
from dtiplan.spreadsheets.text import (
    clean_text,
    name_key,
    single_line,
    spelling_key,
    split_emails,
    split_names,
)
from indicators.models import Indicator, IndicatorSet, WeakIndicator, rules_in_force, set_in_force
from indicators.resources import ExportOnlyResource
from plans.coverage import attach_tasks, with_coverage
from plans.models import (
    Assignment,
    IndicatorOwner,
    IndicatorOwnerUnit,
    OwnerRole,
    Plan,
    Ranking,
    ReportingPeriod,
    Target,
    TargetKind,
    Task,
    Unit,
    UnitGroup,
    UnitMembership,
    User,
)
from plans.ongoing import first_report_date
from plans.owners import check_owner_units
from plans.services import (
    FocalPointsNow,
    TaskUnits,
    TaskUnitsNow,
    accounts_find,
    focal_point_emails_clean,
    indicator_owner_units_set,
    task_deadline_move,
    task_units_check,
    task_units_read,
    task_units_set_many,
    unit_focal_points_read,
    unit_focal_points_set,
    unit_parent_check,
)
from plans.unit_names import UnitDirectory

# --- The headers of plans' tables ------------------------------------------------------------
# The Vietnamese headers of real plan tables, each to the column it means.

PLAN_HEADERS: dict[str, str] = {
    "Tiêu đề": "title",
    "Năm": "year",
    "Quyết định": "decision",
    "Số quyết định": "decision",
    "Năm đánh giá đầu tiên": "first_year",
    "Từ năm": "first_year",
    "Năm đánh giá cuối cùng": "last_year",
    "Đến năm": "last_year",
}

TARGET_HEADERS: dict[str, str] = {
    "Kế hoạch": "plan",
    "Năm": "year",
    "Năm đánh giá": "year",
    "Loại mục tiêu": "kind",
    "Mục tiêu": "kind",
    "Điểm": "points",
    "Điểm DTI": "points",
    "Giá trị": "value",
    "Giá trị DTI": "value",
    "Thứ hạng": "rank",
    "Xếp hạng": "rank",
    "Top": "rank",
    "Số chỉ số chính": "count",
    "Bảng xếp hạng": "ranking",
    "Số tỉnh xếp hạng": "ranking",
}

# How plans name a kind of target, besides its label (``parse_choice`` reads those).
TARGET_KIND_WORDS: dict[str, str] = {
    "Điểm": TargetKind.POINTS,
    "Giá trị": TargetKind.VALUE,
    "Thứ hạng": TargetKind.RANK,
    "Xếp hạng": TargetKind.RANK,
    "Chỉ số chính": TargetKind.MAIN_IN_TOP,
    "Chỉ số chính trong top": TargetKind.MAIN_IN_TOP,
}

UNIT_HEADERS: dict[str, str] = {
    "Tên đơn vị": "name",
    "Tên viết tắt": "short_name",
    "Loại": "kind",
    "Thư điện tử": "email",
    "Đơn vị cấp trên": "parent",
    "Đầu mối": "focal_points",
    "Cán bộ đầu mối": "focal_points",
    "Tên khác": "aliases",
    "Tên gọi khác": "aliases",
}

# The headers of the appendix tables provinces publish. A two-row header ("Đơn vị thực hiện"
# merged over "Chủ trì" and "Phối hợp") is read as the upper and lower text together, then as
# the lower one alone.
TASK_HEADERS: dict[str, str] = {
    "Kế hoạch": "plan",
    "Mã chỉ số": "indicator_code",
    "Chỉ số": "indicator_code",
    "Tên chỉ số": "indicator_code",
    "Chỉ số thành phần": "indicator_code",
    "Chỉ số DTI": "indicator_code",
    "Tiêu đề": "title",
    "Nhiệm vụ": "title",
    "Tên nhiệm vụ": "title",
    "Nội dung nhiệm vụ": "title",
    "Nội dung": "title",
    "Nội dung công việc": "title",
    "Nhiệm vụ, giải pháp": "title",
    "Đơn vị chủ trì": "lead_unit",
    "Cơ quan chủ trì": "lead_unit",
    "Đơn vị chủ trì thực hiện": "lead_unit",
    "Cơ quan, đơn vị chủ trì": "lead_unit",
    "Chủ trì": "lead_unit",
    "Đơn vị thực hiện Chủ trì": "lead_unit",
    "Cơ quan thực hiện Chủ trì": "lead_unit",
    "Đơn vị thực hiện": "implementing_units",
    "Đơn vị phối hợp": "coordinating_units",
    "Cơ quan phối hợp": "coordinating_units",
    "Cơ quan, đơn vị phối hợp": "coordinating_units",
    "Đơn vị phối hợp thực hiện": "coordinating_units",
    "Phối hợp": "coordinating_units",
    "Đơn vị thực hiện Phối hợp": "coordinating_units",
    "Cơ quan thực hiện Phối hợp": "coordinating_units",
    "Đơn vị đầu mối theo dõi": "monitoring_unit",
    "Đơn vị theo dõi": "monitoring_unit",
    "Ngày bắt đầu": "start_date",
    "Thời hạn": "deadline",
    "Thời hạn hoàn thành": "deadline",
    "Thời gian hoàn thành": "deadline",
    "Thời gian thực hiện": "deadline",
    "Thời gian": "deadline",
    "Tiến độ": "deadline",
    "Tiến độ thực hiện": "deadline",
    "Tiến độ hoàn thành": "deadline",
    "Thời hạn (như văn bản)": "deadline_text",
    "Báo cáo định kỳ": "reporting_period",
    "Sản phẩm": "expected_output",
    "Kết quả dự kiến": "expected_output",
    "Kết quả/Sản phẩm": "expected_output",
    "Kết quả, sản phẩm": "expected_output",
    "Sản phẩm đầu ra": "expected_output",
    "Sản phẩm dự kiến": "expected_output",
    "Kết quả": "expected_output",
    "Ghi chú": "note",
}

OWNER_HEADERS: dict[str, str] = {
    "Kế hoạch": "plan",
    "Mã chỉ số": "indicator_code",
    "Chỉ số": "indicator_code",
    "Chỉ số thành phần": "indicator_code",
    "Đơn vị chủ trì": "presiding_unit",
    "Cơ quan chủ trì": "presiding_unit",
    "Đơn vị chủ trì thực hiện": "presiding_unit",
    "Đơn vị theo dõi": "monitoring_unit",
    "Đơn vị đầu mối theo dõi": "monitoring_unit",
    "Đơn vị phối hợp": "coordinating_units",
    "Cơ quan phối hợp": "coordinating_units",
    "Cơ quan, đơn vị phối hợp": "coordinating_units",
}


def _unit_hint() -> str:
    return _("Create the unit first (admin: Units, or import the units file).")


def aliases_cell(aliases: str) -> str:
    """Other names, stored one per line, as a cell writes them: separated by "; "."""
    return "; ".join(line.strip() for line in aliases.splitlines() if line.strip())


def _has_errors(result: Result) -> bool:
    return result.has_errors() or result.has_validation_errors()


def plan_named(plans: NameIndex[Plan], cell: Any, errors: RowErrors, missing: str) -> Plan | None:
    """The plan a ``plan`` cell names, or an error on that column: ``missing`` for an empty
    cell, the nearest titles for an unknown one."""
    title = single_line(cell)
    if not title:
        errors.add("plan", missing)
        return None
    plan = plans.get(title)
    if plan is None:
        errors.add(
            "plan",
            unknown_message(
                _("plan"), title, plans.suggest(title), _("Create or import the plan first.")
            ),
        )
    return plan


# --- Plans -----------------------------------------------------------------------------------


class PlanResource(StrictResource):
    title = Field(attribute="title", column_name="title")
    year = Field(attribute="year", column_name="year")
    decision = Field(attribute="decision", column_name="decision")
    first_year = Field(attribute="first_year", column_name="first_year")
    last_year = Field(attribute="last_year", column_name="last_year")

    required_columns = ("title", "year")
    column_aliases: ClassVar[dict[str, str]] = PLAN_HEADERS

    class Meta:
        model = Plan
        fields = ("title", "year", "decision", "first_year", "last_year")
        import_id_fields = ("title",)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.plans: NameIndex[Plan] = NameIndex(Plan.objects.all(), lambda p: p.title)

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        values: dict[str, Any] = {}
        # The file names an existing plan ignoring case and spaces; its stored title stays.
        title, _existing = self.named_row(
            row,
            errors,
            "title",
            self.plans,
            missing=_("Every plan needs a title."),
            repeated=_('The plan "%(title)s" is already on row %(row)s.'),
        )
        if title is None:
            return values
        values["title"] = title
        try:
            year = parse_int(row["year"])
            if year is None:
                errors.add("year", _("Give the year the plan is for, e.g. 2026."))
            else:
                values["year"] = year
        except CellError as exc:
            errors.add("year", str(exc))
        if "decision" in row:
            values["decision"] = single_line(row["decision"])
        # The span of assessments the plan runs for; an empty cell: the plan's own year
        # (Plan.clean says when the last is before the first).
        for column in ("first_year", "last_year"):
            if column in row:
                try:
                    values[column] = parse_int(row[column])
                except CellError as exc:
                    errors.add(column, str(exc))
        return values

    def existing_instance(self, values: dict[str, Any]) -> Plan | None:
        return self.plans.get(values["title"])


# --- Targets ---------------------------------------------------------------------------------

# The DTI is scored out of 1,000 points ("đạt tối thiểu 800/1.000 điểm").
DTI_MAX_POINTS = 1000


class TargetResource(StrictResource):
    """A plan's targets as the plan states them: ``plan, year, kind, points, value, rank,
    count, ranking``. "800/1.000" in ``points``, "10/34" in ``rank`` (the top 10 of 34) and
    "4/8" in ``count`` (4 of the 8 main indicators) are read as written. A row gives its
    target exactly these figures; the rules are the model's (``Target.clean``, its
    validators): the figures a kind needs, a rank within the ranking, a year within the
    plan's span."""

    plan = Field(attribute="plan", column_name="plan")
    year = Field(attribute="year", column_name="year")
    kind = Field(attribute="kind", column_name="kind")
    points = Field(attribute="points", column_name="points")
    value = Field(attribute="value", column_name="value")
    rank = Field(attribute="rank", column_name="rank")
    count = Field(attribute="count", column_name="count")
    ranking = Field(attribute="ranking", column_name="ranking")

    required_columns = ("plan", "year", "kind")
    column_aliases: ClassVar[dict[str, str]] = TARGET_HEADERS

    class Meta:
        model = Target
        fields = ("plan", "year", "kind", "points", "value", "rank", "count", "ranking")
        import_id_fields = ("plan", "year", "kind")

    @staticmethod
    def key(target: Target) -> tuple[Any, ...]:
        """What identifies a target in a file: its plan, year, kind and ranking, and for main
        indicators in the top also the top (a plan may aim at "4 in the top 10" and "6 in the
        top 20" the same year)."""
        top = target.rank if target.kind == TargetKind.MAIN_IN_TOP else None
        return (target.plan_id, target.year, target.kind, target.ranking, top)

    def filter_export(self, queryset: QuerySet[Target], **kwargs: Any) -> QuerySet[Target]:
        if not queryset.query.order_by:  # see UnitResource.filter_export
            queryset = queryset.order_by("plan__title", "year", "kind", "pk")
        return queryset.select_related("plan")

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        plans = list(Plan.objects.all())
        self.plans: NameIndex[Plan] = NameIndex(plans, lambda p: p.title)
        by_id = {plan.pk: plan for plan in plans}
        self.targets: dict[tuple[Any, ...], Target] = {}
        for target in Target.objects.all():
            target.plan = by_id[target.plan_id]  # Target.clean reads the plan's span
            self.targets.setdefault(self.key(target), target)
        self.sets = list(
            IndicatorSet.objects.annotate(
                mains=Count("indicators", filter=Q(indicators__parent__isnull=True))
            )
        )

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        values: dict[str, Any] = {}
        plan = plan_named(self.plans, row["plan"], errors, _("Name the plan."))
        year = self._int(row, "year", errors)
        if year is None and "year" not in errors.by_column:
            errors.add("year", _("Give the assessment year the target is for, e.g. 2026."))
        kind = self._kind(row["kind"], errors)
        figures = {
            "points": self._points(row.get("points"), errors),
            "value": self._decimal(row, "value", errors),
            "count": self._count(row.get("count"), year, errors),
        }
        rank, ranking = self._rank(row, errors)
        if errors:
            return values
        # No ranking given: the 34 provinces of today.
        values.update(plan=plan, year=year, kind=kind, rank=rank, ranking=ranking or Ranking.OF_34)
        values.update(figures)
        target = Target(**values)
        key = self.key(target)
        earlier = self.earlier_row(key)
        if earlier:
            errors.add("kind", _("This target is already on row %(row)s.") % {"row": earlier})
        values["key"] = key
        return values

    def _int(self, row: dict[str, Any], column: str, errors: RowErrors) -> int | None:
        try:
            return parse_int(row.get(column))
        except CellError as exc:
            errors.add(column, str(exc))
            return None

    def _decimal(self, row: dict[str, Any], column: str, errors: RowErrors) -> Decimal | None:
        try:
            return parse_decimal(row.get(column))
        except CellError as exc:
            errors.add(column, str(exc))
            return None

    def _kind(self, cell: Any, errors: RowErrors) -> str | None:
        words = {name_key(word): kind for word, kind in TARGET_KIND_WORDS.items()}
        if name_key(cell) in words:
            return words[name_key(cell)]
        try:
            kind = parse_choice(cell, TargetKind)
        except CellError as exc:
            errors.add("kind", str(exc))
            return None
        if kind is None:
            errors.add("kind", _("Give the kind of target."))
        return kind

    def _points(self, cell: Any, errors: RowErrors) -> Decimal | None:
        try:
            points, whole = parse_out_of(cell)
        except CellError as exc:
            errors.add("points", str(exc))
            return None
        if whole is not None and whole != DTI_MAX_POINTS:
            errors.add(
                "points",
                _("The DTI is scored out of %(max)s points, not %(whole)s.")
                % {"max": DTI_MAX_POINTS, "whole": whole},
            )
        return points

    def _rank(self, row: dict[str, Any], errors: RowErrors) -> tuple[int | None, int | None]:
        """The rank (the top M for main indicators) and the ranking, which "10/34" gives too."""
        ranking = self._int(row, "ranking", errors)
        try:
            rank, whole = parse_out_of(row.get("rank"))
        except CellError as exc:
            errors.add("rank", str(exc))
            return None, ranking
        if rank is not None and rank != rank.to_integral_value():
            errors.add("rank", _('"%(value)s" is not a whole number.') % {"value": rank})
            return None, ranking
        if whole is not None and ranking is not None and whole != ranking:
            errors.add(
                "rank",
                _("Out of %(whole)s provinces here, but the ranking column says %(ranking)s.")
                % {"whole": whole, "ranking": ranking},
            )
        return (int(rank) if rank is not None else None), (ranking or whole)

    def _count(self, cell: Any, year: int | None, errors: RowErrors) -> int | None:
        """How many main indicators; "4/8" must be out of the main indicators of the set in
        force in the target's year."""
        try:
            count, whole = parse_out_of(cell)
        except CellError as exc:
            errors.add("count", str(exc))
            return None
        if count is not None and count != count.to_integral_value():
            errors.add("count", _('"%(value)s" is not a whole number.') % {"value": count})
            return None
        indicator_set = set_in_force(self.sets, year) if year else None
        if whole is not None and indicator_set is not None and whole != indicator_set.mains:
            errors.add(
                "count",
                _(
                    "The indicator set in force in %(year)s has %(mains)s main indicators, not "
                    "%(whole)s."
                )
                % {"year": year, "mains": indicator_set.mains, "whole": whole},
            )
        return int(count) if count is not None else None

    def existing_instance(self, values: dict[str, Any]) -> Target | None:
        return self.targets.get(values["key"])

    def import_instance(self, instance: Target, row: dict[str, Any], **kwargs: Any) -> None:
        for attribute, value in self._values.items():
            if attribute != "key":
                setattr(instance, attribute, value)

    def dehydrate_plan(self, target: Target) -> str:
        plan = related(target, "plan")
        return plan.title if plan else ""

    def dehydrate_kind(self, target: Target) -> str:
        return str(target.get_kind_display()) if target.kind else ""


# --- Units -----------------------------------------------------------------------------------


class UnitResource(StrictResource):
    import_user: User | None = None

    name = Field(attribute="name", column_name="name")
    short_name = Field(attribute="short_name", column_name="short_name")
    kind = Field(attribute="kind", column_name="kind")
    email = Field(attribute="email", column_name="email")
    parent = Field(attribute="parent", column_name="parent")
    focal_points = Field(column_name="focal_points")
    aliases = Field(attribute="aliases", column_name="aliases")

    required_columns = ("name",)
    column_aliases: ClassVar[dict[str, str]] = UNIT_HEADERS

    class Meta:
        model = Unit
        fields = ("name", "short_name", "kind", "email", "parent", "focal_points", "aliases")
        import_id_fields = ("name",)

    def filter_export(self, queryset: QuerySet[Unit], **kwargs: Any) -> QuerySet[Unit]:
        focal = UnitMembership.objects.filter(role=UnitMembership.Role.FOCAL_POINT)
        if not queryset.query.order_by:
            # With a prefetch the library pages the queryset and, lacking an explicit order,
            # sorts by id; people read an export sorted by name.
            queryset = queryset.order_by("name")
        return queryset.select_related("parent").prefetch_related(
            Prefetch("memberships", queryset=focal.select_related("user"), to_attr="focal")
        )

    def order_rows(
        self, rows: list[tuple[int, dict[str, Any]]]
    ) -> list[tuple[int, dict[str, Any]]]:
        # A unit's parent may be a new unit further down the file: import parents first.
        parent_of = {
            name_key(cells.get("name")): name_key(cells.get("parent")) for _n, cells in rows
        }

        def depth(name: str) -> int:
            level, seen = 0, {name}
            while (name := parent_of.get(name, "")) in parent_of and name not in seen:
                seen.add(name)
                level += 1
            return level

        return sorted(rows, key=lambda numbered: depth(name_key(numbered[1].get("name"))))

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.import_user = kwargs.get("user")
        units = list(Unit.objects.all())
        by_id = {unit.pk: unit for unit in units}
        for unit in units:
            # Wire parents from the same list so that walking up the tree costs no query.
            unit.parent = by_id.get(unit.parent_id)
        self.units: NameIndex[Unit] = NameIndex(units, lambda u: u.name)
        self.focal_wanted: dict[Unit, list[str]] = {}
        self.new_accounts: list[str] = []

        emails: set[str] = set()
        in_file: list[int] = []
        for row in dataset.dict:
            if unit := self.units.get(clean_text(row.get("name"))):
                in_file.append(unit.pk)
            emails.update(e.lower() for e in split_emails(row.get("focal_points")))
        # For the preview and for skipping unchanged rows; the accounts are set at the end.
        self.users: dict[str, User] = accounts_find(emails=emails)
        # unit id → {user id: focal-point membership}, for the preview and unchanged rows.
        self.focal_now: FocalPointsNow = {}
        if "focal_points" in (dataset.headers or []):
            self.focal_now = unit_focal_points_read(units=in_file)

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        values: dict[str, Any] = {}
        self._focal: list[str] | None = None  # None: the file has no focal_points column
        # Matched ignoring case and spaces: the stored name keeps its spelling.
        name, existing = self.named_row(
            row,
            errors,
            "name",
            self.units,
            missing=_("Every unit needs a name."),
            repeated=_('The unit "%(name)s" is already on row %(row)s.'),
        )
        if name is None:
            return values
        values["name"] = name
        for column in ("short_name", "email"):
            # An empty cell keeps what the unit has: a partial sheet must not wipe a mailbox.
            if column in row and (single_line(row[column]) or existing is None):
                values[column] = single_line(row[column])
        if "kind" in row:
            try:
                kind = parse_choice(row["kind"], Unit.Kind)
            except CellError as exc:
                errors.add("kind", str(exc))
            else:
                # An empty cell keeps the unit's kind (a new unit gets the default).
                if kind is not None:
                    values["kind"] = kind
        if "parent" in row:
            values["parent"] = self._parent(name, existing, row["parent"], errors)
        if "aliases" in row and (clean_text(row["aliases"]) or existing is None):
            # Other names plans use ("Sở KH&CN"), separated by ";" or line breaks.
            values["aliases"] = "\n".join(split_names(row["aliases"]))
        # An empty cell keeps the unit's focal points: a sheet that lists only some units'
        # people must not remove everyone else's (remove a person on the unit's page).
        if "focal_points" in row and single_line(row["focal_points"]):
            self._focal = self._focal_points(row["focal_points"], errors)
            if existing is not None:
                self._note_focal_removed(existing, self._focal)
        return values

    def _note_focal_removed(self, unit: Unit, wanted: list[str]) -> None:
        """The row's list replaces the unit's focal points: the preview names who loses the
        role, which the row's cell cannot show."""
        kept = {email.lower() for email in wanted}
        removed = sorted(
            (
                m.user.email or m.user.username
                for m in self.focal_now.get(unit.pk, {}).values()
                if (m.user.email or m.user.username).lower() not in kept
            ),
            key=str.lower,
        )
        if removed:
            self.note(
                _("No longer focal points of this unit: %(people)s")
                % {"people": "; ".join(removed)}
            )

    def _parent(
        self, name: str, existing: Unit | None, cell: Any, errors: RowErrors
    ) -> Unit | None:
        parent_name = single_line(cell)
        if not parent_name:
            return None
        unit = existing or Unit(name=name)
        # A new unit naming itself as parent is not found among the units: say what it is.
        parent = unit if name_key(parent_name) == name_key(name) else self.units.get(parent_name)
        if parent is None:
            errors.add(
                "parent",
                unknown_message(
                    _("unit"), parent_name, self.units.suggest(parent_name), _unit_hint()
                ),
            )
            return None
        try:
            # Parents are wired in memory (before_import), so walking up costs no query.
            unit_parent_check(unit=unit, parent=parent)
        except ValidationError as error:
            for message in error.message_dict["parent"]:
                errors.add("parent", message)
            return None
        return parent

    def _focal_points(self, cell: Any, errors: RowErrors) -> list[str]:
        try:
            return focal_point_emails_clean(emails=split_emails(cell))
        except ValidationError as error:
            for message in error.message_dict["focal_points"]:
                errors.add("focal_points", message)
            return []

    def existing_instance(self, values: dict[str, Any]) -> Unit | None:
        return self.units.get(values["name"])

    def import_instance(self, instance: Unit, row: dict[str, Any], **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        instance._sheet_focal = self._focal  # read by dehydrate_focal_points (admin preview)

    def skip_row(
        self,
        instance: Unit,
        original: Unit,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        return self._focal is None or not self._focal_changes(instance)

    def _focal_changes(self, unit: Unit) -> bool:
        wanted = self._focal or []
        if any(email not in self.users for email in wanted):
            return True
        wanted_ids = {self.users[email].pk for email in wanted}
        return wanted_ids != set(self.focal_now.get(unit.pk, {}))

    def after_save_instance(self, instance: Unit, row: dict[str, Any], **kwargs: Any) -> None:
        self.units.add(instance)  # a later row may name it as its parent
        if self._focal is not None:
            self.focal_wanted[instance] = self._focal

    def after_import(self, dataset: Any, result: Result, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        if _has_errors(result) or not self.focal_wanted:
            return
        self.new_accounts = unit_focal_points_set(
            wanted=self.focal_wanted,
            by=self.import_user,
            accounts=self.users,
            current=self.focal_now,
        )

    def dehydrate_parent(self, unit: Unit) -> str:
        parent = related(unit, "parent")
        return parent.name if parent else ""

    def dehydrate_aliases(self, unit: Unit) -> str:
        return aliases_cell(unit.aliases)

    def dehydrate_focal_points(self, unit: Unit) -> str:
        if getattr(unit, "_sheet_focal", None) is not None:
            emails = unit._sheet_focal
        elif hasattr(unit, "focal"):  # prefetched for export
            emails = [m.user.email or m.user.username for m in unit.focal]
        else:
            memberships = getattr(self, "focal_now", {}).get(unit.pk, {}).values()
            emails = [m.user.email or m.user.username for m in memberships]
        return "; ".join(sorted(emails, key=str.lower))


UNIT_GROUP_HEADERS: dict[str, str] = {
    "Tên nhóm": "name",
    "Nhóm đơn vị": "name",
    "Tên khác": "aliases",
    "Tên gọi khác": "aliases",
    "Đơn vị": "members",
    "Các đơn vị": "members",
    "Đơn vị thành viên": "members",
}


class UnitGroupResource(StrictResource):
    """Groups plans name at once ("UBND các xã, phường"), with their member units written as
    the task import reads them (names, short names, other names; a group stands for its
    members). A row's ``members`` replaces the group's units; an empty cell keeps them."""

    name = Field(attribute="name", column_name="name")
    aliases = Field(attribute="aliases", column_name="aliases")
    members = Field(column_name="members")

    required_columns = ("name",)
    column_aliases: ClassVar[dict[str, str]] = UNIT_GROUP_HEADERS

    class Meta:
        model = UnitGroup
        fields = ("name", "aliases", "members")
        import_id_fields = ("name",)

    def filter_export(self, queryset: QuerySet[UnitGroup], **kwargs: Any) -> QuerySet[UnitGroup]:
        if not queryset.query.order_by:
            queryset = queryset.order_by("name")
        return queryset.prefetch_related("members")

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        groups = list(UnitGroup.objects.prefetch_related("members"))
        self.groups: NameIndex[UnitGroup] = NameIndex(groups, lambda g: g.name)
        self.directory = UnitDirectory(Unit.objects.all(), groups)
        self._members: list[Unit] | None = None

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        values: dict[str, Any] = {}
        self._members = None  # None: the row leaves the group's units as they are
        name, existing = self.named_row(
            row,
            errors,
            "name",
            self.groups,
            missing=_("Every unit group needs a name."),
            repeated=_('The unit group "%(name)s" is already on row %(row)s.'),
        )
        if name is None:
            return values
        values["name"] = name
        if "aliases" in row and (clean_text(row["aliases"]) or existing is None):
            values["aliases"] = "\n".join(split_names(row["aliases"]))
        if "members" in row and single_line(row["members"]):
            self._members = read_unit_cell(self, row["members"], "members", errors)
        return values

    def existing_instance(self, values: dict[str, Any]) -> UnitGroup | None:
        return self.groups.get(values["name"])

    def import_instance(self, instance: UnitGroup, row: dict[str, Any], **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        instance._sheet_members = self._members  # read by dehydrate_members (admin preview)

    def skip_row(
        self,
        instance: UnitGroup,
        original: dict[str, Any] | None,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        if self._members is None:
            return True
        return {u.pk for u in self._members} == {u.pk for u in instance.members.all()}

    def after_save_instance(self, instance: UnitGroup, row: dict[str, Any], **kwargs: Any) -> None:
        if self._members is not None:
            instance.members.set(self._members)
        self.groups.add(instance)

    def dehydrate_aliases(self, group: UnitGroup) -> str:
        return aliases_cell(group.aliases)

    def dehydrate_members(self, group: UnitGroup) -> str:
        members = getattr(group, "_sheet_members", None)
        if members is None:
            members = group.members.all() if group.pk else []
        return "; ".join(sorted((unit.name for unit in members), key=str.lower))


# --- Rows that name a plan and an indicator (tasks, indicator owners) -------------------------


def plan_indicator_set(
    plan: Plan, sets: list[IndicatorSet], errors: RowErrors
) -> IndicatorSet | None:
    """The set a row's indicator code is read in: the one in force in the plan's year, or an
    error on ``indicator_code`` (none in force; two sets starting the same year)."""
    indicator_set = set_in_force(sets, plan.year)
    if indicator_set is None:
        errors.add(
            "indicator_code",
            _("No indicator set is in force in %(year)s, the year of plan “%(plan)s”.")
            % {"year": plan.year, "plan": plan.title},
        )
        return None
    twins = [s.code for s in sets if s.first_year == indicator_set.first_year]
    if len(twins) > 1:
        errors.add(
            "indicator_code",
            _("Indicator sets %(sets)s all start in %(year)s; it is unclear which applies.")
            % {"sets": ", ".join(twins), "year": indicator_set.first_year},
        )
        return None
    return indicator_set


def read_unit_cell(resource: Any, cell: Any, column: str, errors: RowErrors) -> list[Unit]:
    """The units a cell names as plans write them (``resource.directory``: names, short names,
    groups standing for their members); unknown ones are errors of the column, and a name read
    as something else (an abbreviation, a group) is noted for the preview."""
    matches, unknown = resource.directory.read(cell)
    for missing in unknown:
        errors.add(
            column,
            unknown_message(_("unit"), missing.written, missing.suggestions, _unit_hint()),
        )
    units: list[Unit] = []
    for match in matches:
        if match.describe() != match.written:
            resource.note(f"{resource.column_label(column)}: {match.describe()}")
        units += [unit for unit in match.units if unit not in units]
    return units


class PlanIndicatorColumns:
    """The ``plan`` and ``indicator_code`` columns: the plan by its title, the indicator by its
    code in the set in force in the plan's year; units as plans write them (``UnitDirectory``).
    Loaded once per import."""

    def load_plans_and_indicators(self, dataset: Any) -> dict[int, Plan]:
        """Plans, units, sets and the indicators of the sets the file's plans need: one query
        each. Returns the file's plans by id."""
        self.plans: NameIndex[Plan] = NameIndex(Plan.objects.all(), lambda p: p.title)
        units = list(Unit.objects.all())
        # Units as plans write them (name, short name, other name, group): the task import's.
        self.directory = UnitDirectory(units, UnitGroup.objects.prefetch_related("members"))
        self.units_by_id = {unit.pk: unit for unit in units}
        self.sets = list(IndicatorSet.objects.all())
        plans = {
            p.pk: p for title in set(dataset["plan"]) if (p := self.plans.get(clean_text(title)))
        }
        set_ids = {s.pk for p in plans.values() if (s := self._set_for_year(p.year)) is not None}
        self.indicators: dict[tuple[int, str], Indicator] = {
            (i.indicator_set_id, i.code): i
            for i in Indicator.objects.filter(indicator_set__in=set_ids)
        }
        return plans

    def no_plan_message(self) -> str:
        return _("Name the plan.")

    def no_indicator_message(self) -> str:
        return _("Give the code of the indicator.")

    def _set_for_year(self, year: int) -> IndicatorSet | None:
        return set_in_force(self.sets, year)

    def _plan(self, cell: Any, errors: RowErrors) -> Plan | None:
        return plan_named(self.plans, cell, errors, self.no_plan_message())

    def _indicator(self, plan: Plan, cell: Any, errors: RowErrors) -> Indicator | None:
        code = single_line(cell)
        if not code:
            errors.add("indicator_code", self.no_indicator_message())
            return None
        indicator_set = plan_indicator_set(plan, self.sets, errors)
        if indicator_set is None:
            return None
        indicator = self.indicators.get((indicator_set.pk, code))
        if indicator is None:
            codes = [c for (set_id, c) in self.indicators if set_id == indicator_set.pk]
            errors.add(
                "indicator_code",
                unknown_message(
                    _("indicator code"),
                    code,
                    NameIndex(codes, str).suggest(code),
                    _("It is not an indicator of %(set)s.") % {"set": indicator_set.code},
                ),
            )
        return indicator


# --- Tasks -----------------------------------------------------------------------------------

# "I", "II.", "IV" in an STT column: a group row.
_ROMAN_ORDINAL = re.compile(r"^[IVXLC]+\.?$")
# "1.2", "Chỉ số 1.2", "1.2. Tên chỉ số", "Chỉ số 3: Tên".
_INDICATOR_CODE = re.compile(
    r"^(?:chỉ\s*số\s*)?(?P<code>\d+(?:\.\d+)*)\.?(?:\s*[:.\-–—]\s*|\s+|$)(?P<rest>.*)$",
    re.IGNORECASE,
)
_CODE_ONLY = re.compile(r"^\d+(?:\.\d+)*$")
_HEADING_PREFIX = re.compile(r"^(?:[IVXLC]+|[A-Z]|\d+)[.)]\s*", re.IGNORECASE)


def _heading_name(text: str) -> str:
    """A group row's indicator: "I. CHỈ SỐ NHẬN THỨC SỐ" → "CHỈ SỐ NHẬN THỨC SỐ"."""
    return _HEADING_PREFIX.sub("", single_line(text), count=1)


def _without_prefix(text: str) -> str:
    """ "Chỉ số nhận thức số" → "nhận thức số": names are listed without the word."""
    return re.sub(r"^chỉ\s*số\s+(?:thành\s*phần\s+)?", "", single_line(text), flags=re.IGNORECASE)


ROLE_COLUMNS = {
    "implementing_units": Assignment.Role.IMPLEMENTING,
    "coordinating_units": Assignment.Role.COORDINATING,
    "monitoring_unit": Assignment.Role.MONITORING,
}
# The role names of the services' errors, as this sheet's columns.
ROLE_FIELDS = {str(role): column for column, role in ROLE_COLUMNS.items()}


class TaskResource(StrictResource):
    plan = Field(attribute="plan", column_name="plan")
    indicator_code = Field(attribute="indicator", column_name="indicator_code")
    title = Field(attribute="title", column_name="title")
    lead_unit = Field(attribute="lead_unit", column_name="lead_unit")
    implementing_units = Field(column_name="implementing_units")
    coordinating_units = Field(column_name="coordinating_units")
    monitoring_unit = Field(column_name="monitoring_unit")
    start_date = Field(attribute="start_date", column_name="start_date")
    deadline = Field(attribute="deadline", column_name="deadline")
    deadline_text = Field(attribute="deadline_text", column_name="deadline_text")
    reporting_period = Field(attribute="reporting_period", column_name="reporting_period")
    expected_output = Field(attribute="expected_output", column_name="expected_output")
    note = Field(attribute="note", column_name="note")

    required_columns = ("plan", "indicator_code", "title", "lead_unit", "deadline")
    column_aliases: ClassVar[dict[str, str]] = TASK_HEADERS
    # A plan's appendix carries columns of its own (a budget, a legal basis): left out, listed.
    unknown_columns_ignored = True
    # A task table may be long (100,000 rows): read, checked and written batch by batch.
    streams = True

    def __init__(self, *, plan: str | None = None, **kwargs: Any) -> None:
        """``plan``: the title of the plan every row goes into, for a table without a plan
        column (the admin import form's choice, ``manage.py import --plan``)."""
        super().__init__(**kwargs)
        self.plan_title = single_line(plan) if plan else ""
        self._headings: list[tuple[int, str]] = []

    class Meta:
        model = Task
        fields = (
            "plan",
            "indicator_code",
            "title",
            "lead_unit",
            "implementing_units",
            "coordinating_units",
            "monitoring_unit",
            "start_date",
            "deadline",
            "deadline_text",
            "reporting_period",
            "expected_output",
            "note",
        )
        import_id_fields = ("plan", "indicator_code", "title")
        # Rows only build objects; each batch's are written in bulk (bulk_create/bulk_update)
        # and their assignments in after_batch, so the query count does not grow with the
        # rows. Task has no save() override; its history (django-simple-history listens to save
        # signals, which bulk writes skip) is copied by dtiplan.history.history_copy below.
        # bulk_create fills the new tasks' ids on PostgreSQL and SQLite, which the assignments
        # and the history need.
        use_bulk = True
        batch_size = 500

    def filter_export(self, queryset: QuerySet[Task], **kwargs: Any) -> QuerySet[Task]:
        if not queryset.query.order_by:  # see UnitResource.filter_export
            queryset = queryset.order_by("plan__year", "plan__title", "indicator__sort_key", "pk")
        return queryset.select_related("plan", "indicator", "lead_unit").prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit"))
        )

    def get_bulk_update_fields(self) -> list[str]:
        # Model fields, not column names; updated_at because bulk_update skips auto_now.
        return [
            "plan",
            "indicator",
            "title",
            "lead_unit",
            "start_date",
            "deadline",
            "original_deadline",
            "deadline_text",
            "reporting_period",
            "expected_output",
            "note",
            "updated_at",
        ]

    def bulk_create(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        batch_size: int | None = None,
        result: Result | None = None,
    ) -> None:
        """The library's bulk_create, with a history row per created task."""
        if self.create_instances and (using_transactions or not dry_run):
            try:
                Task.objects.bulk_create(self.create_instances, batch_size=batch_size)
                history_copy(
                    Task,
                    [task.pk for task in self.create_instances],
                    history_type="+",
                    user=self.import_user,
                )
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        batch_size: int | None = None,
        result: Result | None = None,
    ) -> None:
        """The library's bulk_update, with a history row per changed task."""
        if self.update_instances and (using_transactions or not dry_run):
            try:
                Task.objects.bulk_update(
                    self.update_instances, self.get_bulk_update_fields(), batch_size=batch_size
                )
                history_copy(
                    Task,
                    [task.pk for task in self.update_instances],
                    history_type="~",
                    user=self.import_user,
                )
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.update_instances.clear()

    def columns_given(self) -> set[str]:
        return {"plan"} if self.plan_title else set()

    def import_data(self, dataset: Any, *args: Any, **kwargs: Any) -> Result:
        self._headings = []  # filled again as the file's rows are read
        return super().import_data(dataset, *args, **kwargs)

    def heading_row(self, number: int, cells: dict[str, Any], ordinal: str) -> bool:
        """A group row: one text across the row ("I. CHỈ SỐ NHẬN THỨC SỐ", merged over the
        table or in one cell), or a roman numeral in the "STT" column over a row that names no
        lead unit. It sets the main indicator of the rows below that name none."""
        text = same_text(cells.values())
        roman = bool(_ROMAN_ORDINAL.match(ordinal))
        if text is None and roman and not clean_text(cells.get("lead_unit")):
            text = clean_text(cells.get("title")) or clean_text(cells.get("indicator_code"))
        if not text:
            return False
        self._headings.append(
            (number, f"{ordinal} {text}" if roman and ordinal not in text else text)
        )
        return True

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        # Only coordinators import (the admin asks for plans.add_task; `manage.py import` is
        # an operator's). A person who may not add tasks is refused here too, whatever door
        # passes their user, so an import can never touch tasks they cannot see.
        self.import_user = kwargs.get("user")
        if self.import_user is not None and not self.import_user.has_perm("plans.add_task"):
            raise PermissionDenied(_("Only coordinators import plan tasks."))
        self.plans: NameIndex[Plan] = NameIndex(Plan.objects.all(), lambda p: p.title)
        units = list(Unit.objects.all())
        self.units: NameIndex[Unit] = NameIndex(units, lambda u: u.name)
        self.directory = UnitDirectory(units, UnitGroup.objects.prefetch_related("members"))
        self.units_by_id = {unit.pk: unit for unit in units}
        self.sets = list(IndicatorSet.objects.all())
        # What the rows of each plan refer to, loaded when a row first names the plan.
        self.plans_loaded: set[int] = set()
        self.indicators: dict[tuple[int, str], Indicator] = {}
        self.indicators_by_id: dict[int, Indicator] = {}
        # Names as documents write them: the same comparison as unit names.
        self.indicator_names: dict[int, NameIndex[Indicator]] = defaultdict(
            lambda: NameIndex([], lambda i: i.name_vi, key=spelling_key)
        )
        self.tasks: dict[tuple[int, int, str], Task] = {}
        self.loaded_task_ids: set[int] = set()
        self.units_now: TaskUnitsNow = {}
        # task id → role → {unit id: assignment id}, for the preview and unchanged rows.
        self.roles_now: dict[int, dict[str, dict[int, int]]] = {}
        self.roles_wanted: list[tuple[Task, dict[str, list[Unit]]]] = []
        self.the_plan: Plan | None = None
        self.heading_mains: dict[tuple[int, int | None], Indicator | None] = {}
        self.heading_problems: dict[int, str] = {}
        if self.plan_title:
            self.the_plan = self.plans.get(self.plan_title)
            if self.the_plan is None:
                raise ValidationError(self._unknown_plan(self.plan_title))

    def _load_plan(self, plan: Plan) -> None:
        """The indicators of the set in force in the plan's year, the plan's tasks and their
        units: a query each, once per plan an import names, whatever its rows."""
        if plan.pk in self.plans_loaded:
            return
        self.plans_loaded.add(plan.pk)
        indicator_set = set_in_force(self.sets, plan.year)
        if indicator_set is not None and indicator_set.pk not in self.indicator_names:
            names = self.indicator_names[indicator_set.pk]
            for indicator in Indicator.objects.filter(indicator_set=indicator_set):
                self.indicators[(indicator.indicator_set_id, indicator.code)] = indicator
                self.indicators_by_id[indicator.pk] = indicator
                names.add(indicator)
                if indicator.name_en:
                    names.add_name(indicator.name_en, indicator)
        tasks = Task.objects.filter(plan=plan)
        for task in tasks.select_related("plan", "indicator", "lead_unit"):
            self.tasks[(task.plan_id, task.indicator_id, name_key(task.title))] = task
            self.loaded_task_ids.add(task.pk)
        units_now = task_units_read(tasks=tasks)
        self.units_now.update(units_now)
        for task_id, roles in units_now.items():
            self.roles_now[task_id] = {
                role: {unit.pk: pk for unit, pk in units.items()} for role, units in roles.items()
            }

    def _heading_over(self, number: int, plan: Plan) -> tuple[int, Indicator | None] | None:
        """The group row above row ``number`` and its main indicator (None when it names none
        we know: an error on the group row, reported once with the rows' errors)."""
        above = [(n, text) for n, text in self._headings if n < number]
        if not above:
            return None
        heading, text = above[-1]
        indicator_set = set_in_force(self.sets, plan.year)
        key = (heading, indicator_set.pk if indicator_set else None)
        if key not in self.heading_mains:
            found = (
                self._indicator_named(indicator_set, _heading_name(text)) if indicator_set else None
            )
            if found is not None and found.parent_id is not None:
                found = self.indicators_by_id.get(found.parent_id)  # a component: its main
            self.heading_mains[key] = found
            if found is None:
                mains = [
                    i
                    for i in self.indicators.values()
                    if indicator_set and i.indicator_set_id == indicator_set.pk and not i.parent_id
                ]
                names = NameIndex(mains, lambda i: i.name_vi, key=spelling_key)
                self.heading_problems[heading] = unknown_message(
                    _("main indicator"),
                    text,
                    names.suggest(_heading_name(text)),
                    _(
                        "A group row names the main indicator of the rows under it, e.g. "
                        "“I. Chỉ số 1: Nhận thức số”."
                    ),
                )
        return heading, self.heading_mains[key]

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        values: dict[str, Any] = {}
        plan = self.the_plan or self._plan(row.get("plan"), errors)
        if plan is not None:
            self._load_plan(plan)
        indicator = self._indicator(plan, row.get("indicator_code"), errors) if plan else None
        title = single_line(row["title"])
        if not title:
            errors.add("title", _("Every task needs a title."))
        lead = self._lead(row["lead_unit"], errors)
        self._roles: dict[str, list[Unit]] = {}
        for column, role in ROLE_COLUMNS.items():
            if column in row:
                self._roles[role] = read_unit_cell(self, row[column], column, errors)
        key = (plan.pk, indicator.pk, name_key(title)) if plan and indicator and title else None
        existing = self.tasks.get(key) if key else None
        if lead is not None:
            self._check_roles(lead, existing, row, errors)
        earlier = self.earlier_row(key) if key else None
        if earlier:
            errors.add(
                "title",
                _("This task (same plan, indicator and title) is already on row %(row)s.")
                % {"row": earlier},
            )
        self._dates(row, plan, existing, values, errors)
        for column in ("expected_output", "note"):
            if column in row:
                values[column] = clean_text(row[column])
        if key:
            # An existing task keeps its title's spelling (rows find it ignoring case).
            title = existing.title if existing else title
            values.update(plan=plan, indicator=indicator, title=title, key=key)
        if lead is not None:
            values["lead_unit"] = lead
        return values

    def _unknown_plan(self, title: str) -> str:
        return unknown_message(
            _("plan"), title, self.plans.suggest(title), _("Create or import the plan first.")
        )

    def _plan(self, cell: Any, errors: RowErrors) -> Plan | None:
        title = single_line(cell)
        if not title:
            errors.add("plan", _("Name the plan the task belongs to."))
            return None
        plan = self.plans.get(title)
        if plan is None:
            errors.add("plan", self._unknown_plan(title))
        return plan

    def _indicator(self, plan: Plan, cell: Any, errors: RowErrors) -> Indicator | None:
        written = single_line(cell)
        heading = self._heading_over(self.sheet_row, plan)
        if not written:
            if heading is not None:
                if heading[1] is not None:
                    self.note(
                        _("Indicator from the group row %(row)s: %(indicator)s")
                        % {"row": heading[0], "indicator": heading[1]}
                    )
                return heading[1]  # None: the group row carries the error
            errors.add(
                "indicator_code",
                _("Give the indicator the task improves (its code or its name)."),
            )
            return None
        indicator_set = plan_indicator_set(plan, self.sets, errors)
        if indicator_set is None:
            return None
        indicator = self._indicator_named(indicator_set, written)
        if indicator is None:
            codes = [c for (set_id, c) in self.indicators if set_id == indicator_set.pk]
            names = self.indicator_names[indicator_set.pk]
            errors.add(
                "indicator_code",
                unknown_message(
                    _("indicator code") if _CODE_ONLY.match(written) else _("indicator"),
                    written,
                    NameIndex(codes, str).suggest(written) or names.suggest(written),
                    _("It is not an indicator of %(set)s.") % {"set": indicator_set.code},
                ),
            )
        elif written != indicator.code:
            self.note(
                _("Indicator “%(written)s” → %(indicator)s")
                % {"written": written, "indicator": indicator}
            )
        return indicator

    def _indicator_named(self, indicator_set: IndicatorSet, written: str) -> Indicator | None:
        """By code ("1.2", "Chỉ số 1.2", "1.2. Tên ...") or by name (Vietnamese or English)."""
        found = self.indicators.get((indicator_set.pk, written))
        if found is not None:
            return found
        match = _INDICATOR_CODE.match(written)
        if match and (found := self.indicators.get((indicator_set.pk, match["code"]))):
            return found
        names = self.indicator_names[indicator_set.pk]
        for candidate in (written, match["rest"] if match else "", _without_prefix(written)):
            if candidate and (found := names.get(candidate)):
                return found
        return None

    def _lead(self, cell: Any, errors: RowErrors) -> Unit | None:
        matches, unknown = self.directory.read(cell)
        written = [m.written for m in matches] + [u.written for u in unknown]
        if not written:
            errors.add("lead_unit", _("Every task needs exactly one lead unit."))
            return None
        if len(written) > 1 or any(len(m.units) != 1 for m in matches):
            errors.add(
                "lead_unit",
                _(
                    "A task has exactly one lead unit, but this cell names %(count)s: %(names)s. "
                    'Put the others under "%(implementing)s" or "%(coordinating)s".'
                )
                % {
                    "count": max(len(written), sum(len(m.units) for m in matches)),
                    "names": "; ".join(written),
                    "implementing": self.user_column("implementing_units"),
                    "coordinating": self.user_column("coordinating_units"),
                },
            )
            return None
        units = read_unit_cell(self, cell, "lead_unit", errors)
        return units[0] if units else None

    def _check_roles(
        self, lead: Unit, existing: Task | None, row: dict[str, Any], errors: RowErrors
    ) -> None:
        # A role without its column keeps the task's units: the rules hold against those.
        now = self.roles_now.get(existing.pk, {}) if existing else {}
        units = {
            role: self._roles.get(role, [self.units_by_id[pk] for pk in now.get(role, {})])
            for role in Assignment.Role
        }
        try:
            task_units_check(lead=lead, **{role.value: found for role, found in units.items()})
        except ValidationError as error:
            for role, messages in error.message_dict.items():
                column = ROLE_FIELDS.get(role, "lead_unit")
                # Without the role's column the lead is what the row changes.
                for message in messages:
                    errors.add(column if column in row else "lead_unit", message)

    def _dates(
        self,
        row: dict[str, Any],
        plan: Plan | None,
        existing: Task | None,
        values: dict[str, Any],
        errors: RowErrors,
    ) -> None:
        start: dt.date | None = existing.start_date if existing else None
        if "start_date" in row:
            try:
                start = values["start_date"] = parse_date(row["start_date"])
            except CellError as exc:
                errors.add("start_date", str(exc))
        if "deadline" not in row:
            return
        try:
            written = parse_deadline(row["deadline"], year=plan.year if plan else None)
        except CellError as exc:
            errors.add("deadline", str(exc))
            return
        if written is None:
            errors.add("deadline", _("Every task needs a deadline."))
            return
        deadline = written.date
        values["deadline_text"] = written.text or clean_text(row.get("deadline_text"))
        values["reporting_period"] = written.every or ""
        if not written.every and clean_text(row.get("reporting_period")):
            try:  # a file exported from here: the date, and the period in its own column
                values["reporting_period"] = parse_choice(row["reporting_period"], ReportingPeriod)
            except CellError as exc:
                errors.add("reporting_period", str(exc))
        if written.every and plan is not None:
            deadline = first_report_date(plan, written.every, timezone.localdate())
            self.note(
                _("Ongoing (%(written)s): reported every %(period)s, first on %(date)s")
                % {
                    "written": written.text,
                    "period": ReportingPeriod(written.every).label.lower(),
                    "date": deadline.strftime("%d/%m/%Y"),
                }
            )
        elif written.text:
            self.note(
                _("Deadline “%(written)s” → %(date)s")
                % {"written": written.text, "date": deadline.strftime("%d/%m/%Y")}
            )
        if deadline is None:
            return
        values["deadline"] = deadline
        if start and deadline < start:
            errors.add(
                "deadline",
                _("The deadline %(deadline)s is before the start date %(start)s.")
                % {"deadline": deadline.strftime("%d/%m/%Y"), "start": start.strftime("%d/%m/%Y")},
            )

    def existing_instance(self, values: dict[str, Any]) -> Task | None:
        return self.tasks.get(values["key"])

    def import_instance(self, instance: Task, row: dict[str, Any], **kwargs: Any) -> None:
        for attribute, value in self._values.items():
            if attribute == "deadline" and instance.pk:
                # Written with the batch below, so not saved here.
                task_deadline_move(task=instance, deadline=value, by=self.import_user, save=False)
            elif attribute != "key":
                setattr(instance, attribute, value)
        instance._sheet_roles = self._roles  # read by the unit-list dehydrators (admin preview)

    def skip_row(
        self,
        instance: Task,
        original: Task,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        now = self.roles_now.get(instance.pk, {}) if instance.pk else {}
        return all(
            {u.pk for u in units} == set(now.get(role, {})) for role, units in self._roles.items()
        )

    def before_save_instance(self, instance: Task, row: dict[str, Any], **kwargs: Any) -> None:
        if instance.pk:
            instance.updated_at = timezone.now()

    def after_save_instance(self, instance: Task, row: dict[str, Any], **kwargs: Any) -> None:
        if self._roles:
            self.roles_wanted.append((instance, self._roles))

    def after_batch(self, result: Result) -> None:
        """The batch's tasks are saved: their units, one DELETE and one INSERT (and history)
        per batch. Pointless once a row failed: the import is rolled back."""
        wanted, self.roles_wanted = self.roles_wanted, []
        if _has_errors(result) or not wanted:
            return
        task_units_set_many(
            wanted=[
                TaskUnits(task=task, **{role.value: units for role, units in roles.items()})
                for task, roles in wanted
            ],
            by=self.import_user,
            current=self.units_now,
        )

    def after_import(self, dataset: Any, result: Result, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        for number, message in sorted(self.heading_problems.items()):
            self.add_sheet_problem(result, number, "title", message)

    # -- export (and the admin's preview) --

    def dehydrate_plan(self, task: Task) -> str:
        plan = related(task, "plan")
        return plan.title if plan else ""

    def dehydrate_indicator_code(self, task: Task) -> str:
        indicator = related(task, "indicator")
        return indicator.code if indicator else ""

    def dehydrate_lead_unit(self, task: Task) -> str:
        unit = related(task, "lead_unit")
        return unit.name if unit else ""

    def _unit_names(self, task: Task, role: str) -> str:
        if getattr(task, "_sheet_roles", None) is not None and role in task._sheet_roles:
            names = [unit.name for unit in task._sheet_roles[role]]
        elif task.pk in getattr(self, "loaded_task_ids", ()):  # importing: what is there now
            names = [
                self.units_by_id[unit_id].name
                for unit_id in self.roles_now.get(task.pk, {}).get(role, {})
            ]
        elif task.pk:  # export: prefetched by filter_export
            names = [a.unit.name for a in task.assignments.all() if a.role == role]
        else:
            names = []
        return "; ".join(sorted(names, key=name_key))

    def dehydrate_implementing_units(self, task: Task) -> str:
        return self._unit_names(task, Assignment.Role.IMPLEMENTING)

    def dehydrate_coordinating_units(self, task: Task) -> str:
        return self._unit_names(task, Assignment.Role.COORDINATING)

    def dehydrate_monitoring_unit(self, task: Task) -> str:
        return self._unit_names(task, Assignment.Role.MONITORING)


# --- Indicator owners ------------------------------------------------------------------------


class IndicatorOwnerResource(PlanIndicatorColumns, StrictResource):
    """Who answers for each indicator in a plan: ``plan, indicator_code, presiding_unit,
    monitoring_unit, coordinating_units``. A row gives the indicator exactly these units; the
    rules are ``plans.owners``'s (one presiding unit, one role per unit)."""

    plan = Field(attribute="plan", column_name="plan")
    indicator_code = Field(attribute="indicator", column_name="indicator_code")
    presiding_unit = Field(column_name="presiding_unit")
    monitoring_unit = Field(column_name="monitoring_unit")
    coordinating_units = Field(column_name="coordinating_units")

    required_columns = ("plan", "indicator_code", "presiding_unit")
    column_aliases: ClassVar[dict[str, str]] = OWNER_HEADERS

    class Meta:
        model = IndicatorOwner
        fields = (
            "plan",
            "indicator_code",
            "presiding_unit",
            "monitoring_unit",
            "coordinating_units",
        )
        import_id_fields = ("plan", "indicator_code")

    def filter_export(
        self, queryset: QuerySet[IndicatorOwner], **kwargs: Any
    ) -> QuerySet[IndicatorOwner]:
        if not queryset.query.order_by:  # see UnitResource.filter_export
            queryset = queryset.order_by("plan__year", "plan__title", "indicator__sort_key", "pk")
        # The admin's list prefetches the units its own way: this prefetch replaces it.
        return (
            queryset.select_related("plan", "indicator")
            .prefetch_related(None)
            .prefetch_related(
                Prefetch("units", queryset=IndicatorOwnerUnit.objects.select_related("unit"))
            )
        )

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.import_user = kwargs.get("user")
        if self.import_user is not None and not self.import_user.has_perm(
            "plans.add_indicatorowner"
        ):
            raise PermissionDenied(_("Only coordinators import indicator owners."))
        plans = self.load_plans_and_indicators(dataset)
        self.owners: dict[tuple[int, int], IndicatorOwner] = {
            (o.plan_id, o.indicator_id): o
            for o in IndicatorOwner.objects.filter(plan__in=list(plans)).select_related(
                "plan", "indicator"
            )
        }
        self.rows_now: dict[int, list[IndicatorOwnerUnit]] = defaultdict(list)
        for row in IndicatorOwnerUnit.objects.filter(owner__plan__in=list(plans)):
            self.rows_now[row.owner_id].append(row)
        self.wanted: list[tuple[IndicatorOwner, dict[str, Any]]] = []

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        plan = self._plan(row["plan"], errors)
        indicator = self._indicator(plan, row["indicator_code"], errors) if plan else None
        presiding = self._one_unit(row, "presiding_unit", errors, required=True)
        monitoring = self._one_unit(row, "monitoring_unit", errors, required=False)
        coordinating = read_unit_cell(
            self, row.get("coordinating_units"), "coordinating_units", errors
        )
        if presiding is not None:
            for column, messages in check_owner_units(presiding, monitoring, coordinating).items():
                for message in messages:
                    errors.add(column, message)
        key = (plan.pk, indicator.pk) if plan and indicator else None
        if key and (earlier := self.earlier_row(key)):
            errors.add(
                "indicator_code",
                _("Indicator %(code)s of this plan is already on row %(row)s.")
                % {"code": indicator.code, "row": earlier},
            )
        self._units = {
            "presiding": presiding,
            "monitoring": monitoring,
            "coordinating": coordinating,
            # Without the column, an indicator keeps its monitoring unit.
            "has_monitoring": "monitoring_unit" in row,
            "has_coordinating": "coordinating_units" in row,
        }
        return {"plan": plan, "indicator": indicator, "key": key} if key else {}

    def _one_unit(
        self, row: dict[str, Any], column: str, errors: RowErrors, *, required: bool
    ) -> Unit | None:
        matches, unknown = self.directory.read(row.get(column))
        written = [m.written for m in matches] + [u.written for u in unknown]
        if not written:
            if required:
                errors.add(column, _("Every indicator needs exactly one presiding unit."))
            return None
        if len(written) > 1 or any(len(m.units) != 1 for m in matches):
            names = [unit.name for m in matches for unit in m.units] + [u.written for u in unknown]
            errors.add(
                column,
                _("Name one unit here; this cell names %(count)s: %(names)s.")
                % {"count": len(names), "names": "; ".join(names)},
            )
            return None
        units = read_unit_cell(self, row.get(column), column, errors)
        return units[0] if units else None

    def existing_instance(self, values: dict[str, Any]) -> IndicatorOwner | None:
        return self.owners.get(values["key"])

    def import_instance(self, instance: IndicatorOwner, row: dict[str, Any], **kwargs: Any) -> None:
        instance.plan = self._values["plan"]
        instance.indicator = self._values["indicator"]
        instance._sheet_units = self._units  # read by the dehydrators (admin preview)

    def _roles_now(self, owner: IndicatorOwner) -> dict[str, list[int]]:
        roles: dict[str, list[int]] = defaultdict(list)
        for row in self.rows_now.get(owner.pk, []) if owner.pk else []:
            roles[row.role].append(row.unit_id)
        return roles

    def _final_units(self, owner: IndicatorOwner) -> tuple[Unit, Unit | None, list[Unit]]:
        """What the row leaves the indicator with: a missing column keeps what it has."""
        sheet = self._units
        now = self._roles_now(owner)
        monitoring = sheet["monitoring"]
        if not sheet["has_monitoring"] and now.get(OwnerRole.MONITORING):
            monitoring = self.units_by_id[now[OwnerRole.MONITORING][0]]
        coordinating = sheet["coordinating"]
        if not sheet["has_coordinating"]:
            coordinating = [self.units_by_id[u] for u in now.get(OwnerRole.COORDINATING, [])]
        # A unit kept from before may be the new presiding unit: it changes role.
        monitoring = None if monitoring == sheet["presiding"] else monitoring
        coordinating = [u for u in coordinating if u not in (sheet["presiding"], monitoring)]
        return sheet["presiding"], monitoring, coordinating

    def skip_row(
        self,
        instance: IndicatorOwner,
        original: IndicatorOwner,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        if not instance.pk:
            return False
        presiding, monitoring, coordinating = self._final_units(instance)
        now = self._roles_now(instance)
        return (
            now.get(OwnerRole.PRESIDING) == [presiding.pk]
            and now.get(OwnerRole.MONITORING, []) == ([monitoring.pk] if monitoring else [])
            and set(now.get(OwnerRole.COORDINATING, [])) == {u.pk for u in coordinating}
        )

    def after_save_instance(
        self, instance: IndicatorOwner, row: dict[str, Any], **kwargs: Any
    ) -> None:
        self.wanted.append((instance, self._final_units(instance)))

    def after_import(self, dataset: Any, result: Result, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        if _has_errors(result):
            return
        for owner, (presiding, monitoring, coordinating) in self.wanted:
            indicator_owner_units_set(
                owner=owner,
                presiding=presiding,
                monitoring=monitoring,
                coordinating=coordinating,
                by=self.import_user,
                now=self.rows_now.get(owner.pk, []),
            )

    # -- export (and the admin's preview) --

    def dehydrate_plan(self, owner: IndicatorOwner) -> str:
        plan = related(owner, "plan")
        return plan.title if plan else ""

    def dehydrate_indicator_code(self, owner: IndicatorOwner) -> str:
        indicator = related(owner, "indicator")
        return indicator.code if indicator else ""

    def _names(self, owner: IndicatorOwner, role: str) -> str:
        sheet = getattr(owner, "_sheet_units", None)
        if sheet is not None:
            picked = {
                OwnerRole.PRESIDING: [sheet["presiding"]],
                OwnerRole.MONITORING: [sheet["monitoring"]],
                OwnerRole.COORDINATING: sheet["coordinating"],
            }[role]
            names = [unit.name for unit in picked if unit is not None]
        elif owner.pk in getattr(self, "rows_now", {}):  # importing: what is there now
            names = [
                self.units_by_id[r.unit_id].name for r in self.rows_now[owner.pk] if r.role == role
            ]
        elif owner.pk:  # export: prefetched by filter_export
            names = [r.unit.name for r in owner.units.all() if r.role == role]
        else:
            names = []
        return "; ".join(sorted(names, key=name_key))

    def dehydrate_presiding_unit(self, owner: IndicatorOwner) -> str:
        return self._names(owner, OwnerRole.PRESIDING)

    def dehydrate_monitoring_unit(self, owner: IndicatorOwner) -> str:
        return self._names(owner, OwnerRole.MONITORING)

    def dehydrate_coordinating_units(self, owner: IndicatorOwner) -> str:
        return self._names(owner, OwnerRole.COORDINATING)


# --- The weak-indicator list -----------------------------------------------------------------


class WeakIndicatorResource(ExportOnlyResource):
    """The weak-indicator list: ``province, year, framework, indicator_code, points,
    max_points, value, recoverable_points, open_tasks, rule``. ``open_tasks``: the titles of
    the tasks of the province's plans that address it, drafts marked, by ``plans.coverage``
    (the column keeps its name so that existing files still read); ``rule``: the weakness rule
    that found it, the year's own or the default."""

    province = Field(column_name="province")
    year = Field(column_name="year")
    framework = Field(column_name="framework")
    indicator_code = Field(column_name="indicator_code")
    points = Field(attribute="points", column_name="points")
    max_points = Field(column_name="max_points")
    value = Field(attribute="value", column_name="value")
    recoverable_points = Field(attribute="recoverable_points", column_name="recoverable_points")
    open_tasks = Field(column_name="open_tasks")
    rule = Field(column_name="rule")

    class Meta:
        model = WeakIndicator
        fields = (
            "province",
            "year",
            "framework",
            "indicator_code",
            "points",
            "max_points",
            "value",
            "recoverable_points",
            "open_tasks",
            "rule",
        )

    def get_queryset(self) -> QuerySet[WeakIndicator]:
        return WeakIndicator.objects.order_by(
            "-assessment__year", "assessment__province__name", "indicator__sort_key"
        )

    def filter_export(
        self, queryset: QuerySet[WeakIndicator], **kwargs: Any
    ) -> QuerySet[WeakIndicator]:
        # The admin's list passes a queryset that already carries the coverage
        # (plans.admin_weak_indicators); ``manage.py export`` passes the plain one.
        if "recoverable_points" not in queryset.query.annotations:
            queryset = queryset.weak().with_recoverable()
        if "coverage" not in queryset.query.annotations:
            queryset = with_coverage(queryset)
        years = queryset.order_by().values_list("assessment__year", flat=True).distinct()
        self.rules = rules_in_force(years)
        return queryset.select_related(
            "assessment__province", "assessment__indicator_set", "indicator"
        )

    def iter_queryset(self, queryset: QuerySet[WeakIndicator]) -> Iterator[WeakIndicator]:
        # The tasks are attached per chunk of rows: one query per chunk, not per row.
        chunk: list[WeakIndicator] = []
        for weak in queryset.iterator(chunk_size=self.get_chunk_size()):
            chunk.append(weak)
            if len(chunk) == self.get_chunk_size():
                yield from attach_tasks(chunk)
                chunk = []
        yield from attach_tasks(chunk)

    def dehydrate_province(self, weak: WeakIndicator) -> str:
        return weak.assessment.province.name_in_year(weak.assessment.year)

    def dehydrate_year(self, weak: WeakIndicator) -> int:
        return weak.assessment.year

    def dehydrate_framework(self, weak: WeakIndicator) -> str:
        return weak.assessment.indicator_set.code

    def dehydrate_indicator_code(self, weak: WeakIndicator) -> str:
        return weak.indicator.code

    def dehydrate_max_points(self, weak: WeakIndicator) -> Decimal | None:
        return weak.indicator.max_points

    def dehydrate_rule(self, weak: WeakIndicator) -> str:
        return self.rules[weak.assessment.year].label

    def dehydrate_open_tasks(self, weak: WeakIndicator) -> str:
        return "; ".join(
            _("Draft: %(title)s") % {"title": task.title} if task.drafted else task.title
            for task in weak.addressing_tasks
        )
