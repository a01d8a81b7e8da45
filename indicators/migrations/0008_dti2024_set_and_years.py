"""The sets and the years they applied to, and the name Huế had before 2025.

- Decision 922/QĐ-BTTTT (20 May 2022) was already the set of the DTI 2021 assessment (results
  published in August 2022) and stayed in use for DTI 2022 and 2023: its first assessment year
  is 2021, not 2022.
- The DTI 2024 assessment (results published on 21 October 2025) used a revised set of 8 main
  indicators and 47 components on 1,000 points (Decision 405/QĐ-BKHCN of 3 April 2025, which
  re-approved the index under the Ministry of Science and Technology): the 8 scored main
  indicators of Decision 922 without smart city, numbered in the published order. The max
  points of its main indicators were not published (the ministry's tables give values, 0-1,
  and ranks): they stay empty, and its components are imported by the coordinator from the
  decision's appendix. The set of the 2025 assessment is a further revision, added by import.
- Thừa Thiên Huế became the city of Huế on 1 July 2025 with its territory unchanged: one
  province, whose results up to 2024 carry its former name.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

SET_CODE = "DTI2024"

# code, name_vi, name_en, pillar
MAIN_INDICATORS_2024 = [
    ("1", "Nhận thức số", "Digital awareness", "foundation"),
    ("2", "Thể chế số", "Digital institutions", "foundation"),
    ("3", "Hạ tầng số", "Digital infrastructure", "foundation"),
    ("4", "Nhân lực số", "Digital human resources", "foundation"),
    ("5", "An toàn thông tin mạng", "Network information security", "foundation"),
    ("6", "Hoạt động chính quyền số", "Digital government activities", "government"),
    ("7", "Hoạt động kinh tế số", "Digital economy activities", "economy"),
    ("8", "Hoạt động xã hội số", "Digital society activities", "society"),
]

RENAMED = ("Huế", "Thừa Thiên Huế", dt.date(2025, 7, 1))


def load(apps, schema_editor):
    IndicatorSet = apps.get_model("indicators", "IndicatorSet")
    Indicator = apps.get_model("indicators", "Indicator")
    Province = apps.get_model("indicators", "Province")
    IndicatorSet.objects.filter(code="DTI2022", first_year=2022).update(first_year=2021)
    indicator_set, _ = IndicatorSet.objects.get_or_create(
        code=SET_CODE,
        defaults={
            "name": "Bộ chỉ số DTI cấp tỉnh 2024",
            "decision": "405/QĐ-BKHCN",
            "decision_date": dt.date(2025, 4, 3),
            "first_year": 2024,
            "total_points": Decimal("1000"),
        },
    )
    for code, name_vi, name_en, pillar in MAIN_INDICATORS_2024:
        Indicator.objects.get_or_create(
            indicator_set=indicator_set,
            code=code,
            defaults={
                "name_vi": name_vi,
                "name_en": name_en,
                "max_points": None,
                "scored": True,
                "pillar": pillar,
                "sort_key": code.zfill(4),
            },
        )
    name, former, day = RENAMED
    for province in Province.objects.filter(name=name, valid_from=None, former_name=""):
        province.former_name, province.renamed_on = former, day
        # The former name is matched as a spelling through former_name now.
        province.other_names = "\n".join(
            line for line in province.other_names.splitlines() if line.strip() != former
        )
        province.save(update_fields=["former_name", "renamed_on", "other_names"])


def unload(apps, schema_editor):
    IndicatorSet = apps.get_model("indicators", "IndicatorSet")
    Indicator = apps.get_model("indicators", "Indicator")
    Province = apps.get_model("indicators", "Province")
    Indicator.objects.filter(indicator_set__code=SET_CODE, parent__isnull=True).delete()
    IndicatorSet.objects.filter(code=SET_CODE, indicators__isnull=True).delete()
    IndicatorSet.objects.filter(code="DTI2022", first_year=2021).update(first_year=2022)
    name, former, _day = RENAMED
    for province in Province.objects.filter(name=name, valid_from=None, former_name=former):
        province.other_names = "\n".join([former, *province.other_names.splitlines()])
        province.former_name, province.renamed_on = "", None
        province.save(update_fields=["former_name", "renamed_on", "other_names"])


class Migration(migrations.Migration):
    dependencies = [("indicators", "0007_published_values_and_ranks")]
    operations = [migrations.RunPython(load, unload)]
