from django.db import migrations


def create_policy(apps, schema_editor):
    apps.get_model("notifications", "ReminderPolicy").objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]
    operations = [migrations.RunPython(create_policy, migrations.RunPython.noop)]
