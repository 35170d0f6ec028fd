"""An import: the uploaded file(s), the choices made on the way, and what it created.

The upload is kept in the database between the steps (mapping, preview,
confirmation) so any web process can serve the next step; once imported,
the bytes are dropped and the fingerprint (SHA-256) stays, so the same file
uploaded again is recognised.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.organisations.models import Organisation, TenantQuerySet


class ImportKind(models.TextChoices):
    CSV = "csv", _("CSV file")
    FEC = "fec", _("FEC (French accounting export)")
    EINVOICE = "einvoice", _("E-invoices (Factur-X, CII, UBL)")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Not imported yet")
    DONE = "done", _("Import done")


def fingerprint(contents: list[bytes]) -> str:
    """The SHA-256 of one file; of several, the SHA-256 of their sorted fingerprints."""
    digests = sorted(hashlib.sha256(data).hexdigest() for data in contents)
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("".join(digests).encode()).hexdigest()


class ImportBatch(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="import_batches"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    filename = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    # The mapping page's choices (columns, date format, decimal mark, …).
    options = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField(_("invoices created"), default=0)
    skipped_count = models.PositiveIntegerField(_("invoices already there"), default=0)
    clients_created = models.PositiveIntegerField(_("clients created"), default=0)
    # The first invoices created, for links on the result page.
    created_ids = models.JSONField(default=list, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            models.Index(fields=["organisation", "sha256"], name="import_org_sha"),
            models.Index(fields=["organisation", "-created_at"], name="import_org_created"),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_done(self) -> bool:
        return self.status == ImportStatus.DONE


class ImportFile(models.Model):
    """One uploaded file of a batch (several for e-invoices)."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField(default=b"")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
