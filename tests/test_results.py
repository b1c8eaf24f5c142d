"""Unit results: a good file is stored once, re-marks update, every defect is named and stores nothing."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from entries.core.rules import catalogue
from entries.intake.uci import CHECK_LETTERS, check_letter
from entries.store import results
from entries.store.results import achieved_units, load_results
from schemas.results import RESULTS, result_text, results_schema, uci_reason
from tests.conftest import FIXTURES

RESULT_FILES = FIXTURES / "results"
GOOD_ROWS = 5
NOBODY = "681990012059R"  # well formed, but no candidate on record has it (unknown_uci.csv)


@pytest.fixture
def con(con):
    """The store with a candidate on record for every UCI the results fixtures use (but NOBODY):
    a result is only ever for a candidate entered or onboarded here."""
    ucis = set()
    for path in RESULT_FILES.glob("*.csv"):
        ucis |= set(re.findall(r"\b[0-9]{5}[0A-Z][0-9]{6}[A-Z]\b", path.read_bytes().decode("cp1252")))
    ucis.discard(NOBODY)
    people = pd.DataFrame({"uci": sorted(ucis)})
    people["candidate_id"] = range(1, len(people) + 1)
    people["centre_number"] = people["uci"].str.slice(0, 5)
    people["candidate_number"] = [f"{n:04d}" for n in people["candidate_id"]]
    con.register("people", people)
    con.execute(
        """INSERT INTO candidates (candidate_id, centre_number, candidate_number, uci, surname, forenames, sex,
               date_of_birth, submission_id)
           SELECT candidate_id, centre_number, candidate_number, uci, 'Fixture', 'Candidate', 'F', DATE '2009-01-01', 0
           FROM people"""
    )
    con.unregister("people")
    return con


def _stored(con) -> list[tuple]:
    return con.execute(
        "SELECT uci, qualification_code, unit_number, series, result FROM unit_results ORDER BY ALL"
    ).fetchall()


def _places(load) -> list[tuple]:
    return [(i.code, i.row, i.column) for i in load.issues]


def test_good_file_is_stored(con):
    load = load_results(con, RESULT_FILES / "good.csv")

    assert load.issues == []
    assert (load.file, load.rows, load.stored, load.inserted, load.updated, load.unchanged) == (
        "good.csv",
        5,
        5,
        5,
        0,
        0,
    )
    assert _stored(con) == [
        ("123450260042C", "05850", 1, "2027-06", "Distinction"),  # "distinction" stored in its canonical spelling
        ("681990012058G", "05838", 1, "2027-01", "Distinction*"),
        ("681990012058G", "05838", 2, "2027-01", "Merit"),
        ("689990980001D", "05839", 3, "2027-06", "Pass"),
        ("999990140001B", "05839", 1, "2027-06", "U"),
    ]
    assert con.execute("SELECT count(*) FROM unit_results WHERE loaded_at IS NULL").fetchall()[0][0] == 0


def test_loading_the_same_file_again_changes_nothing(con):
    load_results(con, RESULT_FILES / "good.csv")
    before = con.execute("SELECT * FROM unit_results ORDER BY ALL").fetchall()

    again = load_results(con, RESULT_FILES / "good.csv")

    assert (again.rows, again.stored, again.inserted, again.updated, again.unchanged) == (5, 0, 0, 0, 5)
    assert again.issues == []
    assert con.execute("SELECT * FROM unit_results ORDER BY ALL").fetchall() == before  # loaded_at too


def test_a_remark_updates_the_result(con):
    load_results(con, RESULT_FILES / "good.csv")
    stamp = dict(
        ((u, q, n, s), t)
        for u, q, n, s, t in con.execute(
            "SELECT uci, qualification_code, unit_number, series, loaded_at FROM unit_results"
        ).fetchall()
    )

    load = load_results(con, RESULT_FILES / "remark.csv")

    assert (load.rows, load.stored, load.inserted, load.updated, load.unchanged) == (2, 1, 0, 1, 1)
    rows = {
        (u, q, n, s): (r, t)
        for u, q, n, s, r, t in con.execute(
            "SELECT uci, qualification_code, unit_number, series, result, loaded_at FROM unit_results"
        ).fetchall()
    }
    assert len(rows) == GOOD_ROWS
    remarked = ("681990012058G", "05838", 2, "2027-01")
    assert rows[remarked][0] == "Distinction"
    assert rows[remarked][1] >= stamp[remarked]
    untouched = ("681990012058G", "05838", 1, "2027-01")
    assert rows[untouched] == ("Distinction*", stamp[untouched])


# (fixture, expected code, row, column): each file has exactly one defect.
DEFECTS = [
    ("bad_check_letter.csv", "UCI_04", 3, "UCI"),
    ("uci_stem_only.csv", "UCI_02", 3, "UCI"),  # 12 characters: no check letter is added to a result
    ("bad_uci_structure.csv", "UCI_03", 3, "UCI"),
    ("bad_qualification_code.csv", "RES_02", 3, "Qualification Code"),
    ("unknown_qualification.csv", "RES_03", 3, "Qualification Code"),
    ("bad_unit_number.csv", "RES_04", 3, "Unit Number"),
    ("unit_not_in_qualification.csv", "RES_05", 3, "Unit Number"),
    ("bad_series.csv", "RES_06", 3, "Series"),
    ("unknown_series.csv", "RES_07", 3, "Series"),
    ("bad_result.csv", "RES_08", 3, "Result"),
    ("bad_result_after_blank_line.csv", "RES_08", 5, "Result"),  # the blank line keeps its row number
    ("unknown_uci.csv", "RES_10", 3, "UCI"),
    ("moderated_unit.csv", "RES_11", 3, "Unit Number"),
    ("ragged_row.csv", "FILE_17", 3, None),
    ("missing_column.csv", "RES_01", 1, None),
]


@pytest.mark.parametrize(("file", "code", "row", "column"), DEFECTS, ids=[d[0].removesuffix(".csv") for d in DEFECTS])
def test_each_defect_is_named_at_its_place_and_nothing_is_stored(con, file, code, row, column):
    load = load_results(con, RESULT_FILES / file)

    assert _places(load) == [(code, row, column)]
    assert load.issues[0].severity == "error"
    assert (load.stored, load.inserted, load.updated, load.unchanged) == (0, 0, 0, 0)
    assert _stored(con) == []


def test_a_file_with_an_error_leaves_stored_results_as_they_were(con):
    load_results(con, RESULT_FILES / "good.csv")
    before = con.execute("SELECT * FROM unit_results ORDER BY ALL").fetchall()

    # Row 2 of this file would be a re-mark of a stored result; its row 3 is unknown.
    load = load_results(con, RESULT_FILES / "unknown_qualification.csv")

    assert load.has_errors and load.stored == 0
    assert con.execute("SELECT * FROM unit_results ORDER BY ALL").fetchall() == before


def test_one_key_with_two_results_is_an_error_on_both_rows(con):
    load = load_results(con, RESULT_FILES / "conflicting_duplicate.csv")

    assert _places(load) == [("RES_09", 3, "Result"), ("RES_09", 7, "Result")]
    assert all("3, 7" in i.message for i in load.issues)
    assert _stored(con) == []


def test_a_repeated_row_is_a_warning_and_stored_once(con):
    load = load_results(con, RESULT_FILES / "repeated_row.csv")  # row 7 repeats row 3 ("merit" = "Merit")

    assert _places(load) == [("ROW_01", 7, None)]
    assert load.issues[0].severity == "warning"
    assert (load.rows, load.inserted) == (6, GOOD_ROWS)


def test_header_aliases_semicolons_and_a_bom_are_read(con):
    load = load_results(con, RESULT_FILES / "aliases_semicolon_bom.csv")  # uci;QUALIFICATION;unit;Series;grade

    assert load.issues == []
    assert load.inserted == GOOD_ROWS


def test_cp1252_file_with_an_extra_column_is_read(con):
    load = load_results(con, RESULT_FILES / "cp1252.csv")

    assert _places(load) == [("HDR_02", 1, None)]  # the extra column is ignored, with a warning
    assert load.inserted == GOOD_ROWS


def test_empty_and_oversized_files_are_refused(con, tmp_path, monkeypatch):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _places(load_results(con, empty)) == [("FILE_01", None, None)]

    monkeypatch.setattr(results, "MAX_RESULTS_BYTES", 100)
    load = load_results(con, RESULT_FILES / "good.csv")
    assert [i.code for i in load.issues] == ["FILE_09"]
    assert _stored(con) == []


def test_u_is_not_achieved_and_the_best_result_wins(con):
    load = load_results(con, RESULT_FILES / "history.csv")
    assert load.issues == [] and load.inserted == 7

    # Unit 1: Pass (05838, 2027-01) then Distinction (05839, 2027-06) -> Distinction.
    # Unit 2: U only -> not achieved. Unit 3: U (05839) and Merit (05840) -> Merit.
    # L3-BUS unit 1 belongs to another suite; the last row is another candidate.
    assert achieved_units(con, "689990980001D", "L3-IT") == {1: "Distinction", 3: "Merit"}
    assert achieved_units(con, " 689990980001d ", "L3-IT") == {1: "Distinction", 3: "Merit"}
    assert achieved_units(con, "689990980001D", "L3-BUS") == {1: "Distinction*"}
    assert achieved_units(con, "999990140001B", "L3-IT") == {}


def test_a_remark_to_u_withdraws_the_achievement(con):
    load_results(con, RESULT_FILES / "good.csv")
    assert achieved_units(con, "681990012058G", "L3-IT") == {1: "Distinction*", 2: "Merit"}
    assert achieved_units(con, "999990140001B", "L3-IT") == {}  # a U only

    load_results(con, RESULT_FILES / "remark.csv")
    assert achieved_units(con, "681990012058G", "L3-IT") == {1: "Distinction*", 2: "Distinction"}


@pytest.mark.parametrize("file", sorted(p.name for p in RESULT_FILES.glob("*.csv")))
def test_messages_carry_no_uci(con, file):
    path = RESULT_FILES / file
    data = path.read_bytes()
    text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp1252")
    cells = {cell.strip().upper() for line in text.splitlines() for cell in re.split("[,;]", line)}
    ucis = {c for c in cells if re.fullmatch(r"[0-9A-Z]{12,13}", c) and c[:5].isdigit()}
    ucis |= {"681990012058G", "689990980001D", "999990140001B", "123450260042C"}

    for problem in load_results(con, path).issues:
        template = catalogue()[problem.code].fix  # the catalogue's own worked example is not a candidate's
        for uci in ucis:
            for part in (uci, uci[:12]):
                assert part not in problem.message.upper(), (problem.code, problem.message)
                assert part not in problem.fix.upper() or part in template, (problem.code, problem.fix)


def test_every_schema_column_is_described(con):
    schema = results_schema(con)
    assert all(column.description for column in schema.columns.values())
    assert {c.name for column in schema.columns.values() for c in column.checks} <= {
        "UCI_02",
        "UCI_03",
        "UCI_04",
        "RES_02",
        "RES_03",
        "RES_04",
        "RES_06",
        "RES_07",
        "RES_08",
        "RES_10",
    }
    assert {c.name for c in schema.checks} == {"RES_05", "RES_09", "RES_11"}


@given(st.sampled_from(RESULTS), st.data())
def test_any_casing_of_a_result_reads_as_its_canonical_spelling(result, data):
    cased = "".join(data.draw(st.sampled_from([ch.lower(), ch.upper()])) for ch in result)
    padded = data.draw(st.sampled_from(["", " ", "  "])) + cased + data.draw(st.sampled_from(["", " "]))
    assert result_text(pd.Series([padded], dtype="str")).tolist() == [result]


@given(
    st.text("0123456789", min_size=5, max_size=5),
    st.sampled_from("0ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    st.text("0123456789", min_size=6, max_size=6),
    st.integers(1, len(CHECK_LETTERS) - 1),
)
def test_only_the_right_check_letter_passes(centre, sixth, digits, shift):
    stem = centre + sixth + digits
    right = check_letter(stem)
    wrong = CHECK_LETTERS[(CHECK_LETTERS.index(right) + shift) % len(CHECK_LETTERS)]
    reasons = uci_reason(pd.Series([stem + right, (stem + right).lower(), stem + wrong, stem], dtype="str")).tolist()
    assert reasons == ["", "", "check", "length"]
