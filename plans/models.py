"""Units, people, plans, tasks, their assignments and progress.

A task has exactly one lead unit: it is a required foreign key on the task itself, so the
database makes "no lead" and "two leads" impossible. The other roles (implementing,
coordinating, monitoring) are Assignment rows, any number of units each.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Exists, ExpressionWrapper, F, Lookup, OuterRef, Q, Value, When
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from indicators.models import Indicator, Province, under_main_indicator_q
from plans.uploads import EvidenceRecord

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class User(AbstractUser):
    """A person who signs in. Focal points are usually identified by their e-mail address."""

    class Language(models.TextChoices):
        VI = "vi", _("Vietnamese")
        EN = "en", _("English")

    class EventEmails(models.TextChoices):
        IMMEDIATE = "immediate", _("Right away, a few minutes after it happens")
        DIGEST = "digest", _("Only in the morning's daily e-mail")

    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.VI
    )
    # Decisions on a unit's requests and new tasks reach the inbox at once either way; this
    # chooses when they come by e-mail. Reminders always come in the morning's e-mail.
    event_emails = models.CharField(
        _("e-mails about decisions and new tasks"),
        max_length=10,
        choices=EventEmails.choices,
        default=EventEmails.IMMEDIATE,
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~Q(email=""), name="user_email_unique_ci"
            ),
        ]

    def get_full_name(self) -> str:
        """Vietnamese order: family name first ("Trần Thu Hà"), as in every official document."""
        return " ".join(part for part in (self.last_name, self.first_name) if part).strip()


class Unit(models.Model):
    """An organisation that can hold a role on a task: a department, a district, an agency."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("Provincial department")
        LOCAL = "local", _("District or commune People's Committee")
        AGENCY = "agency", _("Central agency in the province")
        ENTERPRISE = "enterprise", _("Enterprise")
        SCHOOL = "school", _("University or school")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    email = models.EmailField(
        _("shared mailbox"),
        blank=True,
        help_text=_("Used for reminders when the unit has no focal point with an e-mail address."),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    aliases = models.TextField(
        _("other names"),
        blank=True,
        help_text=_(
            "One per line: how plans write this unit besides its name and short name, "
            "e.g. “Sở KH&CN” or “CA tỉnh”. Imports match these too."
        ),
    )
    members = models.ManyToManyField(
        User, through="UnitMembership", related_name="units", verbose_name=_("people")
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="unit_name_unique_ci"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="unit_not_its_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class UnitGroup(models.Model):
    """A named set of units a plan may name at once ("UBND các xã, phường", "Các sở, ban,
    ngành"): an import expands it to its members."""

    name = models.CharField(_("name"), max_length=255)
    aliases = models.TextField(
        _("other names"),
        blank=True,
        help_text=_("One per line: other ways plans write this group."),
    )
    members = models.ManyToManyField(
        Unit, related_name="unit_groups", blank=True, verbose_name=_("units")
    )

    class Meta:
        verbose_name = _("unit group")
        verbose_name_plural = _("unit groups")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="unit_group_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class UnitMembership(models.Model):
    class Role(models.TextChoices):
        FOCAL_POINT = "focal_point", _("Focal point")
        HEAD = "head", _("Head")

    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("unit")
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.FOCAL_POINT
    )

    # Who was focal point when matters afterwards (who was told, who acted for the unit).
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("unit member")
        verbose_name_plural = _("unit members")
        constraints = [
            models.UniqueConstraint(fields=["unit", "user", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.unit}"


class Plan(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("In force")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=255)
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    decision = models.CharField(
        _("issuing decision"),
        max_length=100,
        blank=True,
        help_text=_("Number of the decision or plan that issued it, e.g. 123/KH-UBND."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # The reports need to know whose DTI the plan improves (the app holds every province's
    # results): the points the plan targets and the trend are that province's.
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plans",
        verbose_name=_("province"),
        help_text=_(
            "The province whose DTI the plan improves; the reports read its results "
            "(points to win, DTI by year)."
        ),
    )

    # A plan often runs for several assessments ("năm 2026 và các năm tiếp theo"); its targets
    # are set for years in this span. Empty: the plan's own year only.
    first_year = models.PositiveSmallIntegerField(
        _("first assessment year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
    )
    last_year = models.PositiveSmallIntegerField(
        _("last assessment year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
    )

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(Lower("title"), name="plan_title_unique_ci"),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="plan_year_range"
            ),
            models.CheckConstraint(
                condition=Q(first_year__isnull=True)
                | Q(last_year__isnull=True)
                | Q(first_year__lte=F("last_year")),
                name="plan_first_year_not_after_last",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def in_force(self) -> bool:
        """Its tasks are live: no longer a draft, not closed yet (the plan half of task_open_q)."""
        return self.status == Plan.Status.ACTIVE

    @property
    def assessment_span(self) -> tuple[int, int]:
        """The plan's first and last assessment years (its own year when no span is set)."""
        first = self.first_year or self.year
        return first, self.last_year or max(first, self.year)

    def covers_year(self, year: int) -> bool:
        """``year`` is one of the plan's assessment years."""
        first, last = self.assessment_span
        return first <= year <= last

    def clean(self) -> None:
        super().clean()
        if self.first_year and self.last_year and self.first_year > self.last_year:
            raise ValidationError(
                {"last_year": _("The last assessment year cannot be before the first.")}
            )


# --- Task state: each state defined once ------------------------------------------------------
# A task is *open* while someone still has to work on it: assigned or in progress, in a plan in
# force. A draft plan's tasks are not live yet and a closed plan's are no longer chased, so
# neither is open, nor overdue, nor due (docs/decisions.md). *Overdue*: open with its deadline (a
# local date) before today; due today is not overdue. The querysets, ``Task.is_open``,
# ``Task.is_overdue``, the portal's filters and counts, the reports and the reminder sweep all
# build on these functions. ``prefix`` reaches a task through a relation ("task__").


def task_open_q(prefix: str = "") -> Q:
    """The tasks someone still has to work on."""
    return Q(
        **{
            f"{prefix}status__in": Task.OPEN_STATUSES,
            f"{prefix}plan__status": Plan.Status.ACTIVE,
        }
    )


def task_overdue_q(now: dt.datetime, prefix: str = "") -> Q:
    """Open tasks whose deadline is before today (``now``'s local date)."""
    return task_open_q(prefix) & Q(**{f"{prefix}deadline__lt": timezone.localdate(now)})


def task_due_within_q(now: dt.datetime, days: int, prefix: str = "") -> Q:
    """Open tasks due from today to ``days`` days ahead (overdue ones are not "due")."""
    today = timezone.localdate(now)
    return task_open_q(prefix) & Q(
        **{
            f"{prefix}deadline__gte": today,
            f"{prefix}deadline__lte": today + dt.timedelta(days=days),
        }
    )


def task_days_overdue(now: dt.datetime, prefix: str = "") -> Case:
    """How long an overdue task is past its deadline, as a duration of whole days (zero for a
    task that is not overdue): the database side of ``Task.days_overdue``. A duration, because
    that is the date difference every database backend computes alike."""
    return Case(
        When(
            task_overdue_q(now, prefix),
            then=Value(timezone.localdate(now), output_field=models.DateField())
            - F(f"{prefix}deadline"),
        ),
        default=Value(dt.timedelta(0)),
        output_field=models.DurationField(),
    )


class _InIds(Lookup):
    """``pk IN (subquery)`` for a short list of ids from another index (a unit's tasks).

    PostgreSQL plans ``IN (a UNION b)`` as a hash join that reads every task (73 ms at 300,000
    tasks for a unit with 1,600); ``= ANY(ARRAY(...))`` runs the subquery once and fetches the
    ids through the primary key (10 ms). Elsewhere it is the plain ``IN``."""

    lookup_name = "in_ids"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return In(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY({rhs}))", [*lhs_params, *rhs_params]


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        """Tasks someone still has to work on (``task_open_q``)."""
        return self.filter(task_open_q())

    def overdue(self, now: dt.datetime) -> TaskQuerySet:
        """Open tasks whose deadline is before today (``task_overdue_q``)."""
        return self.filter(task_overdue_q(now))

    def not_overdue(self, now: dt.datetime) -> TaskQuerySet:
        """Every task ``overdue`` leaves out (the filters' "Not overdue")."""
        return self.exclude(task_overdue_q(now))

    def due_within(self, now: dt.datetime, days: int) -> TaskQuerySet:
        """Open tasks due from today to ``days`` days ahead (``task_due_within_q``)."""
        return self.filter(task_due_within_q(now, days))

    def with_days_overdue(self, now: dt.datetime) -> TaskQuerySet:
        """Each task with ``overdue_by``: how long it is overdue (``task_days_overdue``)."""
        return self.annotate(overdue_by=task_days_overdue(now))

    def for_unit(self, unit: Unit | int) -> TaskQuerySet:
        """Tasks where the unit holds any role. The unit's task ids are one subquery (its lead
        tasks and its assignments, each read by its index), so the database reads the unit's
        tasks, not every task with a check each (``lead OR EXISTS`` cannot use an index)."""
        unit_id = unit.pk if isinstance(unit, Unit) else unit
        led = Task.objects.order_by().filter(lead_unit_id=unit_id).values("pk")
        assigned = Assignment.objects.order_by().filter(unit_id=unit_id).values("task_id")
        return self.filter(_InIds(F("pk"), led.union(assigned)))

    def reported_by(self, unit: Unit | int) -> TaskQuerySet:
        """Tasks the unit reports on: it leads them or implements them."""
        unit_id = unit.pk if isinstance(unit, Unit) else unit
        return self.filter(
            Q(lead_unit_id=unit_id)
            | Exists(
                Assignment.objects.filter(
                    task=OuterRef("pk"), unit_id=unit_id, role=Assignment.Role.IMPLEMENTING
                )
            )
        )

    def for_main_indicator(self, indicator_id: int) -> TaskQuerySet:
        """Tasks on a main indicator or on any of its components."""
        return self.filter(under_main_indicator_q(indicator_id))

    def with_list_columns(self) -> TaskQuerySet:
        return self.select_related("plan", "indicator", "indicator__parent", "lead_unit")

    def visible_to(self, user: User | AnonymousUser) -> TaskQuerySet:
        """The one rule of who sees which task, used by every door (portal, admin, downloads,
        exports): people with ``plans.view_all_tasks`` (coordinators, the steering committee)
        see every task; anyone else sees the non-draft tasks of plans not in draft where a unit
        they are focal point or head of holds any role. No query here: the user's units are a
        subquery."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_perm("plans.view_all_tasks"):
            return self
        units = UnitMembership.objects.filter(user_id=user.pk).values("unit_id")
        # Neither a draft task nor the tasks of a plan still in draft reach the units.
        return (
            self.exclude(status=Task.Status.DRAFT)
            .exclude(plan__status=Plan.Status.DRAFT)
            .filter(
                Q(lead_unit_id__in=units)
                | Exists(Assignment.objects.filter(task=OuterRef("pk"), unit_id__in=units))
            )
        )

    def with_unit_role(self, unit_ids: object, role: str) -> TaskQuerySet:
        """Tasks where one of the units holds ``role`` (a ``TaskRole``; lead included)."""
        if role == TaskRole.LEAD:
            return self.filter(lead_unit_id__in=unit_ids)
        return self.filter(
            Exists(Assignment.objects.filter(task=OuterRef("pk"), unit_id__in=unit_ids, role=role))
        )


class TaskRole(models.TextChoices):
    """Every role a unit can hold on a task: the lead (``Task.lead_unit``) and the
    ``Assignment`` roles. Used where people pick or see "my role"."""

    LEAD = "lead", _("Lead")
    IMPLEMENTING = "implementing", _("Implementing")
    COORDINATING = "coordinating", _("Coordinating")
    MONITORING = "monitoring", _("Monitoring focal unit")


# Units in these roles report progress and completion and ask for time; others only comment.
REPORTING_ROLES = frozenset({TaskRole.LEAD, TaskRole.IMPLEMENTING})


class ReportingPeriod(models.TextChoices):
    """How often an ongoing task is reported on (the values of ``periods.Every``)."""

    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class Task(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        NEW = "new", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Awaiting verification")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    # The statuses in which a unit works on the task (reports, submits, asks for time): the
    # status half of "open" (``task_open_q``, which also wants the plan in force).
    OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS)

    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("plan")
    )
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        related_name="tasks",
        verbose_name=_("indicator"),
        help_text=_("The main or component indicator this task improves."),
    )
    # On PostgreSQL the search's column plans_task.search_words is generated from the title,
    # the indicator and the lead unit (migration 0014, plans.search): a migration that changes
    # one of these three columns' type drops that column first and adds it back after.
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    expected_output = models.TextField(_("expected output"), blank=True)
    note = models.TextField(_("note"), blank=True, help_text=_("The plan's “Ghi chú”."))
    lead_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="led_tasks",
        verbose_name=_("lead unit"),
        db_index=False,  # task_lead_unit starts with the unit
        help_text=_("The one unit that presides over the task and answers for its result."),
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    deadline = models.DateField(_("deadline"))
    deadline_text = models.CharField(
        _("deadline as written"),
        max_length=100,
        blank=True,
        help_text=_("The plan's wording, e.g. “Quý III/2026”, kept beside the date it means."),
    )
    reporting_period = models.CharField(
        _("reported every"),
        max_length=10,
        choices=ReportingPeriod.choices,
        blank=True,
        help_text=_(
            "For an ongoing task (“Thường xuyên”, “Hằng quý”): its deadline is the end of the "
            "current period and moves to the next one when the period is reported."
        ),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    percent_done = models.PositiveSmallIntegerField(
        _("percent done"), default=0, validators=[MaxValueValidator(100)]
    )
    original_deadline = models.DateField(
        _("original deadline"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The deadline first set, kept when an extension moves the deadline."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TaskQuerySet.as_manager()
    # Every change (status, deadline, lead) with who and when. QuerySet.update() and bulk
    # operations bypass it: change tasks through services.py or save().
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(deadline__gte=F("start_date")),
                name="task_deadline_not_before_start",
                violation_error_message=_("The deadline cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(percent_done__gte=0, percent_done__lte=100),
                name="task_percent_done_range",
                violation_error_message=_("Percent done must be between 0 and 100."),
            ),
            models.UniqueConstraint(
                "plan", "indicator", Lower("title"), name="task_title_unique_per_indicator"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"]),
            # A unit's tasks (``for_unit``) as the ids it leads, read from the index alone.
            models.Index(fields=["lead_unit", "id"], name="task_lead_unit"),
            # The lists' order (admin, overdue report): a page of 100 reads 100 index entries
            # instead of sorting every task.
            models.Index(fields=["deadline", "id"], name="task_list_order"),
            # The same order for the open tasks alone (the overdue list and the reminders'
            # "past its deadline"): walking ``task_list_order`` to the first 100 overdue
            # tasks would step over every completed task of the earlier years' plans.
            models.Index(
                fields=["deadline", "id"],
                condition=Q(status__in=["new", "in_progress"]),
                name="task_open_order",
            ),
            # "Which tasks of this province's plans address this indicator" (plans.coverage),
            # asked for every weak row.
            models.Index(fields=["indicator", "plan"], name="task_indicator_plan"),
            # A weak row's first tasks in the order it lists them (drafts last, soonest
            # deadline first) and their count, without reading the rest of its indicator's
            # tasks (plans.coverage): cancelled tasks address nothing and are left out.
            models.Index(
                F("indicator"),
                F("plan"),
                ExpressionWrapper(Q(status="draft"), output_field=models.BooleanField()),
                F("deadline"),
                F("id"),
                condition=~Q(status="cancelled"),
                name="task_addressing_order",
            ),
            # The pack's first rows: each (plan, indicator)'s tasks by deadline, the work ones
            # only (``plans.reports.exports.pack_first_ids``).
            models.Index(
                fields=["plan", "indicator", "deadline", "id"],
                condition=~Q(status__in=["draft", "cancelled"]),
                name="task_pack_order",
            ),
        ]
        permissions = [
            ("view_all_tasks", _("Can see every unit's tasks")),
            ("verify_completion", _("Can verify or refuse the completion of any task")),
            ("decide_extension", _("Can approve or refuse extension requests")),
            ("view_reports", _("Can read the steering committee's reports")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The portal's task page: every role can open it (the admin is for coordinators)."""
        return reverse("portal:task_detail", args=[self.pk])

    @property
    def accepts_reports(self) -> bool:
        """Units may still report progress, submit completion or ask for time: the status half
        of "open" only, so closing a plan does not lock out a late report (docs/decisions.md)."""
        return self.status in self.OPEN_STATUSES

    @property
    def is_open(self) -> bool:
        """``task_open_q`` for one task in memory (reads the plan: select it with the task)."""
        return self.status in self.OPEN_STATUSES and self.plan.in_force

    def is_overdue(self, now: dt.datetime) -> bool:
        """``task_overdue_q`` for one task in memory."""
        return self.is_open and self.deadline < timezone.localdate(now)

    def days_overdue(self, now: dt.datetime) -> int:
        """Whole days past the deadline of an overdue task, else 0 (``task_days_overdue``)."""
        if not self.is_overdue(now):
            return 0
        return (timezone.localdate(now) - self.deadline).days


class Assignment(models.Model):
    """A unit's role on a task, besides the lead (which is ``Task.lead_unit``)."""

    class Role(models.TextChoices):
        IMPLEMENTING = "implementing", _("Implementing")
        COORDINATING = "coordinating", _("Coordinating")
        MONITORING = "monitoring", _("Monitoring focal unit")

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("task")
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("unit"),
        db_index=False,  # assignment_unit_task starts with the unit
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        # A unit's tasks (``for_unit``) as the ids it holds a role on, read from the index alone.
        indexes = [models.Index(fields=["unit", "task"], name="assignment_unit_task")]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "unit", "role"],
                name="assignment_unique_role",
                violation_error_message=_("This unit already holds this role on the task."),
            ),
            models.CheckConstraint(
                condition=Q(role__in=["implementing", "coordinating", "monitoring"]),
                name="assignment_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} – {self.get_role_display()}"


class ProgressUpdate(models.Model):
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="progress_updates", verbose_name=_("task")
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="progress_updates",
        verbose_name=_("unit"),
        db_index=False,  # progress_unit_latest starts with the unit
    )
    author = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="progress_updates",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    percent = models.PositiveSmallIntegerField(
        _("percent done"), validators=[MaxValueValidator(100)]
    )
    note = models.TextField(_("note"), blank=True)
    was_overdue = models.BooleanField(_("reported when overdue"), default=False, editable=False)
    delay_reason = models.TextField(_("reason for the delay"), blank=True)

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["-created_at"]
        # "The latest report of each task" (reports, the pack, the reminder sweep) is a
        # per-task subquery ordered by time. Without this index PostgreSQL walks the
        # created_at index backwards for each task: 61 s instead of 2 s for 3,000 overdue tasks
        # among 100,000 reports (bench/reports.py).
        indexes = [
            models.Index(fields=["task", "-created_at"], name="progress_task_latest"),
            # "A unit's last report on the report's tasks" (the units report) walks the unit's
            # reports from the latest and stops at the first that counts.
            models.Index(fields=["unit", "-created_at"], name="progress_unit_latest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100),
                name="progress_percent_range",
                violation_error_message=_("Percent done must be between 0 and 100."),
            ),
            models.CheckConstraint(
                condition=Q(was_overdue=False) | ~Q(delay_reason=""),
                name="progress_overdue_needs_delay_reason",
                violation_error_message=_("The task is overdue: give the reason for the delay."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} – {self.percent}%"

    def clean(self) -> None:
        super().clean()
        if (
            self.task_id
            and self.unit_id
            and not Task.objects.filter(pk=self.task_id).reported_by(self.unit_id).exists()
        ):
            raise ValidationError(
                {"unit": _("Only the lead and implementing units report progress on this task.")}
            )


class Acknowledgement(models.Model):
    """A unit has seen a task it holds a role on: once per unit and task."""

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="acknowledgements", verbose_name=_("task")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="acknowledgements", verbose_name=_("unit")
    )
    by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    at = models.DateTimeField(_("acknowledged at"), default=timezone.now)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        ordering = ["at"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="acknowledgement_once_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} – {self.task}"


class Comment(models.Model):
    """What a unit says on a task without reporting progress (coordinating units do this)."""

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="comments", verbose_name=_("task")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="comments", verbose_name=_("unit")
    )
    author = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    text = models.TextField(_("comment"), max_length=4000)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="comment_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.text[:50]}"


class Decision(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class DecidedRequestQuerySet(models.QuerySet):
    def pending(self) -> DecidedRequestQuerySet:
        """Requests still waiting for someone to decide them."""
        return self.filter(status=Decision.PENDING)

    def decided(self) -> DecidedRequestQuerySet:
        return self.exclude(status=Decision.PENDING)


# The decision's fields, declared once; a kind of request may name them its own way.


def _status_field(label: str) -> models.CharField:
    return models.CharField(
        label, max_length=10, choices=Decision.choices, default=Decision.PENDING
    )


def _decided_by_field(label: str) -> models.ForeignKey:
    return models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=label
    )


def _decided_at_field(label: str) -> models.DateTimeField:
    return models.DateTimeField(label, null=True, blank=True)


def _decision_note_field(label: str) -> models.TextField:
    return models.TextField(label, blank=True)


class DecidedRequest(models.Model):
    """Something a unit asks for on a task and someone decides: pending until then, then
    approved or refused, with who and when; a refusal always says why. At most one request of
    a kind waits for a decision on a task. Subclasses have a ``task`` foreign key."""

    status = _status_field(_("decision"))
    decided_by = _decided_by_field(_("decided by"))
    decided_at = _decided_at_field(_("decided at"))
    decision_note = _decision_note_field(_("decision note"))

    DECISION_FIELDS = ("status", "decided_by", "decided_at", "decision_note")

    objects = DecidedRequestQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status=Decision.PENDING, decided_at__isnull=True)
                    | (~Q(status=Decision.PENDING) & Q(decided_at__isnull=False))
                ),
                name="%(class)s_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=Decision.REFUSED) | ~Q(decision_note=""),
                name="%(class)s_refusal_has_reason",
                violation_error_message=_("Give the reason for the refusal."),
            ),
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(status=Decision.PENDING),
                name="%(class)s_one_pending_per_task",
                violation_error_message=_("This task already has a request awaiting a decision."),
            ),
        ]

    @property
    def is_pending(self) -> bool:
        return self.status == Decision.PENDING


class CompletionSubmissionQuerySet(DecidedRequestQuerySet):
    def verifiable_by(self, user: User | AnonymousUser) -> CompletionSubmissionQuerySet:
        """The submissions ``user`` may verify or refuse: ``plans.access.TaskAccess.can_verify``
        as a query (tests/test_acting_roles.py holds the two to the same answer). Nobody
        verifies their own submission; ``plans.verify_completion`` verifies any other; else a
        person verifies through a monitoring unit other than the submitting one, and only on a
        task where none of their units reports (leads or implements). No query here."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        others = self.exclude(submitted_by_id=user.pk)
        if user.has_perm("plans.verify_completion"):
            return others
        units = UnitMembership.objects.filter(user_id=user.pk).values("unit_id")
        on_task = Assignment.objects.filter(task_id=OuterRef("task_id"), unit_id__in=units)
        reports = Q(task__lead_unit_id__in=units) | Exists(
            on_task.filter(role=Assignment.Role.IMPLEMENTING)
        )
        monitors_for_another = Exists(
            on_task.filter(role=Assignment.Role.MONITORING).exclude(unit_id=OuterRef("unit_id"))
        )
        return others.filter(monitors_for_another).exclude(reports)


class CompletionSubmission(DecidedRequest):
    """A unit says the task is done, with the document that proves it. The task is completed
    only when a coordinator or a monitoring unit verifies it (``Decision.APPROVED``)."""

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="completions", verbose_name=_("task")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="completions", verbose_name=_("unit")
    )
    submitted_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    document_number = models.CharField(
        _("document number"), max_length=100, help_text=_("e.g. 45/BC-SKHCN")
    )
    document_date = models.DateField(_("document date"))
    summary = models.TextField(_("summary of the result"))
    was_overdue = models.BooleanField(_("submitted when overdue"), default=False, editable=False)
    delay_reason = models.TextField(_("reason for the delay"), blank=True)
    # The decision on a completion is its verification, and the admin says so.
    status = _status_field(_("verification"))
    decided_by = _decided_by_field(_("verified by"))
    decided_at = _decided_at_field(_("verified at"))
    decision_note = _decision_note_field(_("verifier's note"))

    objects = CompletionSubmissionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta(DecidedRequest.Meta):
        verbose_name = _("completion submission")
        verbose_name_plural = _("completion submissions")
        ordering = ["-submitted_at"]
        # The admin list's order (it adds -id): a page reads the index instead of sorting all.
        indexes = [models.Index(fields=["-submitted_at", "-id"], name="completion_list_order")]
        constraints = [
            *DecidedRequest.Meta.constraints,
            models.CheckConstraint(
                condition=~Q(document_number="") & ~Q(summary=""),
                name="completion_document_named",
            ),
            models.CheckConstraint(
                condition=Q(was_overdue=False) | ~Q(delay_reason=""),
                name="completion_overdue_needs_delay_reason",
                violation_error_message=_("The task is overdue: give the reason for the delay."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} – {self.document_number}"


class ExtensionRequest(DecidedRequest):
    """A unit asks for a later deadline. Approval moves ``Task.deadline``; the task keeps its
    first deadline in ``original_deadline`` and this row keeps the one it replaced."""

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="extension_requests", verbose_name=_("task")
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="extension_requests",
        verbose_name=_("unit"),
    )
    requested_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    previous_deadline = models.DateField(_("deadline when requested"))
    new_deadline = models.DateField(_("requested deadline"))
    reason = models.TextField(_("reason"))
    history = HistoricalRecords()

    class Meta(DecidedRequest.Meta):
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]
        # The admin list's order (it adds -id): a page reads the index instead of sorting all.
        indexes = [models.Index(fields=["-requested_at", "-id"], name="extension_list_order")]
        constraints = [
            *DecidedRequest.Meta.constraints,
            models.CheckConstraint(
                condition=Q(new_deadline__gt=F("previous_deadline")),
                name="extension_moves_deadline_later",
                violation_error_message=_("The new deadline must be after the current one."),
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="extension_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.task} → {self.new_deadline:%d/%m/%Y}"


class Evidence(EvidenceRecord):
    """A file or a link that backs a progress report or a completion submission.

    Files are stored under random names outside any public URL (``plans.uploads``); they are
    read only through the portal's download view, which applies ``Task.objects.visible_to``.
    """

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("task")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("unit")
    )
    progress_update = models.ForeignKey(
        ProgressUpdate,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="evidence",
        verbose_name=_("progress update"),
    )
    completion = models.ForeignKey(
        CompletionSubmission,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="evidence",
        verbose_name=_("completion submission"),
    )

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(link="")) | (~Q(file="") & Q(link="")),
                name="evidence_file_or_link",
                violation_error_message=_("Evidence is either a file or a link."),
            ),
            models.CheckConstraint(
                condition=Q(progress_update__isnull=True) | Q(completion__isnull=True),
                name="evidence_backs_one_report",
            ),
        ]

    def get_absolute_url(self) -> str:
        if self.link:
            return self.link
        return reverse("portal:evidence_download", args=[self.pk])


# The assessment year's models (indicator owners, the self-assessment) live in their own module;
# imported here so that Django registers them with the app and callers import them from here.
from plans.models_assessment import (  # noqa: E402, F401
    EDITABLE_STATUSES,
    IndicatorOwner,
    IndicatorOwnerUnit,
    ItemStatus,
    OwnerRole,
    SelfAssessmentEvidence,
    SelfAssessmentItem,
    SelfAssessmentRound,
)
from plans.models_targets import Ranking, Target, TargetKind  # noqa: E402, F401
