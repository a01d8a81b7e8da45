"""Vietnamese is the default UI language and its catalogue is complete; English stays available."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_vietnamese_translation():
    import polib

    catalogue = polib.pofile(str(CATALOGUE))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert missing == [], f"{len(missing)} messages without Vietnamese: {missing[:10]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy translations to review: {fuzzy[:10]}"


def test_compiled_catalogue_is_up_to_date():
    """The .mo is committed (a fresh machine may lack gettext); it must match the .po."""
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "run `make messages` and commit locale/vi/LC_MESSAGES/django.mo"
    import polib

    mo = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(compiled))}
    stale = [
        e.msgid
        for e in polib.pofile(str(CATALOGUE)).translated_entries()
        if mo.get((e.msgctxt, e.msgid)) != (e.msgstr, e.msgstr_plural)
    ]
    assert stale == [], f"django.mo is older than django.po; run `make messages`: {stale[:5]}"


@pytest.mark.django_db
def test_admin_speaks_vietnamese_by_default_and_english_on_request(admin_client):
    page = admin_client.get("/admin/plans/task/")
    assert "Nhiệm vụ" in page.content.decode()
    with translation.override("en"):
        english = admin_client.get("/admin/plans/task/", headers={"accept-language": "en"})
    assert "Tasks" in english.content.decode()
