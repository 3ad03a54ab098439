"""The city's own 12345 center exists on every installation (it was created by the demo before).

Code and name are written out here, not imported, so this migration keeps its meaning whatever the
app code later becomes.
"""

from django.db import migrations

CODE = "11-center"
NAME = "北京市民热线服务中心"


def create_center(apps, schema_editor):
    Unit = apps.get_model("districts", "Unit")
    Unit.objects.get_or_create(code=CODE, defaults={"name": NAME, "kind": "center"})


class Migration(migrations.Migration):
    dependencies = [("districts", "0002_alias_updated_at")]

    operations = [migrations.RunPython(create_center, migrations.RunPython.noop)]
