"""The escalation documents, drawn by WeasyPrint in the client's language:

- the formal notice (mise en demeure): creditor, debtor (its management), each
  invoice's principal, interest and indemnity, the deadline, how to pay (IBAN,
  RF reference), and only the consequences the law allows;
- the court dossier: what the order-for-payment request or the small-claims
  procedure asks for, with the list of documents to attach;
- the case file for a collection agency: a summary PDF (claim, fee estimate,
  statement of account, contacts at the debtor, timeline) and a ZIP with the
  invoices, formal notices and CSV extracts;
- the accounting line of a write-off (CSV).

What the letters say is lawful by construction (law-and-standards §3, §7): no
threat of seizure without a title, no fee a consumer cannot be charged, and no
one written to but the debtor itself.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from stdnum import iban as iban_number

from relance import formats
from relance.invoicing.pdf import page_footer_css
from relance.ledger.models import Client, ContactRole, Invoice, Payment
from relance.rules import escalation as rules
from relance.rules import law
from relance.rules.money import ZERO, round_money
from relance.rules.payment_reference import creditor_reference, format_reference

from . import amounts
from .models import Escalation, FormalNotice, NoticeStatus

STYLESHEET = """
@page { size: A4; margin: 18mm 18mm 22mm 20mm;
  @bottom-left { font: 7pt "DejaVu Sans", sans-serif; color: #555; }
  @bottom-right { font: 7pt "DejaVu Sans", sans-serif; color: #555; } }
html { font: 9.5pt/1.45 "DejaVu Sans", sans-serif; color: #1a1a1a; }
h1 { font-size: 14pt; margin: 6mm 0 3mm; }
h2 { font-size: 11pt; margin: 5mm 0 2mm; }
.parties { display: flex; justify-content: space-between; }
.parties > div { width: 47%; }
.name { font-weight: bold; }
.small { font-size: 8pt; color: #444; }
.registered { font-weight: bold; margin-top: 6mm; }
table { border-collapse: collapse; width: 100%; margin: 3mm 0; }
th, td { padding: 1.2mm 1.5mm; border-bottom: 0.3pt solid #999; text-align: left;
  vertical-align: top; }
th.num, td.num { text-align: right; white-space: nowrap; }
tfoot td, tfoot th { font-weight: bold; border-bottom: none; }
.box { border: 0.5pt solid #777; padding: 2mm 3mm; margin: 3mm 0; }
p { margin: 0 0 2.5mm; }
/* The signature never stands alone on a last page. */
.closing { break-inside: avoid; }
"""

MANAGEMENT = ContactRole.MANAGEMENT


def language_of(client: Client) -> str:
    return (client.language or client.organisation.locale or "fr").split("-")[0]


def _pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML

    return HTML(string=html).write_pdf(stylesheets=[CSS(string=STYLESHEET)])


# -- the parties --------------------------------------------------------------------


def creditor(organisation: Any) -> dict[str, Any]:
    lines = [organisation.legal_name]
    if organisation.trade_name and organisation.trade_name != organisation.legal_name:
        lines[0] = f"{organisation.trade_name} ({organisation.legal_name})"
    legal = []
    if organisation.legal_form:
        if organisation.share_capital:
            legal.append(
                _("%(form)s with a capital of %(capital)s")
                % {
                    "form": organisation.legal_form,
                    "capital": formats.money(organisation.share_capital, organisation.currency),
                }
            )
        else:
            legal.append(organisation.legal_form)
    if organisation.siren:
        registry = f"RCS {organisation.rcs_city} " if organisation.rcs_city else ""
        legal.append(f"{registry}SIREN {organisation.siren}")
    if organisation.vat_number:
        legal.append(_("VAT %(number)s") % {"number": organisation.vat_number})
    return {
        "name": lines[0],
        "address_lines": organisation.address_lines(),
        "legal": legal,
        "email": organisation.email,
        "phone": organisation.phone,
        "country": organisation.country or "FR",
    }


def debtor(client: Client) -> dict[str, Any]:
    """The debtor and, for a company, its management: the only people a formal notice
    may be addressed to (law-and-standards §7.2)."""
    managers = [
        c.full_name
        for c in client.contacts.filter(role=MANAGEMENT, do_not_contact=False)
        if c.full_name
    ]
    if client.is_company:
        attention = (
            _("For the attention of %(name)s, management") % {"name": managers[0]}
            if managers
            else _("For the attention of the management")
        )
    else:
        attention = ""
    return {
        "name": client.name,
        "address_lines": client.address_lines(),
        "siren": client.siren if client.is_company else "",
        "is_company": client.is_company,
        "attention": attention,
        "country": client.country or "FR",
    }


def contacts(client: Client) -> list[dict[str, str]]:
    """The debtor's own people, as the register holds them (nobody else)."""
    return [
        {
            "name": c.full_name,
            "role": str(c.get_role_display()),
            "job_title": c.job_title,
            "email": c.email,
            "phone": c.phone,
        }
        for c in client.contacts.all()
    ]


def payment_means(organisation: Any, invoices: list[Invoice]) -> dict[str, Any]:
    return {
        "beneficiary": str(organisation),
        "iban": iban_number.format(organisation.iban) if organisation.iban else "",
        "bic": organisation.bic,
        "references": [
            {"number": i.number, "reference": format_reference(creditor_reference(i.number))}
            for i in invoices
            if i.number
        ],
    }


def claim_rows(claim: amounts.Claim) -> list[dict[str, Any]]:
    rows = []
    for line in claim.lines:
        invoice = line.invoice
        money = lambda value, c=invoice.currency: formats.money(value, c)  # noqa: E731
        rows.append(
            {
                "number": invoice.number,
                "issue_date": formats.day(invoice.issue_date) if invoice.issue_date else "",
                "due_date": formats.day(invoice.due_date) if invoice.due_date else "",
                "total": money(invoice.total_gross),
                "principal": money(line.principal),
                "interest": money(line.interest),
                "indemnity": money(line.indemnity),
                "amount": money(line.total),
            }
        )
    return rows


def claim_totals(claim: amounts.Claim) -> dict[str, str]:
    currency = claim.currency or "EUR"
    return {
        "principal": formats.money(claim.principal, currency),
        "interest": formats.money(claim.interest, currency),
        "indemnity": formats.money(claim.indemnity, currency),
        "total": formats.money(claim.total, currency),
    }


def small_claim(claim: amounts.Claim) -> Decimal:
    """What the small-claims ceiling is measured on: principal and interest (L125-1)."""
    return claim.principal + claim.interest


def _legal_basis(organisation: Any, client: Client) -> dict[str, bool]:
    """Which lawful paragraphs apply: French B2B penalties and indemnity, or
    interest from the notice for a consumer; generic wording elsewhere."""
    french = (organisation.country or "FR") == "FR"
    return {
        "french": french,
        "b2b": client.is_company,
        "b2c": not client.is_company,
    }


# -- the formal notice ------------------------------------------------------------


def notice_day(notice: FormalNotice) -> date:
    """The letter's date: the day it was approved (or prepared, before approval)."""
    if notice.approved_at:
        return timezone.localtime(notice.approved_at, notice.organisation.tzinfo).date()
    return notice.prepared_on


def notice_context(notice: FormalNotice) -> dict[str, Any]:
    client = notice.client
    organisation = notice.organisation
    day = notice_day(notice)
    invoices = sorted(notice.invoices.all(), key=lambda i: (i.due_date, i.number))
    claim = amounts.claim(invoices, day)
    ceiling = rules.small_claims_max(organisation.country or "FR", claim.currency, day)
    return {
        "notice": notice,
        "draft": notice.status == NoticeStatus.AWAITING_APPROVAL,
        "creditor": creditor(organisation),
        "debtor": debtor(client),
        "place_date": _("%(place)s, %(date)s")
        % {"place": organisation.city or "", "date": formats.day(day)}
        if organisation.city
        else formats.day(day),
        "rows": claim_rows(claim),
        "totals": claim_totals(claim),
        "fees_available": claim.fees_available,
        "blocked": claim.blocked,
        "has_interest": claim.interest > ZERO,
        "has_indemnity": claim.indemnity > ZERO,
        "deadline_days": notice.deadline_days,
        "pay": payment_means(organisation, invoices),
        "small_claims": ceiling is not None and small_claim(claim) <= ceiling,
        "small_claims_max": formats.money(ceiling, claim.currency) if ceiling else "",
        "indemnity_amount": _indemnity_text(organisation, day),
        **_legal_basis(organisation, client),
    }


def _indemnity_text(organisation: Any, day: date) -> str:
    try:
        rule = law.constant("recovery_indemnity", organisation.country or "FR", day)
    except law.MissingLegalRule:
        return ""
    return formats.money(rule.value, rule.unit)


def notice_html(notice: FormalNotice) -> str:
    with translation.override(notice.language or language_of(notice.client)):
        context = notice_context(notice)
        context["page_css"] = page_footer_css(str(notice.organisation))
        context["language"] = translation.get_language()
        return render_to_string("escalation/notice.html", context)


def notice_pdf(notice: FormalNotice) -> bytes:
    return _pdf(notice_html(notice))


# -- the court dossier ---------------------------------------------------------------


def court(client: Client) -> str:
    """The court an order for payment goes to: the debtor's domicile (CPC 1406);
    commercial court for a company, judicial court otherwise."""
    place = " ".join(p for p in (client.postcode, client.city) if p)
    if client.is_company:
        return _(
            "President of the commercial court (tribunal de commerce) with jurisdiction over "
            "the debtor's domicile: %(place)s"
        ) % {"place": place}
    return _(
        "Judicial court (tribunal judiciaire) with jurisdiction over the debtor's domicile: "
        "%(place)s"
    ) % {"place": place}


def dossier_context(client: Client, invoices: list[Invoice], as_of: date) -> dict[str, Any]:
    organisation = client.organisation
    invoices = sorted(invoices, key=lambda i: (i.due_date, i.number))
    claim = amounts.claim(invoices, as_of)
    ceiling = rules.small_claims_max(organisation.country or "FR", claim.currency, as_of)
    notices = [
        n
        for n in client.formal_notices.filter(status=NoticeStatus.SENT).order_by("sent_on")
        if set(n.invoices.values_list("pk", flat=True)) & {i.pk for i in invoices}
    ]
    return {
        "today": formats.day(as_of),
        "creditor": creditor(organisation),
        "debtor": debtor(client),
        "court": court(client),
        "rows": claim_rows(claim),
        "totals": claim_totals(claim),
        "fees_available": claim.fees_available,
        "blocked": claim.blocked,
        "small_claims": ceiling is not None and small_claim(claim) <= ceiling,
        "small_claims_max": formats.money(ceiling, claim.currency) if ceiling else "",
        "notices": [
            {
                "sent_on": formats.day(n.sent_on),
                "receipt": bool(n.receipt),
            }
            for n in notices
        ],
        "limitations": _limitations(client, invoices, as_of),
        **_legal_basis(organisation, client),
    }


def _limitations(client: Client, invoices: list[Invoice], as_of: date) -> list[dict[str, str]]:
    rows = []
    for invoice in invoices:
        try:
            found = rules.limitation(
                client.organisation.country or "FR", client.kind, invoice.due_date
            )
        except law.MissingLegalRule:
            continue
        rows.append({"number": invoice.number, "ends_on": formats.day(found.ends_on)})
    return rows


def dossier_html(client: Client, invoices: list[Invoice], as_of: date) -> str:
    with translation.override(language_of(client)):
        context = dossier_context(client, invoices, as_of)
        context["page_css"] = page_footer_css(str(client.organisation))
        context["language"] = translation.get_language()
        return render_to_string("escalation/dossier.html", context)


def dossier_pdf(client: Client, invoices: list[Invoice], as_of: date) -> bytes:
    return _pdf(dossier_html(client, invoices, as_of))


# -- the collection agency's case file ----------------------------------------------------


def case_context(
    client: Client, invoices: list[Invoice], as_of: date, fee_percent: Decimal
) -> dict[str, Any]:
    organisation = client.organisation
    invoices = sorted(invoices, key=lambda i: (i.due_date, i.number))
    claim = amounts.claim(invoices, as_of)
    currency = claim.currency or organisation.currency
    estimate = rules.agency_estimate(claim.total, currency, fee_percent)
    statement = statement_rows(client)
    return {
        "today": formats.day(as_of),
        "creditor": creditor(organisation),
        "debtor": debtor(client),
        "contacts": contacts(client),
        "rows": claim_rows(claim),
        "totals": claim_totals(claim),
        "fees_available": claim.fees_available,
        "blocked": claim.blocked,
        "estimate": {
            "claim": formats.money(estimate.claim, currency),
            "fee_min": formats.money(estimate.fee_min, currency),
            "fee_max": formats.money(estimate.fee_max, currency),
            "fee": formats.money(estimate.fee, currency),
            "recovered": formats.money(estimate.recovered, currency),
            "rate": formats.number(estimate.rate),
            "net_min": formats.money(estimate.claim - estimate.fee_max, currency),
            "net_max": formats.money(estimate.claim - estimate.fee_min, currency),
        },
        "statement": [
            {**row, "amount": formats.money(row["amount"], row["currency"])} for row in statement
        ],
        "notices": [
            {"sent_on": formats.day(n.sent_on), "receipt": bool(n.receipt)}
            for n in client.formal_notices.filter(status=NoticeStatus.SENT).order_by("sent_on")
        ],
        "timeline": [
            {
                "at": formats.day(timezone.localtime(a.at, organisation.tzinfo).date()),
                "kind": str(a.get_kind_display()),
                "text": a.text,
            }
            for a in client.activities.all()[:60]
        ],
        **_legal_basis(organisation, client),
    }


def statement_rows(client: Client) -> list[dict[str, Any]]:
    """The statement of account: every issued document and payment, oldest first."""
    rows: list[dict[str, Any]] = []
    for invoice in client.invoices.exclude(status="draft").order_by("issue_date", "pk"):
        sign = -1 if invoice.is_credit_note else 1
        rows.append(
            {
                "date": invoice.issue_date,
                "day": formats.day(invoice.issue_date),
                "label": (_("Credit note %(number)s") if sign < 0 else _("Invoice %(number)s"))
                % {"number": invoice.number},
                "amount": invoice.total_gross * sign,
                "currency": invoice.currency,
                "status": str(invoice.get_status_display()),
                "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
                "balance": invoice.balance if not invoice.is_credit_note else ZERO,
            }
        )
    for payment in Payment.objects.filter(client=client).order_by("date", "pk"):
        rows.append(
            {
                "date": payment.date,
                "day": formats.day(payment.date),
                "label": _("Payment %(reference)s") % {"reference": payment.reference or ""},
                "amount": -payment.amount,
                "currency": payment.currency,
                "status": "",
                "due_date": "",
                "balance": ZERO,
            }
        )
    rows.sort(key=lambda row: row["date"])
    return rows


def case_file_html(
    client: Client, invoices: list[Invoice], as_of: date, fee_percent: Decimal
) -> str:
    with translation.override(language_of(client)):
        context = case_context(client, invoices, as_of, fee_percent)
        context["page_css"] = page_footer_css(str(client.organisation))
        context["language"] = translation.get_language()
        return render_to_string("escalation/case_file.html", context)


def case_file_pdf(
    client: Client, invoices: list[Invoice], as_of: date, fee_percent: Decimal
) -> bytes:
    return _pdf(case_file_html(client, invoices, as_of, fee_percent))


def invoice_pdf(invoice: Invoice) -> bytes | None:
    """The invoice as it was sent (its archive), else printed from its frozen content;
    None for an imported invoice that has no PDF of ours."""
    if invoice.pdf:
        try:
            with invoice.pdf.open("rb") as handle:
                return handle.read()
        except (FileNotFoundError, ValueError):
            pass
    if invoice.source == "import":
        return None
    from relance.invoicing import pdf as invoice_pdfs
    from relance.invoicing.snapshot import build_document

    return invoice_pdfs.render_pdf(build_document(invoice))


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def case_file_zip(
    client: Client, invoices: list[Invoice], as_of: date, fee_percent: Decimal
) -> bytes:
    """Everything an agency needs, in one ZIP: the summary PDF, each invoice, the
    formal notices with their proof of sending, the statement of account, the
    timeline and the debtor's contacts as CSV."""
    buffer = io.BytesIO()
    with (
        translation.override(language_of(client)),
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr("case-file.pdf", case_file_pdf(client, invoices, as_of, fee_percent))
        for invoice in invoices:
            content = invoice_pdf(invoice)
            if content is not None:
                archive.writestr(f"invoices/{_safe(invoice.number)}.pdf", content)
        for notice in client.formal_notices.exclude(status=NoticeStatus.CANCELLED):
            if notice.status != NoticeStatus.SENT:
                continue
            name = f"formal-notices/{notice.sent_on.isoformat()}-{notice.pk}"
            archive.writestr(f"{name}.pdf", _stored_or_drawn(notice))
            if notice.receipt:
                with notice.receipt.open("rb") as handle:
                    suffix = (notice.receipt_name or notice.receipt.name).rsplit(".", 1)
                    ext = suffix[1] if len(suffix) == 2 else "bin"
                    archive.writestr(f"{name}-receipt.{ext}", handle.read())
        archive.writestr("statement.csv", _csv(_statement_csv(client)))
        archive.writestr("timeline.csv", _csv(_timeline_csv(client)))
        archive.writestr("contacts.csv", _csv(_contacts_csv(client)))
    return buffer.getvalue()


def _stored_or_drawn(notice: FormalNotice) -> bytes:
    if notice.pdf:
        try:
            with notice.pdf.open("rb") as handle:
                return handle.read()
        except (FileNotFoundError, ValueError):
            pass
    return notice_pdf(notice)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "invoice"


def _statement_csv(client: Client) -> list[list[Any]]:
    header = [_("Date"), _("Document"), _("Due date"), _("Amount"), _("Currency"), _("Balance")]
    header += [_("Status")]
    return [header] + [
        [
            row["date"].isoformat(),
            row["label"],
            row["due_date"],
            str(row["amount"]),
            row["currency"],
            str(row["balance"]),
            row["status"],
        ]
        for row in statement_rows(client)
    ]


def _timeline_csv(client: Client) -> list[list[Any]]:
    tz = client.organisation.tzinfo
    return [[_("When"), _("Kind"), _("Invoice"), _("Text")]] + [
        [
            timezone.localtime(a.at, tz).isoformat(timespec="minutes"),
            str(a.get_kind_display()),
            a.invoice.number if a.invoice_id else "",
            a.text,
        ]
        for a in client.activities.select_related("invoice").order_by("at", "pk")
    ]


def _contacts_csv(client: Client) -> list[list[Any]]:
    header = [_("Name"), _("Role"), _("Job title"), _("Email"), _("Phone")]
    return [header] + [
        [c["name"], c["role"], c["job_title"], c["email"], c["phone"]] for c in contacts(client)
    ]


# -- the write-off's accounting line -----------------------------------------------------

# French chart of accounts (PCG): loss on irrecoverable debts, VAT collected, clients.
LOSS_ACCOUNT = "654"
VAT_ACCOUNT = "44571"
CLIENT_ACCOUNT = "411"


def write_off_rows(escalation: Escalation) -> list[list[str]]:
    """One journal line per invoice written off: the loss excl. VAT (654), the VAT
    given back (44571) and the client credited with the balance (411)."""
    header = [
        "date",
        "journal",
        "piece",
        "client",
        "invoice",
        "debit_" + LOSS_ACCOUNT,
        "debit_" + VAT_ACCOUNT,
        "credit_" + CLIENT_ACCOUNT,
        "currency",
        "reason",
    ]
    rows = [header]
    for invoice in escalation.invoices.order_by("due_date", "pk"):
        gross = invoice.balance
        vat = ZERO
        if invoice.total_gross:
            vat = round_money(gross * invoice.total_vat / invoice.total_gross, invoice.currency)
        rows.append(
            [
                escalation.opened_on.isoformat(),
                "OD",
                f"WO-{escalation.pk}",
                escalation.client.name,
                invoice.number,
                str(gross - vat),
                str(vat),
                str(gross),
                invoice.currency,
                escalation.reason,
            ]
        )
    return rows


def write_off_csv(escalation: Escalation) -> bytes:
    return _csv(write_off_rows(escalation))
