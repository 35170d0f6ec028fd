"""Validate a batch of generated Factur-X invoices: XSD + the official EN 16931 schematron.

    uv run python bench/validate_facturx.py [--count 200] [--seed 0] [--profile en16931|basic]
                                            [--pdf] [--artefacts DIR]

Builds ``--count`` varied documents (relance.einvoice.samples), writes each as
CII XML (relance.einvoice.cii), optionally embeds it in a PDF/A-3 and reads it
back (``--pdf``: the invoice PDF of relance.invoicing.pdf, the XML attached in
the same pass, as relance issues invoices), then validates the whole batch with one Saxon
child process. Prints the counts of valid documents, of failed asserts and
warnings by rule id, and the time of each step; exits with status 1 if any
document is not valid.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def set_up_django() -> None:
    """The XML's notes are translated: Django's i18n needs settings."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    if not os.environ.get("RELANCE_DATA_DIR"):
        os.environ["RELANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="relance-bench-facturx-")
    import django

    django.setup()


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", choices=("en16931", "basic"), default="en16931")
    parser.add_argument("--pdf", action="store_true", help="embed in a PDF and extract again")
    parser.add_argument("--artefacts", help="EN 16931 artefacts directory (en16931-cen)")
    options = parser.parse_args()

    set_up_django()
    from relance.einvoice.cii import to_cii
    from relance.einvoice.facturx import extract_xml
    from relance.einvoice.samples import varied_documents
    from relance.einvoice.validation import artefacts_dir, validate_many

    print(
        f"Factur-X validation: {options.count} documents, profile {options.profile}, "
        f"seed {options.seed}"
    )
    print(f"  EN 16931 artefacts: {artefacts_dir(options.artefacts)}")
    started = time.perf_counter()
    documents = varied_documents(options.count, options.seed)
    xmls, cii_times = [], []
    for document in documents:
        tick = time.perf_counter()
        xmls.append(to_cii(document, profile=options.profile))
        cii_times.append(time.perf_counter() - tick)
    print(
        f"  documents + CII XML: {milliseconds(time.perf_counter() - started)} "
        f"(CII median {milliseconds(statistics.median(cii_times))} per document)"
    )
    if options.pdf:
        from relance.invoicing.pdf import render_pdf

        render_times, extracted = [], []
        for document, xml in zip(documents, xmls, strict=True):
            tick = time.perf_counter()
            made = render_pdf(document, facturx_xml=xml, profile=options.profile)
            render_times.append(time.perf_counter() - tick)
            extracted.append(extract_xml(made))
        assert extracted == xmls, "an embedded XML did not come back unchanged"
        print(
            "  Factur-X PDF (relance.invoicing.pdf.render_pdf): median "
            f"{milliseconds(statistics.median(render_times))}; "
            "every XML extracted unchanged"
        )
        xmls = extracted

    tick = time.perf_counter()
    reports = validate_many(xmls, profile=options.profile, artefacts=options.artefacts)
    elapsed = time.perf_counter() - tick
    print(
        f"  XSD + EN 16931 schematron, one Saxon process: {elapsed:.2f} s "
        f"({milliseconds(elapsed / max(len(xmls), 1))} per document)"
    )

    valid = sum(report.ok for report in reports)
    failed = Counter(a.id for report in reports for a in report.failed_asserts)
    warnings = Counter(a.id for report in reports for a in report.warnings)
    problems = Counter(report.problem for report in reports if report.problem)
    xsd = sum(bool(report.xsd_errors) for report in reports)
    fired = [report.fired_rules for report in reports]
    categories = Counter(line.vat_category for d in documents for line in d.lines)
    currencies = Counter(d.currency for d in documents)
    kinds = Counter(d.kind for d in documents)
    print(f"  variety: VAT categories {dict(categories)}, currencies {dict(currencies)}, "
          f"{dict(kinds)}")  # fmt: skip
    if fired:
        print(f"  rules fired per document: min {min(fired)}, median {statistics.median(fired)}")
    print(f"  valid: {valid} / {len(reports)}")
    print(f"  documents with XSD errors: {xsd}")
    print(f"  failed asserts by rule: {dict(failed.most_common()) or 'none'}")
    print(f"  warnings by rule: {dict(warnings.most_common()) or 'none'}")
    if problems:
        print(f"  schematron did not run properly: {dict(problems)}")
    for document, report in zip(documents, reports, strict=True):
        if not report.ok:
            print(f"\n{document.number}:\n{report.summary()}")
            break  # the first one in full is enough to start from
    return 0 if valid == len(reports) else 1


if __name__ == "__main__":
    sys.exit(main())
