"""The ready Standard B2B policy ends with a formal notice and an agency hand-off,
each waiting for a person (never sent or handed over on its own)."""

from datetime import date, timedelta

from relance.dunning.models import Message, Policy
from relance.escalation import steps
from relance.escalation.models import Escalation, FormalNotice

DUE = date(2026, 2, 4)


def test_standard_b2b_prepares_a_formal_notice_then_proposes_an_agency(
    org, chased, make_invoice, run_day
):
    policy = Policy.objects.get(organisation=org, builtin="standard_b2b")
    kinds = list(policy.steps.order_by("position").values_list("offset_days", "kind"))
    assert kinds[-2:] == [(45, "formal_notice"), (75, "handoff")]
    invoice = make_invoice(chased, "1200.00", issue_date=date(2026, 1, 5), due=DUE)

    def day(n: int) -> None:
        run_day(DUE + timedelta(days=n))
        steps.act(org, DUE + timedelta(days=n))

    day(44)
    assert not FormalNotice.objects.exists()
    day(45)
    (notice,) = FormalNotice.objects.all()
    assert notice.status == "approval" and list(notice.invoices.all()) == [invoice]
    # The last amicable email that announces it waits for the same person.
    assert Message.objects.get(template="formal", channel="email").status == "approval"
    day(45)  # a rerun the same day prepares nothing more
    assert FormalNotice.objects.count() == 1
    day(74)
    assert not Escalation.objects.exists()
    day(75)
    (proposal,) = Escalation.objects.all()
    assert proposal.kind == "collection" and proposal.status == "proposed"


def test_the_end_of_the_ladder_proposes_what_the_rules_advise_for_a_small_debt(
    org, chased, make_invoice, run_day
):
    make_invoice(chased, "120.00", issue_date=date(2026, 1, 5), due=DUE)
    for n in (45, 75):
        run_day(DUE + timedelta(days=n))
        steps.act(org, DUE + timedelta(days=n))
    (proposal,) = Escalation.objects.all()
    # 120 € is under the write-off threshold (150 € by default): an agency would cost more.
    assert proposal.kind == "write_off" and proposal.status == "proposed"
