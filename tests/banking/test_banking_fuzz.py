"""Fuzzing: mutated real samples and random text give a result or a StatementError, nothing else."""

from __future__ import annotations

import contextlib

import pytest
from bankdata import CAMT, MT940, OFX
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance.banking.parsers import StatementError, parse

SEEDS = [
    CAMT / "camt053.v4.xml",
    CAMT / "camt054.v4.xml",
    MT940 / "betterplace" / "sepa_snippet.sta",
    OFX / "checking.ofx",
    OFX / "ofx-v102-empty-tags.ofx",
]
CSV = "Date;Libellé;Montant\n01/03/2026;VIR FACT 12;1 234,56\n02/03/2026;PRLV;-12,00\n".encode()


def _try(data: bytes, name: str = "") -> None:
    with contextlib.suppress(StatementError):
        parse(data, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, len(SEEDS)),
    cuts=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=8)), max_size=6),
)
def test_mutated_samples_fail_cleanly(seed, cuts):
    if seed == len(SEEDS):
        data, name = CSV, "x.csv"
    else:
        if not SEEDS[seed].exists():
            pytest.skip("../shared/data/bank absent")
        data, name = SEEDS[seed].read_bytes(), SEEDS[seed].name
    buf = bytearray(data)
    for position, junk in cuts:
        at = position % (len(buf) + 1)
        buf[at : at + len(junk)] = junk
    _try(bytes(buf), name)
    _try(bytes(buf))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["", "a.csv", "a.sta", "a.ofx", "a.xml"]))
def test_random_bytes_fail_cleanly(data, name):
    _try(data, name)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_random_text_with_signatures_fails_cleanly(text):
    for prefix in ("<OFX>", ":20:X\n:25:1\n:61:", "<Document><BkToCstmrStmt><Stmt>", "a;b\n"):
        _try((prefix + text).encode())
