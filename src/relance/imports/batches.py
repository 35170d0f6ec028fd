"""An import batch from upload to confirmation: keep the files, read them
with the batch's options, and hand the rows to the service."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from relance.imports import csv_import, einvoices, fec
from relance.imports.csv_import import CsvError, Options, Table
from relance.imports.models import (
    ImportBatch,
    ImportFile,
    ImportKind,
    ImportStatus,
    fingerprint,
)
from relance.imports.rows import Parsed
from relance.organisations.models import Organisation

MAX_FILE_SIZE = 50 * 1024 * 1024
MAX_FILES = 200
PENDING_LIFETIME = timedelta(days=2)


def start(
    organisation: Organisation, kind: str, files: list[tuple[str, bytes]], *, author: Any = None
) -> ImportBatch:
    """Keep the uploaded files in a pending batch (and forget stale pending ones)."""
    names = [name for name, _data in files]
    filename = names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1})"
    with transaction.atomic():
        ImportBatch.objects.filter(
            organisation=organisation,
            status=ImportStatus.PENDING,
            created_at__lt=timezone.now() - PENDING_LIFETIME,
        ).delete()
        batch = ImportBatch.objects.create(
            organisation=organisation,
            kind=kind,
            filename=filename[:255],
            sha256=fingerprint([data for _name, data in files]),
            size=sum(len(data) for _name, data in files),
            author=author,
            options=default_options(organisation),
        )
        ImportFile.objects.bulk_create(
            ImportFile(
                batch=batch, name=name[:255], sha256=fingerprint([data]), content=bytes(data)
            )
            for name, data in files
        )
    return batch


def default_options(organisation: Organisation) -> dict[str, Any]:
    return {"currency": organisation.currency, "terms_days": 30}


def earlier_import(batch: ImportBatch) -> ImportBatch | None:
    """A finished import of the same file(s) in the same organisation."""
    return (
        ImportBatch.objects.filter(
            organisation_id=batch.organisation_id, sha256=batch.sha256, status=ImportStatus.DONE
        )
        .exclude(pk=batch.pk)
        .select_related("author")
        .first()
    )


def contents(batch: ImportBatch) -> list[tuple[str, bytes]]:
    return [(f.name, bytes(f.content)) for f in batch.files.all()]


def table(batch: ImportBatch) -> Table:
    """The CSV table of a CSV batch (raises CsvError)."""
    return csv_import.read_table(contents(batch)[0][1])


def csv_options(batch: ImportBatch, sheet: Table) -> Options:
    """The batch's CSV options; the guessed mapping until the user chose one."""
    saved = batch.options
    mapping = saved.get("mapping")
    if mapping is None:
        mapping = csv_import.guess_mapping(sheet.header)
    return Options(
        mapping={k: int(v) for k, v in mapping.items() if int(v) < len(sheet.header)},
        date_format=saved.get("date_format", "auto"),
        decimal_mark=saved.get("decimal_mark", "auto"),
        currency=saved.get("currency", "EUR"),
        terms_days=int(saved.get("terms_days", 30)),
        pad_to=int(saved.get("pad_to", 0)),
    )


def save_csv_options(batch: ImportBatch, options: Options) -> None:
    values = asdict(options)
    values["mapping"] = dict(options.mapping)
    batch.options = values
    batch.save(update_fields=["options"])


def read(batch: ImportBatch) -> tuple[Parsed, dict[str, str]]:
    """The batch's files as rows and problems, and the file's column of each field."""
    files = contents(batch)
    saved = batch.options
    terms = int(saved.get("terms_days", 30))
    currency = saved.get("currency", batch.organisation.currency)
    try:
        if batch.kind == ImportKind.CSV:
            sheet = csv_import.read_table(files[0][1])
            options = csv_options(batch, sheet)
            columns = {name: sheet.header[i] for name, i in options.mapping.items()}
            return csv_import.parse(sheet, options), columns
        if batch.kind == ImportKind.FEC:
            return fec.parse(files[0][1], terms_days=terms, currency=currency), {
                "number": "PieceRef"
            }
    except CsvError as exc:
        return Parsed(errors=[exc.problem]), {}
    org = batch.organisation
    parsed = einvoices.parse(files, own_siren=org.siren, own_vat=org.vat_number, terms_days=terms)
    return parsed, {}
