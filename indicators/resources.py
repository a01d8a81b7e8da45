"""Indicator sets as spreadsheets: ``framework, code, parent_code, name_vi, name_en, max_points,
scored``. A row is identified by (framework, code); main indicators have no parent_code."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from import_export.fields import Field

from indicators.models import Indicator, IndicatorSet
from indicators.spreadsheets import (
    CellError,
    NameIndex,
    RowErrors,
    StrictResource,
    clean_text,
    parse_bool,
    parse_decimal,
    related,
    single_line,
    unknown_message,
)


class IndicatorResource(StrictResource):
    framework = Field(attribute="indicator_set", column_name="framework")
    code = Field(attribute="code", column_name="code")
    parent_code = Field(attribute="parent", column_name="parent_code")
    name_vi = Field(attribute="name_vi", column_name="name_vi")
    name_en = Field(attribute="name_en", column_name="name_en")
    max_points = Field(attribute="max_points", column_name="max_points")
    scored = Field(attribute="scored", column_name="scored")

    required_columns = ("framework", "code", "name_vi", "max_points")
    # In an indicator file "Mã chỉ số" is the indicator's own code (in a task file it is the
    # code of the indicator the task improves, see HEADER_ALIASES).
    column_aliases: ClassVar[dict[str, str]] = {"Mã chỉ số": "code"}

    class Meta:
        model = Indicator
        fields = ("framework", "code", "parent_code", "name_vi", "name_en", "max_points", "scored")
        import_id_fields = ("framework", "code")

    def filter_export(self, queryset: QuerySet[Indicator], **kwargs: Any) -> QuerySet[Indicator]:
        return queryset.select_related("indicator_set", "parent")

    def get_queryset(self) -> QuerySet[Indicator]:
        return Indicator.objects.order_by("indicator_set__first_year", "sort_key")

    def order_rows(
        self, rows: list[tuple[int, dict[str, Any]]]
    ) -> list[tuple[int, dict[str, Any]]]:
        # A component may name a main indicator that appears further down the file.
        return sorted(rows, key=lambda numbered: bool(clean_text(numbered[1].get("parent_code"))))

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.sets: NameIndex[IndicatorSet] = NameIndex(IndicatorSet.objects.all(), lambda s: s.code)
        wanted = {s.pk for name in dataset["framework"] if (s := self.sets.get(clean_text(name)))}
        self.indicators: dict[tuple[int, str], Indicator] = {}
        self.parents_with_components: set[int] = set()
        for indicator in Indicator.objects.filter(indicator_set__in=wanted).select_related(
            "indicator_set", "parent"
        ):
            self.indicators[(indicator.indicator_set_id, indicator.code)] = indicator
            if indicator.parent_id:
                self.parents_with_components.add(indicator.parent_id)
        self.seen: dict[tuple[int, str], int] = {}

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        values: dict[str, Any] = {}
        framework = clean_text(row["framework"])
        indicator_set = self.sets.get(framework) if framework else None
        if not framework:
            errors.add("framework", _("Name the indicator set, e.g. DTI2022."))
        elif indicator_set is None:
            # Said even when a similar code exists: the set may simply not be created yet.
            errors.add(
                "framework",
                unknown_message(_("indicator set"), framework, self.sets.suggest(framework))
                + " "
                + _("If it is a new set, create it first (admin: Indicator sets), then import."),
            )
        code = single_line(row["code"])
        if not code:
            errors.add("code", _("Every indicator needs a code, e.g. 7 or 7.12."))
        if indicator_set is None or not code:
            return values
        values["indicator_set"] = indicator_set
        values["code"] = code
        key = (indicator_set.pk, code)
        if key in self.seen:
            errors.add(
                "code",
                _("Indicator %(code)s of %(set)s is already on row %(row)s.")
                % {"code": code, "set": indicator_set.code, "row": self.seen[key]},
            )
        self.seen[key] = self.sheet_row

        if "parent_code" in row:
            values["parent"] = self._parent(indicator_set, code, row["parent_code"], errors)
        for column in ("name_vi", "name_en"):
            if column in row:
                values[column] = single_line(row[column])
        try:
            if "max_points" in row:
                values["max_points"] = parse_decimal(row["max_points"])
                if values["max_points"] is None:
                    errors.add("max_points", _("Give the indicator's maximum points."))
        except CellError as exc:
            errors.add("max_points", str(exc))
        try:
            if "scored" in row:
                scored = parse_bool(row["scored"])
                values["scored"] = True if scored is None else scored
        except CellError as exc:
            errors.add("scored", str(exc))
        return values

    def _parent(
        self, indicator_set: IndicatorSet, code: str, cell: Any, errors: RowErrors
    ) -> Indicator | None:
        parent_code = single_line(cell)
        if not parent_code:
            return None  # a main indicator (a component may be promoted to one)
        if parent_code == code:
            errors.add("parent_code", _("An indicator cannot be its own main indicator."))
            return None
        parent = self.indicators.get((indicator_set.pk, parent_code))
        if parent is None:
            mains = [
                i.code for i in self.indicators.values() if i.indicator_set_id == indicator_set.pk
            ]
            errors.add(
                "parent_code",
                unknown_message(
                    _("main indicator"),
                    parent_code,
                    NameIndex(mains, str).suggest(parent_code),
                    _("It must be a main indicator of %(set)s.") % {"set": indicator_set.code},
                ),
            )
            return None
        if parent.parent_id is not None:
            errors.add(
                "parent_code",
                _("%(code)s is itself a component of %(main)s; name a main indicator.")
                % {"code": parent_code, "main": parent.parent.code},
            )
            return None
        existing = self.indicators.get((indicator_set.pk, code))
        if existing is not None and existing.pk in self.parents_with_components:
            errors.add(
                "parent_code",
                _("%(code)s has component indicators, so it must stay a main indicator.")
                % {"code": code},
            )
            return None
        return parent

    def existing_instance(self, values: dict[str, Any]) -> Indicator | None:
        return self.indicators.get((values["indicator_set"].pk, values["code"]))

    def after_save_instance(self, instance: Indicator, row: dict[str, Any], **kwargs: Any) -> None:
        # Later rows (components) find the mains saved by earlier rows.
        self.indicators[(instance.indicator_set_id, instance.code)] = instance
        if instance.parent_id:
            self.parents_with_components.add(instance.parent_id)

    def dehydrate_framework(self, indicator: Indicator) -> str:
        indicator_set = related(indicator, "indicator_set")
        return indicator_set.code if indicator_set else ""

    def dehydrate_parent_code(self, indicator: Indicator) -> str:
        parent = related(indicator, "parent")
        return parent.code if parent else ""
