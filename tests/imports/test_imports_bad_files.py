"""Bad input gets a clear, line-numbered error and changes nothing: every
rejected import leaves every table of the register as it was."""

from __future__ import annotations

import pytest
from importdata import import_file

from relance.imports import batches, bulk, service
from relance.imports.service import ImportRejected
from relance.ledger.models import Activity, Client, Invoice

pytestmark = pytest.mark.django_db

HEADER = "Number,Client,Issue date,Due date,Total,Currency\n"
GOOD = (
    "F-1,Durand SA,2026-01-15,2026-02-14,120.00,EUR\nF-2,Martin,2026-01-16,2026-02-15,60.00,EUR\n"
)


def rejected(org, data: bytes, **options) -> list[tuple[int, str, str]]:
    """The (line, column, message) of each problem of a rejected import."""
    with pytest.raises(ImportRejected) as caught:
        import_file(org, data, "bad.csv", **options)
    return [(p.line, p.column, p.text()) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "F-1,Dupont,2026-01-20,2026-02-19,10.00,EUR\n",
            (4, "Number", "Invoice F-1 is already on line 2 of this import."),
        ),
        (
            "F-3,Dupont,2026-01-20,2026-02-19,10.00,XYZ\n",
            (4, "Currency", "Unknown currency: XYZ."),
        ),
        (
            "F-3,Dupont,2026-01-20,2026-02-19,-10.00,EUR\n",
            (
                4,
                "Total",
                "The total -10.00 is negative: import credit notes with the invoice they "
                "correct, not as a negative invoice.",
            ),
        ),
        (
            "F-3,Dupont,2026-01-32,2026-02-19,10.00,EUR\n",
            (4, "Issue date", "2026-01-32 is not a date in the format YYYY-MM-DD."),
        ),
        (
            "F-3,Dupont,2026-01-20,2026-01-19,10.00,EUR\n",
            (4, "Due date", "The due date 2026-01-19 is before the issue date 2026-01-20."),
        ),
        (
            "F-3,Dupont,2026-01-20,2026-02-19,10.005,EUR\n",
            (4, "Total", "10.005 has more decimals than EUR allows."),
        ),
        (
            "F-3,,2026-01-20,2026-02-19,10.00,EUR\n",
            (4, "Client", "The client is missing (give a name or a reference)."),
        ),
        (
            "F-3,Dupont,2026-01-20,2026-02-19,dix euros,EUR\n",
            (4, "Total", "dix euros is not an amount."),
        ),
        (
            ",Dupont,2026-01-20,2026-02-19,10.00,EUR\n",
            (4, "Number", "The invoice number is missing."),
        ),
        (
            "F-3,Dupont,,2026-02-19,10.00,EUR\n",
            (4, "Issue date", "The issue date is missing."),
        ),
        (
            "F-3,Dupont,2026-01-20,2026-02-19,,EUR\n",
            (4, "Total", "The total is missing."),
        ),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_written(org, register_counts, extra, expected):
    before = register_counts()
    assert rejected(org, (HEADER + GOOD + extra).encode()) == [expected]
    assert register_counts() == before


def test_a_missing_column_is_named_and_nothing_is_written(org, register_counts):
    before = register_counts()
    problems = rejected(org, b"Number,Client,Total\nF-1,Durand,10.00\n")
    assert problems == [(0, "", "Choose the column of the issue date.")]
    assert register_counts() == before


def test_a_wrong_encoding_is_named_and_nothing_is_written(org, register_counts):
    utf8 = HEADER + GOOD + "F-3,Société Générale,2026-01-20,,1.00,EUR\n"
    data = utf8.encode() + "F-4,Crédit Lyonnais,2026-01-20,,1.00,EUR\n".encode("latin-1")
    before = register_counts()
    problems = rejected(org, data)
    assert problems == [
        (
            5,
            "",
            "Line 5 holds bytes that are not UTF-8 text (0xe9): save the file as UTF-8 CSV "
            "and try again.",
        )
    ]
    assert register_counts() == before


def test_a_windows_1252_file_imports_with_its_accents(org):
    data = (HEADER + "F-1,Société Générale,2026-01-15,,120.00,EUR\n").encode("cp1252")
    import_file(org, data)
    assert Invoice.objects.get(organisation=org).client.name == "Société Générale"


def test_every_error_of_the_file_is_listed_in_line_order(org):
    data = (
        HEADER
        + "F-1,Durand,2026-01-15,,120.00,EUR\n"
        + "F-2,Martin,2026-13-01,,60.00,EUR\n"
        + "F-3,Martin,2026-01-15,,60.00,ABC\n"
        + "F-1,Petit,2026-01-15,,1.00,EUR\n"
    )
    assert [line for line, _column, _text in rejected(org, data.encode())] == [3, 4, 5]


def test_a_number_already_in_the_register_is_skipped_not_an_error(org, make_invoice):
    existing = Client.objects.create(organisation=org, name="Durand SA")
    issued = make_invoice(existing, "50.00")
    data = HEADER + f"{issued.number},Durand SA,2026-01-15,2026-02-14,999.00,EUR\n" + GOOD
    batch = import_file(org, data.encode())
    assert (batch.created_count, batch.skipped_count) == (2, 1)
    issued.refresh_from_db()
    assert str(issued.total_gross) == "50.00"  # the register's invoice is left as it is


def test_a_failure_while_writing_rolls_everything_back(org, register_counts, monkeypatch):
    real = bulk.insert

    def failing(model, *args, **kwargs):
        if model is Activity:
            raise RuntimeError("disk full")
        return real(model, *args, **kwargs)

    monkeypatch.setattr(bulk, "insert", failing)
    before = register_counts()
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(org, (HEADER + GOOD).encode())
    assert register_counts() == before


def test_a_number_taken_while_importing_rejects_the_whole_file(org, register_counts, monkeypatch):
    """The plan saw F-2 free; someone took it before the insert: the unique
    constraint stops the import and nothing stays."""
    real_plan = service.plan

    def plan_then_taken(organisation, parsed, columns=None):
        result = real_plan(organisation, parsed, columns)
        client = Client.objects.create(organisation=organisation, name="Concurrent")
        Invoice.objects.create(
            organisation=organisation, client=client, number="F-2", status="issued"
        )
        return result

    batch = batches.start(org, "csv", [("f.csv", (HEADER + GOOD).encode())])
    parsed, columns = batches.read(batch)
    before = register_counts()
    monkeypatch.setattr(service, "plan", plan_then_taken)
    with pytest.raises(ImportRejected) as caught:
        service.run(batch, parsed, columns=columns)
    assert "an invoice number was taken meanwhile" in caught.value.problems[0].text()
    assert register_counts() == before
    batch.refresh_from_db()
    assert batch.status == "pending"


def test_a_batch_is_imported_once(org):
    batch = batches.start(org, "csv", [("f.csv", (HEADER + GOOD).encode())])
    parsed, columns = batches.read(batch)
    service.run(batch, parsed, columns=columns)
    with pytest.raises(ImportRejected, match="already imported"):
        service.run(batch, parsed, columns=columns)
    assert Invoice.objects.filter(organisation=org).count() == 2
