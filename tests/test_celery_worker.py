"""End to end: the reminder path through a real Redis broker and a real Celery worker process.

Locally this is skipped when Redis is not reachable; in CI (CI=true) an unreachable Redis fails.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from dtiplan.celery import app
from notifications.models import Notification
from notifications.tasks import send_reminders
from plans.models import Assignment
from tests.factories import AssignmentFactory, FocalPointFactory, TaskFactory, UnitFactory

# serialized_rollback: the flush between transactional tests would remove migration data
# (the DTI 2022 indicator set, the groups); this restores it for each test.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {url}: {exc}")
        pytest.skip(f"Redis is not reachable at {url}")
    return url


@pytest.fixture
def queue() -> str:
    """A queue of this test's own: other test runs on the same Redis (a developer's second
    checkout, parallel runs) neither take its messages nor leave theirs for its worker."""
    return f"dtiplan-test-{uuid.uuid4().hex}"


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def start_worker(
    redis_url: str, queue: str, tmp_path: Path, *, concurrency: int = 2, **extra_env: str
):
    """A Celery worker process on the test database and ``redis_url``, writing mail to files."""
    log = tmp_path / "worker.log"
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": redis_url,
        "EMAIL_HOST": "",
        "EMAIL_BACKEND": "dtiplan.mail.FilePerMessageBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SITE_URL": settings.SITE_URL,
        **extra_env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dtiplan",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            f"--queues={queue}",
            "--loglevel=INFO",
            f"--logfile={log}",
            "--hostname=test-worker@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: log.exists() and " ready." in log.read_text(), 60, log)
    return process, {"log": log, "mail": mail_dir, "broker": redis_url, "queue": queue}


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker(redis_url: str, queue: str, tmp_path: Path):
    """A Celery worker with two processes, on the test database, writing mail to files."""
    process, info = start_worker(redis_url, queue, tmp_path)
    try:
        yield info
    finally:
        stop(process)


def wait_for(condition, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    text = log.read_text() if log.exists() else "(no worker log)"
    pytest.fail(f"timed out after {seconds}s; worker log:\n{text[-4000:]}")


def delivered_to(mail_dir: Path) -> Counter[str]:
    """Recipients of every message the worker wrote (the file backend appends each message)."""
    counts: Counter[str] = Counter()
    for path in mail_dir.glob("*.eml"):
        counts.update(re.findall(r"^To: (.+)$", path.read_text(), flags=re.MULTILINE))
    return counts


def test_two_sweeps_at_once_on_a_real_worker_send_each_reminder_once(worker):
    lead = UnitFactory(name="Sở Nội vụ")
    monitor = UnitFactory(name="Sở Khoa học và Công nghệ")
    people = [FocalPointFactory(unit=lead).user.email for _ in range(3)]
    people += [FocalPointFactory(unit=monitor).user.email for _ in range(2)]
    for number in range(20):
        task = TaskFactory(
            lead_unit=lead, deadline=dt.date(2026, 6, 29), title=f"Nhiệm vụ {number}"
        )
        AssignmentFactory(task=task, unit=monitor, role=Assignment.Role.MONITORING)

    now = "2026-07-01T08:00:00+07:00"
    with app.connection_for_write(worker["broker"]) as broker:
        # What a schedule firing twice, or two beats, would do.
        for _ in range(2):
            send_reminders.apply_async(
                kwargs={"now": now}, connection=broker, queue=worker["queue"]
            )

    log = worker["log"]
    wait_for(lambda: log.read_text().count("succeeded in") >= 2, 90, log)

    counts = delivered_to(worker["mail"])
    assert sorted(counts) == sorted(people)
    assert set(counts.values()) == {1}, counts
    assert Notification.objects.count() == 20 * 5
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 100


def pool_children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(line) for line in out.stdout.split()]


def test_worker_killed_mid_run_loses_nothing_and_duplicates_nothing(redis_url, queue, tmp_path):
    """The pool process is killed (SIGKILL) while it is sending: the message comes back (late
    acknowledgement, rejected on worker loss), its claimed rows are taken over once they are
    stale, and every person ends up with exactly one e-mail."""
    lead = UnitFactory(name="Sở Thông tin")
    people = [FocalPointFactory(unit=lead).user.email for _ in range(12)]
    for number in range(3):
        TaskFactory(lead_unit=lead, deadline=dt.date(2026, 6, 29), title=f"Nhiệm vụ {number}")

    process, info = start_worker(
        redis_url,
        queue,
        tmp_path,
        concurrency=1,
        EMAIL_BACKEND="tests.slow_mail.SlowFilePerMessageBackend",
        SLOW_MAIL_SECONDS="0.4",
        NOTIFICATIONS_STALE_CLAIM_SECONDS="3",
    )
    try:
        now = "2026-07-01T08:00:00+07:00"
        with app.connection_for_write(redis_url) as broker:
            send_reminders.apply_async(kwargs={"now": now}, connection=broker, queue=queue)
        mail_dir, log = info["mail"], info["log"]
        wait_for(lambda: len(list(mail_dir.glob("*.eml"))) >= 3, 60, log)
        children = pool_children(process.pid)
        assert children, "the worker has no pool process"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        sent_before_kill = len(list(mail_dir.glob("*.eml")))
        assert sent_before_kill < 12, "the run finished before it could be interrupted"
        wait_for(lambda: "WorkerLostError" in log.read_text(), 30, log)

        # The redelivered run, then the next one once the dead sender's claims are stale.
        wait_for(lambda: log.read_text().count("succeeded in") >= 1, 60, log)
        time.sleep(3.5)
        with app.connection_for_write(redis_url) as broker:
            send_reminders.apply_async(kwargs={"now": now}, connection=broker, queue=queue)
        wait_for(lambda: log.read_text().count("succeeded in") >= 2, 60, log)
    finally:
        stop(process)

    counts = delivered_to(mail_dir)
    assert sorted(counts) == sorted(people)
    assert set(counts.values()) == {1}, counts
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 12 * 3
