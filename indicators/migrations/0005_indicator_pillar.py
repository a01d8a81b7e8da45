"""Pillars of the DTI 2022 main indicators (Decision 922/QĐ-BTTTT, Appendix 1, Table I.1).

Indicators 1-6 are the foundation common to the three pillars; 7, 8 and 9 are the activities of
digital government, digital economy and digital society. Data, not code: a later set gets its
pillars from a coordinator in the admin.
"""

from django.db import migrations, models

PILLARS = {
    "1": "foundation",
    "2": "foundation",
    "3": "foundation",
    "4": "foundation",
    "5": "foundation",
    "6": "foundation",
    "7": "government",
    "8": "economy",
    "9": "society",
}


def load(apps, schema_editor):
    Indicator = apps.get_model("indicators", "Indicator")
    for code, pillar in PILLARS.items():
        Indicator.objects.filter(
            indicator_set__code="DTI2022", parent__isnull=True, code=code
        ).update(pillar=pillar)


def unload(apps, schema_editor):
    Indicator = apps.get_model("indicators", "Indicator")
    Indicator.objects.filter(indicator_set__code="DTI2022").update(pillar="")


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0004_provinces_2025'),
    ]

    operations = [
        migrations.AddField(
            model_name='indicator',
            name='pillar',
            field=models.CharField(blank=True, choices=[('foundation', 'Common foundation'), ('government', 'Digital government'), ('economy', 'Digital economy'), ('society', 'Digital society')], help_text='For a main indicator: the pillar it belongs to, or the common foundation. Components follow their main indicator; leave empty.', max_length=12, verbose_name='pillar'),
        ),
        migrations.AddConstraint(
            model_name='indicator',
            constraint=models.CheckConstraint(condition=models.Q(('pillar', ''), ('parent__isnull', True), _connector='OR'), name='indicator_pillar_only_on_main', violation_error_message='Only a main indicator has a pillar.'),
        ),
        migrations.RunPython(load, unload),
    ]
