"""Settings come from the environment and fail loudly: each case starts a real ``manage.py``.

A subprocess, because settings are read once per process; its environment holds only what a
case sets (plus PATH), so a developer's or CI's own variables cannot make a case pass.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),  # 67 characters, as an operator would generate
    "ALLOWED_HOSTS": "dti.example.vn",
    "SITE_URL": "https://dti.example.vn",
    "EMAIL_HOST": "smtp.example.vn",
    # Only read, never connected to, by `check`.
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL", "TMPDIR"}}
    # Anything a case makes (a development key, an SQLite file) goes to its own directory.
    clean.update(HOME=str(tmp_path), DTIPLAN_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The last line of stderr: the exception a misconfigured start-up ends with."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_production_settings_pass_the_deployment_checks_with_nothing_to_report(
    tmp_path: Path,
) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("left_out", "check_id", "words"),
    [
        ("EMAIL_HOST", "dtiplan.E001", "no e-mail leaves the machine"),
        ("REDIS_URL", "dtiplan.E002", "task queue is a folder"),
        ("REDIS_URL", "dtiplan.E003", "counted per process"),
        ("SITE_URL", "dtiplan.E004", "every link in every e-mail"),
    ],
)
def test_production_left_at_a_development_default_fails_the_deployment_check_by_name(
    tmp_path: Path, left_out: str, check_id: str, words: str
) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != left_out}
    result = manage(tmp_path, "check", "--deploy", **env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert check_id in output
    assert words in output


def test_production_site_url_on_plain_http_or_localhost_fails_the_deployment_check(
    tmp_path: Path,
) -> None:
    local = manage(
        tmp_path, "check", "--deploy", **{**PRODUCTION, "SITE_URL": "http://localhost:8000"}
    )
    assert "dtiplan.E004" in local.stdout + local.stderr
    plain = manage(
        tmp_path, "check", "--deploy", **{**PRODUCTION, "SITE_URL": "http://dti.example.vn"}
    )
    assert plain.returncode != 0
    assert "dtiplan.E005" in plain.stdout + plain.stderr


def test_a_claim_window_a_slow_mail_server_outlasts_fails_the_deployment_check(
    tmp_path: Path,
) -> None:
    short = manage(
        tmp_path,
        "check",
        "--deploy",
        **{**PRODUCTION, "EMAIL_TIMEOUT": "30", "NOTIFICATIONS_STALE_CLAIM_SECONDS": "60"},
    )
    assert short.returncode != 0
    output = short.stdout + short.stderr
    assert "dtiplan.E006" in output
    assert "at least 150" in output
    enough = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **{**PRODUCTION, "EMAIL_TIMEOUT": "10", "NOTIFICATIONS_STALE_CLAIM_SECONDS": "60"},
    )
    assert enough.returncode == 0, enough.stdout + enough.stderr


def test_a_deliberate_one_machine_install_may_keep_the_folder_queue_but_not_file_email(
    tmp_path: Path,
) -> None:
    one_machine = {k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"}
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **one_machine,
        DTIPLAN_SINGLE_MACHINE="true",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    no_mail = {k: v for k, v in one_machine.items() if k != "EMAIL_HOST"}
    result = manage(tmp_path, "check", "--deploy", **no_mail, DTIPLAN_SINGLE_MACHINE="true")
    assert result.returncode != 0
    assert "dtiplan.E001" in result.stdout + result.stderr


def test_production_without_secret_key_refuses_to_start_naming_it(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in error_line(result)
    assert "SECRET_KEY" in error_line(result)
    assert not (tmp_path / "var" / "secret_key").exists(), "production must not invent a key"


def test_production_without_allowed_hosts_refuses_to_start_naming_it(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in error_line(result)


@pytest.mark.parametrize("value", ["maybe", "ture", "2"])
def test_debug_that_is_not_a_boolean_refuses_to_start_naming_it(tmp_path: Path, value: str) -> None:
    result = manage(tmp_path, "check", **{**PRODUCTION, "DEBUG": value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in error_line(result)
    assert "DEBUG" in error_line(result)


@pytest.mark.parametrize(
    ("name", "value"),
    [("EMAIL_PORT", "abc"), ("EMAIL_TIMEOUT", "30s"), ("DATABASE_CONN_MAX_AGE", "-1")],
)
def test_an_integer_setting_with_a_bad_value_refuses_to_start_naming_it(
    tmp_path: Path, name: str, value: str
) -> None:
    result = manage(tmp_path, "check", **{**PRODUCTION, name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in error_line(result)
    assert name in error_line(result)


def test_a_report_period_other_than_month_or_quarter_refuses_to_start_naming_it(
    tmp_path: Path,
) -> None:
    result = manage(tmp_path, "check", **{**PRODUCTION, "REPORTS_PERIOD": "weekly"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in error_line(result)
    assert "REPORTS_PERIOD='weekly' is not one of: month, quarter" in error_line(result)


def test_development_needs_no_environment_and_keeps_its_generated_key(tmp_path: Path) -> None:
    first = manage(tmp_path, "check", DEBUG="true")
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "var" / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50
    assert key_file.stat().st_mode & 0o077 == 0, "the key file is readable by its owner only"
    second = manage(tmp_path, "check", DEBUG="true")
    assert second.returncode == 0, second.stderr
    assert key_file.read_text() == key, "sessions must survive a restart"


def test_manage_py_is_development_when_debug_is_unset(tmp_path: Path) -> None:
    """A developer's `manage.py makemigrations` needs no environment..."""
    assert manage(tmp_path, "check").returncode == 0
    assert (tmp_path / "var" / "secret_key").exists()


def test_the_wsgi_application_is_production_when_debug_is_unset(tmp_path: Path) -> None:
    """...while what serves people refuses to start without its production settings."""
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL", "TMPDIR"}}
    clean.update(HOME=str(tmp_path), DTIPLAN_VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run(
        [sys.executable, "-c", "import dtiplan.wsgi"],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in error_line(result)


@pytest.mark.django_db
def test_the_browsers_favicon_request_finds_an_icon(client) -> None:
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    icon = Path(finders.find("favicon.ico")).read_bytes()
    assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_the_sender_defaults_to_no_reply_at_the_sites_domain(tmp_path: Path) -> None:
    show = [
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEFAULT_FROM_EMAIL)",
    ]
    derived = manage(tmp_path, *show, DEBUG="true", SITE_URL="https://www.dti.tinh.gov.vn")
    assert derived.stdout.splitlines()[-1] == "dtiplan <no-reply@dti.tinh.gov.vn>", derived.stderr
    chosen = manage(
        tmp_path, *show, DEBUG="true", DEFAULT_FROM_EMAIL="So KHCN <dti@skhcn.tinh.gov.vn>"
    )
    assert chosen.stdout.splitlines()[-1] == "So KHCN <dti@skhcn.tinh.gov.vn>", chosen.stderr
