"""``relance simulate --policy P --from D1 --to D2``: replay a policy over past data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relance.dunning.foresight import simulate
from relance.dunning.models import Policy

from ._common import organisations, parse_day


class Command(BaseCommand):
    help = (
        "Replay a reminder policy day by day over a past period of the register (balances as "
        "they were each day) and report what it would have sent, by step and by channel. "
        "Nothing is recorded or sent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--policy", required=True, help="Policy id or name.")
        parser.add_argument("--from", dest="start", required=True, help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="end", required=True, help="Last day (YYYY-MM-DD).")
        parser.add_argument("--organisation", help="Organisation id or legal name.")

    def handle(self, *args: Any, policy: str, start: str, end: str, **options: Any) -> None:
        first, last = parse_day(start, "--from"), parse_day(end, "--to")
        assert first and last
        if last < first:
            raise CommandError("--to is before --from.")
        for organisation in organisations(options["organisation"]):
            found = Policy.objects.filter(organisation=organisation)
            found = found.filter(pk=int(policy)) if policy.isdigit() else found.filter(name=policy)
            chosen = found.first()
            if chosen is None:
                if options["organisation"]:
                    raise CommandError(f"No policy {policy!r} in {organisation}.")
                continue
            result = simulate(organisation, chosen, first, last)
            self.stdout.write(
                f"{organisation}: policy {result.policy!r} from {first} to {last}: "
                f"{result.invoices} invoices chased, {result.messages} messages "
                f"({result.skipped} lower steps skipped)"
            )
            self.stdout.write("by step:")
            for step, count in result.by_step.most_common():
                self.stdout.write(f"  {count:7d}  {step}")
            self.stdout.write("by channel (messages):")
            for channel, count in sorted(result.by_channel.items()):
                self.stdout.write(f"  {count:7d}  {channel}")
