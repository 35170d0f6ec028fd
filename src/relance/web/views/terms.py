"""Payment-terms templates: list, create, edit, delete when unused, and the
organisation's default. Each template is previewed in plain words on an
example date, with a warning where French law (L441-10 I) would refuse it
for a business client: the warning is here, the refusal is at issue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from relance import formats
from relance.invoicing import wording
from relance.invoicing.models import PaymentTermsTemplate, RecurringInvoice, terms_from_dict
from relance.ledger.models import Client, Invoice
from relance.rules import law
from relance.rules import terms as rules
from relance.rules.money import round_money
from relance.web.access import get_scoped_or_404, member_view, scoped, writer_view
from relance.web.forms.terms import TermsForm

EXAMPLE_TOTAL = Decimal("1000.00")
CAP_SCAN_DAYS = 366  # the cap depends on the day (month lengths): try a whole year


@dataclass
class CapWarning:
    invoice_date: date
    due: date
    limit: date
    article: str
    suggest_45_eom: bool

    @property
    def text(self) -> str:
        return _(
            "French law caps payment terms between businesses (%(article)s): an invoice of "
            "%(date)s would fall due %(due)s, later than the limit of %(limit)s. Invoices to "
            "business clients with these terms will be refused at issue."
        ) % {
            "article": self.article,
            "date": formats.day(self.invoice_date),
            "due": formats.day(self.due),
            "limit": formats.day(self.limit),
        }


@dataclass
class TermsPreview:
    """What the terms give for one example invoice, in words ready to show."""

    sentences: list[str] = field(default_factory=list)
    cap: CapWarning | None = None
    error: str = ""


def first_over_cap(data: dict[str, Any], start: date, country: str) -> CapWarning | None:
    """The first invoice date, within a year from ``start``, whose due date the
    French B2B cap refuses; None when every day is lawful."""
    agreed = bool(data.get("agreed_45_eom"))
    try:
        for offset in range(CAP_SCAN_DAYS):
            day = start + timedelta(days=offset)
            due = rules.due_date(terms_from_dict(data, day, holiday_country=country), day)
            check = rules.check_fr_b2b_cap(day, due, agreed_45_eom=agreed)
            if not check.ok:
                eom = data.get("kind") in ("eom_then_days", "days_then_eom")
                return CapWarning(day, due, check.limit, check.article, eom and not agreed)
    except (law.MissingLegalRule, ValueError):
        return None
    return None


def terms_preview(
    data: dict[str, Any], example: date, *, country: str, currency: str
) -> TermsPreview:
    """ "Invoice of 15 Jan 2026 → due 14 Feb 2026", its schedule and discount."""
    country = country or "FR"
    total = round_money(EXAMPLE_TOTAL, currency)
    try:
        terms = terms_from_dict(data, example, holiday_country=country)
        rows = rules.schedule(terms, example, total, currency)
        discount = rules.discount(terms, example, total, currency)
    except (ValueError, ArithmeticError, KeyError, TypeError) as exc:
        return TermsPreview(error=str(exc))
    preview = TermsPreview()
    preview.sentences.append(
        _("Invoice of %(date)s → due %(due)s")
        % {"date": formats.day(example), "due": formats.day(rows[-1][0])}
    )
    if len(rows) > 1:
        schedule = "; ".join(
            _("%(amount)s on %(date)s")
            % {"amount": formats.money(amount, currency), "date": formats.day(day)}
            for day, amount in rows
        )
        preview.sentences.append(
            _("For %(total)s: %(schedule)s")
            % {"total": formats.money(total, currency), "schedule": schedule}
        )
    if discount:
        preview.sentences.append(
            _("Early payment: %(amount)s instead of %(total)s if paid by %(date)s")
            % {
                "amount": formats.money(discount[1], currency),
                "total": formats.money(total, currency),
                "date": formats.day(discount[0]),
            }
        )
    if country == "FR":
        preview.cap = first_over_cap(data, example, country)
    return preview


def _example_date(request: HttpRequest, form: TermsForm | None = None) -> date:
    if form is not None and form.is_bound and form.is_valid():
        chosen = form.cleaned_data.get("example_date")
        if chosen:
            return chosen
    return request.organisation.today()


def _preview_of(request: HttpRequest, data: dict[str, Any], example: date) -> TermsPreview:
    org = request.organisation
    return terms_preview(data, example, country=org.country, currency=org.currency)


def _counts(queryset: Any, field_name: str) -> dict[int, int]:
    rows = queryset.filter(**{f"{field_name}__isnull": False}).values(field_name)
    return {row[field_name]: row["n"] for row in rows.annotate(n=Count("pk"))}


def _in_use(request: HttpRequest) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """How many clients, drafts and recurring invoices name each template."""
    return (
        _counts(scoped(request, Client), "payment_terms"),
        _counts(scoped(request, Invoice).filter(status="draft"), "terms_template"),
        _counts(scoped(request, RecurringInvoice), "terms_template"),
    )


@member_view
def terms_list(request: HttpRequest) -> HttpResponse:
    templates = list(scoped(request, PaymentTermsTemplate))
    client_counts, drafts, recurring = _in_use(request)
    today = request.organisation.today()
    rows = []
    for template in templates:
        uses = client_counts.get(template.pk, 0) + recurring.get(template.pk, 0)
        uses += drafts.get(template.pk, 0)
        rows.append(
            {
                "template": template,
                "description": wording.terms_text(template.as_dict(), None),
                "preview": _preview_of(request, template.as_dict(), today),
                "clients": client_counts.get(template.pk, 0),
                "recurring": recurring.get(template.pk, 0),
                "drafts": drafts.get(template.pk, 0),
                "used": uses > 0,
            }
        )
    context = {"rows": rows, "can_write": request.membership.can_write}
    return render(request, "web/terms/list.html", context)


def _form_page(
    request: HttpRequest, form: TermsForm, template: PaymentTermsTemplate | None
) -> HttpResponse:
    example = _example_date(request, form)
    preview = None
    if form.is_bound and form.is_valid():
        preview = _preview_of(request, form.instance.as_dict(), example)
    elif not form.is_bound and template is not None:
        preview = _preview_of(request, template.as_dict(), example)
    can_write = request.membership.can_write
    if not can_write:
        for name, form_field in form.fields.items():
            form_field.disabled = name != "example_date"
    context = {
        "form": form,
        "template": template,
        "preview": preview,
        "example": example,
        "can_write": can_write,
    }
    return render(request, "web/terms/form.html", context)


def _save(request: HttpRequest, form: TermsForm, created: bool) -> HttpResponse:
    template = form.save()
    if created:
        messages.success(request, _("Payment terms %(name)s created.") % {"name": template})
    else:
        messages.success(request, _("Payment terms %(name)s saved.") % {"name": template})
    return redirect("terms_list")


@writer_view
def terms_create(request: HttpRequest) -> HttpResponse:
    instance = PaymentTermsTemplate(organisation=request.organisation)
    if request.method != "POST":
        form = TermsForm(instance=instance, initial={"kind": "net", "days": 30})
        return _form_page(request, form, None)
    form = TermsForm(request.POST, instance=instance)
    if "preview" not in request.POST and form.is_valid():
        return _save(request, form, created=True)
    return _form_page(request, form, None)


@writer_view
def terms_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_scoped_or_404(request, PaymentTermsTemplate, pk=pk)
    if request.method != "POST":
        return _form_page(request, TermsForm(instance=template), template)
    # The form writes into the instance while validating: keep the stored one apart.
    stored = get_scoped_or_404(request, PaymentTermsTemplate, pk=pk)
    form = TermsForm(request.POST, instance=template)
    if "preview" not in request.POST and form.is_valid():
        return _save(request, form, created=False)
    return _form_page(request, form, stored)


@writer_view
def terms_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_scoped_or_404(request, PaymentTermsTemplate, pk=pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("terms_list")
    users = (
        scoped(request, Client).filter(payment_terms=template).exists()
        or scoped(request, RecurringInvoice).filter(terms_template=template).exists()
        or scoped(request, Invoice).filter(status="draft", terms_template=template).exists()
    )
    if template.is_default:
        messages.error(
            request,
            _("%(name)s is the organisation's default: make other terms the default first.")
            % {"name": template},
        )
    elif users:
        messages.error(
            request,
            _("%(name)s is used by clients, drafts or recurring invoices: it cannot be deleted.")
            % {"name": template},
        )
    else:
        template.delete()
        messages.success(request, _("Payment terms %(name)s deleted.") % {"name": template})
    return redirect("terms_list")


@writer_view
def terms_default(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_scoped_or_404(request, PaymentTermsTemplate, pk=pk)
    if request.method != "POST":  # after the lookup: another tenant's id is a 404
        return redirect("terms_list")
    with transaction.atomic():
        scoped(request, PaymentTermsTemplate).filter(is_default=True).update(is_default=False)
        scoped(request, PaymentTermsTemplate).filter(pk=template.pk).update(is_default=True)
    messages.success(
        request,
        _("%(name)s are now the organisation's default payment terms.") % {"name": template},
    )
    return redirect("terms_list")
