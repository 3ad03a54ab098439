"""Assessment facts for the orders called back before facts existed: one callback fact per order
from its outcome columns (round: its latest valid callback's round, else the current round), one
approval fact per excluded order; the existing snapshot rows' new three-rate divisor equals their
old single one."""

from django.db import migrations

from assessment.facts import backfill_sql


def forwards(apps, schema_editor):
    tables = [
        apps.get_model(app, name)._meta.db_table
        for app, name in (
            ("assessment", "CallbackFact"),
            ("assessment", "ExclusionFact"),
            ("workorders", "WorkOrder"),
            ("workorders", "Callback"),
            ("workorders", "ExclusionRequest"),
        )
    ]
    row_t = apps.get_model("assessment", "SnapshotRow")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        for sql in backfill_sql(*tables):
            cursor.execute(sql)
        cursor.execute(f"UPDATE {row_t} SET valid_full = valid")


class Migration(migrations.Migration):
    dependencies = [("assessment", "0003_assessment_facts_membership_graded_scope")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
