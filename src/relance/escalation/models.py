"""Escalation records: what was done when the ladder ran out, kept for the timeline.

- ``EscalationSettings``: the organisation's figures (write-off threshold and
  limit, agency thresholds, formal-notice deadline) and whether a payment lifts
  a work stop.
- ``Escalation``: one dated decision about a client: work stop, hand-off to a
  collection agency, court, write-off, insolvency; proposed by a ladder step or
  opened by a person, closed when it ends.
- ``FormalNotice``: the mise en demeure, its approval, the day it was sent (it
  starts interest on a consumer's debt) and the registered-letter receipt.
- ``Task``: something a person must do by a date (declare a claim).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from relance import formats
from relance.ledger.fields import MoneyField
from relance.organisations.models import CURRENCY_CHOICES, TenantQuerySet
from relance.rules import escalation as rules


class EscalationSettings(models.Model):
    organisation = models.OneToOneField(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="escalation_settings"
    )
    lift_hold_on_payment = models.BooleanField(
        _("a payment lifts a work stop"),
        default=True,
        help_text=_("When a payment clears the overdue balance, work resumes automatically."),
    )
    write_off_threshold = MoneyField(
        _("propose a write-off up to"),
        default=Decimal(150),
        help_text=_("Overdue balances up to this amount are proposed for write-off."),
    )
    write_off_limit = MoneyField(
        _("write-off limit"),
        default=Decimal(1000),
        help_text=_("Set by the owner: a write-off above this amount is refused."),
    )
    agency_from = MoneyField(
        _("collection agency from"),
        default=Decimal(1000),
        help_text=_("Overdue balances from this amount are proposed for a collection agency."),
    )
    agency_after_days = models.PositiveSmallIntegerField(
        _("collection agency after (days late)"), default=90
    )
    agency_fee_percent = models.DecimalField(
        _("expected agency commission (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(20),
        validators=[
            MinValueValidator(rules.AGENCY_FEE_MIN),
            MaxValueValidator(rules.AGENCY_FEE_MAX),
        ],
    )
    notice_days = models.PositiveSmallIntegerField(
        _("formal notice: days to pay"),
        default=8,
        validators=[MinValueValidator(8), MaxValueValidator(30)],
    )

    class Meta:
        verbose_name = _("escalation settings")

    def __str__(self) -> str:
        return str(self.organisation)

    @classmethod
    def for_org(cls, organisation: Any) -> EscalationSettings:
        # Reading never writes: two requests at once (a page and its htmx parts) would
        # race to create the row. A form saves the defaults the first time it is sent.
        found = cls.objects.filter(organisation=organisation).first()
        return found or cls(organisation=organisation)

    def thresholds(self) -> rules.Thresholds:
        return rules.Thresholds(
            write_off_below=self.write_off_threshold,
            agency_from=self.agency_from,
            agency_after_days=self.agency_after_days,
        )


class EscalationKind(models.TextChoices):
    WORK_STOP = "work_stop", _("Work stop")
    COLLECTION = "collection", _("Collection agency")
    COURT = "court", _("In court")
    WRITE_OFF = "write_off", _("Write-off")
    INSOLVENCY = "insolvency", _("Insolvency proceedings")


class EscalationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    OPEN = "open", _("In progress")
    CLOSED = "closed", _("Ended")
    DECLINED = "declined", _("Declined")


class CourtProcedure(models.TextChoices):
    SMALL_CLAIMS = "small_claims", _("Small-claims procedure (commissaire de justice)")
    ORDER_FOR_PAYMENT = "order_for_payment", _("Order for payment (injonction de payer)")


class InsolvencyProcedure(models.TextChoices):
    SAFEGUARD = "safeguard", _("Safeguard (sauvegarde)")
    RECOVERY = "recovery", _("Receivership (redressement judiciaire)")
    LIQUIDATION = "liquidation", _("Liquidation (liquidation judiciaire)")


class Escalation(models.Model):
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    client = models.ForeignKey(
        "ledger.Client", on_delete=models.CASCADE, related_name="escalations"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EscalationKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    reason = models.TextField(_("reason"), blank=True)
    invoices = models.ManyToManyField(
        "ledger.Invoice", blank=True, related_name="escalations", verbose_name=_("invoices")
    )
    amount = MoneyField(_("amount"), default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    opened_on = models.DateField(_("from"))
    closed_on = models.DateField(_("ended"), null=True, blank=True)
    # Court: which procedure. Collection: the agency's name. Insolvency: procedure,
    # judgment and publication dates.
    procedure = models.CharField(_("procedure"), max_length=20, blank=True)
    agency = models.CharField(_("agency"), max_length=200, blank=True)
    judgment_on = models.DateField(_("judgment of"), null=True, blank=True)
    published_on = models.DateField(_("published in the BODACC on"), null=True, blank=True)
    # The ladder step that proposed it (one proposal per fired step).
    reminder = models.OneToOneField(
        "dunning.Reminder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The client's status before a work stop or hand-off, restored when it ends.
    previous_status = models.CharField(max_length=15, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            # One work stop (or hand-off, court case…) in progress per client.
            models.UniqueConstraint(
                fields=["client", "kind"],
                condition=Q(status="open"),
                name="escalation_one_open_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.client})"

    @property
    def procedure_display(self) -> str:
        choices = dict(CourtProcedure.choices) | dict(InsolvencyProcedure.choices)
        return str(choices.get(self.procedure, self.procedure))


class NoticeStatus(models.TextChoices):
    AWAITING_APPROVAL = "approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved, to send")
    SENT = "sent", pgettext_lazy("formal notice status", "Sent")
    CANCELLED = "cancelled", _("Cancelled")


def receipt_path(instance: FormalNotice, filename: str) -> str:
    return f"notices/{instance.organisation_id}/{instance.pk}/{filename}"


class FormalNotice(models.Model):
    """A mise en demeure. ``sent_on`` is the date that counts (C. civ. 1344-1: it
    starts interest at the legal rate on a consumer's debt); the fees read it
    through ``relance.escalation.notices.notice_date(invoice)``."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    client = models.ForeignKey(
        "ledger.Client", on_delete=models.CASCADE, related_name="formal_notices"
    )
    invoices = models.ManyToManyField(
        "ledger.Invoice", related_name="formal_notices", verbose_name=_("invoices")
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=NoticeStatus.choices,
        default=NoticeStatus.AWAITING_APPROVAL,
    )
    prepared_on = models.DateField(_("prepared on"))
    deadline_days = models.PositiveSmallIntegerField(_("days to pay"), default=8)
    language = models.CharField(_("language"), max_length=5, default="fr")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    sent_on = models.DateField(_("sent on"), null=True, blank=True)
    pdf = models.FileField(upload_to="notices/", blank=True)
    receipt = models.FileField(_("proof of sending"), upload_to=receipt_path, blank=True)
    receipt_name = models.CharField(max_length=200, blank=True)
    reminder = models.OneToOneField(
        "dunning.Reminder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-prepared_on", "-id"]
        verbose_name = _("formal notice")
        verbose_name_plural = _("formal notices")
        indexes = [
            models.Index(fields=["client", "sent_on"], name="notice_client_sent"),
        ]

    def __str__(self) -> str:
        return _("Formal notice of %(day)s") % {"day": formats.day(self.prepared_on)}

    @property
    def is_open(self) -> bool:
        return self.status in (NoticeStatus.AWAITING_APPROVAL, NoticeStatus.APPROVED)


class TaskKind(models.TextChoices):
    DECLARE_CLAIM = "declare_claim", _("Declare the claim")


class Task(models.Model):
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    client = models.ForeignKey(
        "ledger.Client", on_delete=models.CASCADE, related_name="escalation_tasks"
    )
    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices)
    text = models.TextField(_("what to do"))
    due_on = models.DateField(_("deadline"))
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["done_on", "due_on", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [
            models.UniqueConstraint(fields=["escalation", "kind"], name="task_once_per_escalation"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.client})"

    def is_late(self, as_of: date) -> bool:
        return self.done_on is None and self.due_on < as_of


class StepDone(models.Model):
    """A fired escalation step of the ladder that has been acted on (once: unique)."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    reminder = models.OneToOneField(
        "dunning.Reminder", on_delete=models.CASCADE, related_name="escalation_done"
    )
    done_on = models.DateField()
    outcome = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.reminder_id}: {self.outcome}"
