"""dtiplan's own deployment checks (``manage.py check --deploy``).

Django's checks cover HTTPS and cookies; these cover what makes a production install *fail
open*: reminders marked sent while e-mail only lands in files, a queue that lives in a folder
of one machine, a cache that each process keeps to itself (the password-reset limit is then
per process), e-mail links that point to the developer's machine, and a claim window so short
that a slow but live mail server gets its e-mails sent twice. Each one is an error, so
``check --deploy`` fails with its id. ``DTIPLAN_SINGLE_MACHINE=true`` accepts, deliberately,
the folder broker and the per-process cache of an install that runs everything on one machine;
e-mail and SITE_URL have no such exemption: a province always needs both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Back-ends that accept every message without sending it anywhere.
_NON_SENDING_EMAIL_BACKENDS = {
    "dtiplan.mail.FilePerMessageBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", ""}  # noqa: S104 (compared, not bound)


@register(Tags.security, deploy=True)
def production_services_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    single_machine = getattr(settings, "DTIPLAN_SINGLE_MACHINE", False)
    if settings.EMAIL_BACKEND in _NON_SENDING_EMAIL_BACKENDS:
        errors.append(
            Error(
                f"E-mail goes to {settings.EMAIL_BACKEND}, which sends nothing: reminders would "
                "be recorded as sent while no e-mail leaves the machine.",
                hint="Set EMAIL_HOST (and EMAIL_HOST_USER, EMAIL_HOST_PASSWORD) to the SMTP "
                "server.",
                id="dtiplan.E001",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("filesystem://") and not single_machine:
        errors.append(
            Error(
                "The task queue is a folder (filesystem://): workers on another machine never "
                "see it, and it is not meant for production.",
                hint="Set REDIS_URL (or CELERY_BROKER_URL), or DTIPLAN_SINGLE_MACHINE=true for a "
                "deliberate one-machine install.",
                id="dtiplan.E002",
            )
        )
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")) and not single_machine:
        errors.append(
            Error(
                "The cache is each process's own memory: limits such as password-reset e-mails "
                "per address are counted per process, not per site.",
                hint="Set REDIS_URL (or CACHE_URL), or DTIPLAN_SINGLE_MACHINE=true for a "
                "deliberate one-machine install.",
                id="dtiplan.E003",
            )
        )
    site = urlsplit(settings.SITE_URL)
    if not getattr(settings, "SITE_URL_IS_SET", True) or (site.hostname or "") in _LOCAL_HOSTS:
        errors.append(
            Error(
                f"SITE_URL is {settings.SITE_URL!r}: every link in every e-mail would point there.",
                hint="Set SITE_URL to the site's public address, e.g. https://dti.tinh.gov.vn.",
                id="dtiplan.E004",
            )
        )
    elif site.scheme != "https":
        errors.append(
            Error(
                f"SITE_URL {settings.SITE_URL!r} is not https: links in e-mails would send "
                "people's sign-in over plain HTTP.",
                hint="Use the https:// address of the site.",
                id="dtiplan.E005",
            )
        )
    errors.extend(_claim_window_check())
    return errors


# A live sender refreshes its claim between e-mails, every fifth of the window; one e-mail may
# block for several EMAIL_TIMEOUTs (connect, send, quit). Below this many timeouts, another
# sender can take the claim of a slow but live one and the e-mail goes out twice.
STALE_CLAIM_TIMEOUTS = 5


def _claim_window_check() -> list[CheckMessage]:
    window = settings.NOTIFICATIONS_STALE_CLAIM_SECONDS
    least = STALE_CLAIM_TIMEOUTS * settings.EMAIL_TIMEOUT
    if window >= least:
        return []
    return [
        Error(
            f"NOTIFICATIONS_STALE_CLAIM_SECONDS is {window} s, under {STALE_CLAIM_TIMEOUTS} × "
            f"EMAIL_TIMEOUT ({least} s): while a slow mail server holds one e-mail, another "
            "sender takes over the claim and the e-mail goes out twice.",
            hint=f"Set NOTIFICATIONS_STALE_CLAIM_SECONDS to at least {least}, or lower "
            "EMAIL_TIMEOUT.",
            id="dtiplan.E006",
        )
    ]
