"""MT940 samples against the mt940 library's expected outputs (``*.yml``), and
OFX samples against the facts written in them (counts, amounts, dates)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from bankdata import MT940, OFX, read, samples

from relance.banking.parsers import StatementError, parse

yaml = pytest.importorskip("yaml")

# Samples relance refuses, with the reason (a clean StatementError each).
MT940_REFUSED = {
    "cmxl/mt940.sta": "Deutsche Mark (DEM) is not a currency relance accepts",
    "self-provided/raphaelm.sta": "Deutsche Mark (DEM) is not a currency relance accepts",
    "ASNB/0708271685_09022020_164516.940.txt": "the library cannot read its wrapped :61: line",
}


def _expected(path):
    # The expected outputs are the library's own pickled objects (trusted test data).
    with path.with_suffix(".yml").open() as fh:
        return yaml.load(fh, Loader=yaml.UnsafeLoader)


@pytest.mark.parametrize("path", samples(MT940, "*.sta", "*.940.txt"))
def test_mt940_sample_matches_the_expected_output(path):
    data = read(path)
    name = str(path.relative_to(MT940))
    if name in MT940_REFUSED:
        with pytest.raises(StatementError):
            parse(data, path.name)
        return
    if not path.with_suffix(".yml").exists():
        pytest.skip("no expected output shipped")
    expected = _expected(path)
    try:
        statements = parse(data, path.name)
    except StatementError:
        # Samples that are not statements at all (the library keeps nothing either).
        assert not expected.transactions and not expected.data.get("final_opening_balance")
        return
    lines = [line for st in statements for line in st.lines]
    assert len(lines) == len(expected.transactions)
    for line, transaction in zip(lines, expected.transactions, strict=True):
        want = transaction.data
        amount = want["amount"].amount
        assert line.amount == abs(amount)
        # Snippets with no balance name no currency; relance takes the organisation's.
        assert line.currency == (want["amount"].currency or "EUR")
        credit = want["status"] in ("C", "RD")
        assert line.direction == ("credit" if credit else "debit")
        assert line.value_date == date(want["date"].year, want["date"].month, want["date"].day)
        booking = want.get("entry_date") or want.get("guessed_entry_date") or want["date"]
        assert line.booking_date == date(booking.year, booking.month, booking.day)
        e2e = (want.get("end_to_end_reference") or "").strip()
        if e2e and e2e.upper() not in ("NOTPROVIDED", "NONREF"):
            # The library cuts some at the next keyword, relance at the next field.
            assert line.end_to_end_id.startswith(" ".join(e2e.split())[:64])
        iban = (want.get("applicant_iban") or "").strip()
        if iban:
            assert line.payer_iban == iban
        name_ = " ".join((want.get("applicant_name") or "").split())
        if name_ and want.get("applicant_iban"):
            assert line.payer_name.startswith(name_) or name_.startswith(line.payer_name)
    last = expected.data.get("final_closing_balance")
    if last is not None:
        assert last.amount.amount in {st.closing_balance for st in statements}


# Facts read in the OFX samples themselves: lines, first amount (signed), first date.
OFX_FACTS = {
    "anzcc.ofx": (1, Decimal("-5.50"), date(2017, 5, 8)),
    "bank_medium.ofx": (3, Decimal("-6.60"), date(2009, 4, 1)),
    "checking.ofx": (3, Decimal("0.01"), date(2011, 3, 31)),
    "suncorp.ofx": (1, Decimal("-16.85"), date(2013, 12, 15)),
    "ofx-v102-empty-tags.ofx": (1, Decimal("12.34"), date(2018, 5, 7)),
    "multiple_accounts.ofx": (0, None, None),
    "multiple_accounts2.ofx": (0, None, None),
    # Lenient: the blank balance is left out, the line is read.
    "fail_nice/empty_balance.ofx": (1, Decimal("120.00"), date(2011, 3, 8)),
}
# Refused with a clean StatementError, and why.
OFX_REFUSED = {
    "fail_nice/date_missing.ofx": "date missing",
    "fail_nice/decimal_error.ofx": "not an amount",
    "error_message.ofx": "General Server Error",
    "signon_fail.ofx": "refused the sign-on",
    "bank_small.ofx": "no bank statement",
    "account_listing_aggregation.ofx": "no bank statement",
    "signon_success.ofx": "no bank statement",
    "signon_success_no_message.ofx": "no bank statement",
    "fidelity.ofx": "investment",
    "fidelity-savings.ofx": "investment",
    "investment_401k.ofx": "investment",
    "investment_medium.ofx": "investment",
    "td_ameritrade.ofx": "investment",
    "tiaacref.ofx": "investment",
    "vanguard.ofx": "investment",
    "vanguard401k.ofx": "investment",
}


@pytest.mark.parametrize("path", samples(OFX, "*.ofx"))
def test_ofx_sample(path):
    data = read(path)
    name = str(path.relative_to(OFX))
    if name in OFX_REFUSED:
        with pytest.raises(StatementError, match=OFX_REFUSED[name]):
            parse(data, path.name)
        return
    assert name in OFX_FACTS, "every sample is either read or refused on purpose"
    count, first_amount, first_date = OFX_FACTS[name]
    statements = parse(data, path.name)
    lines = [line for st in statements for line in st.lines]
    assert len(lines) == count
    if lines:
        signed = lines[0].amount if lines[0].direction == "credit" else -lines[0].amount
        assert signed == first_amount
        assert lines[0].booking_date == first_date
        assert all(line.bank_reference for line in lines) or name.startswith("ofx-v102")


def test_multiple_accounts_give_one_statement_each():
    data = read(OFX / "multiple_accounts.ofx" if OFX.is_dir() else None)
    statements = parse(data)
    assert [st.account_iban for st in statements] == ["9100", "9200"]
    assert [st.closing_balance for st in statements] == [Decimal("111.00"), Decimal("222.00")]
