"""Deciding requests in the admin: extension requests and completion submissions.

A request's admin page is read-only (it is a record of what a unit asked); deciding happens on
its *decide* page (approve or refuse with a reason; verify or return with a comment) or for
several at once through the list's actions, where refusing asks the reason on an intermediate
page. Every door goes through ``plans.decisions`` and so through the same services as the
portal; the admin page and the portal's decide page link to each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from plans.decisions import Decider
from plans.forms import DecisionForm, RefusalForm
from plans.models import DecidedRequest, User


def _error_text(error: ValidationError | PermissionDenied) -> str:
    return " ".join(getattr(error, "messages", None) or [str(error)])


def rows_apply(
    request: HttpRequest, rows: Iterable[Any], action: Callable[[Any], object], done: str
) -> None:
    """An admin bulk action's loop: ``action`` on each row, a row's refusal shown as its error
    message, ``done`` (with ``%(count)d``) for the rows it succeeded on."""
    count = 0
    for row in rows:
        try:
            action(row)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, f"{row}: {_error_text(error)}")
        else:
            count += 1
    if count:
        messages.success(request, done % {"count": count})


class DecisionAdmin(admin.ModelAdmin):
    """What both request admins share: the decide page, links both ways, bulk decisions."""

    decider: Decider
    change_form_template = "admin/plans/decided_request/change_form.html"

    @admin.display(description=_lazy("task"), ordering="task__title")
    def task_title(self, row: DecidedRequest) -> str:
        # Clipped by the admin stylesheet like the task list's titles; whole on hover.
        title = row.task.title
        return format_html('<span class="clamp" title="{}">{}</span>', title, title)

    def _urlname(self, view: str) -> str:
        opts = self.model._meta
        return f"{opts.app_label}_{opts.model_name}_{view}"

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<path:object_id>/decide/",
            self.admin_site.admin_view(self.decide_view),
            name=self._urlname("decide"),
        )
        return [decide, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        row = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        extra = dict(extra_context or {})
        if row is not None:
            may_decide = self.decider.allowed(request.user, row)
            extra["portal_url"] = (
                reverse(self.decider.portal_url_name, args=[row.pk])
                if may_decide
                else row.task.get_absolute_url()
            )
            if may_decide:
                extra["decide_url"] = reverse(f"admin:{self._urlname('decide')}", args=[row.pk])
        return super().change_view(request, object_id, form_url, extra)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        row = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        if row is None:
            raise Http404
        user: User = request.user  # type: ignore[assignment]
        change_url = reverse(f"admin:{self._urlname('change')}", args=[row.pk])
        if not row.is_pending:
            messages.info(request, _("This request has already been decided."))
            return redirect(change_url)
        if not self.decider.allowed(user, row):
            raise PermissionDenied
        form = DecisionForm(
            request.POST or None,
            decider=self.decider,
        )
        if request.method == "POST" and form.is_valid():
            note = form.cleaned_data["note"]
            try:
                if form.cleaned_data["decision"] == "approve":
                    self.decider.approve(row, by=user, note=note)
                else:
                    self.decider.refuse(row, by=user, reason=note)
            except ValidationError as error:
                form.add_error(None, _error_text(error))
            else:
                messages.success(request, _("Decision recorded."))
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": self.decider.title,
            "opts": self.model._meta,
            "original": row,
            "row": row,
            "form": form,
            "change_url": change_url,
            "portal_url": reverse(self.decider.portal_url_name, args=[row.pk]),
            "fields": self._summary(row),
        }
        return TemplateResponse(request, "admin/plans/decided_request/decide.html", context)

    def _summary(self, row: DecidedRequest) -> list[tuple[str, object]]:
        """What the decider reads before deciding: the request's own fields."""
        shown = [
            f
            for f in self.model._meta.fields
            if f.name not in (*self.model.DECISION_FIELDS, "id", "was_overdue")
        ]
        summary = []
        for field in shown:
            value = getattr(row, field.name)
            if value in (None, ""):
                continue
            if field.choices:
                value = getattr(row, f"get_{field.name}_display")()
            elif isinstance(value, dt.datetime):
                value = f"{timezone.localtime(value):%d/%m/%Y %H:%M}"
            elif isinstance(value, dt.date):
                value = f"{value:%d/%m/%Y}"
            summary.append((str(field.verbose_name).capitalize(), value))
        return summary

    # --- Bulk decisions ---------------------------------------------------------------------

    def has_decide_permission(self, request: HttpRequest) -> bool:
        raise NotImplementedError

    def _decide_each(
        self, request: HttpRequest, queryset: QuerySet, *, approve: bool, reason: str = ""
    ) -> None:
        user: User = request.user  # type: ignore[assignment]
        done = 0
        skipped = queryset.decided().count()  # before deciding: they are the ones left alone
        for row in queryset.pending().select_related("task", "task__plan"):
            try:
                if approve:
                    self.decider.approve(row, by=user)
                else:
                    self.decider.refuse(row, by=user, reason=reason)
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, f"{row}: {_error_text(error)}")
            else:
                done += 1
        if skipped:
            messages.warning(
                request,
                _("%(count)d of the selected requests had already been decided: left as they were.")
                % {"count": skipped},
            )
        if done:
            message = self.decider.approved_message if approve else self.decider.refused_message
            messages.success(request, str(message) % {"count": done})

    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide_each(request, queryset, approve=True)

    def refuse_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Refusing (returning) needs a reason: asked once on an intermediate page, then
        recorded on each selected request that is still pending."""
        form = RefusalForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._decide_each(request, queryset, approve=False, reason=form.cleaned_data["reason"])
            return HttpResponseRedirect(request.get_full_path())
        rows = list(queryset.select_related("task", "unit"))
        context = {
            **self.admin_site.each_context(request),
            "title": self.decider.refuse_label,
            "opts": self.model._meta,
            "rows": rows,
            "form": form,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/plans/decided_request/refuse.html", context)
