"""The database holds what the models declare: a migration that loses an index or a
constraint (as Django's AlterField can, on one database and not the other) fails here."""

from datetime import date

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction


def test_every_declared_index_and_constraint_exists(db):
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model._meta.managed or model._meta.proxy:
                continue
            declared = {c.name for c in model._meta.constraints}
            declared |= {i.name for i in model._meta.indexes}
            if not declared:
                continue
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            missing += [f"{model._meta.label}.{name}" for name in sorted(declared - set(found))]
    assert missing == []


def test_one_plain_chase_per_invoice(org, new_acme, make_invoice):
    client = new_acme()
    from relance.dunning.models import Chase

    invoice = make_invoice(client, "100.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4))
    chase = Chase.objects.get(invoice=invoice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Chase.objects.create(
            organisation=org, client=client, invoice=invoice, due_date=chase.due_date
        )
    assert Chase.objects.filter(invoice=invoice).count() == 1
