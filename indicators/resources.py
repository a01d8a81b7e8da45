"""Indicator sets as spreadsheets: ``framework, code, parent_code, name_vi, name_en, max_points,
scored``. A row is identified by (framework, code); main indicators have no parent_code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _
from import_export.fields import Field
from import_export.results import Result

from dtiplan.spreadsheets.cells import CellError, parse_bool, parse_decimal, parse_int
from dtiplan.spreadsheets.errors import ImportProblem, RowErrors
from dtiplan.spreadsheets.exports import render_cell
from dtiplan.spreadsheets.names import NameIndex, unknown_message
from dtiplan.spreadsheets.resources import StrictResource, related
from dtiplan.spreadsheets.text import clean_text, single_line
from indicators.models import Assessment, Indicator, IndicatorSet, Province, Score
from indicators.provinces import ProvinceDirectory, ProvinceNameError
from indicators.services import assessments_refresh, value_of

# --- The headers of the indicators' tables ---------------------------------------------------
# How the ministry's tables and the provinces' copies of them head these columns, each to the
# column it means. A resource accepts the entries for the columns it has.

INDICATOR_HEADERS: dict[str, str] = {
    "Bộ chỉ số": "framework",
    "Mã": "code",
    # In an indicator file "Mã chỉ số" is the indicator's own code (in a task or score file it
    # is the code of the indicator the row is about).
    "Mã chỉ số": "code",
    "Mã chỉ số cha": "parent_code",
    "Chỉ số chính": "parent_code",
    "Tên tiếng Việt": "name_vi",
    "Tên tiếng Anh": "name_en",
    "Điểm tối đa": "max_points",
    "Tính điểm": "scored",
}

RESULT_HEADERS: dict[str, str] = {
    "Bộ chỉ số": "framework",
    "Mã chỉ số": "indicator_code",
    "Chỉ số": "indicator_code",
    "Tỉnh": "province",
    "Tỉnh/thành phố": "province",
    "Tỉnh, thành phố": "province",
    "Tỉnh/TP": "province",
    "Địa phương": "province",
    "Điểm": "points",
    "Điểm số": "points",
    "Điểm đạt được": "points",
    "Số điểm": "points",
    "Điểm tối đa": "max_points",
    "Năm": "year",
}


class IndicatorResource(StrictResource):
    framework = Field(attribute="indicator_set", column_name="framework")
    code = Field(attribute="code", column_name="code")
    parent_code = Field(attribute="parent", column_name="parent_code")
    name_vi = Field(attribute="name_vi", column_name="name_vi")
    name_en = Field(attribute="name_en", column_name="name_en")
    max_points = Field(attribute="max_points", column_name="max_points")
    scored = Field(attribute="scored", column_name="scored")

    required_columns = ("framework", "code", "name_vi", "max_points")
    column_aliases: ClassVar[dict[str, str]] = INDICATOR_HEADERS

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
        earlier = self.earlier_row((indicator_set.pk, code))
        if earlier:
            errors.add(
                "code",
                _("Indicator %(code)s of %(set)s is already on row %(row)s.")
                % {"code": code, "set": indicator_set.code, "row": earlier},
            )

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


# --- DTI results -------------------------------------------------------------------------------


class ScoreResource(StrictResource):
    """A year's results as the ministry publishes them, one row per province and indicator:
    ``province, year, framework, indicator_code, points``.

    ``framework`` may be left out: a year is scored under the set in force that year (the
    latest whose first year is not after it), and a framework that disagrees is an error.
    Province names are read as the ministry writes them (``indicators.provinces``) and mean the
    provinces of the assessment year: the 63 up to 2024, the 34 from 2025.

    Rows only build objects; scores are written in batches and the totals, values and main
    indicators' sums are computed once at the end (``assessments_refresh``), so the number of
    queries does not grow with the rows. Score has no save() override or signal receivers to
    miss.
    """

    province = Field(attribute="assessment", column_name="province")
    year = Field(column_name="year")
    framework = Field(column_name="framework")
    indicator_code = Field(attribute="indicator", column_name="indicator_code")
    points = Field(attribute="points", column_name="points")

    required_columns = ("province", "year", "indicator_code", "points")
    column_aliases: ClassVar[dict[str, str]] = RESULT_HEADERS

    class Meta:
        model = Score
        fields = ("province", "year", "framework", "indicator_code", "points")
        import_id_fields = ("province", "year", "indicator_code")
        use_bulk = True
        batch_size = 1000

    def get_queryset(self) -> QuerySet[Score]:
        # Derived main-indicator sums are not exported: they are computed, and re-importing
        # them next to their components would say the same thing twice.
        return Score.objects.filter(derived=False).order_by(
            "assessment__year", "assessment__province__name", "indicator__sort_key"
        )

    def filter_export(self, queryset: QuerySet[Score], **kwargs: Any) -> QuerySet[Score]:
        return queryset.select_related(
            "assessment__province", "assessment__indicator_set", "indicator"
        )

    def get_bulk_update_fields(self) -> list[str]:
        return ["points", "value"]

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.provinces = ProvinceDirectory()
        self.sets = list(IndicatorSet.objects.all())
        self.sets_by_code: NameIndex[IndicatorSet] = NameIndex(self.sets, lambda s: s.code)
        years = set()
        for cell in dataset["year"]:
            try:
                years.add(parse_int(cell))
            except CellError:
                continue
        self.indicators: dict[tuple[int, str], Indicator] = {
            (i.indicator_set_id, i.code): i for i in Indicator.objects.all()
        }
        self.assessments: dict[tuple[int, int], Assessment] = {
            (a.province_id, a.year): a
            for a in Assessment.objects.filter(year__in=years).select_related(
                "province", "indicator_set"
            )
        }
        by_id = {a.pk: a for a in self.assessments.values()}
        indicators_by_id = {i.pk: i for i in self.indicators.values()}
        self.scores: dict[tuple[int, int], Score] = {}
        for score in Score.objects.filter(assessment_id__in=by_id):
            score.assessment = by_id[score.assessment_id]
            score.indicator = indicators_by_id[score.indicator_id]
            self.scores[(score.assessment_id, score.indicator_id)] = score
        # Main-indicator rows of the file, checked against their components at the end.
        self.main_rows: dict[tuple[int, int], tuple[int, Decimal]] = {}
        self.touched: set[int] = set()

    def _set_for_year(self, year: int) -> IndicatorSet | None:
        # IndicatorSet.objects.for_year() in memory.
        in_force = [s for s in self.sets if s.first_year <= year]
        return max(in_force, key=lambda s: s.first_year, default=None)

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        year = self._year(row["year"], errors)
        province = self._province(row["province"], year, errors) if year else None
        indicator_set = self._indicator_set(row.get("framework"), year, errors) if year else None
        indicator = self._indicator(row["indicator_code"], indicator_set, errors)
        points = self._points(row["points"], indicator, errors)
        if not (province and indicator_set and indicator) or points is None:
            return {}
        assessment = self._assessment(province, year, indicator_set, errors)
        if assessment is None:
            return {}
        key = (assessment.pk, indicator.pk)
        earlier = self.earlier_row(key)
        if earlier:
            errors.add(
                "indicator_code",
                _("Indicator %(code)s of %(province)s in %(year)s is already on row %(row)s.")
                % {"code": indicator.code, "province": province.name, "year": year, "row": earlier},
            )
            return {}
        if indicator.parent_id is None:
            self.main_rows[key] = (self._row_number, points)
        self.touched.add(assessment.pk)
        max_points = indicator.max_points
        return {
            "assessment": assessment,
            "indicator": indicator,
            "points": points,
            "value": value_of(points, max_points),
        }

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        self._row_number = kwargs.get("row_number", 0)
        super().before_import_row(row, **kwargs)

    def _year(self, cell: Any, errors: RowErrors) -> int | None:
        try:
            year = parse_int(cell)
        except CellError as exc:
            errors.add("year", str(exc))
            return None
        if year is None:
            errors.add("year", _("Give the assessment year, e.g. 2024."))
        elif not 2000 <= year <= 2100:
            errors.add("year", _("%(year)s is not an assessment year.") % {"year": year})
            return None
        return year

    def _province(self, cell: Any, year: int, errors: RowErrors) -> Province | None:
        try:
            return self.provinces.resolve(single_line(cell), year)
        except ProvinceNameError as exc:
            errors.add("province", str(exc))
            return None

    def _indicator_set(self, cell: Any, year: int, errors: RowErrors) -> IndicatorSet | None:
        in_force = self._set_for_year(year)
        framework = clean_text(cell)
        named = self.sets_by_code.get(framework) if framework else None
        if framework and named is None:
            errors.add(
                "framework",
                unknown_message(
                    _("indicator set"), framework, self.sets_by_code.suggest(framework)
                ),
            )
            return None
        if in_force is None:
            errors.add(
                "year",
                _(
                    "No indicator set is in force in %(year)s. Create the set it was assessed "
                    "under (admin: Indicator sets, with a first assessment year of %(year)s or "
                    "earlier) and import its indicators first."
                )
                % {"year": year},
            )
            return None
        if named is not None and named != in_force:
            errors.add(
                "framework",
                _("%(year)s is assessed under %(in_force)s, not %(named)s.")
                % {"year": year, "in_force": in_force.code, "named": named.code},
            )
            return None
        return in_force

    def _indicator(
        self, cell: Any, indicator_set: IndicatorSet | None, errors: RowErrors
    ) -> Indicator | None:
        code = single_line(cell)
        if not code:
            errors.add("indicator_code", _("Give the indicator's code, e.g. 7 or 7.12."))
            return None
        if indicator_set is None:
            return None
        indicator = self.indicators.get((indicator_set.pk, code))
        if indicator is None:
            codes = [c for (set_id, c) in self.indicators if set_id == indicator_set.pk]
            errors.add(
                "indicator_code",
                unknown_message(
                    _("indicator"),
                    code,
                    NameIndex(codes, str).suggest(code),
                    _("It must be an indicator of %(set)s; import the set's indicators first.")
                    % {"set": indicator_set.code},
                ),
            )
        return indicator

    def _points(self, cell: Any, indicator: Indicator | None, errors: RowErrors) -> Decimal | None:
        try:
            points = parse_decimal(cell)
        except CellError as exc:
            errors.add("points", str(exc))
            return None
        if points is None:
            errors.add("points", _("Give the points scored (0 when none)."))
            return None
        if points < 0:
            errors.add("points", _("Points cannot be negative."))
            return None
        if indicator is not None and points > indicator.max_points:
            errors.add(
                "points",
                _("%(points)s is above the max of %(max)s points of indicator %(code)s.")
                % {
                    "points": render_cell(points),
                    "max": render_cell(indicator.max_points),
                    "code": indicator.code,
                },
            )
            return None
        return points

    def _assessment(
        self, province: Province, year: int, indicator_set: IndicatorSet, errors: RowErrors
    ) -> Assessment | None:
        assessment = self.assessments.get((province.pk, year))
        if assessment is None:
            # Saved at once, inside the import's transaction: the rows' scores need its id,
            # and a file with any bad row rolls it back with everything else.
            assessment = Assessment.objects.create(
                province=province, year=year, indicator_set=indicator_set
            )
            self.assessments[(province.pk, year)] = assessment
        elif assessment.indicator_set_id != indicator_set.pk:
            errors.add(
                "framework",
                _("%(province)s %(year)s was loaded under %(set)s.")
                % {"province": province.name, "year": year, "set": assessment.indicator_set.code},
            )
            return None
        return assessment

    def existing_instance(self, values: dict[str, Any]) -> Score | None:
        return self.scores.get((values["assessment"].pk, values["indicator"].pk))

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        if result.has_errors() or result.has_validation_errors():
            return  # rolled back
        self._check_main_rows_against_components(result)
        if result.has_validation_errors():
            return
        assessments_refresh(assessment_ids=self.touched)
        result.assessments = [a for a in self.assessments.values() if a.pk in self.touched]

    def _check_main_rows_against_components(self, result: Any) -> None:
        """A main indicator's points are the sum of its components when those are given: a
        main-indicator row must agree with the components of the file and of earlier imports.
        Checked after the rows are written, so one query sees both."""
        if not self.main_rows:
            return
        assessment_ids = {assessment_id for assessment_id, _main in self.main_rows}
        sums = {
            (row["assessment_id"], row["indicator__parent_id"]): row["total"]
            for row in Score.objects.filter(
                assessment_id__in=assessment_ids, indicator__parent__isnull=False
            )
            .values("assessment_id", "indicator__parent_id")
            .annotate(total=Sum("points"))
        }
        for key, (row_number, points) in sorted(self.main_rows.items(), key=lambda i: i[1][0]):
            total = sums.get(key)
            if total is not None and total != points:
                message = _(
                    "%(points)s differs from the sum of this indicator's component scores "
                    "(%(total)s), which is its score."
                ) % {"points": render_cell(points), "total": render_cell(total)}
                result.append_invalid_row(row_number, {}, ValidationError({"points": [message]}))

    def dehydrate_province(self, score: Score) -> str:
        return score.assessment.province.name

    def dehydrate_year(self, score: Score) -> int:
        return score.assessment.year

    def dehydrate_framework(self, score: Score) -> str:
        return score.assessment.indicator_set.code

    def dehydrate_indicator_code(self, score: Score) -> str:
        return score.indicator.code


class ExportOnlyResource(StrictResource):
    """A computed table: it is read, never imported (its numbers come from the scores)."""

    column_aliases: ClassVar[dict[str, str]] = RESULT_HEADERS

    def import_data(self, dataset: Any, *args: Any, **kwargs: Any) -> Result:
        return self._problem_result(
            [
                ImportProblem(
                    None,
                    None,
                    _(
                        "%(resource)s is computed and can only be exported; import results "
                        "with indicators.resources.ScoreResource."
                    )
                    % {"resource": type(self).__name__},
                )
            ]
        )


class AssessmentResource(ExportOnlyResource):
    """Each province's DTI per year: ``province, year, framework, points, value, rank``."""

    province = Field(column_name="province")
    year = Field(attribute="year", column_name="year")
    framework = Field(column_name="framework")
    points = Field(attribute="points", column_name="points")
    value = Field(attribute="value", column_name="value")
    rank = Field(attribute="rank", column_name="rank")

    class Meta:
        model = Assessment
        fields = ("province", "year", "framework", "points", "value", "rank")

    def get_queryset(self) -> QuerySet[Assessment]:
        return Assessment.objects.order_by("-year", "-value", "province__name")

    def filter_export(self, queryset: QuerySet[Assessment], **kwargs: Any) -> QuerySet[Assessment]:
        if "rank" not in queryset.query.annotations:
            queryset = queryset.with_rank()
        return queryset.select_related("province", "indicator_set")

    def dehydrate_province(self, assessment: Assessment) -> str:
        return assessment.province.name

    def dehydrate_framework(self, assessment: Assessment) -> str:
        return assessment.indicator_set.code
