"""The dunning engine's records: policies and steps, chases, reminders, the
outbox (messages, call tasks, letters), pauses, and the run's heartbeat.

Every side effect is a row before it happens: a reminder is recorded (unique
per receivable, step and occurrence) before the message that carries it is
queued, and a message is claimed (queued → sending) by a conditional update
before any transport sees it. A crash leaves rows a person can see.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from relance.ledger.fields import MoneyField
from relance.organisations.models import CURRENCY_CHOICES, LANGUAGE_CHOICES, TenantQuerySet
from relance.rules import ladder


class Tone(models.TextChoices):
    FRIENDLY = "friendly", _("Friendly")
    FIRM = "firm", _("Firm")
    FORMAL = "formal", _("Formal")


class StepKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    CALL = "call", _("Call task")
    LATE_FEE_NOTICE = "late_fee_notice", _("Late-fee notice")
    # Hooks for the escalation issue: recorded and shown, acted on by a person for now.
    WORK_STOP = "work_stop", _("Work stop")
    FORMAL_NOTICE = "formal_notice", _("Formal notice")
    HANDOFF = "handoff", _("Hand-off to a collection agency")
    WRITE_OFF_PROPOSAL = "write_off_proposal", _("Write-off proposal")


# The steps a person or the escalation app acts on after the run (late fees are booked
# from their notices): the only reminders read by kind, through partial indexes.
ESCALATION_KINDS = ("work_stop", "formal_notice", "handoff", "write_off_proposal")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")
    CALL = "call", _("Phone call")


class TemplateKey(models.TextChoices):
    BEFORE_DUE = "before_due", _("Courtesy reminder before the due date")
    FRIENDLY = "friendly", _("Friendly reminder")
    FIRM = "firm", _("Firm reminder")
    LATE_FEE_NOTICE = "late_fee_notice", _("Late-fee notice")
    FORMAL = "formal", _("Last amicable reminder")
    WORK_STOP = "work_stop", _("Work stop")


class Policy(models.Model):
    """A ladder of steps (scénario de relance)."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="dunning_policies"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(
        _("organisation default"),
        default=False,
        help_text=_("Used for every client and invoice that has no policy of its own."),
    )
    is_default_individuals = models.BooleanField(
        _("default for individuals"),
        default=False,
        help_text=_("Used instead of the organisation default for clients who are individuals."),
    )
    hold_for_cycle = models.BooleanField(
        _("wait for the client's usual payment cycle"),
        default=False,
        help_text=_(
            "For a client with a usual payment cycle, steps after the due date wait until one "
            "full cycle has passed."
        ),
    )
    builtin = models.CharField(max_length=30, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("reminder policy")
        verbose_name_plural = _("reminder policies")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="policy_unique_name"),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(is_default=True), name="policy_one_default"
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(is_default_individuals=True),
                name="policy_one_default_individuals",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def rules(self) -> list[ladder.StepRule]:
        return [step.rule() for step in self.steps.all()]


class Step(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=StepKind.choices, default=StepKind.MESSAGE
    )
    offset_days = models.SmallIntegerField(
        _("days from the due date"),
        validators=[MinValueValidator(-365), MaxValueValidator(3650)],
        help_text=_("Negative: before the due date; 0: on the due date; positive: after it."),
    )
    business_days = models.BooleanField(_("count business days"), default=False)
    channels = models.JSONField(_("channels"), default=list)
    tone = models.CharField(_("tone"), max_length=10, choices=Tone.choices, default=Tone.FRIENDLY)
    template = models.CharField(
        _("template"), max_length=20, choices=TemplateKey.choices, default=TemplateKey.FRIENDLY
    )
    needs_approval = models.BooleanField(_("needs approval"), default=False)
    repeat_every = models.PositiveSmallIntegerField(
        _("repeat every (days)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    repeat_max = models.PositiveSmallIntegerField(_("at most (times)"), default=0)
    # {"EUR": "50.00"}: below it (per currency) the step does not fire.
    min_amounts = models.JSONField(_("minimum amount overdue"), default=dict, blank=True)
    client_kind = models.CharField(
        _("only for clients of kind"),
        max_length=10,
        blank=True,
        choices=[("company", _("Company (B2B)")), ("individual", _("Individual (B2C)"))],
    )
    risk_levels = models.JSONField(_("only for risk levels"), default=list, blank=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="step_unique_position"),
        ]

    def __str__(self) -> str:
        return self.name or self.get_template_display()

    def rule(self) -> ladder.StepRule:
        return ladder.StepRule(
            key=self.pk or 0,
            position=self.position,
            offset_days=self.offset_days,
            channels=tuple(self.channels),
            tone=self.tone,
            kind=self.kind,
            template=self.template,
            business_days=self.business_days,
            needs_approval=self.needs_approval,
            repeat_every=self.repeat_every,
            repeat_max=self.repeat_max,
            min_amounts=ladder.min_amounts_from(self.min_amounts or {}),
            client_kind=self.client_kind,
            risk_levels=frozenset(self.risk_levels or ()),
        )


class MessageTemplate(models.Model):
    """An organisation's own wording for one template key, channel and language
    (the shipped defaults apply where there is none)."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    key = models.CharField(_("template"), max_length=20, choices=TemplateKey.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key", "channel", "language"], name="template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} / {self.get_channel_display()} / {self.language}"


class DunningSettings(models.Model):
    """When the organisation's daily run happens and when messages may leave."""

    organisation = models.OneToOneField(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="dunning_settings"
    )
    run_hour = models.PositiveSmallIntegerField(
        _("daily run at (hour)"), default=8, validators=[MaxValueValidator(23)]
    )
    window_start = models.PositiveSmallIntegerField(
        _("send from (hour, client's time)"), default=8, validators=[MaxValueValidator(23)]
    )
    window_end = models.PositiveSmallIntegerField(
        _("send until (hour, client's time)"),
        default=19,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    business_days_only = models.BooleanField(
        _("send on business days only"),
        default=True,
        help_text=_("No reminder on weekends and public holidays."),
    )
    sms_max_segments = models.PositiveSmallIntegerField(
        _("SMS length (segments)"), default=3, validators=[MinValueValidator(1)]
    )
    statement_max_age_days = models.PositiveSmallIntegerField(
        _("warn when the last bank statement is older than (days)"), default=7
    )

    class Meta:
        verbose_name = _("reminder settings")

    def __str__(self) -> str:
        return str(self.organisation)

    @classmethod
    def for_org(cls, organisation: Any) -> DunningSettings:
        # Reading never writes: two requests at once (a page and its htmx parts) would
        # race to create the row. A form saves the defaults the first time it is sent.
        found = cls.objects.filter(organisation=organisation).first()
        return found or cls(organisation=organisation)


class ChaseQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        """Every change of a chase counts in its version: the daily run, which reads
        chases before it records what it decided, records nothing over a chase changed
        in between (a payment reversed, a plan agreed) and decides it again."""
        kwargs.setdefault("version", F("version") + 1)
        return super().update(**kwargs)


class Chase(models.Model):
    """The ladder's state for one receivable: an invoice, or one of its installments.

    ``next_action_on`` (indexed where set) is the only thing the daily run reads
    to find its work, so a day's cost follows the day's work.
    """

    # The run rewrites a chase each time it acts on it, and every index of the table
    # with it (PostgreSQL): no index here that another one already serves, and the
    # optional keys are indexed only where set (a plain chase has four index entries).
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        db_index=False,  # chase_due
    )
    client = models.ForeignKey("ledger.Client", on_delete=models.CASCADE, related_name="chases")
    invoice = models.ForeignKey(
        "ledger.Invoice",
        on_delete=models.CASCADE,
        related_name="chases",
        db_index=False,  # chase_unique_receivable
    )
    installment = models.ForeignKey(
        "ledger.Installment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # chase_installment
    )
    # An installment of a payment plan (``invoice`` is then the plan's oldest invoice).
    plan_installment = models.ForeignKey(
        "plans.PlanInstallment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # chase_unique_plan_part
    )
    due_date = models.DateField()
    # The last event that fired (see rules.ladder.Event.key); null before the first.
    cursor_on = models.DateField(null=True, blank=True)
    cursor_position = models.SmallIntegerField(default=-1)
    cursor_occurrence = models.SmallIntegerField(default=-1)
    next_action_on = models.DateField(null=True, blank=True)
    closed = models.BooleanField(default=False)
    # Raised by every update (ChaseQuerySet.update, the run's own): see ChaseQuerySet.
    version = models.IntegerField(default=0, db_default=0, editable=False)

    objects = ChaseQuerySet.as_manager()

    class Meta:
        constraints = [
            # One chase per receivable: the invoice itself, one of its installments, or a
            # plan installment (0 standing for "none", which a key is never). One index
            # for the three kinds, which also serves every lookup by invoice.
            models.UniqueConstraint(
                F("invoice"),
                Coalesce("installment", Value(0), output_field=models.BigIntegerField()),
                Coalesce("plan_installment", Value(0), output_field=models.BigIntegerField()),
                name="chase_unique_receivable",
            ),
            models.UniqueConstraint(
                fields=["plan_installment"],
                condition=Q(plan_installment__isnull=False),
                name="chase_unique_plan_part",
            ),
        ]
        indexes = [
            # The run's work of the day: an organisation's chases whose day has come.
            models.Index(fields=["organisation", "next_action_on"], name="chase_due"),
            models.Index(
                fields=["installment"],
                condition=Q(installment__isnull=False),
                name="chase_installment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.installment_id or '-'}"

    @property
    def cursor(self) -> tuple[date, int, int] | None:
        if self.cursor_on is None:
            return None
        return (self.cursor_on, self.cursor_position, self.cursor_occurrence)


class MessageStatus(models.TextChoices):
    AWAITING_APPROVAL = "approval", _("Awaiting approval")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", pgettext_lazy("message status", "Sent")
    FAILED = "failed", _("Failed")
    UNCERTAIN = "uncertain", _("Uncertain: check by hand")
    CANCELLED = "cancelled", _("Cancelled")
    TO_DO = "todo", _("To do")  # a call to make, a letter to print
    DONE = "done", _("Done")


# A message a person must look at.
ATTENTION_STATUSES = (MessageStatus.FAILED, MessageStatus.UNCERTAIN)


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    PROMISE = "promise", _("Promise to pay")
    DISPUTE = "dispute", _("Dispute")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class Message(models.Model):
    """The outbox: one message per client, channel and local day, listing every
    invoice concerned, at the firmest tone among them. Its content is rendered
    when it is sent, from the invoices' state at that moment."""

    # Written by the daily run from the chases it read (a few hundred thousand on a big
    # day): not checked by the database, as the reminders; Django cascades deletions.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,  # message_org_status
    )
    client = models.ForeignKey(
        "ledger.Client",
        on_delete=models.CASCADE,
        related_name="messages",
        db_constraint=False,
        db_index=False,  # message_one_per_client_channel_day
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    day = models.DateField(_("day"))
    tone = models.CharField(_("tone"), max_length=10, choices=Tone.choices)
    template = models.CharField(_("template"), max_length=20, choices=TemplateKey.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    # Chosen before sending, so a person can look it up when the outcome is uncertain.
    message_id = models.CharField(max_length=250, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    provider_id = models.CharField(_("provider id"), max_length=250, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("error"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=15, choices=CallOutcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pdf = models.FileField(upload_to="letters/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "-id"]
        verbose_name = _("reminder message")
        verbose_name_plural = _("reminder messages")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "channel", "day"], name="message_one_per_client_channel_day"
            )
        ]
        indexes = [
            models.Index(
                fields=["not_before"],
                name="message_queued",
                condition=Q(status="queued"),
            ),
            models.Index(fields=["organisation", "status", "day"], name="message_org_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.client_id} {self.day}"


class ReminderStatus(models.TextChoices):
    FIRED = "fired", _("Fired")
    SKIPPED = "skipped", _("Skipped (a later step was due)")


class Reminder(models.Model):
    """One step fired (or skipped) for one receivable: unique per (receivable,
    step, occurrence), so a rerun of the same day records nothing new. The
    messages of its client that day on its channels are the ones that carry it."""

    # The daily run writes up to a row per due invoice, each from the chase row it read
    # and moved in the same transaction: no key here is checked by the database (on
    # PostgreSQL a million deferred checks cost as much as writing the rows). Django
    # still cascades a deletion to the reminders. Each index serves a reader: the unique
    # one the chase's, (client, day) the messages'.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,  # reminder_fee_notices, reminder_escalation; deleted with a scan
    )
    chase = models.ForeignKey(
        Chase,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_constraint=False,
        db_index=False,  # reminder_once_per_event
    )
    client = models.ForeignKey(
        "ledger.Client",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # reminder_client_day
    )
    invoice = models.ForeignKey(
        "ledger.Invoice", on_delete=models.CASCADE, related_name="reminders", db_constraint=False
    )
    # Neither checked nor indexed: a deleted step leaves an id that reads as no step
    # (a left join), and the reminder keeps its own channels, tone and kind.
    step = models.ForeignKey(
        Step,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # The step's channels when it fired: the messages of (client, fired_on, channel) list it.
    channels = models.CharField(max_length=40)
    position = models.SmallIntegerField()
    occurrence = models.SmallIntegerField(default=0)
    planned_on = models.DateField()  # the event's own date
    fired_on = models.DateField()  # the run's date
    status = models.CharField(max_length=10, choices=ReminderStatus.choices)
    tone = models.CharField(max_length=10, choices=Tone.choices)
    kind = models.CharField(max_length=20, choices=StepKind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chase", "position", "occurrence", "planned_on"],
                name="reminder_once_per_event",
            )
        ]
        indexes = [
            models.Index(fields=["client", "fired_on"], name="reminder_client_day"),
            # The steps acted on after the run, by day: partial, so that the day's
            # messages and calls (nearly every reminder) add nothing to them.
            models.Index(
                fields=["organisation", "fired_on"],
                name="reminder_fee_notices",
                condition=Q(kind="late_fee_notice"),
            ),
            models.Index(
                fields=["organisation", "fired_on"],
                name="reminder_escalation",
                condition=Q(kind__in=ESCALATION_KINDS),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chase_id} step {self.position}.{self.occurrence}"


class AttemptStatus(models.TextChoices):
    SENT = "sent", pgettext_lazy("message status", "Sent")
    FAILED = "failed", _("Failed")
    UNCERTAIN = "uncertain", _("Uncertain")


class Attempt(models.Model):
    """One try at delivering a message: what the provider said and how long it took."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=AttemptStatus.choices)
    provider_id = models.CharField(max_length=250, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.status} {self.started_at:%Y-%m-%d %H:%M}"


class PauseKind(models.TextChoices):
    DISPUTE = "dispute", _("Dispute")
    PROMISE = "promise", _("Promise to pay")
    SNOOZE = "snooze", _("Snooze")
    PAYMENT_PLAN = "plan", _("Payment plan")
    CONTACT_PROBLEM = "contact", _("Bounce or reply to check")


class PauseOutcome(models.TextChoices):
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
    LIFTED = "lifted", _("Lifted")
    EXPIRED = "expired", _("Ended on its date")


class Pause(models.Model):
    """Holds the ladder for a client (``invoice`` empty) or one invoice."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    client = models.ForeignKey("ledger.Client", on_delete=models.CASCADE, related_name="pauses")
    invoice = models.ForeignKey(
        "ledger.Invoice",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pauses",
        verbose_name=_("invoice"),
        help_text=_("Leave empty to pause every invoice of the client."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PauseKind.choices)
    reason = models.TextField(_("reason"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    starts_on = models.DateField(_("from"))
    until = models.DateField(
        _("resume on"),
        null=True,
        blank=True,
        help_text=_("The ladder resumes that day. Empty: until someone lifts the pause."),
    )
    amount = MoneyField(_("promised amount"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, blank=True)
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=PauseOutcome.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        indexes = [
            models.Index(
                fields=["client"], name="pause_active", condition=Q(ended_on__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.client})"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None

    def resume_on(self) -> date:
        """The day the ladder may act again: for a promise, the day after the promised date."""
        if self.until is None:
            return ladder.FOREVER
        if self.kind == PauseKind.PROMISE:
            from datetime import timedelta

            return self.until + timedelta(days=1)
        return self.until


class ChannelState(models.Model):
    """A channel disabled after a permanent error (bad credentials…), with the reason shown."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    disabled_at = models.DateTimeField()
    reason = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "channel"], name="channel_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.reason}"


class Run(models.Model):
    """The heartbeat: one row per organisation and local day the run happened."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    day = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    fired = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "day"], name="run_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day}"


class WorkerBeat(models.Model):
    """Each worker process says it is alive, so the UI can warn when none is."""

    name = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


ZERO = Decimal("0")
