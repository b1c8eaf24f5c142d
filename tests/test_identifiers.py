"""UCI and ULN checks (docs/architecture.md §6): worked vectors, edge cases and check-digit properties."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entries.intake.uci import CHECK_LETTERS, centre_of, check_letter, complete, uci_problem
from entries.intake.uln import is_placeholder, uln_problem

# ---------------------------------------------------------------- UCI


@pytest.mark.parametrize(
    "value",
    [
        "681990012058G",
        "689990980001D",
        "999990140001B",
        "12345A250001" + check_letter("12345A250001"),  # a letter in position 6
        "681990012058",  # a well-formed 12-character stem has no check letter to fail
    ],
)
def test_valid_uci(value: str) -> None:
    assert uci_problem(value) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("999990140001X", "check"),
        ("681990012058H", "check"),
        ("681990012058I", "check"),  # I is never a check letter
        ("681990012058", None),
        ("68199001205", "length"),
        ("681990012058GG", "length"),
        ("", "length"),
        ("681990012058g", "structure"),  # lowercase check letter
        ("68199a012058G", "structure"),  # lowercase in position 6
        ("681991012058G", "structure"),  # position 6 must be 0 or a letter
        ("681990012058 ", "structure"),  # trailing space inside the 13
        ("68199 012058G", "structure"),
        (" 81990012058G", "structure"),
        ("6819900120587", "structure"),  # digit where the check letter goes
        ("A81990012058G", "structure"),
        ("6819901205800", "structure"),
        ("６81990012058G", "structure"),  # full-width digit
        ("681990012058-", "structure"),
    ],
)
def test_uci_reasons(value: str, reason: str | None) -> None:
    assert uci_problem(value) == reason


def test_check_letter_vectors() -> None:
    assert check_letter("681990012058") == "G"
    assert check_letter("689990980001") == "D"
    assert check_letter("999990140001") == "B"
    assert complete("681990012058") == "681990012058G"
    assert centre_of("681990012058G") == "68199"


@pytest.mark.parametrize("stem", ["", "68199001205", "681990012058G", "681991012058", "681990012o58", "68199a012058"])
def test_check_letter_rejects_bad_stems(stem: str) -> None:
    with pytest.raises(ValueError):
        check_letter(stem)
    with pytest.raises(ValueError):
        complete(stem)


stems = st.builds(
    lambda centre, kind, year, serial: centre + kind + year + serial,
    st.text(alphabet=string.digits, min_size=5, max_size=5),
    st.sampled_from("0" + string.ascii_uppercase),
    st.text(alphabet=string.digits, min_size=2, max_size=2),
    st.text(alphabet=string.digits, min_size=4, max_size=4),
)


@given(stems)
def test_exactly_one_check_letter_accepted(stem: str) -> None:
    accepted = [c for c in string.ascii_uppercase if uci_problem(stem + c) is None]
    assert accepted == [check_letter(stem)]
    assert accepted[0] in CHECK_LETTERS
    rejected = {uci_problem(stem + c) for c in string.ascii_uppercase if c not in accepted}
    assert rejected == {"check"}


@given(stems)
def test_complete_is_valid(stem: str) -> None:
    uci = complete(stem)
    assert len(uci) == 13
    assert uci_problem(uci) is None
    assert centre_of(uci) == stem[:5]


# ---------------------------------------------------------------- ULN


@pytest.mark.parametrize("value", ["1000000043", "1234567899", "1000000051"])
def test_valid_uln(value: str) -> None:
    assert uln_problem(value) is None
    assert not is_placeholder(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1000000063", "check"),
        ("1000000042", "check"),
        ("1000000001", "check"),
        ("2000000010", "check"),  # remainder 0: no check digit works
        ("9999999999", "placeholder"),
        ("0000000000", "placeholder"),
        ("1111111111", "placeholder"),
        ("1234567890", "placeholder"),
        ("TBC", "placeholder"),
        ("tbc", "placeholder"),
        ("N/A", "placeholder"),
        ("UNKNOWN", "placeholder"),
        ("None", "placeholder"),
        ("-", "placeholder"),
        ("100000004", "length"),
        ("10000000433", "length"),
        ("", "length"),
        ("100000004A", "length"),  # not ten digits
        ("10000 00043", "length"),
        ("1000 00043", "length"),  # ten characters, one a space
        ("１000000043", "length"),  # full-width digit
        ("ABCDEFGHIJ", "length"),
    ],
)
def test_uln_reasons(value: str, reason: str) -> None:
    assert uln_problem(value) == reason


def _remainder(nine: str) -> int:
    return sum(w * int(c) for w, c in zip(range(10, 1, -1), nine, strict=False)) % 11


@given(st.text(alphabet=string.digits, min_size=9, max_size=9))
def test_at_most_one_uln_check_digit(nine: str) -> None:
    valid = [d for d in string.digits if uln_problem(nine + d) is None]
    assert len(valid) <= 1
    remainder = _remainder(nine)
    if remainder == 0:
        assert valid == []
    else:
        expected = nine + str(10 - remainder)
        if is_placeholder(expected):
            assert valid == []
            assert uln_problem(expected) == "placeholder"
        else:
            assert valid == [str(10 - remainder)]


@given(st.lists(st.from_regex(r"\A[0-9]{5}[0A-Z][0-9]{6}[A-Z]\Z", fullmatch=True), min_size=1, max_size=30))
def test_vectorised_check_letters_agree_with_scalar(ucis):
    import pandas as pd

    from entries.intake.uci import check_letters_valid, uci_problem

    assert check_letters_valid(pd.Series(ucis)).tolist() == [uci_problem(u) is None for u in ucis]


@given(st.lists(st.from_regex(r"\A[0-9]{10}\Z", fullmatch=True), min_size=1, max_size=30))
def test_vectorised_uln_check_agrees_with_scalar(ulns):
    import pandas as pd

    from entries.intake.uln import check_digits_valid, uln_problem

    assert check_digits_valid(pd.Series(ulns)).tolist() == [
        uln_problem(u) in (None, "placeholder") and _checksum_ok(u) for u in ulns
    ]


def _checksum_ok(uln: str) -> bool:
    remainder = sum(int(d) * w for d, w in zip(uln[:9], range(10, 1, -1), strict=False)) % 11
    return remainder != 0 and int(uln[9]) == 10 - remainder


@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\A[0-9]{10}\Z", fullmatch=True),
            st.sampled_from(["TBC", "n/a", "9999999999", "1234567890", "", "x"]),
            st.text(max_size=12),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_vectorised_placeholder_agrees_with_scalar(values):
    import pandas as pd

    from entries.intake.uln import is_placeholder, placeholder_mask

    assert placeholder_mask(pd.Series(values, dtype="str")).tolist() == [is_placeholder(v) for v in values]
