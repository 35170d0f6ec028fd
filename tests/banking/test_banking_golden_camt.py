"""camt samples against genkgo/camt's own expected parse (``*.json`` next to each file).

Compared: what both models hold — statement count, account, balances, and
per line the amount, currency, direction, dates, bank reference, end-to-end
id, creditor reference, remittance and the payer. Pending entries (Sts PDNG)
are left out on purpose: only booked money is imported.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from bankdata import CAMT, read, samples

from relance.banking.parsers import StatementError, parse
from relance.rules.money import CURRENCIES

CAMT_FILES = [p for p in samples(CAMT, "*.xml") if "wrong" not in str(p.values[0] or "")]


def money(value: dict) -> tuple[Decimal, str]:
    code = value["getCurrency"]["getCode"]
    return abs(Decimal(value["getAmount"]).scaleb(-CURRENCIES.get(code, 2))), code


RECORDS = ("\\Statement", "\\Report", "\\Notification")


def walk(node):
    """Every dict in the JSON dump (a record appears once in full, then as a marker)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def entries(node, found=None, seen=None) -> list[dict]:
    """Every Entry object in the JSON dump, in document order, each once."""
    found = [] if found is None else found
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        if node.get("__CLASS__", "").endswith("\\Entry") and id(node) not in seen:
            seen.add(id(node))
            found.append(node)
        for key, value in node.items():
            if key != "getRecord":
                entries(value, found, seen)
    elif isinstance(node, list):
        for value in node:
            entries(value, found, seen)
    return found


def details(entry: dict) -> list[dict]:
    return [
        td if isinstance(td, dict) else entry["getTransactionDetail"]
        for td in entry["getTransactionDetails"]
    ]


def detail_amount(td: dict):
    value = td.get("getAmount")
    if isinstance(value, dict) and int(value["getAmount"]) != 0:
        return money(value)
    amounts = td.get("getAmountDetails")
    if isinstance(amounts, dict) and isinstance(amounts.get("getAmount"), dict):
        return money(amounts["getAmount"])
    return None


def date_of(value) -> str | None:
    return value["0"][:10] if isinstance(value, dict) else None


def parties(td: dict, kinds: tuple[str, ...]) -> tuple[set, set]:
    names, ibans = set(), set()
    for party in td.get("getRelatedParties") or []:
        if not isinstance(party, dict):
            continue
        kind = party["getRelatedPartyType"]
        if isinstance(kind, dict) and kind["__CLASS__"].rsplit("\\", 1)[-1] in kinds:
            names.add(" ".join((kind.get("getName") or "").split()))
            account = party.get("getAccount")
            if isinstance(account, dict):
                ibans.add(account.get("getIdentification") or "")
    return names, ibans


def expected_lines(entry: dict) -> list[dict]:
    tds = details(entry)
    amounts = [detail_amount(td) for td in tds]
    base = {
        "booking_date": date_of(entry["getBookingDate"]),
        "value_date": date_of(entry["getValueDate"]),
        "direction": "credit" if entry["getCreditDebitIndicator"] == "CRDT" else "debit",
        "reference": entry["getAccountServicerReference"],
    }
    if len(tds) > 1 and all(amounts):
        return [
            dict(base, amount=a, details=[td], batch=True)
            for a, td in zip(amounts, tds, strict=True)
        ]
    return [dict(base, amount=money(entry["getAmount"]), details=tds, batch=False)]


@pytest.mark.parametrize("path", CAMT_FILES)
def test_camt_sample_matches_genkgo(path):
    data = read(path)
    expected = json.loads(path.with_suffix(".json").read_text())
    statements = parse(data, path.name)
    records = {id(r): r for r in walk(expected) if r.get("__CLASS__", "").endswith(RECORDS)}
    by_id = {r["getId"]: r for r in records.values()}
    assert len(statements) == len(expected["getRecords"])
    for st in statements:
        assert st.format[-2:] in path.name[:7]
        record = by_id.get(st.statement_id)
        if record is None or len(by_id) != len(expected["getRecords"]):
            continue  # two statements with one id: the balances cannot be paired
        account = record["getAccount"]
        assert st.account_iban == (account.get("getIdentification") or "")
        balances: dict[str, set] = {"opening": set(), "closing": set()}
        for balance in record.get("getBalances") or []:
            amount, code = money(balance["getAmount"])
            signed = -amount if balance["getAmount"]["getAmount"].startswith("-") else amount
            if balance["getType"] in balances and code == st.currency:
                balances[balance["getType"]].add(signed)
        if balances["opening"]:
            assert st.opening_balance in balances["opening"]
        if balances["closing"]:
            assert st.closing_balance in balances["closing"]
    booked = [e for e in entries(expected) if e.get("getStatus") in (None, "BOOK")]
    wanted = [line for entry in booked for line in expected_lines(entry)]
    got = [line for st in statements for line in st.lines]
    if len(entries(expected)) < data.count(b"<Ntry>"):
        # The dump lost entries behind its recursion markers (multi.statement):
        # each entry it kept must be among ours, paired by amount and direction.
        assert sum(st.skipped for st in statements) + len(
            [e for st in statements for e in st.lines]
        ) >= data.count(b"<Ntry>")
        got = [next(g for g in got if (g.amount, g.currency) == w["amount"]) for w in wanted]
    assert len(got) == len(wanted)
    pending = [e for e in entries(expected) if e.get("getStatus") not in (None, "BOOK")]
    assert sum(st.skipped for st in statements) == len(pending)
    for line, want in zip(got, wanted, strict=True):
        assert (line.amount, line.currency) == want["amount"]
        assert line.direction == want["direction"]
        if want["booking_date"]:
            assert line.booking_date.isoformat() == want["booking_date"]
        if want["value_date"]:
            assert line.value_date.isoformat() == want["value_date"]
        if want["reference"]:
            assert line.bank_reference.startswith(want["reference"])
        tds = want["details"]
        e2e = {(td.get("getReference") or {}).get("getEndToEndId") for td in tds} - {None}
        if e2e - {"NOTPROVIDED"}:
            assert line.end_to_end_id in e2e
        refs, texts = set(), []
        for td in tds:
            info = td.get("getRemittanceInformation")
            if not isinstance(info, dict):
                continue
            for block in [info.get("getStructuredBlock"), *(info.get("getStructuredBlocks") or [])]:
                cref = (
                    block.get("getCreditorReferenceInformation")
                    if isinstance(block, dict)
                    else None
                )
                if isinstance(cref, dict) and cref.get("getRef"):
                    refs.add(cref["getRef"])
            for block in info.get("getUnstructuredBlocks") or []:
                if isinstance(block, dict) and block.get("getMessage"):
                    texts.append(" ".join(block["getMessage"].split()))
            cref = info.get("getCreditorReferenceInformation")
            if isinstance(cref, dict) and cref.get("getRef"):
                refs.add(cref["getRef"])
        if refs and len(tds) == 1:
            assert line.structured_reference in refs
        for text in texts:
            assert text in line.remittance
        kinds = (
            ("Debtor", "UltimateDebtor")
            if line.direction == "credit"
            else (
                "Creditor",
                "UltimateCreditor",
            )
        )
        names, ibans = set(), set()
        for td in tds:
            n, i = parties(td, kinds)
            names |= n
            ibans |= i
        if line.payer_name:
            assert line.payer_name in names
        elif names - {""}:
            pytest.fail(f"payer missing; expected one of {names}")
        if line.payer_iban:
            assert line.payer_iban in ibans


def test_the_wrong_camt_sample_is_a_clean_error():
    data = read(CAMT / "camt053.v2.wrong.xml" if CAMT.is_dir() else None)
    with pytest.raises(StatementError):
        parse(data, "camt053.v2.wrong.xml")


def test_five_decimal_amounts_pass_when_exact_and_fail_when_not():
    data = read(CAMT / "camt053.v2.five.decimals.xml" if CAMT.is_dir() else None)
    [st] = parse(data)
    assert st.lines[0].amount == Decimal("8.85")  # "8.850": the trailing zero is harmless
    broken = data.replace(b">8.850<", b">8.855<")
    with pytest.raises(StatementError, match="more decimals than EUR") as error:
        parse(broken)
    assert error.value.line is not None
