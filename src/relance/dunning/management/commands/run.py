"""``relance run [--as-of DATE] [--dry-run]``: the daily reminder run, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from relance.dunning import dispatch, engine
from relance.escalation import steps as escalation
from relance.fees import booking as fees

from ._common import organisations, parse_day


class Command(BaseCommand):
    help = (
        "Decide and record today's reminders for every organisation (or one), then deliver "
        "what is due. --as-of runs a given day exactly as that day would have; --dry-run "
        "shows what would happen and records nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="The day to run (YYYY-MM-DD); default: today.")
        parser.add_argument("--dry-run", action="store_true", help="Record and send nothing.")
        parser.add_argument("--organisation", help="Organisation id or legal name.")
        parser.add_argument(
            "--no-send", action="store_true", help="Record the reminders but do not deliver them."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = parse_day(options["as_of"], "--as-of")
        for organisation in organisations(options["organisation"]):
            day = as_of or organisation.today()
            report = engine.run(organisation, day, dry_run=options["dry_run"])
            label = "would fire" if report.dry_run else "fired"
            self.stdout.write(
                f"{organisation} {day.isoformat()}: looked at {report.looked}, {label} "
                f"{report.fired} steps ({report.skipped} lower steps skipped), "
                f"{report.messages} new messages, {report.closed} closed, {report.held} held"
            )
            if report.waiting_for_credit:
                self.stdout.write(
                    f"  {report.waiting_for_credit} clients not chased today: a bank credit "
                    "that could be theirs awaits review"
                )
            if report.statement_age_days is not None:
                self.stdout.write(
                    f"  warning: the last bank statement was imported {report.statement_age_days}"
                    " days ago; payments received since are unknown"
                )
            for channel, count in sorted(report.by_channel.items()):
                self.stdout.write(f"  {channel}: {count}")
            if not report.dry_run:
                booked = fees.book_due(organisation, day)
                self.stdout.write(f"  late fees booked: {booked.booked}")
                for blocked in booked.blocked:
                    self.stdout.write(f"  late fee blocked: {blocked}")
                acted = escalation.act(organisation, day)
                self.stdout.write(f"  escalation steps acted on: {acted}")
        if not options["dry_run"] and not options["no_send"]:
            delivered = dispatch.dispatch(timezone.now())
            self.stdout.write(
                f"delivered {delivered.sent}, letters to print {delivered.letters}, "
                f"retrying {delivered.retried}, failed {delivered.failed}, "
                f"uncertain {delivered.uncertain}, cancelled {delivered.cancelled}, "
                f"waiting for the sending window {delivered.deferred}"
            )
