"""Vietnamese is the default UI language and its catalogue is complete; English stays available."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
# Vietnamese for third-party apps that ship none (django-import-export, django-axes) and a few
# re-phrasings of Django's own; `makemessages` never writes there.
OVERRIDES = ROOT / "locale_overrides" / "vi" / "LC_MESSAGES" / "django.po"
CATALOGUES = pytest.mark.parametrize(
    "catalogue_path", [CATALOGUE, OVERRIDES], ids=["locale", "locale_overrides"]
)


@CATALOGUES
def test_every_message_has_a_vietnamese_translation(catalogue_path):
    import polib

    catalogue = polib.pofile(str(catalogue_path))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert missing == [], f"{len(missing)} messages without Vietnamese: {missing[:10]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy translations to review: {fuzzy[:10]}"


@CATALOGUES
def test_compiled_catalogue_is_up_to_date(catalogue_path):
    """The .mo is committed (a fresh machine may lack gettext); it must match the .po."""
    compiled = catalogue_path.with_suffix(".mo")
    relative = compiled.relative_to(ROOT)
    assert compiled.exists(), f"run `make messages` and commit {relative}"
    import polib

    mo = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(compiled))}
    stale = [
        e.msgid
        for e in polib.pofile(str(catalogue_path)).translated_entries()
        if mo.get((e.msgctxt, e.msgid)) != (e.msgstr, e.msgstr_plural)
    ]
    assert stale == [], f"{relative} is older than its .po; run `make messages`: {stale[:5]}"


@pytest.mark.django_db
def test_admin_speaks_vietnamese_even_to_an_english_browser(admin_client):
    """Vietnamese first: the browser's Accept-Language does not decide, the person does."""
    page = admin_client.get("/admin/plans/task/", headers={"accept-language": "en-US,en"})
    assert "Nhiệm vụ" in page.content.decode()
    assert page["Content-Language"] == "vi"


@pytest.mark.django_db
def test_the_language_switch_gives_english(admin_client):
    admin_client.cookies["django_language"] = "en"
    page = admin_client.get("/admin/plans/task/").content.decode()
    assert "Tasks" in page and "Nhiệm vụ" not in page


@pytest.mark.django_db
def test_a_persons_saved_language_applies_after_sign_in(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(language="en"))
    assert "Sign out" in client.get("/").content.decode()


@pytest.mark.django_db
def test_import_page_of_a_third_party_app_speaks_vietnamese(admin_client):
    """django-import-export ships no Vietnamese: locale_overrides provides it."""
    page = admin_client.get("/admin/plans/unit/import/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tệp cần nhập" in html  # "File to import"
    assert "Các trường dữ liệu sau sẽ được nhập:" in html  # "This importer will import ..."
    assert "File to import" not in html


def test_overrides_keep_djangos_admin_wording_and_rephrase_filter_titles():
    """A msgid in locale_overrides applies site-wide: shared msgids keep Django's Vietnamese."""
    with translation.override("vi"):
        assert translation.gettext(" By %(filter_title)s ") == " Theo %(filter_title)s "
        assert translation.gettext("Delete") == "Xóa"
        assert translation.gettext("access attempts") == "lần thử đăng nhập"


@pytest.mark.django_db
def test_admin_selection_counter_reads_as_vietnamese(admin_client):
    from tests.factories import UnitFactory

    UnitFactory()  # the action bar shows only over a list with rows
    page = admin_client.get("/admin/plans/unit/")
    assert "Đã chọn 0/" in page.content.decode()
    catalogue = admin_client.get("/admin/jsi18n/").content.decode()
    # The catalogue is JSON inside JavaScript: non-ASCII letters come \u-escaped.
    assert json.dumps("Đã chọn %(sel)s/%(cnt)s") in catalogue


@pytest.mark.django_db
def test_the_admin_header_switches_the_language(admin_client):
    page = admin_client.get("/admin/plans/task/").content.decode()
    assert 'id="language-form"' in page
    admin_client.post("/language/", {"language": "en", "next": "/admin/plans/task/"})
    page = admin_client.get("/admin/plans/task/").content.decode()
    assert "Tasks" in page and "Nhiệm vụ" not in page
