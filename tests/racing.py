"""Real races on PostgreSQL: threads, each with its own connection, released
together by a barrier so that they really compete for the same rows."""

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction

from relance.ledger.models import Invoice


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else frozen for the transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def hold_row_lock(invoice: Invoice, waiters: int, locked: threading.Event) -> None:
    """Lock an invoice until `waiters` connections queue for locks, then let them go at once.

    This lines the racers up on the same row, deterministically.
    """
    deadline = time.monotonic() + 20
    try:
        with transaction.atomic():
            Invoice.objects.select_for_update().get(pk=invoice.pk)
            locked.set()
            while waiting_on_locks() < waiters and time.monotonic() < deadline:
                time.sleep(0.01)  # polling other connections, not waiting on a clock
    finally:
        connection.close()


def race(
    jobs: list[Callable[[], object]], *, line_up_on: Invoice | None = None
) -> tuple[list[object], list[Exception]]:
    """Run the jobs in parallel threads; return their results and their errors.

    With ``line_up_on``, the invoice is held locked until every job waits for it.
    """
    blocker = None
    if line_up_on is not None:
        locked = threading.Event()
        blocker = threading.Thread(target=hold_row_lock, args=(line_up_on, len(jobs), locked))
        blocker.start()
        assert locked.wait(timeout=20)
    barrier = threading.Barrier(len(jobs))
    results: list[object] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcome = job()
            with lock:
                results.append(outcome)
        except Exception as exc:  # collected and asserted on by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    if blocker is not None:
        blocker.join(timeout=30)
    return results, errors
