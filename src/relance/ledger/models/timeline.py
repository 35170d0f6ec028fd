"""The timeline: an append-only record of what happened with a client."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relance.ledger.models.clients import Client
from relance.ledger.models.invoices import Invoice
from relance.organisations.models import Organisation, TenantQuerySet


class ActivityKind(models.TextChoices):
    CREATED = "created", _("Created")
    ISSUED = "issued", _("Issued")
    SENT = "sent", _("Sent")
    PAYMENT = "payment", _("Payment")
    CREDIT_NOTE = "credit_note", _("Credit note")
    WRITTEN_OFF = "written_off", _("Written off")
    STATUS = "status", _("Status changed")
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    ATTACHMENT = "attachment", _("Attachment")


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    PROMISE = "promise", _("Promise to pay")
    DISPUTE = "dispute", _("Dispute")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class AppendOnlyError(Exception):
    pass


class ActivityQuerySet(TenantQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("the timeline is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("the timeline is append-only")


class Activity(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="activities")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    kind = models.CharField(_("kind"), max_length=15, choices=ActivityKind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("by"),
    )
    text = models.TextField(_("text"), blank=True)
    call_outcome = models.CharField(
        _("outcome"), max_length=15, choices=CallOutcome.choices, blank=True
    )
    message_id = models.CharField(max_length=250, blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("timeline")
        indexes = [
            models.Index(fields=["client", "-at", "-id"], name="activity_client_at"),
            models.Index(fields=["invoice", "-at", "-id"], name="activity_invoice_at"),
            # The dashboard's "recent activity" of the whole organisation.
            models.Index(fields=["organisation", "-at", "-id"], name="activity_org_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("the timeline is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("the timeline is append-only")


def record(
    *,
    client: Client,
    kind: str,
    author: Any = None,
    invoice: Invoice | None = None,
    text: str = "",
    **extra: Any,
) -> Activity:
    """Append one entry to the client's (and the invoice's) timeline."""
    return Activity.objects.create(
        organisation_id=client.organisation_id,
        client=client,
        invoice=invoice,
        kind=kind,
        author=author,
        text=text,
        **extra,
    )
