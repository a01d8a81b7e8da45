"""Load the provincial DTI set of Decision 922/QĐ-BTTTT (20 May 2022), Appendix 1, Table I.1.

Only the 9 main indicators and their points are public facts we hold; the
98 component indicators are imported by users from the decision's appendix.
"""

from decimal import Decimal

from django.db import migrations

SET_CODE = "DTI2022"

# code, name_vi, name_en, max_points, scored
MAIN_INDICATORS = [
    ("1", "Nhận thức số", "Digital awareness", 100, True),
    ("2", "Thể chế số", "Digital institutions", 100, True),
    ("3", "Hạ tầng số", "Digital infrastructure", 100, True),
    ("4", "Nhân lực số", "Digital human resources", 100, True),
    ("5", "An toàn thông tin mạng", "Network information security", 100, True),
    ("6", "Đô thị thông minh", "Smart city", 0, False),
    ("7", "Hoạt động chính quyền số", "Digital government activities", 200, True),
    ("8", "Hoạt động kinh tế số", "Digital economy activities", 150, True),
    ("9", "Hoạt động xã hội số", "Digital society activities", 150, True),
]


def load(apps, schema_editor):
    IndicatorSet = apps.get_model("indicators", "IndicatorSet")
    Indicator = apps.get_model("indicators", "Indicator")
    indicator_set, _ = IndicatorSet.objects.get_or_create(
        code=SET_CODE,
        defaults={
            "name": "Bộ chỉ số DTI cấp tỉnh 2022",
            "decision": "922/QĐ-BTTTT",
            "decision_date": "2022-05-20",
            "first_year": 2022,
            "total_points": Decimal("1000"),
        },
    )
    for code, name_vi, name_en, max_points, scored in MAIN_INDICATORS:
        Indicator.objects.get_or_create(
            indicator_set=indicator_set,
            code=code,
            defaults={
                "name_vi": name_vi,
                "name_en": name_en,
                "max_points": Decimal(max_points),
                "scored": scored,
                "sort_key": code.zfill(4),
            },
        )


def unload(apps, schema_editor):
    Indicator = apps.get_model("indicators", "Indicator")
    IndicatorSet = apps.get_model("indicators", "IndicatorSet")
    Indicator.objects.filter(indicator_set__code=SET_CODE, parent__isnull=True).delete()
    IndicatorSet.objects.filter(code=SET_CODE, indicators__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
