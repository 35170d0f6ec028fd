"""XSD + the official EN 16931 schematron: our invoices pass, broken ones do not.

The schematron runs in a Saxon child process; one batch per test module
(the ``batch`` fixture) compiles the CEN stylesheet once for every document
these tests look at. Tests with home-made stylesheets prove that a run which
produced no report is a failure, never a pass.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from relance.einvoice import validation
from relance.einvoice.cii import to_cii
from relance.einvoice.document import VAT_EXEMPT, VAT_INTRA_EU
from relance.einvoice.samples import varied_documents
from relance.einvoice.validation import (
    ARTEFACTS_ENV,
    SchematronError,
    artefacts_dir,
    validate,
    validate_many,
    xsd_errors,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CEN = SHARED / "einvoice" / "en16931-cen"
CEN_EXAMPLES = sorted((CEN / "cii" / "examples").glob("*.xml"))

SAMPLES = 60
BASIC = 24


def need_shared_data() -> None:
    if not (CEN / validation.XSLT).is_file():
        pytest.skip("../shared/data absent: no EN 16931 schematron to run")


def broken_documents() -> dict[str, tuple[bytes, str]]:
    """Documents with one mistake each, and the rule that must catch it."""
    documents = varied_documents(12)
    standard, franchise, intra_eu = documents[0], documents[2], documents[4]
    assert franchise.lines[0].vat_category == VAT_EXEMPT
    assert intra_eu.lines[0].vat_category == VAT_INTRA_EU
    cent = Decimal("0.01")
    row = standard.vat_breakdown[0]
    two = Decimal("2.00")  # BR-CO-17 tolerates one unit of rounding, not two
    cases = {
        "gross is not net + VAT": (
            replace(standard, total_gross=standard.total_gross + 1),
            "BR-CO-15",
        ),
        "amount due is not gross - prepaid": (
            replace(standard, amount_due=standard.amount_due - cent),
            "BR-CO-16",
        ),
        "net total is not the sum of the lines": (
            replace(standard, total_net=standard.total_net + cent),
            "BR-CO-13",
        ),
        "VAT of a rate is not base x rate": (
            replace(
                standard,
                vat_breakdown=(replace(row, amount=row.amount + two), *standard.vat_breakdown[1:]),
                total_vat=standard.total_vat + two,
                total_gross=standard.total_gross + two,
                amount_due=standard.amount_due + two,
            ),
            "BR-CO-17",
        ),
        "no seller name": (replace(standard, seller=replace(standard.seller, name="")), "BR-06"),
        "exempt without a reason": (
            replace(
                franchise,
                vat_breakdown=tuple(
                    replace(r, exemption_reason="", exemption_code="")
                    for r in franchise.vat_breakdown
                ),
            ),
            "BR-E-10",
        ),
        "intra-EU supply to a buyer without VAT number": (
            replace(intra_eu, buyer=replace(intra_eu.buyer, vat_number="")),
            "BR-IC-02",
        ),
    }
    return {name: (to_cii(document), rule) for name, (document, rule) in cases.items()}


@pytest.fixture(scope="module")
def batch():
    """Every document these tests check, through one Saxon child process."""
    need_shared_data()
    samples = [to_cii(document) for document in varied_documents(SAMPLES)]
    basic = [to_cii(document, profile="basic") for document in varied_documents(BASIC)]
    broken = broken_documents()
    examples = [path.read_bytes() for path in CEN_EXAMPLES]
    stranger = b"<invoice><total>12</total></invoice>"
    xmls = [*samples, *basic, *(xml for xml, _ in broken.values()), *examples, stranger]
    reports = validate_many(xmls, artefacts=CEN)
    cut = iter(reports)
    return {
        "samples": list(zip(samples, [next(cut) for _ in samples], strict=True)),
        "basic": list(zip(basic, [next(cut) for _ in basic], strict=True)),
        "broken": {name: (rule, next(cut)) for name, (_, rule) in broken.items()},
        "examples": {path.name: next(cut) for path in CEN_EXAMPLES},
        "stranger": next(cut),
    }


def test_every_sample_passes_the_xsd_and_the_en16931_schematron(batch):
    assert len(batch["samples"]) == SAMPLES
    failures = {
        index: report.summary()
        for index, (_, report) in enumerate(batch["samples"])
        if not report.ok
    }
    assert failures == {}
    for _, report in batch["samples"]:
        assert report.failed_asserts == () and report.xsd_errors == ()
        assert report.warnings == ()
        # The rules really ran: dozens fired on each invoice.
        assert report.fired_rules > 50


def test_basic_profile_samples_pass_their_xsd_and_the_schematron(batch):
    for xml, report in batch["basic"]:
        assert report.ok, report.summary()
        assert xsd_errors(xml, "basic") == ()


def test_the_validator_names_the_rule_a_broken_document_breaks(batch):
    for name, (rule, report) in batch["broken"].items():
        assert not report.ok, name
        assert rule in report.rule_ids, f"{name}: {report.rule_ids}"
        failed = next(a for a in report.failed_asserts if a.id == rule)
        assert failed.flag == "fatal"
        assert failed.location.startswith("/")
        assert rule in failed.text
        assert rule in report.summary()


def test_the_official_cen_examples_validate(batch):
    assert len(batch["examples"]) >= 10
    failures = {name: r.summary() for name, r in batch["examples"].items() if not r.ok}
    assert failures == {}


def test_a_document_the_schematron_does_not_recognise_is_not_valid(batch):
    report = batch["stranger"]
    assert not report.ok
    assert report.fired_rules == 0
    assert "no rule fired" in report.problem
    assert report.xsd_errors  # the Factur-X XSD refuses it too


def test_malformed_xml_is_reported_without_running_saxon(tmp_path):
    report = validate(b"<rsm:CrossIndustryInvoice", artefacts=fake_artefacts(tmp_path, EMPTY))
    assert not report.ok
    assert report.problem == "not well-formed XML"
    assert report.xsd_errors[0].startswith("not well-formed XML")


# A run that produced no report is a failure ---------------------------------

EMPTY = """<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text"/>
  <xsl:template match="/"/>
</xsl:stylesheet>"""

SILENT_SVRL = """<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <xsl:template match="/"><svrl:schematron-output/></xsl:template>
</xsl:stylesheet>"""

FAILS_ON_SOME = """<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <xsl:template match="/">
    <xsl:if test="/boom"><xsl:message terminate="yes">boom</xsl:message></xsl:if>
    <svrl:schematron-output>
      <svrl:fired-rule context="/"/>
      <svrl:failed-assert id="X-1" location="/ok"><svrl:text>no flag</svrl:text>
      </svrl:failed-assert>
      <svrl:failed-assert id="X-2" flag="warning" location="/ok"><svrl:text>mind</svrl:text>
      </svrl:failed-assert>
    </svrl:schematron-output>
  </xsl:template>
</xsl:stylesheet>"""

BROKEN_XSLT = """<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/"><xsl:value-of select="(("/></xsl:template>
</xsl:stylesheet>"""


def fake_artefacts(tmp_path: Path, stylesheet: str) -> Path:
    xslt = tmp_path / validation.XSLT
    xslt.parent.mkdir(parents=True)
    xslt.write_text(stylesheet)
    return tmp_path


def test_a_missing_stylesheet_raises_and_names_where_it_looked(tmp_path):
    with pytest.raises(SchematronError, match=str(tmp_path)):
        validate_many([b"<a/>"], artefacts=tmp_path)


def test_the_environment_names_the_artefacts(tmp_path, monkeypatch):
    monkeypatch.setenv(ARTEFACTS_ENV, str(tmp_path / "nowhere"))
    assert artefacts_dir() == tmp_path / "nowhere"
    with pytest.raises(SchematronError, match="nowhere"):
        validate(b"<a/>")
    assert artefacts_dir(CEN) == CEN.resolve()  # an argument wins over the environment


def test_a_checkout_finds_the_shared_artefacts_by_default(monkeypatch):
    monkeypatch.delenv(ARTEFACTS_ENV, raising=False)
    assert artefacts_dir() == CEN.resolve()


def test_a_stylesheet_that_does_not_compile_raises(tmp_path):
    with pytest.raises(SchematronError, match="Saxon failed"):
        validate(b"<a/>", artefacts=fake_artefacts(tmp_path, BROKEN_XSLT))


def test_no_svrl_output_is_a_failure(tmp_path):
    report = validate(b"<a/>", artefacts=fake_artefacts(tmp_path, EMPTY))
    assert not report.ok
    assert report.problem == "the schematron produced no report"
    assert report.failed_asserts == ()


def test_an_svrl_where_no_rule_fired_is_a_failure(tmp_path):
    report = validate(b"<a/>", artefacts=fake_artefacts(tmp_path, SILENT_SVRL))
    assert not report.ok
    assert report.fired_rules == 0
    assert "no rule fired" in report.problem


def test_one_child_process_for_a_batch_and_per_document_saxon_errors(tmp_path, monkeypatch):
    calls = []
    real_popen = subprocess.Popen

    def counting_popen(*args, **kwargs):
        calls.append(args)
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(validation.subprocess, "Popen", counting_popen)
    artefacts = fake_artefacts(tmp_path, FAILS_ON_SOME)
    first, boom, last = validate_many([b"<a/>", b"<boom/>", b"<b/>"], artefacts=artefacts)
    assert len(calls) == 1
    # Saxon stopped on the second document only; the others were reported.
    assert "terminated by xsl:message" in boom.problem and not boom.ok
    for report in (first, last):
        assert report.problem == "" and report.fired_rules == 1
        # An assert without a flag counts as an error; a warning does not fail.
        assert [(a.id, a.flag, a.text) for a in report.failed_asserts] == [
            ("X-1", "error", "no flag")
        ]
        assert [(a.id, a.flag) for a in report.warnings] == [("X-2", "warning")]
        assert not report.ok


def test_an_empty_batch_runs_nothing(tmp_path):
    assert validate_many([], artefacts=fake_artefacts(tmp_path, EMPTY)) == []


def test_a_doctype_is_refused_before_saxon_sees_it(tmp_path, monkeypatch):
    def no_child(*args, **kwargs):
        raise AssertionError("Saxon must not read a document with a DOCTYPE")

    monkeypatch.setattr(validation.subprocess, "Popen", no_child)
    xxe = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    report = validate(xxe, artefacts=fake_artefacts(tmp_path, FAILS_ON_SOME))
    assert not report.ok
    assert report.problem == "a DOCTYPE is not allowed in an e-invoice"
