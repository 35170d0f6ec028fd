"""Invoices from a CSV file exported by another tool.

Reading goes in three steps, each shown to the user:

1. ``read_table``: decode the bytes (UTF-8 with or without BOM, UTF-16 with
   BOM, else Windows-1252, said so), find the delimiter and the header row;
2. ``guess_mapping``: which column holds which field, from the header names
   (English and French); the user corrects it;
3. ``parse``: every row becomes an ``InvoiceRow`` or line-numbered errors.
   Dates (ISO, D/M/Y, M/D/Y) and the decimal mark are read from the whole
   file; an ambiguous file is asked about, never guessed.

Only ``CsvError`` (a file that cannot be read as a table at all) escapes;
everything else is a ``Problem`` with its line and column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from relance.imports.rows import (
    InvoiceRow,
    Parsed,
    Problem,
    Settlement,
    check,
    gettext_noop,
    lost_leading_zeros,
    split_identifier,
)

MAX_COLUMNS = 200


class CsvError(ValueError):
    """A file that cannot be read as a table; the problem says why and where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


# The fields a column can be mapped to, in the order of the mapping page.
FIELDS: dict[str, str] = {
    "number": gettext_noop("Invoice number"),
    "client_name": gettext_noop("Client name"),
    "client_reference": gettext_noop("Client reference"),
    "client_identifier": gettext_noop("Client SIREN or VAT number"),
    "client_email": gettext_noop("Client email"),
    "issue_date": gettext_noop("Issue date"),
    "due_date": gettext_noop("Due date"),
    "total_gross": gettext_noop("Total incl. VAT"),
    "total_net": gettext_noop("Total excl. VAT"),
    "total_vat": gettext_noop("VAT"),
    "currency": gettext_noop("Currency"),
    "amount_paid": gettext_noop("Amount paid"),
    "paid_on": gettext_noop("Settled date"),
    "description": gettext_noop("Description"),
    "purchase_order": gettext_noop("Purchase order"),
}
DATE_FIELDS = ("issue_date", "due_date", "paid_on")
AMOUNT_FIELDS = ("total_gross", "total_net", "total_vat", "amount_paid")

# Header names (lower case, no accents, letters and digits only) -> field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": (
        "invoicenumber", "invoiceno", "invoicenum", "invoiceid", "invoice", "number", "no",
        "numero", "numerofacture", "nfacture", "nofacture", "facture", "numfacture", "piece",
        "pieceref", "reffacture",
    ),
    "client_name": (
        "client", "clientname", "customer", "customername", "company", "companyname", "name",
        "nomclient", "nom", "raisonsociale", "societe", "denomination", "debiteur",
    ),
    "client_reference": (
        "customerid", "clientid", "customercode", "clientcode", "customerref", "clientref",
        "customerno", "customernumber", "accountnumber", "account", "codeclient", "refclient",
        "referenceclient", "numeroclient", "compteclient", "idclient",
    ),
    "client_identifier": (
        "siren", "siret", "vatnumber", "vatid", "vatno", "taxid", "numerotva", "ntva",
        "tvaintracommunautaire", "numerotvaintracommunautaire", "tvaintra", "sirenclient",
    ),
    "client_email": ("email", "mail", "emailaddress", "courriel", "adresseemail", "emailclient"),
    "issue_date": (
        "invoicedate", "date", "issuedate", "dateofissue", "datefacture", "datedefacture",
        "dateemission", "datedemission", "datefacturation",
    ),
    "due_date": (
        "duedate", "paymentduedate", "dateecheance", "datedecheance", "echeance", "duedateon",
        "dateexigibilite",
    ),
    "total_gross": (
        "invoiceamount", "totalinclvat", "totalincvat", "amountinclvat", "grossamount",
        "gross", "total", "amount", "totalttc", "montantttc", "ttc", "montant", "montanttotal",
        "totalamount", "amountdue",
    ),
    "total_net": (
        "totalexclvat", "amountexclvat", "netamount", "net", "subtotal", "totalht",
        "montantht", "ht",
    ),
    "total_vat": ("vat", "vatamount", "tax", "taxamount", "tva", "montanttva", "totaltva"),
    "currency": ("currency", "currencycode", "devise", "monnaie", "ccy"),
    "amount_paid": (
        "amountpaid", "paid", "paidamount", "settledamount", "montantpaye", "montantregle",
        "regle", "paye", "dejaregle", "encaisse",
    ),
    "paid_on": (
        "settleddate", "paymentdate", "paiddate", "paidon", "datepaiement", "datedepaiement",
        "datereglement", "datedereglement", "dateencaissement",
    ),
    "description": ("description", "libelle", "objet", "designation", "label", "memo"),
    "purchase_order": (
        "po", "ponumber", "purchaseorder", "purchaseordernumber", "ordernumber", "bondecommande",
        "commande", "refcommande", "numerocommande", "bdc",
    ),
}  # fmt: skip


# 1. The table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    header_line: int
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (line where the record starts, cells)
    warnings: tuple[Problem, ...] = ()


def decode(data: bytes) -> tuple[str, str, list[Problem]]:
    """(text, encoding, warnings). UTF-8 first; Windows-1252 only for a file
    with no UTF-8 in it at all (a mix is a damaged file, refused)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16", []
        except UnicodeDecodeError as exc:
            raise _undecodable(data, exc.start, "UTF-16") from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CsvError(
            Problem(
                gettext_noop(
                    "This is not a text file (a null byte on line %(line)s): export the "
                    "data as CSV."
                ),
                {"line": line},
                line=line,
            )
        )
    try:
        return data.decode("utf-8-sig"), "UTF-8", []
    except UnicodeDecodeError as exc:
        if _has_utf8_sequences(data[: exc.start]):
            raise _undecodable(data, exc.start, "UTF-8") from None
        bad = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc.start, "Windows-1252") from None
    line = data[:bad].count(b"\n") + 1
    note = Problem(
        gettext_noop(
            "The file is not UTF-8 (first on line %(line)s): it was read as Windows-1252 "
            "(Latin-1). Check that accented letters look right below."
        ),
        {"line": line},
    )
    return text, "Windows-1252", [note]


def _has_utf8_sequences(data: bytes) -> bool:
    return re.search(rb"[\xc2-\xf4][\x80-\xbf]+", data) is not None


def _undecodable(data: bytes, position: int, encoding: str) -> CsvError:
    line = data[:position].count(b"\n") + 1
    return CsvError(
        Problem(
            gettext_noop(
                "Line %(line)s holds bytes that are not %(encoding)s text (0x%(byte)s): "
                "save the file as UTF-8 CSV and try again."
            ),
            {"line": line, "encoding": encoding, "byte": data[position : position + 1].hex()},
            line=line,
        )
    )


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the candidate it holds most of."""
    sample = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: _count_outside_quotes(sample, d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def read_table(data: bytes) -> Table:
    """The decoded table with its header row; raises CsvError when there is none."""
    text, encoding, warnings = decode(data)
    delimiter = sniff_delimiter(text)
    records = list(_records(text, delimiter))
    while records and not any(cell.strip() for cell in records[0][1]):
        records.pop(0)
    if not records:
        raise CsvError(Problem(gettext_noop("The file is empty.")))
    header_line, header = records[0]
    header = tuple(cell.strip() for cell in header)
    if len(header) > MAX_COLUMNS:
        raise CsvError(
            Problem(
                gettext_noop("The header has %(count)s columns; at most %(max)s are read."),
                {"count": len(header), "max": MAX_COLUMNS},
                line=header_line,
            )
        )
    if len(header) < 2:
        raise CsvError(
            Problem(
                gettext_noop(
                    "Only one column was found on the header line: the file should have "
                    "columns separated by commas, semicolons or tabs."
                ),
                line=header_line,
            )
        )
    rows = tuple(
        (line, tuple(cells)) for line, cells in records[1:] if any(c.strip() for c in cells)
    )
    return Table(encoding, delimiter, header, header_line, rows, tuple(warnings))


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells); a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error:
        raise CsvError(
            Problem(
                gettext_noop(
                    "Line %(line)s cannot be read: a quote is not closed or is misplaced."
                ),
                {"line": start},
                line=start,
            )
        ) from None


# 2. The mapping ----------------------------------------------------------------------


def normalise(name: str) -> str:
    """ "Date d'échéance" -> "datedecheance"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_name.lower())


def guess_mapping(header: tuple[str, ...]) -> dict[str, int]:
    """field -> column index, from the header names; each column serves one field."""
    names = [normalise(h) for h in header]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    # Exact names first, for every field, so "Montant TTC" is not taken by "Montant".
    for exact in (True, False):
        for target, synonyms in SYNONYMS.items():
            if target in mapping:
                continue
            for synonym in synonyms:
                index = _find(names, synonym, used, exact)
                if index is not None:
                    mapping[target] = index
                    used.add(index)
                    break
    return mapping


def _find(names: list[str], synonym: str, used: set[int], exact: bool) -> int | None:
    for index, name in enumerate(names):
        if index in used or not name:
            continue
        if name == synonym or (not exact and len(synonym) >= 5 and name.startswith(synonym)):
            return index
    return None


# 3. The rows -------------------------------------------------------------------------

DATE_FORMATS = {
    "iso": gettext_noop("Year-month-day (2026-01-31)"),
    "dmy": gettext_noop("Day/month/year (31/01/2026)"),
    "mdy": gettext_noop("Month/day/year (1/31/2026)"),
}
DECIMAL_MARKS = {".": gettext_noop("Point (1,234.50)"), ",": gettext_noop("Comma (1 234,50)")}

ISO_DATE = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T][\d:.]+)?$|^(\d{4})(\d{2})(\d{2})$"
)
SLASH_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?: [\d:.]+)?$")


def parse_date(text: str, style: str) -> date | None:
    """A date in the given style, or None."""
    try:
        if style == "iso":
            match = ISO_DATE.match(text)
            if not match:
                return None
            parts = [g for g in match.groups() if g is not None]
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        match = SLASH_DATE.match(text)
        if not match:
            return None
        first, second, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:
            year += 2000
        day, month = (first, second) if style == "dmy" else (second, first)
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class Options:
    """What the mapping page decides: field -> column index, and how to read values."""

    mapping: Mapping[str, int] = field(default_factory=dict)
    date_format: str = "auto"  # auto, iso, dmy, mdy
    decimal_mark: str = "auto"  # auto, ".", ","
    currency: str = "EUR"  # when the file has no currency column, or the cell is empty
    terms_days: int = 30  # due date = issue date + this when the file gives none
    pad_to: int = 0  # restore lost leading zeros of invoice numbers up to this width


def _cell(cells: tuple[str, ...], options: Options, name: str) -> str:
    index = options.mapping.get(name)
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


def _column_values(table: Table, options: Options, names: tuple[str, ...]) -> list[str]:
    """The distinct non-empty values of some columns, in the order of the file."""
    indexes = [options.mapping[n] for n in names if n in options.mapping]
    values = dict.fromkeys(
        cells[i].strip() for _line, cells in table.rows for i in indexes if i < len(cells)
    )
    values.pop("", None)
    return list(values)


def _date_styles(text: str) -> set[str]:
    """The styles that can read this date (without checking the calendar)."""
    if ISO_DATE.match(text):
        return {"iso"}
    match = SLASH_DATE.match(text)
    if not match:
        return set()
    first, second = int(match.group(1)), int(match.group(2))
    styles = set()
    if first <= 12 and second <= 31:
        styles.add("mdy")
    if second <= 12 and first <= 31:
        styles.add("dmy")
    return styles


def resolve_date_format(table: Table, options: Options) -> tuple[str, Problem | None]:
    """The date style of the file, or a problem when it must be asked."""
    if options.date_format in DATE_FORMATS:
        return options.date_format, None
    values = _column_values(table, options, DATE_FIELDS)
    if not values:
        return "iso", None
    counts = dict.fromkeys(DATE_FORMATS, 0)
    for value in values:
        for style in _date_styles(value):
            counts[style] += 1
    fitting = [s for s in DATE_FORMATS if counts[s] == len(values)]
    if len(fitting) == 1:
        return fitting[0], None
    if {"dmy", "mdy"} <= set(fitting):
        return "", Problem(
            gettext_noop(
                "The dates are ambiguous: %(example)s could be day/month or month/day, and "
                "no date in the file settles it. Choose the date format."
            ),
            {"example": values[0]},
        )
    # No style reads every date: keep the one that reads most; the others are errors.
    return max(DATE_FORMATS, key=lambda s: counts[s]), None


AMOUNT_CHARS = re.compile(r"[\s\u00a0\u202f'\u2019€$£]|EUR|USD|GBP|CHF", re.IGNORECASE)
PLAIN_AMOUNT = re.compile(r"[-+(]?[\d.,]+\)?")
AMOUNT_PATTERNS = {
    ",": re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"),
    ".": re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"),
}


def _mark_of(text: str) -> str:
    """The decimal mark a value shows: ",", ".", "?" (cannot tell) or "" (none)."""
    text = text.rstrip(")")
    last = max(text.rfind(","), text.rfind("."))
    if last < 0:
        return ""
    mark, other = text[last], ("." if text[last] == "," else ",")
    if len(text) - last - 1 != 3 or other in text[:last]:
        return mark  # 1,5 · 12.50 · 1.234,56 · 1,2345
    if text.count(mark) > 1:
        return other  # 1,234,567: thousands separators
    return "?"  # 1,234 or 1.234


def resolve_decimal_mark(table: Table, options: Options) -> tuple[str, Problem | None]:
    if options.decimal_mark in DECIMAL_MARKS:
        return options.decimal_mark, None
    seen: dict[str, str] = {}
    for value in _column_values(table, options, AMOUNT_FIELDS):
        text = value if PLAIN_AMOUNT.fullmatch(value) else AMOUNT_CHARS.sub("", value)
        seen.setdefault(_mark_of(text), value)
    if "," in seen and "." in seen:
        return "", Problem(
            gettext_noop(
                "Some amounts use a decimal comma and others a decimal point: choose the "
                "decimal mark."
            )
        )
    if "," in seen or "." in seen:
        return ("," if "," in seen else "."), None
    if "?" in seen:
        return "", Problem(
            gettext_noop(
                "Amounts such as %(example)s could be read with a decimal comma or a "
                "thousands separator: choose the decimal mark."
            ),
            {"example": seen["?"]},
        )
    return ".", None


def parse_amount(text: str, mark: str) -> Decimal | None:
    """ "1 234,50 €" -> Decimal("1234.50") with mark ","; None when not an amount."""
    pattern = AMOUNT_PATTERNS[mark]
    cleaned = text if pattern.fullmatch(text) else AMOUNT_CHARS.sub("", text)
    negative = cleaned.startswith("(") and cleaned.endswith(")")  # accountants' negative
    if negative:
        cleaned = cleaned[1:-1]
    if cleaned is not text and not pattern.fullmatch(cleaned):
        return None
    thousands = "." if mark == "," else ","
    try:
        value = Decimal(cleaned.replace(thousands, "").replace(mark, "."))
    except InvalidOperation:
        return None
    return -value if negative else value


@dataclass
class _RowReader:
    """Reads one record's cells into an InvoiceRow, collecting its problems."""

    table: Table
    options: Options
    date_style: str
    mark: str
    problems: list[Problem] = field(default_factory=list)
    # Dates and client identifiers repeat from row to row: read each once.
    dates: dict[str, date | None] = field(default_factory=dict)
    identifiers: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    def error(self, line: int, name: str, message: str, **params: object) -> None:
        index = self.options.mapping.get(name)
        column = self.table.header[index] if index is not None else ""
        self.problems.append(Problem(message, params, line=line, column=column))

    def date(self, line: int, values: dict[str, str], name: str) -> date | None:
        value = values.get(name, "")
        if not value:
            return None
        if value not in self.dates:
            self.dates[value] = parse_date(value, self.date_style)
        parsed = self.dates[value]
        if parsed is None:
            shown = {"iso": "YYYY-MM-DD", "dmy": "DD/MM/YYYY", "mdy": "MM/DD/YYYY"}
            self.error(
                line,
                name,
                gettext_noop("%(value)s is not a date in the format %(format)s."),
                value=value,
                format=shown[self.date_style],
            )
        return parsed

    def amount(self, line: int, values: dict[str, str], name: str) -> Decimal | None:
        value = values.get(name, "")
        if not value:
            return None
        parsed = parse_amount(value, self.mark)
        if parsed is None:
            self.error(line, name, gettext_noop("%(value)s is not an amount."), value=value)
        return parsed

    def row(self, line: int, cells: tuple[str, ...]) -> InvoiceRow | None:
        mapping = self.options.mapping
        extra = any(c.strip() for c in cells[len(self.table.header) :])
        if len(cells) <= max(mapping.values(), default=0) or extra:
            # Usually a delimiter inside an unquoted value ("1,234.50" in a comma file).
            self.problems.append(
                Problem(
                    gettext_noop("This line has %(count)s cells; the header has %(expected)s."),
                    {"count": len(cells), "expected": len(self.table.header)},
                    line=line,
                )
            )
            return None
        values = {name: cells[i].strip() for name, i in mapping.items()}
        before = len(self.problems)
        number = values.get("number", "")
        if number.isdigit() and self.options.pad_to:
            number = number.zfill(self.options.pad_to)
        issue = self.date(line, values, "issue_date")
        due = self.date(line, values, "due_date")
        paid_on = self.date(line, values, "paid_on")
        gross = self.amount(line, values, "total_gross")
        net = self.amount(line, values, "total_net")
        vat = self.amount(line, values, "total_vat")
        paid = self.amount(line, values, "amount_paid")
        siren, vat_number = self.identifier(line, values)
        if not values.get("issue_date"):
            self.error(line, "issue_date", gettext_noop("The issue date is missing."))
        totals = self.totals(line, values, gross, net, vat)
        payments = self.payments(line, values, paid, paid_on, totals)
        if len(self.problems) > before or issue is None or totals is None:
            return None
        return InvoiceRow(
            line=line,
            number=number,
            client_name=values.get("client_name", ""),
            client_reference=values.get("client_reference", ""),
            client_siren=siren,
            client_vat=vat_number,
            client_email=values.get("client_email", ""),
            issue_date=issue,
            due_date=due or issue + timedelta(days=self.options.terms_days),
            currency=values.get("currency", "").upper() or self.options.currency,
            total_gross=totals[0],
            total_net=totals[1],
            total_vat=totals[2],
            payments=payments,
            description=values.get("description", ""),
            purchase_order=values.get("purchase_order", ""),
        )

    def identifier(self, line: int, values: dict[str, str]) -> tuple[str, str]:
        value = values.get("client_identifier", "")
        if not value:
            return "", ""
        if value not in self.identifiers:
            try:
                self.identifiers[value] = split_identifier(value)
            except ValueError:
                self.identifiers[value] = None
        found = self.identifiers[value]
        if found is None:
            self.error(
                line,
                "client_identifier",
                gettext_noop("%(value)s is neither a valid SIREN/SIRET nor a valid VAT number."),
                value=value,
            )
            return "", ""
        return found

    def totals(
        self,
        line: int,
        values: dict[str, str],
        gross: Decimal | None,
        net: Decimal | None,
        vat: Decimal | None,
    ) -> tuple[Decimal, Decimal, Decimal] | None:
        """(gross, net, VAT) from whichever two or three the file gives."""
        if gross is None and net is not None:
            gross = net + (vat or Decimal(0))
        if gross is None:
            if not values.get("total_gross") and not values.get("total_net"):
                self.error(line, "total_gross", gettext_noop("The total is missing."))
            return None  # else the unreadable amount is already said
        if net is None:
            net = gross - vat if vat is not None else gross
        if vat is None:
            vat = gross - net
        return gross, net, vat

    def payments(
        self,
        line: int,
        values: dict[str, str],
        paid: Decimal | None,
        paid_on: date | None,
        totals: tuple[Decimal, Decimal, Decimal] | None,
    ) -> tuple[Settlement, ...]:
        """A settled date alone means paid in full; an amount needs its date."""
        if paid is None:
            if paid_on is None or "amount_paid" in self.options.mapping or totals is None:
                return ()  # with an amount-paid column, an empty amount is nothing paid
            return (Settlement(paid_on, totals[0]),)
        if paid == 0:
            return ()
        if paid_on is None:
            if not values.get("paid_on"):
                self.error(
                    line,
                    "paid_on",
                    gettext_noop("An amount is paid but the date it was paid is missing."),
                )
            return ()
        return (Settlement(paid_on, paid),)


def missing_mappings(options: Options) -> list[Problem]:
    """The fields a file must map."""
    mapping = options.mapping
    found = []
    if "number" not in mapping:
        found.append(Problem(gettext_noop("Choose the column of the invoice number.")))
    if "client_name" not in mapping and "client_reference" not in mapping:
        found.append(Problem(gettext_noop("Choose the column of the client name or reference.")))
    if "issue_date" not in mapping:
        found.append(Problem(gettext_noop("Choose the column of the issue date.")))
    if "total_gross" not in mapping and "total_net" not in mapping:
        found.append(Problem(gettext_noop("Choose the column of the total.")))
    return found


def parse(table: Table, options: Options) -> Parsed:
    """Every row of the table as an InvoiceRow, or line-numbered problems."""
    parsed = Parsed(warnings=list(table.warnings))
    parsed.facts = {"encoding": table.encoding, "delimiter": table.delimiter}
    parsed.errors.extend(missing_mappings(options))
    date_style, problem = resolve_date_format(table, options)
    mark, mark_problem = resolve_decimal_mark(table, options)
    parsed.errors.extend(p for p in (problem, mark_problem) if p is not None)
    if parsed.errors:
        return parsed
    parsed.facts.update(date_format=date_style, decimal_mark=mark)
    reader = _RowReader(table, options, date_style, mark)
    columns = {name: table.header[i] for name, i in options.mapping.items()}
    for line, cells in table.rows:
        row = reader.row(line, cells)
        if row is not None:
            problems = check(row, columns)
            parsed.errors.extend(problems)
            if not problems:
                parsed.rows.append(row)
    parsed.errors[:0] = reader.problems
    parsed.errors.sort(key=lambda p: p.line)
    numbers = [(line, _cell(cells, options, "number")) for line, cells in table.rows]
    zeros = lost_leading_zeros([(line, n) for line, n in numbers if n])
    if zeros is not None and not options.pad_to:
        parsed.warnings.append(zeros.problem())
        parsed.facts["pad_to"] = str(zeros.width)
    return parsed
