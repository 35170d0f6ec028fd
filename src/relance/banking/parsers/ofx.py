"""OFX bank and credit-card statements, 1.x (SGML, leaf tags left open) and 2.x (XML).

A small tolerant reader instead of a library: one pass over the tags, with
the OFX aggregates known by name, so that a leaf without a closing tag (or an
empty one, as OFX 1.02 files have) never swallows what follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from relance.banking.parsers.base import (
    CREDIT,
    DEBIT,
    ParsedLine,
    ParsedStatement,
    StatementError,
    check_currency,
    clean,
    parse_amount,
)

AGGREGATES = {
    "OFX", "SIGNONMSGSRSV1", "SONRS", "STATUS", "FI", "SIGNUPMSGSRSV1", "ACCTINFOTRNRS",
    "ACCTINFORS", "ACCTINFO", "BANKACCTINFO", "CCACCTINFO", "INVACCTINFO",
    "BANKMSGSRSV1", "STMTTRNRS", "STMTRS", "BANKACCTFROM", "BANKACCTTO", "BANKTRANLIST",
    "STMTTRN", "LEDGERBAL", "AVAILBAL", "PAYEE", "CURRENCY", "ORIGCURRENCY",
    "CREDITCARDMSGSRSV1", "CCSTMTTRNRS", "CCSTMTRS", "CCACCTFROM", "CCACCTTO",
    "INVSTMTMSGSRSV1", "INVSTMTTRNRS", "INVSTMTRS", "INVACCTFROM", "INVTRANLIST",
    "INVPOSLIST", "INVBAL", "SECLISTMSGSRSV1", "SECLIST", "BALLIST", "BAL", "MKTGINFO",
}  # fmt: skip
TAG = re.compile(r"<(/?)([A-Za-z0-9_.]+)[^>]*>")


@dataclass
class Node:
    name: str
    line: int
    value: str = ""
    children: list[Node] = field(default_factory=list)

    def find(self, *path: str) -> Node | None:
        node: Node | None = self
        for step in path:
            if node is None:
                return None
            node = next((c for c in node.children if c.name == step), None)
        return node

    def text(self, *path: str) -> str:
        node = self.find(*path)
        return node.value.strip() if node is not None else ""

    def walk(self, name: str) -> list[Node]:
        found = []
        for child in self.children:
            if child.name == name:
                found.append(child)
            else:
                found += child.walk(name)
        return found


def sniff(text: str) -> str | None:
    head = text[:4000].upper()
    if "OFXHEADER" in head or "<OFX>" in head or "<?OFX" in head:
        return "ofx"
    return None


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _tree(text: str) -> Node:
    start = text.upper().find("<OFX>")
    if start < 0:
        raise StatementError("not an OFX file: no <OFX> element")
    root = Node("", 0)
    stack = [root]
    last_leaf: Node | None = None
    line = text.count("\n", 0, start) + 1
    position = start
    for match in TAG.finditer(text, start):
        line += text.count("\n", position, match.start())
        position = match.start()
        closing, name = match.group(1) == "/", match.group(2).upper()
        if closing:
            if last_leaf is not None and last_leaf.name == name:
                last_leaf = None  # the closing tag of a leaf (OFX 2, or tidy OFX 1)
                continue
            if any(node.name == name for node in stack[1:]):
                while stack[-1].name != name:
                    stack.pop()
                stack.pop()
            last_leaf = None
            continue
        end = text.find("<", match.end())
        value = text[match.end() : end if end >= 0 else len(text)]
        node = Node(name, line, value="" if name in AGGREGATES else value.strip())
        stack[-1].children.append(node)
        if name in AGGREGATES:
            stack.append(node)
            last_leaf = None
        else:
            last_leaf = node
    ofx = root.find("OFX")
    if ofx is None:
        raise StatementError("not an OFX file: no <OFX> element")
    return ofx


def _date(text: str, line: int, *, required: bool = True) -> date | None:
    digits = text.strip()[:8]
    if not digits:
        if required:
            raise StatementError("date missing", line)
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        if required:
            raise StatementError(f"not a date: {text.strip()!r}", line) from None
        return None


def _signed(text: str, currency: str, line: int) -> tuple:
    raw = text.strip().replace(" ", "")
    negative = raw.startswith("-")
    return parse_amount(raw.lstrip("+-"), currency, line), negative


def parse(data: bytes) -> list[ParsedStatement]:
    try:
        return _parse(data)
    except StatementError:
        raise
    except (ValueError, ArithmeticError, LookupError, RecursionError) as exc:
        raise StatementError(f"unreadable OFX file: {exc}") from None


def _parse(data: bytes) -> list[ParsedStatement]:
    ofx = _tree(_decode(data))
    signon = ofx.find("SIGNONMSGSRSV1", "SONRS", "STATUS")
    if signon is not None and signon.text("CODE") not in ("", "0"):
        message = signon.text("MESSAGE") or signon.text("CODE")
        raise StatementError(f"the bank refused the sign-on: {message}", signon.line)
    statements = ofx.walk("STMTRS") + ofx.walk("CCSTMTRS")
    if not statements:
        for wrapper in ofx.walk("STMTTRNRS") + ofx.walk("CCSTMTTRNRS"):
            status = wrapper.find("STATUS")
            if status is not None and status.text("SEVERITY") == "ERROR":
                message = status.text("MESSAGE") or status.text("CODE")
                raise StatementError(f"the bank sent an error: {message}", status.line)
        if ofx.walk("INVSTMTRS"):
            raise StatementError("not a bank statement: this OFX file is an investment account")
        raise StatementError("no bank statement in this OFX file")
    return [_statement(node) for node in statements]


def _statement(node: Node) -> ParsedStatement:
    code = node.text("CURDEF")
    if not code:  # OFX 1.02 files may leave CURDEF empty: the lines' currency then
        code = next((cur.text("CURSYM") for cur in node.walk("CURRENCY")), "")
    currency = check_currency(code, node.line)
    account = node.find("BANKACCTFROM") or node.find("CCACCTFROM")
    st = ParsedStatement(format="ofx", currency=currency)
    if account is not None:
        st.account_iban = clean(account.text("ACCTID"), 64).replace(" ", "")
    tranlist = node.find("BANKTRANLIST")
    if tranlist is not None:
        st.period_start = _date(tranlist.text("DTSTART"), tranlist.line, required=False)
        st.period_end = _date(tranlist.text("DTEND"), tranlist.line, required=False)
        for trn in tranlist.children:
            if trn.name == "STMTTRN":
                st.lines.append(_line(trn, currency))
    ledger = node.find("LEDGERBAL")
    if ledger is not None and ledger.text("BALAMT"):
        amount, negative = _signed(ledger.text("BALAMT"), currency, ledger.line)
        st.closing_balance = -amount if negative else amount
        st.period_end = st.period_end or _date(ledger.text("DTASOF"), ledger.line, required=False)
    return st


def _line(trn: Node, statement_currency: str) -> ParsedLine:
    line = trn.line
    currency = statement_currency
    for path in (("CURRENCY", "CURSYM"), ("ORIGCURRENCY", "CURSYM")):
        if trn.text(*path):
            currency = check_currency(trn.text(*path), line)
            break
    amount_text = trn.text("TRNAMT")
    if not amount_text:
        raise StatementError("transaction without an amount", line)
    amount, negative = _signed(amount_text, currency, line)
    kind = trn.text("TRNTYPE").upper()
    name = trn.text("NAME") or trn.text("PAYEE", "NAME")
    memo = trn.text("MEMO")
    counterpart = trn.find("BANKACCTTO") or trn.find("CCACCTTO")
    return ParsedLine(
        booking_date=_date(trn.text("DTPOSTED"), line),
        value_date=_date(trn.text("DTAVAIL"), line, required=False),
        amount=amount,
        direction=DEBIT if negative else CREDIT,
        currency=currency,
        remittance=clean(memo or name),
        payer_name=clean(name, 200),
        payer_iban=clean(counterpart.text("ACCTID"), 64) if counterpart is not None else "",
        end_to_end_id=clean(trn.text("REFNUM"), 64),
        bank_reference=clean(trn.text("FITID"), 140),
        transaction_code=clean(kind, 64),
        source_line=line,
    )
