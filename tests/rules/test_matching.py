"""The pure matcher: one worked example per signal, the precision guards, and
the invariants (shares within balances and the credit, one currency, determinism)."""

import doctest
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from relance.rules import matching as matching_module
from relance.rules.matching import (
    AUTO_THRESHOLD,
    ClientInfo,
    Credit,
    Matcher,
    OpenItem,
    match_credits,
    name_key,
    number_key,
)
from relance.rules.payment_reference import creditor_reference

D = Decimal
DAY = date(2026, 3, 10)
DURAND_IBAN = "FR76 3000 6000 0112 3456 7890 189"

ITEMS = [
    # Atelier Durand: three open invoices, the oldest first.
    OpenItem(1, 10, "F2026-00042", D("120.00"), "EUR", date(2026, 1, 31)),
    OpenItem(2, 10, "F2026-00043", D("80.50"), "EUR", date(2026, 2, 28)),
    OpenItem(3, 10, "F2026-00051", D("1000.00"), "EUR", date(2026, 3, 31),
             discount_amount=D("20.00"), discount_until=date(2026, 3, 15)),
    # Boulangerie Martin: two.
    OpenItem(4, 20, "F2026-00044", D("300.00"), "EUR", date(2026, 2, 15)),
    OpenItem(5, 20, "F2026-00045", D("99.99"), "EUR", date(2026, 2, 20)),
    # A client in pounds.
    OpenItem(6, 30, "F2026-00046", D("120.00"), "GBP", date(2026, 2, 1)),
]  # fmt: skip
CLIENTS = [
    ClientInfo(10, ("Atelier Durand SARL", "Jean Durand"), (DURAND_IBAN,)),
    ClientInfo(20, ("Boulangerie Martin", "Holding Martin Lyon")),
    ClientInfo(30, ("Smith & Sons Ltd",)),
]


def match(**fields):
    fields.setdefault("currency", "EUR")
    fields.setdefault("date", DAY)
    amount = D(fields.pop("amount"))
    return Matcher(ITEMS, CLIENTS).match(Credit(1, amount, **fields))


def test_doctests():
    result = doctest.testmod(matching_module)
    assert result.attempted > 0
    assert result.failed == 0


# -- normalising --------------------------------------------------------------------


def test_number_spellings_share_one_key():
    key = number_key("F2026-00042")
    for spelling in ("f2026-42", "F 2026 00042", "F2026/042", "F2026-0042"):
        assert number_key(spelling) == key


def test_legal_forms_do_not_count_in_names():
    assert name_key("ATELIER DURAND S.A.R.L.") == name_key("Atelier Durand SAS") == "atelier durand"
    assert name_key("Müller GmbH") == "muller"


# -- each signal --------------------------------------------------------------------


def test_valid_rf_reference_and_exact_amount_is_automatic():
    m = match(amount="120.00", structured_reference=creditor_reference("F2026-00042"))
    assert (m.client_id, m.shares, m.automatic) == (10, ((1, D("120.00")),), True)
    assert m.reasons[:2] == ("reference", "amount_exact")
    assert m.flags == ()


def test_rf_reference_typed_in_groups_in_the_text():
    m = match(amount="120.00", remittance="Paiement RF93 F202 6000 42 merci")
    assert creditor_reference("F2026-00042") == "RF93F202600042"
    assert m.shares == ((1, D("120.00")),) and m.automatic


def test_bad_checksum_is_flagged_and_not_automatic_alone():
    # RF94 instead of RF93: the body still names invoice 1, but the reference is wrong.
    m = match(amount="120.00", structured_reference="RF94F202600042")
    assert "bad_reference_checksum" in m.flags
    assert m.shares == ((1, D("120.00")),)
    assert m.confidence < AUTO_THRESHOLD and not m.automatic
    assert m.status == "review"


def test_bad_checksum_with_nothing_found_is_still_flagged():
    m = match(amount="5.00", structured_reference="RF00XYZ")
    assert m.flags == ("bad_reference_checksum",)


def test_invoice_number_in_the_text_whatever_its_spelling():
    m = match(amount="80.50", remittance="reglement fact f2026-43")
    assert m.shares == ((2, D("80.50")),) and m.automatic
    assert "number_in_text" in m.reasons


def test_one_typo_in_a_number_of_the_client_the_iban_names():
    # 00034 instead of 00043: found among the client's own invoices.
    m = match(amount="80.50", remittance="Facture F2026-00034", payer_iban=DURAND_IBAN)
    assert m.shares == ((2, D("80.50")),)
    assert "number_typo" in m.reasons and m.automatic


def test_one_typo_found_among_invoices_of_that_exact_amount():
    m = match(amount="99.99", remittance="F2026-00054", payer_name="Boulangerie Martin")
    assert m.shares == ((5, D("99.99")),)
    assert "number_typo" in m.reasons


def test_end_to_end_id_carrying_the_number():
    m = match(amount="300.00", end_to_end_id="MARTIN-F2026-00044")
    assert m.shares == ((4, D("300.00")),) and "end_to_end" in m.reasons


def test_several_invoices_in_the_text_paid_by_their_sum():
    m = match(amount="200.50", remittance="F2026-00042 + F2026-00043")
    assert m.shares == ((1, D("120.00")), (2, D("80.50"))) and m.automatic


def test_known_iban_and_the_sum_of_the_oldest_invoices():
    m = match(amount="200.50", payer_iban=DURAND_IBAN.replace(" ", ""), payer_name="DURAND")
    assert m.client_id == 10
    assert m.shares == ((1, D("120.00")), (2, D("80.50")))
    assert "amount_sum" in m.reasons and m.automatic


def test_subset_sum_that_is_not_the_oldest_ones():
    m = match(amount="1080.50", payer_iban=DURAND_IBAN)
    assert m.shares == ((2, D("80.50")), (3, D("1000.00")))


def test_partial_payment_of_a_referenced_invoice():
    m = match(amount="50.00", structured_reference=creditor_reference("F2026-00044"))
    assert m.shares == ((4, D("50.00")),)
    assert "amount_partial" in m.reasons and m.automatic  # the RF is checksummed


def test_partial_payment_named_by_text_alone_goes_to_review():
    m = match(amount="50.00", remittance="F2026-00044")
    assert m.shares == ((4, D("50.00")),) and not m.automatic


def test_early_payment_discount_within_its_window():
    m = match(amount="980.00", remittance="F2026-00051", date=date(2026, 3, 14))
    assert m.shares == ((3, D("980.00")),)
    assert "amount_discount" in m.reasons and m.automatic


def test_discounted_amount_after_the_window_is_a_partial_payment():
    m = match(amount="980.00", remittance="F2026-00051", date=date(2026, 3, 16))
    assert "amount_partial" in m.reasons


def test_overpayment_leaves_the_excess_unallocated():
    m = match(amount="150.00", structured_reference=creditor_reference("F2026-00042"))
    assert m.shares == ((1, D("120.00")),) and m.allocated == D("120.00")
    assert "amount_over" in m.reasons


def test_payer_name_of_the_parent_company():
    m = match(amount="99.99", payer_name="HOLDING MARTIN LYON SAS")
    assert m.client_id == 20 and m.shares == ((5, D("99.99")),)
    assert not m.automatic  # a name is not an account: a person confirms


# -- precision guards -----------------------------------------------------------------


def test_amount_alone_is_never_automatic():
    m = match(amount="300.00", remittance="VIREMENT")
    assert m.shares == ((4, D("300.00")),)
    assert m.reasons == ("amount_only",) and not m.automatic


def test_amount_shared_by_two_invoices_is_unmatched():
    m = match(amount="120.00")  # invoice 1 (EUR); invoice 6 is GBP, so only one EUR: proposal
    assert not m.automatic
    items = [*ITEMS, OpenItem(7, 20, "F2026-00047", D("120.00"), "EUR", DAY)]
    m = Matcher(items, CLIENTS).match(Credit(1, D("120.00"), "EUR", DAY))
    assert m.status == "unmatched" and m.client_id is None and m.shares == ()


def test_nothing_known_is_unmatched():
    m = match(amount="4321.00", remittance="INTERETS CREDITEURS", payer_name="BANQUE")
    assert m.status == "unmatched" and m.reasons == ("unmatched",)


def test_currencies_are_never_mixed():
    m = match(amount="120.00", currency="GBP", remittance="F2026-00042")
    assert all(invoice != 1 for invoice, _ in m.shares)
    m = match(amount="120.00", currency="GBP", remittance="F2026-00046")
    assert m.shares == ((6, D("120.00")),)


def test_the_threshold_is_an_argument():
    credit = Credit(1, D("80.50"), "EUR", DAY, remittance="F2026-00043")
    assert match_credits(ITEMS, CLIENTS, [credit])[0].automatic
    assert not match_credits(ITEMS, CLIENTS, [credit], threshold=101)[0].automatic


def test_two_clients_referenced_is_ambiguous():
    m = match(amount="420.00", remittance="F2026-00042 F2026-00044")
    assert "ambiguous" in m.reasons and not m.automatic


# -- invariants --------------------------------------------------------------------

numbers = st.sampled_from([it.number for it in ITEMS] + ["F2026-00099", "RF93F202600042"])
texts = st.lists(
    st.one_of(numbers, st.sampled_from(["Facture", "VIR", "RF94F202600042", "0042", "2026"])),
    max_size=4,
).map(" ".join)
credits = st.builds(
    Credit,
    line_id=st.integers(1, 10),
    amount=st.decimals(D("0.01"), D("2000"), places=2),
    currency=st.sampled_from(["EUR", "GBP"]),
    date=st.dates(date(2026, 1, 1), date(2026, 6, 30)),
    remittance=texts,
    structured_reference=st.one_of(st.just(""), numbers),
    end_to_end_id=st.one_of(st.just(""), numbers),
    payer_name=st.sampled_from(["", "DURAND", "Boulangerie Martin SAS", "X"]),
    payer_iban=st.sampled_from(["", DURAND_IBAN, "GB29NWBK60161331926819"]),
)


@settings(max_examples=300, deadline=None)
@given(credits)
def test_shares_stay_within_balances_the_credit_and_one_client(credit):
    m = Matcher(ITEMS, CLIENTS).match(credit)
    items = {it.invoice_id: it for it in ITEMS}
    assert m.allocated <= credit.amount
    assert len({invoice for invoice, _ in m.shares}) == len(m.shares)
    for invoice, amount in m.shares:
        item = items[invoice]
        assert D("0") < amount <= item.balance
        assert item.currency == credit.currency
        assert item.client_id == m.client_id
    assert 0 <= m.confidence <= 100
    assert m.automatic == (m.confidence >= AUTO_THRESHOLD and bool(m.shares))
    if m.reasons and set(m.reasons) <= {"amount_only"}:
        assert not m.automatic
    assert Matcher(list(reversed(ITEMS)), CLIENTS).match(credit) == m  # deterministic


# -- the indexes built in bulk agree with the obvious way ---------------------------------


def test_balances_however_written_are_found_by_amount():
    # From the database a balance has two decimals; computed ones may not ("1E+2", "120.5").
    written = [D("1E+2"), D("120.5"), D("99.990"), D("0.125"), D("-5"), D("7")]
    items = [OpenItem(i, i, f"X-{i}", balance, "EUR", DAY) for i, balance in enumerate(written, 1)]
    matcher = Matcher(items, [])
    for i, amount in enumerate(["100.00", "120.50", "99.99", "0.125", "-5.00", "7.00"], 1):
        assert matcher._with_amount(D(amount)) == [i - 1]
    assert matcher._with_amount(D("0.12")) == []
    assert matching_module._amount_keys([D("1.5"), D("2"), D("-0.05"), D("3.10")]) == [
        150, 200, -5, 310
    ]  # fmt: skip
    m = matcher.match(Credit(1, D("100"), "EUR", DAY))
    assert (m.client_id, m.reasons) == (1, ("amount_only",))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        # 12.3, 12.30, 1.23E+3, 0.123: every way a Decimal may be written.
        st.builds(lambda n, e: D(n).scaleb(e), st.integers(-100_000, 100_000), st.integers(-3, 2)),
        max_size=30,
    )
)
def test_amount_keys_in_bulk_are_each_amount_key(amounts):
    assert matching_module._amount_keys(amounts) == [
        matching_module._amount_key(a) for a in amounts
    ]


def grouped(keys):
    groups = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    return groups


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(-50, 50), st.integers()), max_size=40))
def test_groups_and_multimap_find_every_position_of_a_key(keys):
    groups, multimap = matching_module._Groups(keys), matching_module._multimap(keys)
    for key, positions in grouped(keys).items():
        assert groups.get(key) == positions
        assert matching_module._get(multimap, key) == positions
    assert groups.get(max(keys, default=0) + 1) == []
    decimals = matching_module._Groups([D(k) / 4 for k in keys])  # not ints: sorted keys
    for key, positions in grouped([D(k) / 4 for k in keys]).items():
        assert decimals.get(key) == positions


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 40), max_size=20).map(lambda cs: [D(c) for c in cs]),
    st.integers(2, 100),
)
def test_subset_is_the_only_pair_else_the_only_triple(balances, target):
    from itertools import combinations

    items = [OpenItem(i, 1, f"N{i}", b, "EUR", DAY) for i, b in enumerate(balances)]
    pool = [(it, it.balance) for it in items]
    expected = None
    for size in (2, 3):
        sets = [c for c in combinations(range(min(16, len(pool))), size)
                if sum(balances[i] for i in c) == target]  # fmt: skip
        if sets:
            expected = [(i, balances[i]) for i in sets[0]] if len(sets) == 1 else None
            break
    assert matching_module._subset(D(target), pool) == expected
