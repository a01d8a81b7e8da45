"""The self-assessment in the admin: opening a round (``plans.self_assessment``), its items,
and the pack for the ministry as a download. The units work in the portal; the readiness page
is among the reports (/admin/reports/self-assessment/)."""

from __future__ import annotations

import tempfile
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from indicators.models import IndicatorSet
from plans.admin import ReadOnlyHistoryAdmin
from plans.admin_decisions import rows_apply
from plans.models import ItemStatus, Plan, SelfAssessmentItem, SelfAssessmentRound
from plans.self_assessment import (
    plan_covering,
    scored_leaves,
    self_assessment_accept,
    self_assessment_close,
    self_assessment_open,
    self_assessment_reopen,
)
from plans.self_assessment_pack import pack_write


class OpenRoundForm(forms.ModelForm):
    class Meta:
        model = SelfAssessmentRound
        fields = ["year", "deadline", "plan"]
        widgets = {"deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "plan": _(
                "Leave empty for the plan of the assessment year: its indicator owners get the "
                "items."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.order_by("-year", "title")

    def clean_year(self) -> int:
        # The service's refusals, on the form rather than as an error page.
        year = self.cleaned_data["year"]
        indicator_set = IndicatorSet.objects.for_year(year)
        if indicator_set is None:
            raise ValidationError(_("No indicator set is in force in %(year)s.") % {"year": year})
        if not scored_leaves(indicator_set).exists():
            raise ValidationError(
                _("The indicator set %(set)s has no scored indicator with max points.")
                % {"set": indicator_set.code}
            )
        return year


@admin.register(SelfAssessmentRound)
class SelfAssessmentRoundAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "deadline",
        "plan",
        "indicator_set",
        "item_count",
        "state",
        "links",
    ]
    list_select_related = ["plan", "indicator_set"]
    actions = ["close", "reopen"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = OpenRoundForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["year", "deadline", "plan"]
        fields = ["year", "indicator_set", "plan", "deadline", "opened_by", "opened_at"]
        return [*fields, "closed_at", "closed_by"] if obj.is_closed else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Only the internal deadline moves once the round is open, and nothing once closed.
        if obj is None:
            return []
        fields = ["year", "indicator_set", "plan", "opened_by", "opened_at"]
        return [*fields, "deadline", "closed_at", "closed_by"] if obj.is_closed else fields

    @admin.display(description=_("state"), ordering="closed_at")
    def state(self, obj: SelfAssessmentRound) -> str:
        if obj.is_closed:
            closed = timezone.localtime(obj.closed_at)
            return _("Closed on %(date)s") % {"date": f"{closed:%d/%m/%Y}"}
        return pgettext_lazy("self-assessment round", "Open")

    def has_close_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    has_reopen_permission = has_close_permission

    @admin.action(
        description=_("Close the selected rounds (read-only, no more reminders)"),
        permissions=["close"],
    )
    def close(self, request: HttpRequest, queryset: QuerySet) -> None:
        rows_apply(
            request,
            queryset.filter(closed_at__isnull=True),
            lambda row: self_assessment_close(round=row, by=request.user),
            str(_("%(count)d round(s) closed.")),
        )

    @admin.action(description=_("Reopen the selected rounds"), permissions=["reopen"])
    def reopen(self, request: HttpRequest, queryset: QuerySet) -> None:
        rows_apply(
            request,
            queryset.filter(closed_at__isnull=False),
            lambda row: self_assessment_reopen(round=row, by=request.user),
            str(_("%(count)d round(s) reopened.")),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(n_items=Count("items"))

    @admin.display(description=_("items"))
    def item_count(self, obj: SelfAssessmentRound) -> int:
        return obj.n_items

    @admin.display(description=_("readiness and pack"))
    def links(self, obj: SelfAssessmentRound) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("reports:self_assessment") + f"?year={obj.year}",
            _("Readiness"),
            reverse("admin:plans_selfassessmentround_pack", args=[obj.pk]),
            _("Pack for the ministry (ZIP)"),
        )

    def save_model(
        self, request: HttpRequest, obj: SelfAssessmentRound, form: Any, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        opened = self_assessment_open(
            year=obj.year,
            deadline=obj.deadline,
            plan=obj.plan or plan_covering(obj.year),
            by=request.user,  # type: ignore[arg-type]
        )
        obj.pk = opened.round.pk
        obj.indicator_set = opened.round.indicator_set
        messages.success(
            request,
            _("%(count)d items created, one per scored indicator of %(set)s.")
            % {"count": opened.items, "set": opened.round.indicator_set.code},
        )
        if opened.without_owner:
            messages.warning(
                request,
                _(
                    "No presiding unit answers for: %(codes)s. Set their owners, then give "
                    "the items a unit."
                )
                % {"codes": ", ".join(i.code for i in opened.without_owner)},
            )

    def get_urls(self) -> list:
        pack = self.admin_site.admin_view(self.pack_view)
        return [
            path("<int:pk>/pack/", pack, name="plans_selfassessmentround_pack"),
            *super().get_urls(),
        ]

    def pack_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The pack as a download, built in a temporary file and streamed from it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        round_ = get_object_or_404(SelfAssessmentRound, pk=pk)
        # Closed by the response once sent; on disk, so a pack of large files stays off the heap.
        out = tempfile.TemporaryFile()  # noqa: SIM115
        pack_write(round=round_, out=out)
        out.seek(0)
        stamp = timezone.localdate().isoformat()
        return FileResponse(
            out,
            as_attachment=True,
            filename=f"dti-{round_.year}-self-assessment-{stamp}.zip",
            content_type="application/zip",
        )


class ItemStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return list(ItemStatus.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(SelfAssessmentItem)
class SelfAssessmentItemAdmin(ReadOnlyHistoryAdmin):
    """The items as coordinators check them; units enter them in the portal."""

    list_display = [
        "indicator",
        "round",
        "unit",
        "status",
        "points",
        "max_points",
        "evidence_count",
        "portal_link",
    ]
    list_filter = ["round", ItemStatusFilter, "unit"]
    search_fields = ["indicator__code", "indicator__name_vi", "unit__name", "figures"]
    list_select_related = ["round", "indicator", "unit"]
    actions = ["accept"]
    fields = [
        "round",
        "indicator",
        "unit",
        "monitoring_unit",
        "max_points",
        "points",
        "figures",
        "status",
        "submitted_by",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_comment",
    ]
    autocomplete_fields = ["unit", "monitoring_unit"]
    history_list_display = ["status", "points"]
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            SelfAssessmentItem.objects.visible_to(request.user)
            .select_related("round", "indicator", "unit")
            .annotate(n_evidence=Count("evidence"))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A coordinator may give an item its unit (e.g. an indicator without an owner at
        # opening); points, status and decisions go through the portal and the services.
        return [f for f in self.fields if f not in ("unit", "monitoring_unit")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An item of a closed round is kept as it stands.
        if obj is not None and obj.round.is_closed:
            return False
        return super().has_change_permission(request, obj)

    def has_accept_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("plans.review_selfassessmentitem")

    @admin.display(description=_("evidence"), ordering="n_evidence")
    def evidence_count(self, obj: SelfAssessmentItem) -> int:
        return obj.n_evidence

    @admin.display(description=_("portal"))
    def portal_link(self, obj: SelfAssessmentItem) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open"))

    @admin.action(description=_("Accept the selected submitted items"), permissions=["accept"])
    def accept(self, request: HttpRequest, queryset: QuerySet) -> None:
        rows_apply(
            request,
            queryset.filter(status=ItemStatus.SUBMITTED),
            lambda row: self_assessment_accept(item=row, by=request.user),
            str(_("%(count)d item(s) accepted.")),
        )
