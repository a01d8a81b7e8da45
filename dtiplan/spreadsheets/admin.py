"""What every admin page with spreadsheets shares: formats, the upload size limit, errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages as admin_messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from import_export.forms import ImportForm
from import_export.results import Result

from dtiplan.spreadsheets.errors import import_problems
from dtiplan.spreadsheets.files import EXPORT_FORMATS, IMPORT_FORMATS, SpreadsheetReadError


class SizeLimitedImportForm(ImportForm):
    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        # Checked before anything parses the file: XLSX parsing is slow and memory-hungry.
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; files up to %(limit)s can be imported. Split it into "
                    "smaller files."
                )
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


class SafeImportMixin:
    """Admin mixin for every model with spreadsheets.

    - CSV and XLSX only, in and out (settings leave ``IMPORT_EXPORT_FORMATS`` unset on purpose);
    - CSV read with encoding detection (UTF-8, UTF-16, cp1258) and exported with a BOM so that
      Excel shows Vietnamese correctly;
    - uploads over ``settings.IMPORT_MAX_UPLOAD_BYTES`` refused with a form error before parsing.
    """

    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    import_form_class = SizeLimitedImportForm
    to_encoding = "utf-8-sig"

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        problems = import_problems(result)
        if problems:
            # The preview was clean but the data changed before "Confirm import" (say, someone
            # renamed a unit): the import was rolled back. The library would still say
            # "Import finished: 0 new ..."; say what happened and send the user back to upload.
            shown = "; ".join(str(p) for p in problems[:5])
            if len(problems) > 5:
                shown += " " + _("(and %(count)d more)") % {"count": len(problems) - 5}
            admin_messages.error(
                request, _("Nothing was imported. %(problems)s") % {"problems": shown}
            )
            opts = self.model._meta  # type: ignore[attr-defined]
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import"))
        return super().process_result(result, request)  # type: ignore[misc]

    def add_data_read_fail_error_to_form(self, form: forms.Form, e: Exception) -> None:
        if isinstance(e, SpreadsheetReadError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)  # type: ignore[misc]
