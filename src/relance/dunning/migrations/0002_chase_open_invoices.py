"""Start chasing the invoices that were open before the dunning engine existed."""

from django.db import migrations


def open_chases(apps, schema_editor):
    Invoice = apps.get_model("ledger", "Invoice")
    Installment = apps.get_model("ledger", "Installment")
    Chase = apps.get_model("dunning", "Chase")
    schedules = {}
    for invoice_id, pk, due in Installment.objects.values_list("invoice_id", "pk", "due_date"):
        schedules.setdefault(invoice_id, []).append((pk, due))
    rows = []
    for pk, org, client, due, issued in Invoice.objects.filter(
        kind="invoice", status__in=["issued", "partially_paid"]
    ).values_list("pk", "organisation_id", "client_id", "due_date", "issue_date"):
        for installment, part_due in schedules.get(pk) or [(None, due)]:
            if part_due is not None:
                rows.append(Chase(organisation_id=org, client_id=client, invoice_id=pk,
                                  installment_id=installment, due_date=part_due,
                                  next_action_on=issued))
    Chase.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("dunning", "0001_initial"), ("ledger", "0006_dunning_fields")]
    operations = [migrations.RunPython(open_chases, migrations.RunPython.noop)]
