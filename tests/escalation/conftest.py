"""A company that owes two overdue invoices (2,000.00 € in all), with a billing
contact and a manager; a consumer who owes one."""

from datetime import date
from decimal import Decimal

import pytest

AS_OF = date(2026, 6, 1)  # a Monday


@pytest.fixture
def debtor(new_acme):
    from relance.ledger.models import Contact, ContactRole

    client = new_acme(language="fr")
    Contact.objects.create(
        organisation=client.organisation,
        client=client,
        first_name="Paul",
        last_name="Durand",
        role=ContactRole.MANAGEMENT,
        job_title="Gérant",
        email="direction@acme.example",
        preferred_channel="letter",
    )
    return client


@pytest.fixture
def overdue(debtor, make_invoice):
    """1,200.00 due 4 February and 800.00 due 20 February 2026."""
    return [
        make_invoice(debtor, "1200.00", issue_date=date(2026, 1, 5), due=date(2026, 2, 4)),
        make_invoice(debtor, "800.00", issue_date=date(2026, 1, 21), due=date(2026, 2, 20)),
    ]


@pytest.fixture
def consumer(org, make_invoice):
    from relance.ledger.models import Client, Contact

    client = Client.objects.create(
        organisation=org,
        kind="individual",
        name="Jeanne Petit",
        address_line1="8 rue Mercière",
        postcode="69002",
        city="Lyon",
        language="en",
    )
    Contact.objects.create(
        organisation=org, client=client, first_name="Jeanne", last_name="Petit",
        email="jeanne@example.org",
    )  # fmt: skip
    make_invoice(client, "450.00", issue_date=date(2026, 3, 2), due=date(2026, 4, 1))
    return client


@pytest.fixture
def pay(django_capture_on_commit_callbacks):
    """pay(client, "500.00", on): a payment allocated oldest first, its hooks run."""
    from relance.ledger import settlement

    def run(client, amount, on):
        with django_capture_on_commit_callbacks(execute=True):
            return settlement.record_payment(
                client=client,
                amount=Decimal(amount),
                currency="EUR",
                date=on,
                shares=settlement.oldest_first(client, Decimal(amount), "EUR"),
            )

    return run


@pytest.fixture
def pdf_text():
    """pdf_text(bytes): the text of every page, as pypdf extracts it."""
    import io

    from pypdf import PdfReader

    def extract(data: bytes) -> str:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)

    return extract


@pytest.fixture
def ladder(org):
    """The default policy, ending with a work stop (+30), a formal notice (+45),
    a hand-off proposal (+90) and a write-off proposal (+120)."""
    from relance.dunning.models import Policy, Step

    policy = Policy.objects.get(organisation=org, is_default=True)
    for position, (kind, offset, channels) in enumerate(
        [
            ("work_stop", 30, ["email"]),
            ("formal_notice", 45, []),
            ("handoff", 90, []),
            ("write_off_proposal", 120, []),
        ],
        start=50,
    ):
        Step.objects.create(
            policy=policy,
            position=position,
            kind=kind,
            offset_days=offset,
            channels=channels,
            tone="formal" if kind != "work_stop" else "firm",
            template="work_stop" if kind == "work_stop" else "formal",
        )
    return policy
