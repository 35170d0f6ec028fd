"""Signals of the banking app.

``statement_imported`` is sent once the import transaction has committed
(``transaction.on_commit``), with ``statement`` (the ``StatementImport``) and
``lines`` (the ``BankLine`` rows it added, possibly empty). The matching
receiver connects to it; the import itself never matches.
"""

from django.dispatch import Signal

statement_imported = Signal()
