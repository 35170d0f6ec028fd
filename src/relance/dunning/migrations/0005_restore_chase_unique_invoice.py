"""Put back ``chase_unique_invoice`` where 0004 lost it.

On PostgreSQL, 0004's AlterField of ``Chase.invoice`` (db_index=False) dropped every
plain btree index on ``invoice_id`` alone, and Django's introspection reports the
partial unique index ``chase_unique_invoice`` as one: one plain chase per invoice was
no longer enforced. SQLite rebuilt the table with it (nothing to do there).
"""

from django.db import migrations

NAME = "chase_unique_invoice"


def restore(apps, schema_editor):
    chase = apps.get_model("dunning", "Chase")
    with schema_editor.connection.cursor() as cursor:
        present = schema_editor.connection.introspection.get_constraints(
            cursor, chase._meta.db_table
        )
    if NAME in present:
        return
    (constraint,) = [c for c in chase._meta.constraints if c.name == NAME]
    schema_editor.add_constraint(chase, constraint)


class Migration(migrations.Migration):
    dependencies = [("dunning", "0004_run_indexes")]

    operations = [migrations.RunPython(restore, migrations.RunPython.noop)]
