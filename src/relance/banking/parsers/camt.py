"""ISO 20022 camt.052 (account report), camt.053 (statement), camt.054 (notification).

Every version read the same way, ignoring namespaces: the element names
that matter have not changed from 001.01 to 001.08 (v8 only wraps party
names in ``Pty``, read as well). The file is streamed with ``iterparse`` and
each entry freed once read, so a 100,000-entry statement stays small in memory.

An entry (``Ntry``) with several transaction details (a batch) gives one
line per detail when every detail carries its own amount; otherwise the
entry is one line, the details' remittance joined.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from lxml import etree

from relance.banking.parsers.base import (
    CREDIT,
    DEBIT,
    ParsedLine,
    ParsedStatement,
    StatementError,
    check_currency,
    clean,
    parse_amount,
    parse_iso_date,
)
from relance.rules.money import CURRENCIES

# Message kind → format, and the element holding one statement in it.
ROOTS = {
    "BkToCstmrAcctRpt": ("camt052", "Rpt"),
    "BkToCstmrStmt": ("camt053", "Stmt"),
    "BkToCstmrDbtCdtNtfctn": ("camt054", "Ntfctn"),
}
STATEMENT_TAGS = {"Rpt", "Stmt", "Ntfctn"}
OPENING = {"OPBD", "PRCD"}
CLOSING = {"CLBD"}


def _name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return ""
    return tag.rpartition("}")[2]


def _ns(el: etree._Element) -> str:
    tag = el.tag
    return tag[: tag.index("}") + 1] if isinstance(tag, str) and tag[:1] == "{" else ""


def _child(el: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element along ``path`` of local names (in the element's namespace), or None."""
    if el is None:
        return None
    ns = _ns(el)
    for step in path:
        # iterchildren with a tag runs in C; find() parses its path in Python each call.
        el = next(el.iterchildren(ns + step), None)
        if el is None:
            return None
    return el


def _text(el: etree._Element | None, *path: str) -> str:
    found = _child(el, *path)
    if found is None or found.text is None:
        return ""
    return found.text.strip()


def _date(el: etree._Element | None, line: int | None) -> date | None:
    """A ``Dt`` or ``DtTm`` inside ``el`` (BookgDt, ValDt, Bal/Dt)."""
    text = _text(el, "Dt") or _text(el, "DtTm")
    return parse_iso_date(text, line) if text else None


def _account_id(acct: etree._Element | None) -> str:
    return (
        _text(acct, "Id", "IBAN")
        or _text(acct, "Id", "Othr", "Id")
        or _text(acct, "Id", "PrtryAcct", "Id")  # camt.052.001.01
    )


def sniff(head: bytes) -> str | None:
    """camt052/053/054 when the beginning of a file names a camt message."""
    text = head.decode("utf-8", "replace")
    for root, (fmt, _) in ROOTS.items():
        if f"<{root}" in text or f":{root}" in text:
            return fmt
    for number in ("052", "053", "054"):
        if f"camt.{number}" in text:
            return f"camt{number}"
    return None


class _Reader:
    def __init__(self) -> None:
        self.statements: list[ParsedStatement] = []
        self.current: ParsedStatement | None = None
        self.format = ""
        self.account_currency = ""
        # Creation dates (message, statement): the booking date of last resort.
        self.message_created: date | None = None
        self.created: date | None = None

    # Statement header elements, read as they end.
    def header(self, el: etree._Element, name: str) -> None:
        st = self.current
        assert st is not None
        if name == "Id":
            st.statement_id = clean(el.text, 140)
        elif name == "Acct":
            st.account_iban = clean(_account_id(el), 64)
            self.account_currency = _text(el, "Ccy").upper()
        elif name == "FrToDt":
            start = _text(el, "FrDtTm") or _text(el, "FrDt")
            end = _text(el, "ToDtTm") or _text(el, "ToDt")
            st.period_start = parse_iso_date(start, el.sourceline) if start else None
            st.period_end = parse_iso_date(end, el.sourceline) if end else None
        elif name == "Bal":
            self.balance(el)
        elif name == "CreDtTm" and el.text:
            self.created = parse_iso_date(el.text, el.sourceline)

    def balance(self, el: etree._Element) -> None:
        st = self.current
        assert st is not None
        code = _text(el, "Tp", "CdOrPrtry", "Cd")
        if code not in OPENING | CLOSING:
            return
        amt = _child(el, "Amt")
        currency = (amt.get("Ccy") or "").upper() if amt is not None else ""
        wanted = self.account_currency or st.currency or currency
        if amt is None or currency != wanted or currency not in CURRENCIES:
            return  # a balance in another currency says nothing about this account
        value = parse_amount(amt.text, currency, el.sourceline)
        if _text(el, "CdtDbtInd") == "DBIT":
            value = -value
        if code in OPENING and (st.opening_balance is None or code == "OPBD"):
            st.opening_balance = value
            st.period_start = st.period_start or _date(_child(el, "Dt"), el.sourceline)
        elif code in CLOSING:
            st.closing_balance = value
            st.period_end = st.period_end or _date(_child(el, "Dt"), el.sourceline)
        st.currency = st.currency or currency

    def entry(self, ntry: etree._Element) -> None:
        st = self.current
        assert st is not None
        line = ntry.sourceline
        # One pass over the entry: every element by its path of local names.
        # The transaction details are read the same way, one dict each.
        flat = _flatten(ntry, ENTRY_TRIE)
        status = _first(flat, "Sts") or _first(flat, "Sts/Cd")
        if status and status not in ("BOOK",):
            st.skipped += 1  # pending or information only: not booked money
            return
        amt = _element(flat, "Amt")
        if amt is None:
            raise StatementError("entry without an amount", line)
        currency = check_currency(amt.get("Ccy") or self.account_currency, line)
        amount = parse_amount(amt.text, currency, line)
        direction = _direction(_first(flat, "CdtDbtInd"), line)
        value_date = _flat_date(flat, "ValDt", line)
        # Some banks leave the booking date out (the samples' "with-account-name"):
        # the value date, else the statement's end or creation date stands for it.
        booking = (
            _flat_date(flat, "BookgDt", line)
            or value_date
            or st.period_end
            or self.created
            or self.message_created
        )
        if booking is None:
            raise StatementError("entry without a booking date", line)
        reversal = _first(flat, "RvslInd").lower() in ("true", "1")
        entry_ref = _first(flat, "AcctSvcrRef")
        code = _flat_bank_code(flat, "BkTxCd/")
        extra = _first(flat, "AddtlNtryInf")
        base = {
            "booking_date": booking,
            "value_date": value_date,
            "reversal": reversal,
            "source_line": line,
        }
        details = flat.get("NtryDtls/TxDtls", [])
        flats = [_flatten(tx, DETAIL_TRIE) for tx in details]
        # A detail's own amount matters only when the entry is a batch of several.
        amounts = [_detail_amount(tx) for tx in flats] if len(details) > 1 else []
        if len(details) > 1 and all(a is not None for a in amounts):
            for index, (tx, tx_flat, amt_el) in enumerate(
                zip(details, flats, amounts, strict=True)
            ):
                assert amt_el is not None
                tx_currency = check_currency(amt_el.get("Ccy") or currency, tx.sourceline)
                tx_amount = parse_amount(amt_el.text, tx_currency, tx.sourceline)
                # The entry's indicator is the booking's; details sometimes contradict it.
                fields = _detail_fields([tx_flat], direction)
                ref = fields.pop("bank_reference") or (f"{entry_ref}#{index}" if entry_ref else "")
                st.lines.append(
                    ParsedLine(
                        amount=tx_amount,
                        currency=tx_currency,
                        direction=direction,
                        bank_reference=ref[:140],
                        transaction_code=_flat_bank_code(tx_flat, "BkTxCd/") or code,
                        **fields,
                        **base,
                    )
                )
            return
        fields = _detail_fields(flats, direction)
        detail_ref = fields.pop("bank_reference")
        if not fields["remittance"] and extra:
            fields["remittance"] = clean(extra)
        st.lines.append(
            ParsedLine(
                amount=amount,
                currency=currency,
                direction=direction,
                bank_reference=(entry_ref or (detail_ref if len(details) == 1 else ""))[:140],
                transaction_code=code,
                **fields,
                **base,
            )
        )

    def finish(self) -> None:
        st = self.current
        assert st is not None
        st.currency = self.account_currency or st.currency
        if not st.currency and st.lines:
            st.currency = st.lines[0].currency
        if st.currency:
            st.currency = check_currency(st.currency)
        self.statements.append(st)
        self.current = None
        self.account_currency = ""
        self.created = None


def _root_name(name: str) -> str:
    """ "BkToCstmrAcctRptV01" (version 1 names its root with the version) → "BkToCstmrAcctRpt"."""
    head, sep, version = name.rpartition("V")
    return head if sep and version.isdigit() else name


def _direction(indicator: str, line: int | None = None) -> str:
    if indicator == "CRDT":
        return CREDIT
    if indicator == "DBIT":
        return DEBIT
    raise StatementError(
        f"credit/debit indicator {indicator or '(none)'} is not CRDT or DBIT", line
    )


Flat = dict[str, list[etree._Element]]
Trie = dict[str, tuple[str, "Trie | None"]]
# "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.08}Ntry" → "Ntry": files use few tags.
_LOCAL_NAMES: dict[str, str] = {}
MAX_CACHED_NAMES = 10_000

# The paths read in an entry and in a transaction detail; nothing else is walked.
BANK_CODE = [
    "BkTxCd/Domn/Cd",
    "BkTxCd/Domn/Fmly/Cd",
    "BkTxCd/Domn/Fmly/SubFmlyCd",
    "BkTxCd/Prtry/Cd",
]
ENTRY_PATHS = [
    "Amt",
    "CdtDbtInd",
    "Sts",
    "Sts/Cd",
    "BookgDt/Dt",
    "BookgDt/DtTm",
    "ValDt/Dt",
    "ValDt/DtTm",
    "RvslInd",
    "AcctSvcrRef",
    "AddtlNtryInf",
    "NtryDtls/TxDtls",
    *BANK_CODE,
]
PARTIES = ["UltmtDbtr", "Dbtr", "UltmtCdtr", "Cdtr"]
PARTY_NAMES = ["Nm", "Pty/Nm", "Agt/FinInstnId/Nm"]
ACCOUNT_IDS = ["Id/IBAN", "Id/Othr/Id", "Id/PrtryAcct/Id"]
DETAIL_AMOUNTS = ["Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/InstdAmt/Amt"]
DETAIL_PATHS = [
    *DETAIL_AMOUNTS,
    "RmtInf/Ustrd",
    "RmtInf/Strd/CdtrRefInf/Ref",
    "RmtInf/Strd/AddtlRmtInf",
    "AddtlTxInf",
    "Refs/EndToEndId",
    "Refs/AcctSvcrRef",
    *BANK_CODE,
    *(f"RltdPties/{party}/{name}" for party in PARTIES for name in PARTY_NAMES),
    *(f"RltdPties/{acct}/{i}" for acct in ("DbtrAcct", "CdtrAcct") for i in ACCOUNT_IDS),
]


def _trie(paths: list[str]) -> Trie:
    """Local name → (path so far, the names under it), level by level."""
    root: dict = {}
    for path in paths:
        node, parts = root, path.split("/")
        for depth, part in enumerate(parts):
            node = node.setdefault(part, ("/".join(parts[: depth + 1]), {}))[1]

    def freeze(node: dict) -> Trie:
        return {name: (full, freeze(sub) if sub else None) for name, (full, sub) in node.items()}

    return freeze(root)


ENTRY_TRIE = _trie(ENTRY_PATHS)
DETAIL_TRIE = _trie(DETAIL_PATHS)


def _flatten(el: etree._Element, trie: Trie) -> Flat:
    """The elements under ``el`` on the ``trie``'s paths, by path ("RltdPties/Dbtr/Nm").

    One walk instead of a lookup per field; subtrees nobody reads are not entered.
    """
    out: Flat = {}
    local = _LOCAL_NAMES
    # Breadth first, parents in document order: each path's list is in document order.
    queue: list[tuple[etree._Element, Trie]] = [(el, trie)]
    for parent, node in queue:  # the loop sees the items appended to it
        for child in parent:
            tag = child.tag
            name = local.get(tag)
            if name is None:
                if tag.__class__ is not str:  # comments, processing instructions
                    continue
                name = tag[tag.find("}") + 1 :]
                if len(local) < MAX_CACHED_NAMES:  # a hostile file cannot grow it without end
                    local[tag] = name
            found = node.get(name)
            if found is None:
                continue
            path, below = found
            if path in out:
                out[path].append(child)
            else:
                out[path] = [child]
            if below is not None:
                queue.append((child, below))
    return out


def _element(flat: Flat, path: str) -> etree._Element | None:
    found = flat.get(path)
    return found[0] if found else None


def _first(flat: Flat, path: str) -> str:
    found = flat.get(path)
    if not found:
        return ""
    text = found[0].text
    return text.strip() if text else ""


def _flat_date(flat: Flat, prefix: str, line: int | None) -> date | None:
    text = _first(flat, prefix + "/Dt") or _first(flat, prefix + "/DtTm")
    return parse_iso_date(text, line) if text else None


def _flat_bank_code(flat: Flat, prefix: str) -> str:
    domain = _first(flat, prefix + "Domn/Cd")
    if domain:
        family = _first(flat, prefix + "Domn/Fmly/Cd")
        sub = _first(flat, prefix + "Domn/Fmly/SubFmlyCd")
        return "/".join(part for part in (domain, family, sub) if part)[:64]
    return _first(flat, prefix + "Prtry/Cd")[:64]


def _flat_party_name(flat: Flat, prefix: str) -> str:
    # v8 wraps the party: Dbtr/Pty/Nm (or Dbtr/Agt/FinInstnId/Nm); earlier versions: Dbtr/Nm.
    return (
        _first(flat, prefix + "/Nm")
        or _first(flat, prefix + "/Pty/Nm")
        or _first(flat, prefix + "/Agt/FinInstnId/Nm")
    )


def _flat_account(flat: Flat, prefix: str) -> str:
    return (
        _first(flat, prefix + "/Id/IBAN")
        or _first(flat, prefix + "/Id/Othr/Id")
        or _first(flat, prefix + "/Id/PrtryAcct/Id")
    )


def _detail_amount(flat: Flat) -> etree._Element | None:
    for path in DETAIL_AMOUNTS:
        el = _element(flat, path)
        if el is not None and (el.text or "").strip():
            try:
                if Decimal(el.text.strip()) > 0:
                    return el
            except ArithmeticError:
                return el  # parse_amount reports it with its line
    return None


def _texts(flat: Flat, path: str) -> list[str]:
    return [clean(el.text) for el in flat.get(path, ()) if el.text and el.text.strip()]


def _detail_fields(details: list[Flat], direction: str) -> dict:
    """Remittance, references and counterparty from transaction details."""
    ustrd: list[str] = []
    refs: list[str] = []
    e2e = name = iban = bank_ref = ""
    for tx in details:
        ustrd += _texts(tx, "RmtInf/Ustrd")
        refs += _texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")
        ustrd += _texts(tx, "RmtInf/Strd/AddtlRmtInf")
        if not ustrd:
            info = _first(tx, "AddtlTxInf")
            if info:
                ustrd.append(clean(info))
        e2e = e2e or _first(tx, "Refs/EndToEndId")
        if e2e == "NOTPROVIDED":
            e2e = ""
        bank_ref = bank_ref or _first(tx, "Refs/AcctSvcrRef")
        # The other side: who paid us on a credit, whom we paid on a debit.
        if direction == CREDIT:
            name = (
                name
                or _flat_party_name(tx, "RltdPties/UltmtDbtr")
                or _flat_party_name(tx, "RltdPties/Dbtr")
            )
            iban = iban or _flat_account(tx, "RltdPties/DbtrAcct")
        else:
            name = (
                name
                or _flat_party_name(tx, "RltdPties/UltmtCdtr")
                or _flat_party_name(tx, "RltdPties/Cdtr")
            )
            iban = iban or _flat_account(tx, "RltdPties/CdtrAcct")
    return {
        "remittance": " / ".join(dict.fromkeys(ustrd)),
        "structured_reference": refs[0][:64] if refs else "",
        "end_to_end_id": e2e[:64],
        "payer_name": clean(name, 200),
        "payer_iban": clean(iban, 64).replace(" ", ""),
        "bank_reference": bank_ref,
    }


def parse(data: bytes) -> list[ParsedStatement]:
    """Every statement in a camt file; ``StatementError`` for anything unreadable."""
    try:
        return _parse(data)
    except StatementError:
        raise
    except etree.XMLSyntaxError as exc:
        raise StatementError(f"not well-formed XML: {exc.msg}", exc.lineno) from None
    except (etree.LxmlError, ValueError, ArithmeticError, TypeError, LookupError) as exc:
        raise StatementError(f"unreadable camt file: {exc}") from None


WATCHED = [
    "{*}" + name
    for name in (
        *ROOTS,
        *(f"{root}V0{v}" for root in ROOTS for v in range(1, 10)),
        *STATEMENT_TAGS,
        "Ntry",
        "GrpHdr",
    )
]


def _parse(data: bytes) -> list[ParsedStatement]:
    reader = _Reader()
    # Only the elements that matter raise events; the rest is read from them.
    events = etree.iterparse(
        io.BytesIO(data),
        events=("start", "end"),
        tag=WATCHED,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )
    root_seen = False
    statement: etree._Element | None = None
    header_read = False

    def read_header() -> None:
        assert statement is not None
        for child in statement:
            name = _name(child)
            if name in ("Id", "Acct", "FrToDt", "Bal", "CreDtTm"):
                reader.header(child, name)

    for event, el in events:
        name = _name(el)
        if event == "start":
            if _root_name(name) in ROOTS and not root_seen:
                root_seen = True
                reader.format = ROOTS[_root_name(name)][0]
            elif name in STATEMENT_TAGS and root_seen and reader.current is None:
                reader.current = ParsedStatement(format=reader.format)
                statement, header_read = el, False
            continue
        if name == "GrpHdr":
            created = _text(el, "CreDtTm")
            if created:
                reader.message_created = parse_iso_date(created, el.sourceline)
        elif name == "Ntry" and reader.current is not None and el.getparent() is statement:
            if not header_read:
                read_header()
                header_read = True
            reader.entry(el)
            el.clear()
            # Entries already read are dropped, so memory stays flat.
            while el.getprevious() is not None:
                del el.getparent()[0]
        elif el is statement and reader.current is not None:
            if not header_read:
                read_header()
            reader.finish()
            statement = None
    if not root_seen:
        raise StatementError("not a camt.052, camt.053 or camt.054 message")
    if not reader.statements:
        raise StatementError("the file holds no statement")
    return reader.statements
