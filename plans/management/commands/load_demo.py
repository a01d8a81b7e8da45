"""``manage.py load_demo``: a small demo province for a first look (``make run``).

It loads units with focal points, this year's plan and five tasks on main indicators of the
DTI 2024 set (one overdue, one due soon, one completed), each main indicator's presiding and
monitoring units (and this year's self-assessment round when the set has max points), and
creates the demo coordinator account.
It is idempotent: the demo data is loaded only into a database without units or plans, so a
second run, or a run after someone has started real work, changes nothing; the coordinator is
created once and its generated password is printed only then.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from indicators.models import Indicator, IndicatorSet, Province, WeakRule
from plans.models import (
    Assignment,
    CompletionSubmission,
    Decision,
    Plan,
    ProgressUpdate,
    Target,
    TargetKind,
    Task,
    Unit,
    UnitMembership,
    User,
)
from plans.roles import COORDINATOR, FOCAL_POINT, ensure_groups
from plans.self_assessment import scored_leaves, self_assessment_open
from plans.services import indicator_owner_set

COORDINATOR_USERNAME = "coordinator"
# A focal point of the unit leading the overdue task, to try the portal as a unit sees it.
FOCAL_POINT_USERNAME = "focalpoint"
INDICATOR_SET = "DTI2024"  # in force from the 2024 assessment until a later set is imported
PROVINCE = "Lạng Sơn"
# Made-up main-indicator results, the file docs/spreadsheets.md offers as an import example.
SAMPLE_SCORES = Path(settings.BASE_DIR) / "docs" / "examples" / "scores.csv"
SAMPLE_YEAR = 2024
# A reserved top-level domain (RFC 2606): no demo e-mail can reach a real mailbox.
DOMAIN = "tinh.example"


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    email: str


@dataclass(frozen=True)
class DemoUnit:
    key: str
    name: str
    short_name: str
    kind: Unit.Kind
    focal_points: tuple[Person, ...]

    @property
    def email(self) -> str:
        return f"{self.key}@{DOMAIN}"


@dataclass(frozen=True)
class DemoTask:
    indicator_code: str  # a main indicator of the DTI 2024 set (components are user data)
    title: str
    expected_output: str
    lead: str
    implementing: tuple[str, ...]
    coordinating: tuple[str, ...]
    monitoring: str
    deadline_in_days: int  # from the day the demo is loaded; negative means past
    status: Task.Status
    percent_done: int
    progress_note: str = ""


# The coordinating department comes first: it monitors most indicators. Its name is demo data
# only; nothing else in the code knows which unit coordinates.
UNITS = (
    DemoUnit(
        "skhcn",
        "Sở Khoa học và Công nghệ",
        "Sở KH&CN",
        Unit.Kind.DEPARTMENT,
        (Person("Phạm", "Minh Đức", f"pham.minh.duc@skhcn.{DOMAIN}"),),
    ),
    DemoUnit(
        "vpubnd",
        "Văn phòng UBND tỉnh",
        "VP UBND",
        Unit.Kind.DEPARTMENT,
        (
            Person("Nguyễn", "Thị Lan", f"nguyen.thi.lan@vpubnd.{DOMAIN}"),
            Person("Lê", "Quang Huy", f"le.quang.huy@vpubnd.{DOMAIN}"),
        ),
    ),
    DemoUnit(
        "snv",
        "Sở Nội vụ",
        "SNV",
        Unit.Kind.DEPARTMENT,
        (Person("Hoàng", "Văn Nam", f"hoang.van.nam@snv.{DOMAIN}"),),
    ),
    DemoUnit(
        "stc",
        "Sở Tài chính",
        "STC",
        Unit.Kind.DEPARTMENT,
        (Person("Vũ", "Thị Hồng", f"vu.thi.hong@stc.{DOMAIN}"),),
    ),
    DemoUnit(
        "cat",
        "Công an tỉnh",
        "CA tỉnh",
        Unit.Kind.AGENCY,
        (Person("Đặng", "Tuấn Anh", f"dang.tuan.anh@cat.{DOMAIN}"),),
    ),
    DemoUnit(
        "lvt",
        "UBND phường Lương Văn Tri",
        "P. Lương Văn Tri",
        Unit.Kind.LOCAL,
        (Person("Bùi", "Thanh Tâm", f"bui.thanh.tam@lvt.{DOMAIN}"),),
    ),
    DemoUnit(
        "buudien",
        f"Bưu điện tỉnh {PROVINCE}",
        "Bưu điện tỉnh",
        Unit.Kind.AGENCY,
        (Person("Đỗ", "Thu Trang", f"do.thu.trang@buudien.{DOMAIN}"),),
    ),
    # No focal point yet: its reminders go to the unit's shared mailbox.
    DemoUnit("viettel", f"Viettel {PROVINCE}", "Viettel", Unit.Kind.ENTERPRISE, ()),
)

TASKS = (
    DemoTask(
        "2",
        "Ban hành Kế hoạch chuyển đổi số của tỉnh năm {year}",
        "Kế hoạch được UBND tỉnh ban hành, giao chỉ tiêu cho từng sở, ngành, địa phương.",
        lead="skhcn",
        implementing=("skhcn",),
        coordinating=("vpubnd", "stc"),
        monitoring="skhcn",
        deadline_in_days=-20,
        status=Task.Status.COMPLETED,
        percent_done=100,
        progress_note="Kế hoạch đã được UBND tỉnh ký ban hành; gửi kèm văn bản.",
    ),
    DemoTask(
        "6",
        "Nâng tỷ lệ hồ sơ thủ tục hành chính được xử lý trực tuyến toàn trình",
        "Tối thiểu 60% hồ sơ của các thủ tục đủ điều kiện được tiếp nhận và giải quyết "
        "trực tuyến toàn trình trên Cổng dịch vụ công của tỉnh.",
        lead="vpubnd",
        implementing=("vpubnd", "lvt"),
        coordinating=("skhcn", "buudien"),
        monitoring="skhcn",
        deadline_in_days=-10,
        status=Task.Status.IN_PROGRESS,
        percent_done=40,
        progress_note="Đã rà soát danh mục thủ tục; tỷ lệ toàn trình hiện đạt 38%.",
    ),
    DemoTask(
        "5",
        "Triển khai giám sát an toàn thông tin theo mô hình 4 lớp cho hệ thống dùng chung",
        "Các hệ thống thông tin dùng chung của tỉnh được giám sát, có báo cáo định kỳ hằng tháng.",
        lead="cat",
        implementing=("cat",),
        coordinating=("skhcn", "viettel"),
        monitoring="skhcn",
        deadline_in_days=5,
        status=Task.Status.IN_PROGRESS,
        percent_done=70,
    ),
    DemoTask(
        "4",
        "Bồi dưỡng kỹ năng số cho cán bộ, công chức, viên chức",
        "Ít nhất 80% cán bộ, công chức, viên chức hoàn thành khóa bồi dưỡng kỹ năng số cơ bản.",
        lead="snv",
        implementing=("snv",),
        coordinating=("skhcn", "lvt"),
        monitoring="skhcn",
        deadline_in_days=60,
        status=Task.Status.NEW,
        percent_done=0,
    ),
    DemoTask(
        "3",
        "Phủ sóng di động băng rộng 4G/5G đến các thôn, bản chưa có sóng",
        "Không còn thôn, bản chưa có sóng di động băng rộng.",
        lead="viettel",
        implementing=("viettel",),
        coordinating=("lvt", "skhcn"),
        monitoring="skhcn",
        deadline_in_days=120,
        status=Task.Status.NEW,
        percent_done=0,
    ),
)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today {value!r} is not a date in YYYY-MM-DD form.") from exc


def _manage_py() -> str:
    """How the operator runs manage.py here: through the project's virtualenv if we run in it."""
    venv = Path(settings.BASE_DIR) / ".venv"
    python = ".venv/bin/python" if Path(sys.prefix) == venv else "python"
    return f"{python} manage.py"


class Command(BaseCommand):
    help = (
        "Load a small demo province (units, focal points, a plan, tasks) into an empty database "
        "and create the demo coordinator account. Safe to run again: it changes nothing then."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today",
            type=_date,
            help="Date the demo deadlines count from (YYYY-MM-DD); default: today in TIME_ZONE.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG=false (a staging site, never a real province's database).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "load_demo adds demo units, people and an account with a known role; it runs "
                "only with DEBUG=true (development). Use --force for a staging site."
            )
        today: dt.date = options["today"] or timezone.localdate()
        with transaction.atomic():
            # Groups are normally synced after migrate; a flushed test database has none.
            ensure_groups()
            coordinator, password = self._coordinator()
            if Unit.objects.exists() or Plan.objects.exists():
                self.stdout.write(
                    "Demo data: not loaded, the database already holds units or plans "
                    "(the demo is loaded only into an empty database)."
                )
            else:
                self._load(today, coordinator)
                self._results()
        self._report_coordinator(password)
        if getattr(self, "_focal_point_message", None):
            self.stdout.write(self.style.SUCCESS(self._focal_point_message))

    def _coordinator(self) -> tuple[User, str | None]:
        """The demo coordinator and, only when it was just created, its generated password."""
        existing = User.objects.filter(username=COORDINATOR_USERNAME).first()
        if existing is not None:
            return existing, None
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=COORDINATOR_USERNAME,
            email=f"dti.skhcn@{DOMAIN}",
            password=password,
            first_name="Thu Hà",
            last_name="Trần",
            is_staff=True,
            language=User.Language.VI,
        )
        user.groups.add(Group.objects.get(name=COORDINATOR))
        return user, password

    def _report_coordinator(self, password: str | None) -> None:
        reset = f"{_manage_py()} changepassword {COORDINATOR_USERNAME}"
        if password is None:
            self.stdout.write(
                f"Demo coordinator: the account '{COORDINATOR_USERNAME}' exists; its password "
                f"was printed when it was created. To set a new one: {reset}"
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo coordinator created. Sign in at "
                f"{settings.SITE_URL}/admin/ with\n"
                f"    username: {COORDINATOR_USERNAME}\n"
                f"    password: {password}\n"
                f"This password is shown only this once. To set a new one: {reset}\n"
            )
        )

    def _results(self) -> None:
        """The example results (SAMPLE numbers, docs/examples/scores.csv) through the same import
        a coordinator uses, and a weakness rule, so the weak-indicator list and the reports'
        trend and coverage have something to show on a first look."""
        call_command(
            "import",
            "indicators.resources.ScoreResource",
            str(SAMPLE_SCORES),
            "--no-input",
            stdout=StringIO(),
            stderr=StringIO(),
        )
        WeakRule.objects.get_or_create(year=SAMPLE_YEAR, defaults={"below_percent": 50})
        self.stdout.write(
            f"Demo data: SAMPLE DTI {SAMPLE_YEAR} results (made-up numbers, for trying the weak "
            f"list and the reports) for {PROVINCE} and Cao Bằng; weak = below 50% of the max."
        )

    def _load(self, today: dt.date, coordinator: User) -> str:
        indicators = {
            i.code: i
            for i in Indicator.objects.main().filter(
                indicator_set__code=INDICATOR_SET,
                code__in={t.indicator_code for t in TASKS},
            )
        }
        missing = {t.indicator_code for t in TASKS} - indicators.keys()
        if missing:
            raise CommandError(
                f"The {INDICATOR_SET} main indicators {sorted(missing)} are missing; "
                "run `manage.py migrate` first."
            )

        focal_group = Group.objects.get(name=FOCAL_POINT)
        units: dict[str, Unit] = {}
        for demo in UNITS:
            unit = Unit.objects.create(
                name=demo.name, short_name=demo.short_name, kind=demo.kind, email=demo.email
            )
            units[demo.key] = unit
            for person in demo.focal_points:
                # No password: a focal point activates the account through a password reset,
                # as one created by a unit import would.
                user = User.objects.create_user(
                    username=person.email,
                    email=person.email,
                    first_name=person.first_name,
                    last_name=person.last_name,
                )
                user.groups.add(focal_group)
                UnitMembership.objects.create(unit=unit, user=user)
        # The coordinator works in the coordinating department and gets its reminders.
        UnitMembership.objects.create(unit=units[UNITS[0].key], user=coordinator)

        plan = Plan.objects.create(
            title=f"Kế hoạch nâng cao Chỉ số chuyển đổi số (DTI) tỉnh {PROVINCE} năm {today.year}",
            year=today.year,
            decision=f"45/KH-UBND ngày 15/01/{today.year}",
            status=Plan.Status.ACTIVE,
            # "năm 2026 và các năm tiếp theo": the plan's targets run over two assessments.
            first_year=today.year,
            last_year=today.year + 1,
            # Whose DTI the plan improves: the reports' trend, coverage and targeted points.
            province=Province.objects.for_assessment_year(today.year).filter(name=PROVINCE).first(),
        )
        self._targets(plan)
        first_focal_point: dict[int, User] = {}
        for membership in UnitMembership.objects.select_related("user").order_by("pk"):
            first_focal_point.setdefault(membership.unit_id, membership.user)
        overdue = 0
        overdue_lead = units[UNITS[0].key]
        noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
        for demo in TASKS:
            deadline = today + dt.timedelta(days=demo.deadline_in_days)
            task = Task.objects.create(
                plan=plan,
                indicator=indicators[demo.indicator_code],
                title=demo.title.format(year=today.year),
                expected_output=demo.expected_output,
                lead_unit=units[demo.lead],
                start_date=min(deadline, today) - dt.timedelta(days=45),
                deadline=deadline,
                status=demo.status,
                percent_done=demo.percent_done,
            )
            roles = (
                [(key, Assignment.Role.IMPLEMENTING) for key in demo.implementing]
                + [(key, Assignment.Role.COORDINATING) for key in demo.coordinating]
                + [(demo.monitoring, Assignment.Role.MONITORING)]
            )
            bulk_create_with_history(
                [Assignment(task=task, unit=units[key], role=role) for key, role in roles],
                Assignment,
            )
            if demo.progress_note:
                lead = units[demo.lead]
                reported = dt.datetime.combine(
                    min(deadline, today) - dt.timedelta(days=3), dt.time(9, 30)
                )
                ProgressUpdate.objects.create(
                    task=task,
                    unit=lead,
                    author=first_focal_point.get(lead.pk),
                    created_at=timezone.make_aware(reported),
                    percent=demo.percent_done,
                    note=demo.progress_note,
                )
            if demo.status == Task.Status.COMPLETED:
                # Done as the portal does it: the lead unit submits its result, the
                # monitoring unit verifies it (the task page shows both).
                submitted = timezone.make_aware(
                    dt.datetime.combine(min(deadline, today) - dt.timedelta(days=2), dt.time(10))
                )
                CompletionSubmission.objects.create(
                    task=task,
                    unit=units[demo.lead],
                    submitted_by=first_focal_point.get(units[demo.lead].pk),
                    submitted_at=submitted,
                    document_number=f"12/BC-{demo.lead.upper()}",
                    document_date=submitted.date(),
                    summary=demo.progress_note or demo.expected_output,
                    status=Decision.APPROVED,
                    decided_by=first_focal_point.get(units[demo.monitoring].pk),
                    decided_at=submitted + dt.timedelta(days=1),
                    decision_note="Đạt yêu cầu.",
                )
            if task.is_overdue(noon):
                overdue += 1
                overdue_lead = units[demo.lead]

        self._assessment_year(plan, indicators, units, today, coordinator)
        people = sum(len(u.focal_points) for u in UNITS)
        self.stdout.write(
            f"Demo data: loaded {len(UNITS)} units, {people} focal points, 1 plan for "
            f"{today.year}, {len(TASKS)} tasks ({overdue} overdue on {today:%d/%m/%Y})."
        )
        return self._focal_point(overdue_lead, focal_group)

    def _targets(self, plan: Plan) -> None:
        """Targets as plans word them: "trong top 10/34", "4/8 chỉ số chính trong top 10"."""
        targets = [
            Target(plan=plan, year=plan.year, kind=TargetKind.RANK, rank=10),
            Target(plan=plan, year=plan.year, kind=TargetKind.MAIN_IN_TOP, count=4, rank=10),
            Target(plan=plan, year=plan.year + 1, kind=TargetKind.RANK, rank=8),
        ]
        for target in targets:
            target.full_clean()
            target.save()

    def _assessment_year(
        self,
        plan: Plan,
        indicators: dict[str, Indicator],
        units: dict[str, Unit],
        today: dt.date,
        coordinator: User,
    ) -> None:
        """Each task's main indicator presided over by the task's lead and checked by its
        monitoring unit, and this year's self-assessment round open when the year's set has
        max points to score against (docs/self-assessment.md)."""
        for demo in TASKS:
            monitoring = units[demo.monitoring] if demo.monitoring != demo.lead else None
            indicator_owner_set(
                plan=plan,
                indicator=indicators[demo.indicator_code],
                presiding_unit=units[demo.lead],
                monitoring_unit=monitoring,
                coordinating_units=[
                    units[key]
                    for key in demo.coordinating
                    if key not in (demo.lead, demo.monitoring)
                ],
                by=coordinator,
            )
        indicator_set = IndicatorSet.objects.for_year(today.year)
        if indicator_set is None or not scored_leaves(indicator_set).exists():
            # Items are scored against max points; a set published without them (2024) has none.
            self.stdout.write(
                f"No self-assessment round opened: the indicator set of {today.year} has no "
                "max points."
            )
            return
        opened = self_assessment_open(
            year=today.year, deadline=dt.date(today.year + 1, 1, 15), plan=plan, by=coordinator
        )
        self.stdout.write(
            f"Self-assessment DTI {today.year} open: {opened.items} items, "
            f"{opened.items - len(opened.without_owner)} with a presiding unit."
        )

    def _focal_point(self, unit: Unit, group: Group) -> str:
        """The demo focal-point account, created with the demo; returns its password."""
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=FOCAL_POINT_USERNAME,
            email=f"dau.moi@{DOMAIN}",
            password=password,
            first_name="Minh",
            last_name="Lê",
            language=User.Language.VI,
        )
        user.groups.add(group)
        UnitMembership.objects.create(unit=unit, user=user)
        self._focal_point_message = (
            f"\nDemo focal point of {unit.name} created. Sign in to the portal at "
            f"{settings.SITE_URL}/ with\n"
            f"    username: {FOCAL_POINT_USERNAME}\n"
            f"    password: {password}\n"
            f"This password is shown only this once. To set a new one: "
            f"{_manage_py()} changepassword {FOCAL_POINT_USERNAME}\n"
        )
        return password
