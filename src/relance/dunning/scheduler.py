"""When the daily run happens: at each organisation's hour, once per local day.

The worker calls ``tick`` every minute. An organisation's run is claimed by
inserting its (organisation, day) heartbeat row, so two workers never decide
the same day side by side; a run left unfinished by a dead worker is taken over
after a while (the run itself is idempotent, so finishing it twice is harmless).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from relance.escalation import steps as escalation
from relance.fees import booking as fees
from relance.organisations.models import Organisation
from relance.plans import service as plans
from relance.rules.terms import is_business_day

from . import dispatch, engine
from .models import DunningSettings, Run, WorkerBeat

log = logging.getLogger(__name__)

TAKE_OVER_AFTER = timedelta(minutes=30)
STALE_BEAT = timedelta(minutes=5)


@dataclass
class Tick:
    runs: list[engine.RunReport] = field(default_factory=list)
    delivered: dispatch.DispatchReport | None = None


def run_due(organisation: Organisation, now: datetime) -> bool:
    """Has the organisation's hour come today, on a day it sends?"""
    settings = DunningSettings.for_org(organisation)
    local = timezone.localtime(now, organisation.tzinfo)
    if local.hour < settings.run_hour:
        return False
    # On a weekend or holiday the next business day's run catches up.
    return not settings.business_days_only or is_business_day(
        local.date(), organisation.country or "FR"
    )


def claim(organisation: Organisation, now: datetime) -> bool:
    """Take today's run for this organisation, unless it is done or another worker has it."""
    day = organisation.today(now)
    try:
        with transaction.atomic():
            Run.objects.create(organisation=organisation, day=day, started_at=now)
        return True
    except IntegrityError:
        pass
    # Left unfinished by a worker that died: take it over after a while.
    return bool(
        Run.objects.filter(
            organisation=organisation,
            day=day,
            finished_at__isnull=True,
            started_at__lt=now - TAKE_OVER_AFTER,
        ).update(started_at=now)
    )


def beat(name: str, now: datetime) -> None:
    WorkerBeat.objects.update_or_create(name=name, defaults={"seen_at": now})


def tick(now: datetime | None = None, *, worker: str | None = None) -> Tick:
    now = now or timezone.now()
    worker = worker or dispatch.worker_name()
    beat(worker, now)
    result = Tick()
    done_today = {
        (org_id, day)
        for org_id, day in Run.objects.filter(
            day__gte=(now - timedelta(days=1)).date(), finished_at__isnull=False
        ).values_list("organisation_id", "day")
    }
    for organisation in Organisation.objects.all():
        if (organisation.pk, organisation.today(now)) in done_today:
            continue
        if run_due(organisation, now) and claim(organisation, now):
            try:
                # Plans broken or completed and offers settled first: the run then sees them.
                plans.check(organisation, organisation.today(now))
            except Exception:
                log.exception("plans and offers of organisation %s", organisation.pk)
            try:
                result.runs.append(engine.run(organisation, organisation.today(now)))
            except Exception:
                log.exception("daily run of organisation %s", organisation.pk)
            try:
                # Late-fee notices whose 48 hours are over book their fees.
                fees.book_due(organisation, organisation.today(now))
            except Exception:
                log.exception("late fees of organisation %s", organisation.pk)
            try:
                # Work stop, formal notice, hand-off and write-off steps that fired.
                escalation.act(organisation, organisation.today(now))
            except Exception:
                log.exception("escalation steps of organisation %s", organisation.pk)
    result.delivered = dispatch.dispatch(now, worker=worker)
    return result


def heartbeat(organisation: Organisation, now: datetime | None = None) -> dict:
    """What the pages show: last run, next run, and whether a worker is alive."""
    now = now or timezone.now()
    settings = DunningSettings.for_org(organisation)
    last = Run.objects.filter(organisation=organisation, finished_at__isnull=False).first()
    local = timezone.localtime(now, organisation.tzinfo)
    next_day = local.date()
    if (last is not None and last.day >= next_day) or local.hour >= settings.run_hour:
        next_day += timedelta(days=1)
    while settings.business_days_only and not is_business_day(
        next_day, organisation.country or "FR"
    ):
        next_day += timedelta(days=1)
    next_run = datetime.combine(
        next_day, datetime.min.time().replace(hour=settings.run_hour), organisation.tzinfo
    )
    seen = WorkerBeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    worker_alive = seen is not None and seen >= now - STALE_BEAT
    expected = local.date() - timedelta(days=1)
    stale = last is None or last.day < expected - timedelta(days=3)  # allow for weekends
    return {
        "last_run": last,
        "next_run": next_run,
        "worker_alive": worker_alive,
        "worker_seen": seen,
        "stale": stale or not worker_alive,
    }
