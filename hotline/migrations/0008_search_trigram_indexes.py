"""Trigram (pg_trgm) GIN indexes for the global search's substring matching (LIKE '%…%'), on
PostgreSQL only: SQLite searches without them."""

from django.db import migrations

INDEXES = [
    ("workorders_workorder", "number"),
    ("workorders_workorder", "address"),
    ("workorders_workorder", "title"),
    ("workorders_workorder", "action_taken"),
    ("workorders_workorder", "result_note"),
    ("hotline_call", "caller_phone"),
    ("hotline_call", "caller_name"),
    ("hotline_call", "description"),
]


def _name(table: str, column: str) -> str:
    return f"search_trgm_{table.split('_', 1)[1]}_{column}"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {_name(table, column)} ON "{table}" USING gin ("{column}" gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {_name(table, column)}")


class Migration(migrations.Migration):
    dependencies = [
        ("hotline", "0007_call_place_chosen_by"),
        ("workorders", "0009_notification_queue"),
    ]

    operations = [migrations.RunPython(create, drop)]
