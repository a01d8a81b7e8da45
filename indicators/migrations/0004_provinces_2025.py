"""Load the 63 provinces before 1 July 2025, the 34 from that day, and which merged into which.

Source: Resolution 202/2025/QH15 (12 June 2025), effective 1 July 2025 (the list is copied into
this migration, so nothing is read from outside the project at run time).

An unchanged province (11 of them) is one row, valid before and after the merger date; a merged
province names the new province it became part of and ceases on 1 July 2025 (its last day is
30 June), the day the new province starts. Thừa Thiên Huế is unchanged in territory and became
the city of Huế: one row named Huế, with its former name as another spelling.
Idempotent: rows that exist are left as they are.
"""

import datetime as dt

from django.db import migrations

MERGER_DATE = dt.date(2025, 7, 1)

# province before 1 July 2025, the province it belongs to from that day, centrally-run city then
PROVINCES = [
    ("An Giang", "An Giang", False),
    ("Kiên Giang", "An Giang", False),
    ("Bắc Giang", "Bắc Ninh", False),
    ("Bắc Ninh", "Bắc Ninh", False),
    ("Cao Bằng", "Cao Bằng", False),
    ("Bạc Liêu", "Cà Mau", False),
    ("Cà Mau", "Cà Mau", False),
    ("Cần Thơ", "Cần Thơ", True),
    ("Hậu Giang", "Cần Thơ", True),
    ("Sóc Trăng", "Cần Thơ", True),
    ("Bình Định", "Gia Lai", False),
    ("Gia Lai", "Gia Lai", False),
    ("Thừa Thiên Huế", "Huế", True),
    ("Hà Nội", "Hà Nội", True),
    ("Hà Tĩnh", "Hà Tĩnh", False),
    ("Hưng Yên", "Hưng Yên", False),
    ("Thái Bình", "Hưng Yên", False),
    ("Hải Dương", "Hải Phòng", True),
    ("Hải Phòng", "Hải Phòng", True),
    ("Bà Rịa - Vũng Tàu", "Hồ Chí Minh", True),
    ("Bình Dương", "Hồ Chí Minh", True),
    ("Hồ Chí Minh", "Hồ Chí Minh", True),
    ("Khánh Hòa", "Khánh Hòa", False),
    ("Ninh Thuận", "Khánh Hòa", False),
    ("Lai Châu", "Lai Châu", False),
    ("Lào Cai", "Lào Cai", False),
    ("Yên Bái", "Lào Cai", False),
    ("Bình Thuận", "Lâm Đồng", False),
    ("Lâm Đồng", "Lâm Đồng", False),
    ("Đắk Nông", "Lâm Đồng", False),
    ("Lạng Sơn", "Lạng Sơn", False),
    ("Nghệ An", "Nghệ An", False),
    ("Hà Nam", "Ninh Bình", False),
    ("Nam Định", "Ninh Bình", False),
    ("Ninh Bình", "Ninh Bình", False),
    ("Hòa Bình", "Phú Thọ", False),
    ("Phú Thọ", "Phú Thọ", False),
    ("Vĩnh Phúc", "Phú Thọ", False),
    ("Kon Tum", "Quảng Ngãi", False),
    ("Quảng Ngãi", "Quảng Ngãi", False),
    ("Quảng Ninh", "Quảng Ninh", False),
    ("Quảng Bình", "Quảng Trị", False),
    ("Quảng Trị", "Quảng Trị", False),
    ("Sơn La", "Sơn La", False),
    ("Thanh Hóa", "Thanh Hóa", False),
    ("Bắc Kạn", "Thái Nguyên", False),
    ("Thái Nguyên", "Thái Nguyên", False),
    ("Hà Giang", "Tuyên Quang", False),
    ("Tuyên Quang", "Tuyên Quang", False),
    ("Long An", "Tây Ninh", False),
    ("Tây Ninh", "Tây Ninh", False),
    ("Bến Tre", "Vĩnh Long", False),
    ("Trà Vinh", "Vĩnh Long", False),
    ("Vĩnh Long", "Vĩnh Long", False),
    ("Điện Biên", "Điện Biên", False),
    ("Quảng Nam", "Đà Nẵng", True),
    ("Đà Nẵng", "Đà Nẵng", True),
    ("Phú Yên", "Đắk Lắk", False),
    ("Đắk Lắk", "Đắk Lắk", False),
    ("Bình Phước", "Đồng Nai", False),
    ("Đồng Nai", "Đồng Nai", False),
    ("Tiền Giang", "Đồng Tháp", False),
    ("Đồng Tháp", "Đồng Tháp", False),
]

# Centrally-run cities before the merger (the five of the 2008-2024 map).
CITIES_BEFORE = {"Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ"}

# Spellings seen in ministry and provincial files that differ by more than a prefix ("Tỉnh",
# "TP."), punctuation or the place of a tone mark, which matching ignores anyway.
OTHER_SPELLINGS = {
    "Hồ Chí Minh": ["TP.HCM"],
    "Hà Nội": ["Hanoi"],
    "Huế": ["TT Huế"],
    "Đắk Lắk": ["Đăk Lăk", "Đắc Lắc", "Daklak"],
    "Đắk Nông": ["Đăk Nông", "Đắc Nông", "Daknong"],
    "Kon Tum": ["Kontum"],
    "Bà Rịa - Vũng Tàu": ["BR-VT"],
}


def load(apps, schema_editor):
    Province = apps.get_model("indicators", "Province")
    by_successor = {}
    for before, after, city in PROVINCES:
        by_successor.setdefault(after, {"city": city, "former": []})["former"].append(before)

    for after, unit in by_successor.items():
        former = unit["former"]
        if len(former) == 1:
            spellings = [
                n for n in dict.fromkeys([*former, *OTHER_SPELLINGS.get(after, [])]) if n != after
            ]
            Province.objects.get_or_create(
                name=after,
                valid_from=None,
                defaults={"is_city": unit["city"], "other_names": "\n".join(spellings)},
            )
            continue
        successor, _ = Province.objects.get_or_create(
            name=after,
            valid_from=MERGER_DATE,
            defaults={
                "is_city": unit["city"],
                "other_names": "\n".join(OTHER_SPELLINGS.get(after, [])),
            },
        )
        for name in former:
            Province.objects.get_or_create(
                name=name,
                valid_from=None,
                defaults={
                    "is_city": name in CITIES_BEFORE,
                    "valid_until": MERGER_DATE,
                    "successor": successor,
                    "other_names": "\n".join(OTHER_SPELLINGS.get(name, [])),
                },
            )


def unload(apps, schema_editor):
    Province = apps.get_model("indicators", "Province")
    Province.objects.filter(successor__isnull=False).delete()
    Province.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("indicators", "0003_provinces_assessments_scores_weak_rules")]
    operations = [migrations.RunPython(load, unload)]
