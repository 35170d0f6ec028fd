"""What the client receives: the plan agreement as a PDF, and the emails that
carry it or the settlement offer (client's language, the organisation's address
as sender and Reply-To, to the client's billing contacts)."""

from __future__ import annotations

import re
import smtplib
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from stdnum import iban as iban_number

from relance import formats
from relance.invoicing.pdf import page_footer_css
from relance.invoicing.snapshot import billing_contacts
from relance.ledger.models import ActivityKind, Client
from relance.ledger.models.timeline import record

from .models import PaymentPlan, SettlementOffer

STYLESHEET = """
@page { size: A4; margin: 18mm 18mm 22mm 20mm;
  @bottom-left { font: 7pt "DejaVu Sans", sans-serif; color: #555; }
  @bottom-right { font: 7pt "DejaVu Sans", sans-serif; color: #555; } }
html { font: 9.5pt/1.45 "DejaVu Sans", sans-serif; color: #1a1a1a; }
h1 { font-size: 15pt; margin: 8mm 0 4mm; }
.parties { display: flex; justify-content: space-between; }
.parties div { width: 48%; }
.name { font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: 4mm 0; }
th, td { padding: 1.5mm 2mm; border-bottom: 0.3pt solid #999; text-align: left; }
th.num, td.num { text-align: right; }
tfoot td, tfoot th { font-weight: bold; border-bottom: none; }
.signatures { display: flex; justify-content: space-between; margin-top: 12mm; }
.signatures div { width: 45%; height: 30mm; border-top: 0.3pt solid #999; padding-top: 2mm; }
"""


class SendFailed(Exception):
    """The email could not be sent; nothing changed."""


def language_of(client: Client) -> str:
    return client.language or client.organisation.locale or "fr"


def agreement_context(plan: PaymentPlan) -> dict[str, Any]:
    organisation = plan.organisation
    client = plan.client
    currency = plan.currency
    return {
        "plan": plan,
        "organisation": organisation,
        "organisation_lines": organisation.address_lines(),
        "client": client,
        "client_lines": client.address_lines(),
        "invoices": [
            {
                "number": i.number,
                "due_date": formats.day(i.due_date),
                "balance": formats.money(i.balance, currency),
            }
            for i in plan.invoices.order_by("due_date", "pk")
        ],
        "rows": schedule_rows(plan),
        "balance": formats.money(plan.balance, currency),
        "fee": formats.money(plan.fee_amount, currency) if plan.fee_amount else "",
        "total": formats.money(plan.total, currency),
        "proposed_on": formats.day(plan.proposed_on),
        "grace_days": plan.grace_days,
        "iban": iban_number.format(organisation.iban) if organisation.iban else "",
        "bic": organisation.bic,
    }


def schedule_rows(plan: PaymentPlan) -> list[dict[str, str]]:
    """The schedule as printed: a down payment is named, the installments after it are 1 / N."""
    rows = list(plan.installments.order_by("position"))
    down = rows[:1] if plan.down_payment and rows else []
    parts = rows[len(down) :]
    printed = [
        {
            "label": _("Down payment"),
            "due_date": formats.day(row.due_date),
            "amount": formats.money(row.amount, plan.currency),
        }
        for row in down
    ]
    printed += [
        {
            "label": f"{number} / {len(parts)}",
            "due_date": formats.day(row.due_date),
            "amount": formats.money(row.amount, plan.currency),
        }
        for number, row in enumerate(parts, start=1)
    ]
    return printed


def agreement_html(plan: PaymentPlan) -> str:
    with translation.override(language_of(plan.client)):
        context = agreement_context(plan)
        context["page_css"] = page_footer_css(str(plan.organisation))
        context["language"] = translation.get_language()
        return render_to_string("plans/agreement.html", context)


def agreement_pdf(plan: PaymentPlan) -> bytes:
    from weasyprint import CSS, HTML

    return HTML(string=agreement_html(plan)).write_pdf(stylesheets=[CSS(string=STYLESHEET)])


def store_pdf(plan: PaymentPlan) -> bytes:
    """Draw the agreement and keep it on the plan (what was sent is what is stored)."""
    pdf = agreement_pdf(plan)
    plan.pdf.save(f"plan-{plan.pk}.pdf", ContentFile(pdf), save=False)
    PaymentPlan.objects.filter(pk=plan.pk).update(pdf=plan.pdf.name)
    return pdf


def _sender(organisation: Any) -> tuple[str, list[str]]:
    if organisation.email:
        return formataddr((str(organisation), organisation.email)), [organisation.email]
    return formataddr((str(organisation), settings.DEFAULT_FROM_EMAIL)), []


def _email(client: Client, name: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    contacts = billing_contacts(client)
    if not contacts:
        raise SendFailed(
            _("%(client)s has no billing contact with an email address.") % {"client": client}
        )
    with translation.override(language_of(client)):
        context = {**context, "contact": contacts[0], "organisation": client.organisation}
        subject = re.sub(
            r"[ \t\r\n]+", " ", render_to_string(f"plans/email/{name}_subject.txt", context)
        ).strip()
        text = render_to_string(f"plans/email/{name}_body.txt", context)
    sender, reply_to = _sender(client.organisation)
    domain = sender.rsplit("@", 1)[-1].rstrip(">") or "relance.local"
    return EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=sender,
        to=[c.email for c in contacts],
        reply_to=reply_to,
        headers={"Message-ID": make_msgid(domain=domain)},
    )


def _send(message: EmailMultiAlternatives) -> str:
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(
            _("The email could not be sent (%(error)s). Nothing was sent; try again later.")
            % {"error": exc}
        ) from exc
    return message.extra_headers["Message-ID"]


def send_agreement(plan: PaymentPlan, *, author: Any = None) -> str:
    """Email the agreement PDF to the client's billing contacts; on the timeline."""
    client = plan.client
    pdf = store_pdf(plan)
    with translation.override(language_of(client)):
        context = agreement_context(plan)
    message = _email(client, "agreement", context)
    message.attach(f"payment-plan-{plan.pk}.pdf", pdf, "application/pdf")
    message_id = _send(message)
    PaymentPlan.objects.filter(pk=plan.pk).update(sent_at=timezone.now())
    record(
        client=client,
        kind=ActivityKind.SENT,
        author=author,
        text=_("Payment plan agreement sent by email to %(to)s.") % {"to": ", ".join(message.to)},
        message_id=message_id,
    )
    return message_id


def send_offer(offer: SettlementOffer, *, author: Any = None) -> str:
    from .offers import wording

    client = offer.client
    with translation.override(language_of(client)):
        context = {
            **wording(offer),
            "offer": offer,
            "invoices": [i.number for i in offer.invoices.order_by("due_date", "pk")],
            "iban": iban_number.format(client.organisation.iban)
            if client.organisation.iban
            else "",
        }
    message = _email(client, "offer", context)
    message_id = _send(message)
    SettlementOffer.objects.filter(pk=offer.pk).update(sent_at=timezone.now())
    record(
        client=client,
        kind=ActivityKind.SENT,
        author=author,
        text=_("Settlement offer sent by email to %(to)s.") % {"to": ", ".join(message.to)},
        message_id=message_id,
    )
    return message_id
