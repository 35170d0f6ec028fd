"""``relance serve``: migrate, collect static files and run a real WSGI server."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


def check_port_free(host: str, port: int) -> None:
    """Fail with a one-line message (not a traceback) when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        try:
            probe.bind((host, port))
        except (OSError, OverflowError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise CommandError(f"Cannot listen on {host}:{port}: {reason}") from None


def _worker_loop(interval: int = 60) -> None:
    """``relance worker`` in a thread: one machine, one command."""
    from django.db import close_old_connections

    from relance.worker import run_once

    while True:
        try:
            run_once()
        except Exception:  # keep serving; the heartbeat shows the worker is unwell
            logging.getLogger(__name__).exception("worker pass failed")
        finally:
            close_old_connections()
        time.sleep(interval)


class Command(BaseCommand):
    # Checks run after the port test: the JSONField check opens the database,
    # which would create it even when the port is taken.
    requires_system_checks: list[str] = []
    help = "Apply migrations and serve relance with waitress (static files by WhiteNoise)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not run the worker (reminders, scheduled sends) beside the web server.",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Load the demo organisation first if it is not there yet.",
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        threads: int,
        demo: bool,
        no_worker: bool = False,
        **options: Any,
    ) -> None:
        from waitress import serve

        check_port_free(host, port)  # before migrating: say it at once
        self.check(display_num_errors=False)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        # Imported after collectstatic: WhiteNoise indexes the static folder
        # when the application is built.
        from relance.wsgi import application

        if demo:
            call_command("demo", if_missing=True)
            if not any(k in os.environ for k in ("EMAIL_BACKEND", "EMAIL_HOST")):
                # No mail server configured: the demo's invoices and reminders are written to
                # files instead of failing against localhost:25.
                outbox = Path(settings.DATA_DIR) / "outbox"
                settings.MAILERS = {
                    "default": {
                        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                        "OPTIONS": {"file_path": str(outbox)},
                    }
                }
                self.stdout.write(f"Demo: emails are written to {outbox} instead of being sent.")
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(self.style.SUCCESS(f"relance is running at http://{shown_host}:{port}/"))
        self.stdout.write(f"Data directory: {settings.DATA_DIR}  (Ctrl+C to stop)")
        if not no_worker:
            threading.Thread(target=_worker_loop, name="relance-worker", daemon=True).start()
            self.stdout.write("Worker started: daily reminders and scheduled sends.")
        # Under systemd or a pipe stdout is block-buffered: show the URL now, not at exit.
        self.stdout.flush()
        serve(application, host=host, port=port, threads=threads, ident="relance")
