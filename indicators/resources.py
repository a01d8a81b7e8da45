"""Indicator sets and DTI results as spreadsheets.

Indicators: ``framework, first_year, code, parent_code, name_vi, name_en, max_points, scored,
pillar``; a row is identified by (framework, code); main indicators have no parent_code. Results:
``ScoreResource`` below."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.fields import Field
from import_export.results import Result

from dtiplan.spreadsheets.cells import CellError, parse_bool, parse_decimal, parse_int
from dtiplan.spreadsheets.errors import ImportProblem, RowErrors
from dtiplan.spreadsheets.exports import render_cell
from dtiplan.spreadsheets.names import NameIndex, unknown_message
from dtiplan.spreadsheets.resources import StrictResource, related
from dtiplan.spreadsheets.text import clean_text, name_key, single_line
from indicators.models import (
    Assessment,
    Indicator,
    IndicatorSet,
    Pillar,
    Province,
    PublishedResult,
    Score,
    natural_sort_key,
    ranking_days,
    set_in_force,
)
from indicators.provinces import ProvinceDirectory, ProvinceNameError
from indicators.services import (
    FOUR_PLACES,
    RankingRow,
    assessments_refresh,
    computed_value,
    year_rankings,
)

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

# Pillars as the ministry's tables and the project's exports name them, by the stored code.
PILLAR_NAMES: dict[str, tuple[str, ...]] = {
    Pillar.FOUNDATION: ("Nền tảng chung", "Nền tảng", "Common foundation", "Foundation"),
    Pillar.GOVERNMENT: ("Chính quyền số", "CQS", "Digital government", "Government"),
    Pillar.ECONOMY: ("Kinh tế số", "KTS", "Digital economy", "Economy"),
    Pillar.SOCIETY: ("Xã hội số", "XHS", "Digital society", "Society"),
}
_PILLARS_BY_KEY = {
    name_key(name): pillar for pillar, names in PILLAR_NAMES.items() for name in (pillar, *names)
}


class IndicatorResource(StrictResource):
    framework = Field(attribute="indicator_set", column_name="framework")
    first_year = Field(column_name="first_year")
    code = Field(attribute="code", column_name="code")
    parent_code = Field(attribute="parent", column_name="parent_code")
    name_vi = Field(attribute="name_vi", column_name="name_vi")
    name_en = Field(attribute="name_en", column_name="name_en")
    max_points = Field(attribute="max_points", column_name="max_points")
    scored = Field(attribute="scored", column_name="scored")
    pillar = Field(attribute="pillar", column_name="pillar")

    required_columns = ("framework", "code", "name_vi")
    column_aliases: ClassVar[dict[str, str]] = {
        **INDICATOR_HEADERS,
        "Năm áp dụng": "first_year",
        "Năm đánh giá đầu tiên": "first_year",
        "Trụ cột": "pillar",
    }

    class Meta:
        model = Indicator
        fields = (
            "framework",
            "first_year",
            "code",
            "parent_code",
            "name_vi",
            "name_en",
            "max_points",
            "scored",
            "pillar",
        )
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
        first_year = self._first_year(row.get("first_year"), errors)
        indicator_set = self.sets.get(framework) if framework else None
        if not framework:
            errors.add("framework", _("Name the indicator set, e.g. DTI2022."))
        elif indicator_set is None and first_year is not None and not errors:
            indicator_set = self._new_set(framework, first_year, errors)
        elif indicator_set is None:
            # Said even when a similar code exists: the set may simply not be created yet.
            errors.add(
                "framework",
                unknown_message(_("indicator set"), framework, self.sets.suggest(framework))
                + " "
                + _(
                    "If it is a new set, give its first assessment year in a first_year "
                    "column, or create it first (admin: Indicator sets)."
                ),
            )
        elif first_year is not None and first_year != indicator_set.first_year:
            errors.add(
                "first_year",
                _(
                    "%(set)s applies from %(first)s; its first year is changed in the admin "
                    "(Indicator sets), not by a file."
                )
                % {"set": indicator_set.code, "first": indicator_set.first_year},
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
                # Empty: not published (the 2024 set's main indicators); never made up.
                values["max_points"] = parse_decimal(row["max_points"])
        except CellError as exc:
            errors.add("max_points", str(exc))
        if "pillar" in row:
            values["pillar"] = self._pillar(row["pillar"], row.get("parent_code"), errors)
        try:
            if "scored" in row:
                scored = parse_bool(row["scored"])
                values["scored"] = True if scored is None else scored
        except CellError as exc:
            errors.add("scored", str(exc))
        return values

    def _first_year(self, cell: Any, errors: RowErrors) -> int | None:
        try:
            year = parse_int(cell)
        except CellError as exc:
            errors.add("first_year", str(exc))
            return None
        if year is not None and not 2000 <= year <= 2100:
            errors.add("first_year", _("%(year)s is not an assessment year.") % {"year": year})
            return None
        return year

    def _new_set(self, code: str, first_year: int, errors: RowErrors) -> IndicatorSet | None:
        """A set the file adds: its code and first assessment year come from the file; its name
        and decision are completed in the admin. Saved at once (later rows refer to it); a bad
        row anywhere rolls it back with the rest."""
        if any(s.first_year == first_year for s in self.sets.values()):
            errors.add(
                "first_year",
                _("A set already applies from %(year)s; two sets cannot start the same year.")
                % {"year": first_year},
            )
            return None
        indicator_set = IndicatorSet(code=code, name=code, decision="", first_year=first_year)
        try:
            indicator_set.full_clean(exclude=["decision"])
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                for message in messages:
                    errors.add("framework", message)
            return None
        indicator_set.save()
        self.sets.add(indicator_set)
        return indicator_set

    def _pillar(self, cell: Any, parent_cell: Any, errors: RowErrors) -> str:
        text = single_line(cell)
        if not text:
            return ""
        pillar = _PILLARS_BY_KEY.get(name_key(text))
        if pillar is None:
            errors.add(
                "pillar",
                unknown_message(
                    _("pillar"), text, [], ", ".join(names[0] for names in PILLAR_NAMES.values())
                ),
            )
            return ""
        if single_line(parent_cell):
            errors.add("pillar", _("Only a main indicator has a pillar."))
            return ""
        return pillar

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

    def dehydrate_first_year(self, indicator: Indicator) -> int | str:
        indicator_set = related(indicator, "indicator_set")
        return indicator_set.first_year if indicator_set else ""


# --- DTI results -------------------------------------------------------------------------------

# What one row of a results file is about: an indicator, a pillar, or the DTI (both None).
_ResultKey = tuple[int, int, int, int | None, str]  # province, year, ranking, indicator, pillar


@dataclass(frozen=True)
class ResultRow:
    """One exported row of results: a score, or a published figure no score carries."""

    province: str
    year: int
    framework: str
    ranking: int | None  # None: the year's own ranking
    indicator_code: str
    points: Decimal | None
    value: Decimal | None
    rank: int | None


class ScoreResource(StrictResource):
    """A year's results as the ministry publishes them: ``province, year, framework, ranking,
    indicator_code, points, value, rank``.

    One row per province and subject: ``indicator_code`` names a main indicator, a component
    or a pillar, or is empty for the province's DTI. A row gives the ``points``, the published
    ``value`` (0-1, 4 decimals; "0,8241" as the ministry writes it) or the published ``rank``,
    or several of them. ``ranking`` (optional) says which ranking a row belongs to by its number
    of provinces: the year's own by default (63 up to 2024, 34 from 2025), or 34 for DTI 2024 as
    it was also published for the provinces of 1 July 2025. ``framework`` may be left out: a year
    is scored under the set in force that year (``set_in_force``), and a framework that
    disagrees is an error. Province names are read as the ministry writes them
    (``indicators.provinces``).

    Indicator rows of the year's own ranking become scores (points, or the published value when
    the points or the max points are unknown); every published value and rank is also kept as
    published (``PublishedResult``), beside what dtiplan computes. Rows only build objects;
    scores are written in batches and totals, values and sums are computed once at the end
    (``assessments_refresh``), so the number of queries does not grow with the rows.
    """

    province = Field(attribute="assessment", column_name="province")
    year = Field(column_name="year")
    framework = Field(column_name="framework")
    ranking = Field(column_name="ranking")
    indicator_code = Field(attribute="indicator", column_name="indicator_code")
    points = Field(attribute="points", column_name="points")
    value = Field(attribute="value", column_name="value")
    rank = Field(column_name="rank")

    required_columns = ("province", "year")
    # The headers of the ministry's result tables ("Giá trị" or "Chỉ số DTI" mean a result's
    # value only in a results file).
    column_aliases: ClassVar[dict[str, str]] = {
        **RESULT_HEADERS,
        "Giá trị": "value",
        "Giá trị chỉ số": "value",
        "Chỉ số DTI": "value",
        "DTI": "value",
        "Xếp hạng": "rank",
        "Thứ hạng": "rank",
        "Hạng": "rank",
        "Trụ cột": "indicator_code",
        "Chỉ số thành phần": "indicator_code",
        "Bảng xếp hạng": "ranking",
        "Số tỉnh xếp hạng": "ranking",
    }
    figure_columns: ClassVar[tuple[str, ...]] = ("points", "value", "rank")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The row being read when it is kept as published only (no score): see clean_row.
        self._row_view: dict[str, Any] | None = None

    class Meta:
        model = Score
        fields = (
            "province",
            "year",
            "framework",
            "ranking",
            "indicator_code",
            "points",
            "value",
            "rank",
        )
        import_id_fields = ("province", "year")  # rows find their object in clean_row
        use_bulk = True
        batch_size = 1000

    def get_queryset(self) -> QuerySet[Score]:
        # Derived main-indicator sums are not exported: they are computed, and re-importing
        # them next to their components would say the same thing twice.
        return Score.objects.filter(derived=False).order_by(
            "assessment__year", "assessment__province__name", "indicator__sort_key"
        )

    def filter_export(self, queryset: QuerySet[Score], **kwargs: Any) -> list[ResultRow]:
        """The scores, with the published value and rank of each where imported, then the
        published figures no score carries (the DTI, pillars, the 34-province ranking): the
        file imports back into the same results and published figures."""
        scores = list(
            queryset.select_related(
                "assessment__province", "assessment__indicator_set", "indicator"
            )
        )
        everything = not (
            Score.objects.filter(derived=False).exclude(pk__in=queryset.values("pk")).exists()
        )
        years = {score.assessment.year for score in scores}
        published = PublishedResult.objects.select_related("province", "indicator_set", "indicator")
        if not everything:
            province_ids = {score.assessment.province_id for score in scores}
            successors = dict(Province.objects.values_list("pk", "successor_id"))
            province_ids |= {successors[p] for p in list(province_ids) if successors.get(p)}
            published = published.filter(year__in=years, province_id__in=province_ids)
        provinces = list(Province.objects.all())
        days = {year: ranking_days(year, provinces) for year in years}
        by_key = {(r.province_id, r.year, r.indicator_id, r.pillar): r for r in published}
        own = {key: r for key, r in by_key.items() if r.own_ranking}
        used: set[int] = set()
        rows: list[ResultRow] = []
        for score in scores:
            assessment = score.assessment
            figure = own.get((assessment.province_id, assessment.year, score.indicator_id, ""))
            value = score.value if score.points is None else None
            rank = None
            if figure is not None:
                used.add(figure.pk)
                rank = figure.rank
                if figure.value is not None and figure.value == score.value:
                    value = figure.value  # the published value, agreeing with the points
            rows.append(
                ResultRow(
                    province=assessment.province.name_in_year(assessment.year),
                    year=assessment.year,
                    framework=assessment.indicator_set.code,
                    ranking=None,
                    indicator_code=score.indicator.code,
                    points=score.points,
                    value=value,
                    rank=rank,
                )
            )
        for figure in published:
            if figure.pk in used:
                continue
            if figure.year not in days:
                days[figure.year] = ranking_days(figure.year, provinces)
            day = days[figure.year].get(figure.ranking)
            rows.append(
                ResultRow(
                    province=figure.province.name_on(day)
                    if day
                    else figure.province.name_in_year(figure.year),
                    year=figure.year,
                    framework=figure.indicator_set.code,
                    ranking=None if figure.own_ranking else figure.ranking,
                    indicator_code=figure.indicator.code
                    if figure.indicator
                    else (PILLAR_NAMES[figure.pillar][0] if figure.pillar else ""),
                    points=None,
                    value=figure.value,
                    rank=figure.rank,
                )
            )
        # Year by year, the year's own ranking first; in a province, the DTI before its parts.
        return sorted(
            rows,
            key=lambda r: (r.year, r.ranking or 0, r.province, natural_sort_key(r.indicator_code)),
        )

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        if isinstance(instance, ResultRow):
            value = getattr(instance, field.column_name)
            return render_cell(value, native=bool(kwargs.get("force_native_type")))
        if self._row_view is not None and instance.assessment_id is None:
            # The admin's preview of a row kept as published only: show the row as read.
            return render_cell(self._row_view.get(field.column_name))
        return super().export_field(field, instance, **kwargs)

    def get_bulk_update_fields(self) -> list[str]:
        return ["points", "value"]

    def _prepare(self, dataset: Any) -> tuple[Any, list[ImportProblem]]:
        prepared, problems = super()._prepare(dataset)
        if not problems and not any(c in self._user_headers for c in self.figure_columns):
            problems.append(
                ImportProblem(
                    1,
                    None,
                    _(
                        "The file has no points, value or rank column. The columns are: "
                        "%(expected)s."
                    )
                    % {"expected": ", ".join(self.columns())},
                )
            )
        return prepared, problems

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
        self.rankings = {
            year: ranking_days(year, self.provinces.provinces) for year in years if year is not None
        }
        self.indicators: dict[tuple[int, str], Indicator] = {
            (i.indicator_set_id, i.code): i for i in Indicator.objects.all()
        }
        self.pillars: dict[int, set[str]] = defaultdict(set)
        for indicator in self.indicators.values():
            if indicator.pillar:
                self.pillars[indicator.indicator_set_id].add(indicator.pillar)
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
        self.published_now: dict[_ResultKey, PublishedResult] = {
            (r.province_id, r.year, r.ranking, r.indicator_id, r.pillar): r
            for r in PublishedResult.objects.filter(year__in=years)
        }
        self.published_rows: dict[_ResultKey, tuple[IndicatorSet, Decimal | None, int | None]] = {}
        # Main-indicator rows of the file, checked against their components at the end.
        self.main_rows: dict[tuple[int, int], tuple[int, Decimal]] = {}
        self.touched: set[int] = set()
        self._row_view: dict[str, Any] | None = None

    def clean_row(self, row: dict[str, Any], errors: RowErrors) -> dict[str, Any]:
        self._row_view = None
        year = self._year(row["year"], errors)
        ranking, day = self._ranking(row.get("ranking"), year, errors) if year else (None, None)
        province = self._province(row["province"], year, day, errors) if ranking else None
        indicator_set = self._indicator_set(row.get("framework"), year, errors) if year else None
        indicator, pillar = self._subject(row.get("indicator_code"), indicator_set, errors)
        points = self._points(row.get("points"), indicator, pillar, errors)
        value = self._value(row.get("value"), errors)
        rank = self._rank(row.get("rank"), ranking, errors)
        if points is None and value is None and rank is None and not errors:
            errors.add(
                self._first_figure_column(),
                _("Give the points, the published value or the rank."),
            )
        if indicator is not None and points is not None and value is not None:
            expected = computed_value(points, indicator.max_points)
            if expected is not None and expected != value:
                errors.add(
                    "value",
                    _("%(points)s of %(max)s points is a value of %(expected)s, not %(value)s.")
                    % {
                        "points": render_cell(points),
                        "max": render_cell(indicator.max_points),
                        "expected": render_cell(expected),
                        "value": render_cell(value),
                    },
                )
        if errors or not (year and ranking and province and indicator_set):
            return {}
        key: _ResultKey = (province.pk, year, ranking, indicator.pk if indicator else None, pillar)
        earlier = self.earlier_row(key)
        if earlier:
            errors.add(
                "indicator_code",
                _("%(subject)s of %(province)s in %(year)s is already on row %(row)s.")
                % {
                    "subject": self._subject_label(indicator, pillar),
                    "province": province.name_in_year(year),
                    "year": year,
                    "row": earlier,
                },
            )
            return {}
        own = ranking == self._own_size(year)
        assessment = self._assessment(province, year, indicator_set, errors) if own else None
        if errors:
            return {}
        if value is not None or rank is not None:
            self.published_rows[key] = (indicator_set, value, rank)
        if assessment is not None:
            self.touched.add(assessment.pk)
        if assessment is None or indicator is None or (points is None and value is None):
            # Kept as published only: a pillar, the DTI, another ranking, or a rank alone.
            self._row_view = {
                "province": row["province"],
                "year": year,
                "framework": indicator_set.code,
                "ranking": ranking,
                "indicator_code": row.get("indicator_code", ""),
                "value": value,
                "rank": rank,
            }
            return {}
        existing = self.scores.get((assessment.pk, indicator.pk))
        values: dict[str, Any] = {"assessment": assessment, "indicator": indicator}
        if points is not None:
            values["points"] = points
            if indicator.parent_id is None:
                self.main_rows[(assessment.pk, indicator.pk)] = (self._row_number, points)
        known_points = points if points is not None else (existing.points if existing else None)
        computed = computed_value(known_points, indicator.max_points)
        values["value"] = computed if computed is not None else value
        return values

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        self._row_number = kwargs.get("row_number", 0)
        super().before_import_row(row, **kwargs)

    def skip_row(self, instance: Any, original: Any, row: Any, errors: Any = None) -> bool:
        if self._row_view is not None:
            return True  # saved with the published results at the end
        return super().skip_row(instance, original, row, errors)

    def _first_figure_column(self) -> str:
        return next((c for c in self.figure_columns if c in self._user_headers), "points")

    def _own_size(self, year: int) -> int:
        return next(iter(self.rankings[year]))

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

    def _ranking(
        self, cell: Any, year: int, errors: RowErrors
    ) -> tuple[int | None, dt.date | None]:
        days = self.rankings[year]
        try:
            ranking = parse_int(cell)
        except CellError as exc:
            errors.add("ranking", str(exc))
            return None, None
        if ranking is None:
            ranking = self._own_size(year)
        if ranking not in days:
            errors.add(
                "ranking",
                _("DTI %(year)s has rankings of %(sizes)s provinces, not %(ranking)s.")
                % {
                    "year": year,
                    "sizes": "/".join(str(size) for size in days),
                    "ranking": ranking,
                },
            )
            return None, None
        return ranking, days[ranking]

    def _province(
        self, cell: Any, year: int, day: dt.date | None, errors: RowErrors
    ) -> Province | None:
        try:
            return self.provinces.resolve(single_line(cell), year, day=day)
        except ProvinceNameError as exc:
            errors.add("province", str(exc))
            return None

    def _indicator_set(self, cell: Any, year: int, errors: RowErrors) -> IndicatorSet | None:
        in_force = set_in_force(self.sets, year)
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

    def _subject(
        self, cell: Any, indicator_set: IndicatorSet | None, errors: RowErrors
    ) -> tuple[Indicator | None, str]:
        """The row's indicator, or its pillar, or neither (the DTI itself)."""
        code = single_line(cell)
        if not code or indicator_set is None:
            return None, ""
        indicator = self.indicators.get((indicator_set.pk, code))
        if indicator is not None:
            return indicator, ""
        pillar = _PILLARS_BY_KEY.get(name_key(code))
        if pillar is not None:
            if pillar in self.pillars[indicator_set.pk]:
                return None, pillar
            errors.add(
                "indicator_code",
                _("%(set)s has no pillar “%(pillar)s”.")
                % {"set": indicator_set.code, "pillar": code},
            )
            return None, ""
        codes = [c for (set_id, c) in self.indicators if set_id == indicator_set.pk]
        errors.add(
            "indicator_code",
            unknown_message(
                _("indicator"),
                code,
                NameIndex(codes, str).suggest(code),
                _(
                    "It must be an indicator or a pillar of %(set)s (empty for the DTI itself); "
                    "import the set's indicators first."
                )
                % {"set": indicator_set.code},
            ),
        )
        return None, ""

    @staticmethod
    def _subject_label(indicator: Indicator | None, pillar: str) -> str:
        if indicator is not None:
            return _("Indicator %(code)s") % {"code": indicator.code}
        if pillar:
            return _("Pillar %(pillar)s") % {"pillar": Pillar(pillar).label}
        return _("The DTI")

    def _points(
        self, cell: Any, indicator: Indicator | None, pillar: str, errors: RowErrors
    ) -> Decimal | None:
        try:
            points = parse_decimal(cell)
        except CellError as exc:
            errors.add("points", str(exc))
            return None
        if points is None:
            return None
        if points < 0:
            errors.add("points", _("Points cannot be negative."))
            return None
        if indicator is None and not errors:
            # The DTI's points are its main indicators' sum; a pillar is published as a value.
            errors.add(
                "points",
                _("Points are given per indicator; for a pillar or the DTI give the value."),
            )
            return None
        if (
            indicator is not None
            and indicator.max_points is not None
            and points > indicator.max_points
        ):
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

    def _value(self, cell: Any, errors: RowErrors) -> Decimal | None:
        try:
            value = parse_decimal(cell)
        except CellError as exc:
            errors.add("value", str(exc))
            return None
        if value is None:
            return None
        if not Decimal("0") <= value <= Decimal("1"):
            errors.add(
                "value",
                _("%(value)s is not a value: values are between 0 and 1, e.g. 0,8241.")
                % {"value": render_cell(value)},
            )
            return None
        if value != value.quantize(FOUR_PLACES):
            errors.add(
                "value",
                _("%(value)s has more than 4 decimals; the ministry publishes 4.")
                % {"value": render_cell(value)},
            )
            return None
        return value.quantize(FOUR_PLACES)

    def _rank(self, cell: Any, ranking: int | None, errors: RowErrors) -> int | None:
        try:
            rank = parse_int(cell)
        except CellError as exc:
            errors.add("rank", str(exc))
            return None
        if rank is None or ranking is None:
            return rank
        if not 1 <= rank <= ranking:
            errors.add(
                "rank",
                _("A rank among %(ranking)s provinces is between 1 and %(ranking)s, not %(rank)s.")
                % {"ranking": ranking, "rank": rank},
            )
            return None
        return rank

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
        if "assessment" not in values:
            return None
        return self.scores.get((values["assessment"].pk, values["indicator"].pk))

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        if result.has_errors() or result.has_validation_errors():
            return  # rolled back
        self._check_main_rows_against_components(result)
        if result.has_validation_errors():
            return
        self._save_published()
        assessments_refresh(assessment_ids=self.touched)
        result.assessments = [a for a in self.assessments.values() if a.pk in self.touched]

    def _save_published(self) -> None:
        """Each published value and rank of the file, as given: a row that gives only a value
        keeps the rank an earlier file gave, and the other way round."""
        to_create: list[PublishedResult] = []
        to_update: list[PublishedResult] = []
        for key, (indicator_set, value, rank) in self.published_rows.items():
            province_id, year, ranking, indicator_id, pillar = key
            existing = self.published_now.get(key)
            if existing is None:
                to_create.append(
                    PublishedResult(
                        province_id=province_id,
                        year=year,
                        ranking=ranking,
                        own_ranking=ranking == self._own_size(year),
                        indicator_set=indicator_set,
                        indicator_id=indicator_id,
                        pillar=pillar,
                        value=value,
                        rank=rank,
                    )
                )
                continue
            new_value = existing.value if value is None else value
            new_rank = existing.rank if rank is None else rank
            if (existing.value, existing.rank) != (new_value, new_rank):
                existing.value, existing.rank = new_value, new_rank
                existing.updated_at = timezone.now()  # bulk_update skips auto_now
                to_update.append(existing)
        PublishedResult.objects.bulk_create(to_create, batch_size=500)
        PublishedResult.objects.bulk_update(
            to_update, ["value", "rank", "updated_at"], batch_size=500
        )

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
        return score.assessment.province.name_in_year(score.assessment.year)

    def dehydrate_year(self, score: Score) -> int:
        return score.assessment.year

    def dehydrate_framework(self, score: Score) -> str:
        return score.assessment.indicator_set.code

    def dehydrate_ranking(self, score: Score) -> str:
        return ""  # the year's own ranking

    def dehydrate_indicator_code(self, score: Score) -> str:
        return score.indicator.code

    def dehydrate_value(self, score: Score) -> Decimal | None:
        # Only a value that is not computed from the points: it imports back as published.
        return score.value if score.points is None else None

    def dehydrate_rank(self, score: Score) -> str:
        return ""


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
    """Each province's DTI per year in every ranking of the year: ``province, year, framework,
    ranking, points, value, rank, computed_value, computed_rank, averaged_from``.

    ``value`` and ``rank`` are the official figures: the published ones where imported, else
    dtiplan's; ``computed_value`` and ``computed_rank`` are dtiplan's own, beside them. A year
    before the 2025 merger is listed twice: the 63 provinces under their names of that year
    (Thừa Thiên Huế), then the 34 of 1 July 2025, where a merged province is the average of its
    former provinces (``averaged_from`` names them), ranked among the 34
    (``indicators.services.year_rankings``).
    """

    province = Field(column_name="province")
    year = Field(column_name="year")
    framework = Field(column_name="framework")
    ranking = Field(column_name="ranking")
    points = Field(column_name="points")
    value = Field(column_name="value")
    rank = Field(column_name="rank")
    computed_value = Field(column_name="computed_value")
    computed_rank = Field(column_name="computed_rank")
    averaged_from = Field(column_name="averaged_from")

    class Meta:
        model = Assessment
        fields = (
            "province",
            "year",
            "framework",
            "ranking",
            "points",
            "value",
            "rank",
            "computed_value",
            "computed_rank",
            "averaged_from",
        )

    def get_queryset(self) -> QuerySet[Assessment]:
        return Assessment.objects.order_by("-year", "-value", "province__name")

    def filter_export(self, queryset: QuerySet[Assessment], **kwargs: Any) -> list[RankingRow]:
        """The rankings of the years the chosen assessments are in, limited to the chosen
        provinces and the provinces they merged into."""
        chosen = queryset.order_by().values_list("year", "province_id")
        years: set[int] = set()
        province_ids: set[int] = set()
        for year, province_id in chosen:
            years.add(year)
            province_ids.add(province_id)
        everything = not Assessment.objects.exclude(pk__in=queryset.values("pk")).exists()
        successors = dict(Province.objects.values_list("pk", "successor_id"))
        allowed = set(province_ids)
        for province_id in province_ids:
            successor = successors.get(province_id)
            while successor is not None and successor not in allowed:
                allowed.add(successor)
                successor = successors.get(successor)
        return [
            row
            for year in sorted(years, reverse=True)
            for row in year_rankings(year=year)
            if everything or row.province.pk in allowed
        ]

    def dehydrate_province(self, row: RankingRow) -> str:
        return row.name

    def dehydrate_year(self, row: RankingRow) -> int:
        return row.year

    def dehydrate_framework(self, row: RankingRow) -> str:
        return row.framework

    def dehydrate_ranking(self, row: RankingRow) -> int:
        return row.ranking

    def dehydrate_points(self, row: RankingRow) -> Decimal | None:
        if row.result.points is None:
            return None
        return row.result.points.quantize(Decimal("0.01"))

    def dehydrate_value(self, row: RankingRow) -> Decimal | None:
        return row.result.official_value

    def dehydrate_rank(self, row: RankingRow) -> int | None:
        return row.result.official_rank

    def dehydrate_computed_value(self, row: RankingRow) -> Decimal | None:
        return row.result.value

    def dehydrate_computed_rank(self, row: RankingRow) -> int | None:
        return row.result.rank

    def dehydrate_averaged_from(self, row: RankingRow) -> str:
        return row.averaged_from

