"""Plans, units and plan tasks as spreadsheets (columns in docs/spreadsheets.md).

Each resource loads what its rows refer to once per import (one query per table) and resolves
names from those dicts, so an import's query count grows with the number of tables, not rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.fields import Field
from import_export.results import Result
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from dtiplan.spreadsheets.cells import CellError, parse_choice, parse_date, parse_int
from dtiplan.spreadsheets.errors import RowErrors
from dtiplan.spreadsheets.names import NameIndex, unknown_message
from dtiplan.spreadsheets.resources import StrictResource, related
from dtiplan.spreadsheets.text import clean_text, name_key, single_line, split_emails, split_names
from indicators.models import Indicator, IndicatorSet, WeakIndicator, rules_in_force, set_in_force
from indicators.resources import ExportOnlyResource
from plans.coverage import attach_tasks, with_coverage
from plans.models import (
    Assignment,
    IndicatorOwner,
    IndicatorOwnerUnit,
    OwnerRole,
    Plan,
    Task,
    Unit,
    UnitMembership,
    User,
)
from plans.owners import check_owner_units
from plans.services import (
    FocalPointsNow,
    TaskUnits,
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

# --- The headers of plans' tables ------------------------------------------------------------
# The Vietnamese headers of real plan tables, each to the column it means.

PLAN_HEADERS: dict[str, str] = {
    "Tiêu đề": "title",
    "Năm": "year",
    "Quyết định": "decision",
    "Số quyết định": "decision",
}

UNIT_HEADERS: dict[str, str] = {
    "Tên đơn vị": "name",
    "Tên viết tắt": "short_name",
    "Loại": "kind",
    "Thư điện tử": "email",
    "Đơn vị cấp trên": "parent",
    "Đầu mối": "focal_points",
    "Cán bộ đầu mối": "focal_points",
}

TASK_HEADERS: dict[str, str] = {
    "Kế hoạch": "plan",
    "Mã chỉ số": "indicator_code",
    "Chỉ số": "indicator_code",
    "Tiêu đề": "title",
    "Nhiệm vụ": "title",
    "Tên nhiệm vụ": "title",
    "Đơn vị chủ trì": "lead_unit",
    "Đơn vị thực hiện": "implementing_units",
    "Đơn vị phối hợp": "coordinating_units",
    "Đơn vị đầu mối theo dõi": "monitoring_unit",
    "Ngày bắt đầu": "start_date",
    "Thời hạn": "deadline",
    "Thời hạn hoàn thành": "deadline",
    "Sản phẩm": "expected_output",
    "Kết quả dự kiến": "expected_output",
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


def _lookup_units(
    units: NameIndex[Unit], names: list[str], column: str, errors: RowErrors
) -> list[Unit]:
    found: list[Unit] = []
    for name in names:
        unit = units.get(name)
        if unit is None:
            errors.add(column, unknown_message(_("unit"), name, units.suggest(name), _unit_hint()))
        else:
            found.append(unit)
    return found


def _has_errors(result: Result) -> bool:
    return result.has_errors() or result.has_validation_errors()


# --- Plans -----------------------------------------------------------------------------------


class PlanResource(StrictResource):
    title = Field(attribute="title", column_name="title")
    year = Field(attribute="year", column_name="year")
    decision = Field(attribute="decision", column_name="decision")

    required_columns = ("title", "year")
    column_aliases: ClassVar[dict[str, str]] = PLAN_HEADERS

    class Meta:
        model = Plan
        fields = ("title", "year", "decision")
        import_id_fields = ("title",)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.plans: NameIndex[Plan] = NameIndex(Plan.objects.all(), lambda p: p.title)

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        values: dict[str, Any] = {}
        title = single_line(row["title"])
        if not title:
            errors.add("title", _("Every plan needs a title."))
            return values
        earlier = self.earlier_row(name_key(title))
        if earlier:
            errors.add(
                "title",
                _('The plan "%(title)s" is already on row %(row)s.')
                % {"title": title, "row": earlier},
            )
        # The file names an existing plan ignoring case and spaces; its stored title stays.
        existing = self.plans.get(title)
        values["title"] = existing.title if existing else title
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
        return values

    def existing_instance(self, values: dict[str, Any]) -> Plan | None:
        return self.plans.get(values["title"])


# --- Units -----------------------------------------------------------------------------------


class UnitResource(StrictResource):
    import_user: User | None = None

    name = Field(attribute="name", column_name="name")
    short_name = Field(attribute="short_name", column_name="short_name")
    kind = Field(attribute="kind", column_name="kind")
    email = Field(attribute="email", column_name="email")
    parent = Field(attribute="parent", column_name="parent")
    focal_points = Field(column_name="focal_points")

    required_columns = ("name",)
    column_aliases: ClassVar[dict[str, str]] = UNIT_HEADERS

    class Meta:
        model = Unit
        fields = ("name", "short_name", "kind", "email", "parent", "focal_points")
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
        name = single_line(row["name"])
        if not name:
            errors.add("name", _("Every unit needs a name."))
            return values
        earlier = self.earlier_row(name_key(name))
        if earlier:
            errors.add(
                "name",
                _('The unit "%(name)s" is already on row %(row)s.')
                % {"name": name, "row": earlier},
            )
        existing = self.units.get(name)
        # Matched ignoring case and spaces: the stored name keeps its spelling.
        values["name"] = existing.name if existing else name
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
        # An empty cell keeps the unit's focal points: a sheet that lists only some units'
        # people must not remove everyone else's (remove a person on the unit's page).
        if "focal_points" in row and single_line(row["focal_points"]):
            self._focal = self._focal_points(row["focal_points"], errors)
        return values

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

    def dehydrate_focal_points(self, unit: Unit) -> str:
        if getattr(unit, "_sheet_focal", None) is not None:
            emails = unit._sheet_focal
        elif hasattr(unit, "focal"):  # prefetched for export
            emails = [m.user.email or m.user.username for m in unit.focal]
        else:
            memberships = getattr(self, "focal_now", {}).get(unit.pk, {}).values()
            emails = [m.user.email or m.user.username for m in memberships]
        return "; ".join(sorted(emails, key=str.lower))


# --- Rows that name a plan and an indicator (tasks, indicator owners) -------------------------


def _units_index() -> NameIndex[Unit]:
    return NameIndex(Unit.objects.all(), lambda u: u.name)


class PlanIndicatorColumns:
    """The ``plan`` and ``indicator_code`` columns: the plan by its title, the indicator by its
    code in the set in force in the plan's year; units by name. Loaded once per import."""

    def load_plans_and_indicators(self, dataset: Any) -> dict[int, Plan]:
        """Plans, units, sets and the indicators of the sets the file's plans need: one query
        each. Returns the file's plans by id."""
        self.plans: NameIndex[Plan] = NameIndex(Plan.objects.all(), lambda p: p.title)
        self.units: NameIndex[Unit] = _units_index()
        self.units_by_id = {unit.pk: unit for unit in self.units.values()}
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
        return _("Name the plan the task belongs to.")

    def no_indicator_message(self) -> str:
        return _("Give the code of the indicator the task improves.")

    def _set_for_year(self, year: int) -> IndicatorSet | None:
        return set_in_force(self.sets, year)

    def _plan(self, cell: Any, errors: RowErrors) -> Plan | None:
        title = single_line(cell)
        if not title:
            errors.add("plan", self.no_plan_message())
            return None
        plan = self.plans.get(title)
        if plan is None:
            errors.add(
                "plan",
                unknown_message(
                    _("plan"),
                    title,
                    self.plans.suggest(title),
                    _("Create or import the plan first."),
                ),
            )
        return plan

    def _indicator(self, plan: Plan, cell: Any, errors: RowErrors) -> Indicator | None:
        code = single_line(cell)
        if not code:
            errors.add("indicator_code", self.no_indicator_message())
            return None
        indicator_set = self._set_for_year(plan.year)
        if indicator_set is None:
            errors.add(
                "indicator_code",
                _("No indicator set is in force in %(year)s, the year of plan “%(plan)s”.")
                % {"year": plan.year, "plan": plan.title},
            )
            return None
        twins = [s.code for s in self.sets if s.first_year == indicator_set.first_year]
        if len(twins) > 1:
            errors.add(
                "indicator_code",
                _("Indicator sets %(sets)s all start in %(year)s; it is unclear which applies.")
                % {"sets": ", ".join(twins), "year": indicator_set.first_year},
            )
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

ROLE_COLUMNS = {
    "implementing_units": Assignment.Role.IMPLEMENTING,
    "coordinating_units": Assignment.Role.COORDINATING,
    "monitoring_unit": Assignment.Role.MONITORING,
}
# The role names of the services' errors, as this sheet's columns.
ROLE_FIELDS = {str(role): column for column, role in ROLE_COLUMNS.items()}


class TaskResource(PlanIndicatorColumns, StrictResource):
    plan = Field(attribute="plan", column_name="plan")
    indicator_code = Field(attribute="indicator", column_name="indicator_code")
    title = Field(attribute="title", column_name="title")
    lead_unit = Field(attribute="lead_unit", column_name="lead_unit")
    implementing_units = Field(column_name="implementing_units")
    coordinating_units = Field(column_name="coordinating_units")
    monitoring_unit = Field(column_name="monitoring_unit")
    start_date = Field(attribute="start_date", column_name="start_date")
    deadline = Field(attribute="deadline", column_name="deadline")
    expected_output = Field(attribute="expected_output", column_name="expected_output")

    required_columns = ("plan", "indicator_code", "title", "lead_unit", "deadline")
    column_aliases: ClassVar[dict[str, str]] = TASK_HEADERS

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
            "expected_output",
        )
        import_id_fields = ("plan", "indicator_code", "title")
        # Rows only build objects; they are written in batches (bulk_create/bulk_update) and
        # assignments in after_import, so the query count does not grow with the rows. Task has
        # no save() override; its history (django-simple-history listens to save signals,
        # which bulk writes skip) is written by the *_with_history helpers below. bulk_create
        # fills the new tasks' ids on PostgreSQL and SQLite, which the assignments need.
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
            "expected_output",
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
                bulk_create_with_history(
                    self.create_instances,
                    Task,
                    batch_size=batch_size,
                    default_user=self.import_user,
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
                bulk_update_with_history(
                    self.update_instances,
                    Task,
                    self.get_bulk_update_fields(),
                    batch_size=batch_size,
                    default_user=self.import_user,
                )
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.update_instances.clear()

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        # Only coordinators import (the admin asks for plans.add_task; `manage.py import` is
        # an operator's). A person who may not add tasks is refused here too, whatever door
        # passes their user, so an import can never touch tasks they cannot see.
        self.import_user = kwargs.get("user")
        if self.import_user is not None and not self.import_user.has_perm("plans.add_task"):
            raise PermissionDenied(_("Only coordinators import plan tasks."))
        plans = self.load_plans_and_indicators(dataset)
        self.tasks: dict[tuple[int, int, str], Task] = {
            (t.plan_id, t.indicator_id, name_key(t.title)): t
            for t in Task.objects.filter(plan__in=list(plans)).select_related(
                "plan", "indicator", "lead_unit"
            )
        }
        self.loaded_task_ids = {task.pk for task in self.tasks.values()}
        self.units_now = task_units_read(tasks=Task.objects.filter(plan__in=list(plans)))
        # task id → role → {unit id: assignment id}, for the preview and unchanged rows.
        self.roles_now: dict[int, dict[str, dict[int, int]]] = {
            task_id: {
                role: {unit.pk: pk for unit, pk in units.items()} for role, units in roles.items()
            }
            for task_id, roles in self.units_now.items()
        }
        self.roles_wanted: list[tuple[Task, dict[str, list[Unit]]]] = []

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        values: dict[str, Any] = {}
        plan = self._plan(row["plan"], errors)
        indicator = self._indicator(plan, row["indicator_code"], errors) if plan else None
        title = single_line(row["title"])
        if not title:
            errors.add("title", _("Every task needs a title."))
        lead = self._lead(row["lead_unit"], errors)
        self._roles: dict[str, list[Unit]] = {}
        for column, role in ROLE_COLUMNS.items():
            if column in row:
                self._roles[role] = _lookup_units(
                    self.units, split_names(row[column]), column, errors
                )
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
        self._dates(row, existing, values, errors)
        if "expected_output" in row:
            values["expected_output"] = clean_text(row["expected_output"])
        if key:
            # An existing task keeps its title's spelling (rows find it ignoring case).
            title = existing.title if existing else title
            values.update(plan=plan, indicator=indicator, title=title, key=key)
        if lead is not None:
            values["lead_unit"] = lead
        return values

    def _lead(self, cell: Any, errors: RowErrors) -> Unit | None:
        names = split_names(cell)
        if not names:
            errors.add("lead_unit", _("Every task needs exactly one lead unit."))
            return None
        if len(names) > 1:
            errors.add(
                "lead_unit",
                _(
                    "A task has exactly one lead unit, but this cell names %(count)s: %(names)s. "
                    'Put the others under "%(implementing)s" or "%(coordinating)s".'
                )
                % {
                    "count": len(names),
                    "names": "; ".join(names),
                    "implementing": self.user_column("implementing_units"),
                    "coordinating": self.user_column("coordinating_units"),
                },
            )
            return None
        units = _lookup_units(self.units, names, "lead_unit", errors)
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
        self, row: dict[str, Any], existing: Task | None, values: dict[str, Any], errors: RowErrors
    ) -> None:
        parsed: dict[str, dt.date | None] = {}
        for column in ("start_date", "deadline"):
            if column in row:
                try:
                    parsed[column] = values[column] = parse_date(row[column])
                except CellError as exc:
                    errors.add(column, str(exc))
        if "deadline" in parsed and parsed["deadline"] is None:
            errors.add("deadline", _("Every task needs a deadline."))
        start = parsed.get("start_date", existing.start_date if existing else None)
        deadline = parsed.get("deadline")
        if start and deadline and deadline < start:
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

    def after_import(self, dataset: Any, result: Result, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        if _has_errors(result):
            return
        task_units_set_many(
            wanted=[
                TaskUnits(task=task, **{role.value: units for role, units in roles.items()})
                for task, roles in self.roles_wanted
            ],
            by=self.import_user,
            current=self.units_now,
        )

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

    def no_indicator_message(self) -> str:
        return _("Give the code of the indicator.")

    def no_plan_message(self) -> str:
        return _("Name the plan.")

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
        coordinating = _lookup_units(
            self.units, split_names(row.get("coordinating_units")), "coordinating_units", errors
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
        names = split_names(row.get(column))
        if not names:
            if required:
                errors.add(column, _("Every indicator needs exactly one presiding unit."))
            return None
        if len(names) > 1:
            errors.add(
                column,
                _("Name one unit here; this cell names %(count)s: %(names)s.")
                % {"count": len(names), "names": "; ".join(names)},
            )
            return None
        units = _lookup_units(self.units, names, column, errors)
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
