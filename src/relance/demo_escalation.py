"""The demo's end of the ladder, written through the escalation and fee services.

On top of the register ``relance.demo`` writes and the payments
``relance.demo_payments`` records:

- before the reminder history (``before_history``), what happened more than
  three weeks ago: the two clients on hold stopped by ``holds.put_on_hold``
  with their reason, two small consumer debts written off
  (``ends.write_off``), a formal notice prepared, approved, sent by registered
  post with its receipt attached (``notices``) and the same client then taken
  to court for an order for payment (``ends.go_to_court``), another client
  handed to a collection agency (``ends.hand_off``), and the restaurant's
  insolvency (``ends.mark_insolvent``) with its "declare the claim" task still
  to do;
- after the reminder history (``after_history``), what the daily run would
  have done on each replayed day: the ladder's fired escalation steps acted on
  (``steps.act``: formal notices awaiting approval, agency proposals), the
  good client in trouble's proposal declined, and the late fees of expired
  notices booked (``fees.booking.book_due``; a day whose rate the table lacks
  books nothing, as in production).

The services stamp their rows and timeline entries with the clock; ``dated``
puts them back on the story's day.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.db.models import Max
from django.utils import translation

from relance.demo_payments import dated as dated_timeline
from relance.escalation import ends, holds, notices, steps
from relance.escalation.models import (
    CourtProcedure,
    Escalation,
    EscalationStatus,
    FormalNotice,
    InsolvencyProcedure,
    NoticeStatus,
    Task,
)
from relance.fees import booking
from relance.ledger.models import Client, ClientStatus
from relance.rules.terms import is_business_day

if TYPE_CHECKING:
    from relance.demo import Register

AGENCY = "Recouvra Rhône-Alpes (cabinet de recouvrement)"
# Days before as-of. The formal notice, then the order for payment once its
# deadline passed, and the agency hand-off: before the replayed weeks of reminders,
# which then leave these clients alone. Both clients stopped paying months before.
NOTICE_AGO = 40
COURT_AGO = 26
AGENCY_AGO = 24
JUDGMENT_AGO = 38  # the insolvency judgment: the claim is still to declare
PUBLISHED_AFTER = 9  # days from judgment to its BODACC publication

NOTES = {
    "court": (
        "Mise en demeure restée sans effet : requête en injonction de payer déposée au "
        "tribunal judiciaire."
    ),
    "agency": "Dossier confié au cabinet Recouvra : nos relances s'arrêtent, il prend le relais.",
    "declined": ("Pas d'agence pour Verdier : client historique, un échéancier est en discussion."),
}


@contextmanager
def dated(reg: Register, when: datetime) -> Iterator[None]:
    """Rows the escalation services create inside the block, and their timeline
    entries, are put on ``when``."""
    org = reg.organisation
    last = {
        model: model.objects.filter(organisation=org).aggregate(m=Max("pk"))["m"] or 0
        for model in (Escalation, FormalNotice, Task)
    }
    with dated_timeline(reg, when):
        yield
    for model, before in last.items():
        model.objects.filter(organisation=org, pk__gt=before).update(created_at=when)


# --- Before the reminder history ----------------------------------------------


def before_history(reg: Register) -> None:
    # The services write their timeline in the active language: the organisation's.
    with translation.override(reg.organisation.locale or "fr"):
        _before_history(reg)


def _before_history(reg: Register) -> None:
    work_stops(reg)
    write_offs(reg)
    notice_then_court(reg)
    agency(reg)
    insolvency(reg)


def work_stops(reg: Register) -> None:
    """The two clients on hold: work stopped the day their story says, with its reason."""
    from relance.demo import NOTES as STORY_NOTES
    from relance.demo import at, workday

    for key, reason in (("hold_1", "work_stop"), ("hold_2", "broken")):
        plan = reg.story(key)
        day = workday(plan.until)
        with dated(reg, at(day, 9, 15)):
            holds.put_on_hold(plan.client, reason=STORY_NOTES[reason], as_of=day, author=reg.author)


def write_offs(reg: Register) -> None:
    """Two small consumer debts, unanswered, written off below the owner's limit."""
    from relance.demo import at

    for key in ("write_off_1", "write_off_2"):
        doc = reg.stories[key]
        if doc.write_off is None or doc.write_off[0] > reg.last:
            continue
        day, reason = doc.write_off
        with dated(reg, at(day, 17)):
            ends.write_off(
                doc.plan.client, [doc.invoice], reason=reason, as_of=day, author=reg.author
            )


def notice_then_court(reg: Register) -> None:
    """A formal notice sent by registered post (receipt attached) left unanswered,
    then an order for payment (injonction de payer)."""
    from relance.demo import ago, at, workday

    client = reg.story("court").client
    prepared = ago(reg, NOTICE_AGO)
    overdue = ends.overdue(client, prepared)
    if not overdue:
        return
    with dated(reg, at(prepared, 16, 10)):
        notice = notices.prepare(client, overdue, as_of=prepared, author=reg.author)
    approved = workday(prepared + timedelta(days=1))
    with dated(reg, at(approved, 9, 40)):
        notice = notices.approve(notice, author=reg.author)
    FormalNotice.objects.filter(pk=notice.pk).update(approved_at=at(approved, 9, 40))
    with dated(reg, at(approved, 15, 30)):
        notice = notices.mark_sent(notice, sent_on=approved, as_of=approved, author=reg.author)
    returned = workday(approved + timedelta(days=3))
    with dated(reg, at(returned, 11, 5)):
        notices.attach_receipt(notice, receipt(notice, returned), author=reg.author)
    day = ago(reg, COURT_AGO)
    with dated(reg, at(day, 10, 30)):
        ends.go_to_court(
            client, procedure=CourtProcedure.ORDER_FOR_PAYMENT, as_of=day, author=reg.author
        )
    _note_now(reg, client, at(day, 10, 20), NOTES["court"])


def agency(reg: Register) -> None:
    from relance.demo import ago, at

    client = reg.story("agency").client
    day = ago(reg, AGENCY_AGO)
    if not ends.overdue(client, day):
        return
    with dated(reg, at(day, 14, 0)):
        ends.hand_off(client, agency=AGENCY, as_of=day, author=reg.author)
    _note_now(reg, client, at(day, 14, 10), NOTES["agency"])


def judgment_day(reg: Register) -> date:
    from relance.demo import ago

    return ago(reg, JUDGMENT_AGO)


def published_day(reg: Register) -> date:
    from relance.demo import workday

    return workday(judgment_day(reg) + timedelta(days=PUBLISHED_AFTER))


def insolvency(reg: Register) -> None:
    """The restaurant's receivership, learnt from the BODACC: the claim is to declare."""
    from relance.demo import at

    plan = reg.story("insolvent")
    published = published_day(reg)
    with dated(reg, at(published, 14, 20)):
        ends.mark_insolvent(
            plan.client,
            procedure=InsolvencyProcedure.RECOVERY,
            judgment_on=judgment_day(reg),
            published_on=published,
            as_of=published,
            author=reg.author,
        )


def receipt(notice: FormalNotice, day: date) -> ContentFile:
    """The registered letter's proof of delivery, as the post's PDF would give it."""
    # Named from the client and the day, not from ids: the same seed gives the same files.
    reference = notice.client.reference
    number = "".join(ch for ch in reference if ch.isdigit()).zfill(4)
    lines = [
        "La Poste - Lettre recommandee avec avis de reception",
        f"Envoi n 1A {number[-3:]} 482 9061 {number[-1]}",
        f"Destinataire : {_ascii(notice.client.name)}",
        f"Depose le {notice.sent_on:%d/%m/%Y} - Distribue le {day:%d/%m/%Y}",
    ]
    return ContentFile(pdf(lines), name=f"avis-de-reception-{reference}-{day:%Y%m%d}.pdf")


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def pdf(lines: list[str]) -> bytes:
    """A one-page PDF of plain text lines (no library needed for so little)."""
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    text = "BT /F1 12 Tf 56 780 Td 16 TL " + " ".join(f"({t}) '" for t in escaped) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("latin-1")),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --- After the reminder history -------------------------------------------------


def after_history(reg: Register, first: date) -> None:
    """What each replayed daily run did after the ladder: steps acted on, fees booked."""
    with translation.override(reg.organisation.locale or "fr"):
        _after_history(reg, first)


def _after_history(reg: Register, first: date) -> None:
    from relance.demo import at

    org = reg.organisation
    day = first
    country = org.country or "FR"
    while day < reg.as_of:
        # The daily run's order: the ladder (replayed by dunning.demo), then its steps,
        # then the fees; on the days it runs.
        if is_business_day(day, country):
            with dated(reg, at(day, 9, 2)):
                steps.act(org, day)
                booking.book_due(org, day)
        day += timedelta(days=1)
    decline_for_the_good_client(reg)
    awaiting_approval(reg)


def decline_for_the_good_client(reg: Register) -> None:
    """The ladder proposes an agency for the good client in trouble: declined."""
    from relance.demo import at

    client = reg.story("trouble").client
    proposal = (
        Escalation.objects.filter(client=client, status=EscalationStatus.PROPOSED)
        .order_by("opened_on", "pk")
        .first()
    )
    if proposal is None:
        return
    day = min(reg.last, proposal.opened_on + timedelta(days=1))
    with dated(reg, at(day, 17, 30)):
        ends.decline(proposal, as_of=day, author=reg.author)
    _note_now(reg, client, at(day, 17, 35), NOTES["declined"])


def awaiting_approval(reg: Register) -> None:
    """At least one formal notice waits for a person's approval: when the ladder
    prepared none in the replayed weeks, one is prepared for a client on hold."""
    from relance.demo import at

    org = reg.organisation
    if FormalNotice.objects.filter(organisation=org, status=NoticeStatus.AWAITING_APPROVAL):
        return
    client = reg.story("hold_2").client
    if client.status == ClientStatus.INSOLVENT or not ends.overdue(client, reg.last):
        return
    with dated(reg, at(reg.last, 16, 45)):
        notices.prepare(client, as_of=reg.last, author=reg.author)


def _note_now(reg: Register, client: Client, when: datetime, text: str) -> None:
    from relance.ledger.models import Activity, ActivityKind

    Activity.objects.create(
        organisation=reg.organisation,
        client=client,
        kind=ActivityKind.NOTE,
        at=when,
        author=reg.author,
        text=text,
    )
