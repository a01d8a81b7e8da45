"""Units, people, plans, tasks, their assignments and progress.

A task has exactly one lead unit: it is a required foreign key on the task itself, so the
database makes "no lead" and "two leads" impossible. The other roles (implementing,
coordinating, monitoring) are Assignment rows, any number of units each.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator


class User(AbstractUser):
    """A person who signs in. Focal points are usually identified by their e-mail address."""

    class Language(models.TextChoices):
        VI = "vi", _("Vietnamese")
        EN = "en", _("English")

    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.VI
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~Q(email=""), name="user_email_unique_ci"
            ),
        ]


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

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(Lower("title"), name="plan_title_unique_ci"),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="plan_year_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        """Tasks someone still has to work on (not draft, submitted, completed or cancelled)."""
        return self.filter(status__in=Task.OPEN_STATUSES)

    def overdue(self, now: dt.datetime) -> TaskQuerySet:
        """Open tasks whose deadline (a local date) is before today. Due today is not overdue."""
        return self.open().filter(deadline__lt=timezone.localdate(now))

    def for_unit(self, unit: Unit | int) -> TaskQuerySet:
        """Tasks where the unit holds any role."""
        unit_id = unit.pk if isinstance(unit, Unit) else unit
        return self.filter(
            Q(lead_unit_id=unit_id)
            | Exists(Assignment.objects.filter(task=OuterRef("pk"), unit_id=unit_id))
        )

    def for_main_indicator(self, indicator_id: int) -> TaskQuerySet:
        """Tasks on a main indicator or on any of its components."""
        return self.filter(Q(indicator_id=indicator_id) | Q(indicator__parent_id=indicator_id))

    def with_list_columns(self) -> TaskQuerySet:
        return self.select_related("plan", "indicator", "indicator__parent", "lead_unit")


class Task(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        NEW = "new", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Awaiting verification")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

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
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    expected_output = models.TextField(_("expected output"), blank=True)
    lead_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="led_tasks",
        verbose_name=_("lead unit"),
        help_text=_("The one unit that presides over the task and answers for its result."),
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    percent_done = models.PositiveSmallIntegerField(
        _("percent done"), default=0, validators=[MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TaskQuerySet.as_manager()

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
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("admin:plans_task_change", args=[self.pk])

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.status in self.OPEN_STATUSES and self.deadline < timezone.localdate(now)

    def days_overdue(self, now: dt.datetime) -> int:
        return max(0, (timezone.localdate(now) - self.deadline).days)


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
        Unit, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("unit")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
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
        Unit, on_delete=models.PROTECT, related_name="progress_updates", verbose_name=_("unit")
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

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100),
                name="progress_percent_range",
                violation_error_message=_("Percent done must be between 0 and 100."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} – {self.percent}%"

    def clean(self) -> None:
        super().clean()
        if (
            self.task_id
            and self.unit_id
            and not Task.objects.filter(pk=self.task_id).for_unit(self.unit_id).exists()
        ):
            raise ValidationError({"unit": _("This unit holds no role on the task.")})
