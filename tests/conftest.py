from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media_and_mail_in_tmp(settings, tmp_path):
    """Nothing a test writes lands in the developer's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://dti.tinh.example"


@pytest.fixture(autouse=True)
def _evidence_in_tmp(settings, tmp_path):
    settings.EVIDENCE_ROOT = tmp_path / "evidence"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Counters kept in the cache (the password-reset limit) start at zero in every test; with
    REDIS_URL set the cache is Redis, which outlives a test run."""
    from django.core.cache import cache, caches

    cache.clear()
    caches["local"].clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language (Vietnamese): a request an earlier test
    made in English leaves English active in the thread, and an export built outside a request
    would then speak it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
