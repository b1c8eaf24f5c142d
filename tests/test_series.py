"""Which series an upload is for, and whether it is late: never guessed where money is concerned.

Received on 29 November 2026: January 2027's standard deadline (21 October) has passed and its late
deadline (1 December) has not; June 2027 is at the standard fee until 21 February 2027. In such a
late window a row that states no series (no Series cell, no folder, no --series) is refused with
SER_03: the centre chooses between the late fee and the next series, the default never does.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import openpyxl
import pytest

from entries.cli import main
from entries.store import refdata
from entries.store.series import default_series, open_series
from tests.conftest import FIXTURES

SERIES = FIXTURES / "series"
STANDARD = {"05838": 9840, "unit": 3450}
LATE = {"05838": 14760, "unit": 5175}


def ingest(db_path, tmp_path, capsys, name: str, received: str, *extra: str) -> tuple[int, dict]:
    code = main(
        [
            "--db",
            str(db_path),
            "--out",
            str(tmp_path / "out"),
            "ingest",
            str(SERIES / name),
            "--centre",
            "12345",
            "--received-on",
            received,
            "--json",
            *extra,
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def stored(db_path, capsys) -> list[dict]:
    assert main(["--db", str(db_path), "list", "--centre", "12345", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_default_is_the_first_series_still_at_the_standard_fee(con):
    reference = refdata.snapshot(con)
    mem = reference.session()
    assert default_series(mem, dt.date(2026, 11, 29)) == "2027-06"
    assert default_series(mem, dt.date(2026, 10, 21)) == "2027-01"  # the deadline day itself is standard
    assert open_series(mem, dt.date(2026, 11, 29))[:2] == [
        ("2027-01", "January 2027", True),
        ("2027-06", "June 2027", False),
    ]


def test_outside_a_late_window_an_upload_without_a_series_goes_to_june_at_the_standard_fee(
    db_path, loaded_store, tmp_path, capsys
):
    shutil.copyfile(loaded_store, db_path)
    code, out = ingest(db_path, tmp_path, capsys, "no_series.csv", "2027-01-15")
    assert code == 0 and out["status"] == "Processing complete"
    assert (out["series"], out["series_source"], out["late"]) == ("2027-06", "default", False)
    assert out["fees_pence"] == STANDARD["05838"] + 2 * STANDARD["unit"]
    assert out["by_series"] == [{"series": "2027-06", "late": False, "entries": 3, "fees_pence": out["fees_pence"]}]
    assert {(e["series"], e["late"]) for e in stored(db_path, capsys)} == {("2027-06", False)}
    assert not [i for i in out["issues"] if i["code"] == "SER_03"]


def _with_series_cells(tmp_path, *cells: str):
    """no_series.csv with a Series column holding `cells`, one per data row."""
    lines = (SERIES / "no_series.csv").read_text().splitlines()
    path = tmp_path / "some_series.csv"
    path.write_text(
        "\n".join([lines[0] + ",Series", *(f"{ln},{c}" for ln, c in zip(lines[1:], cells, strict=True))]) + "\n"
    )
    return path


# (received, Series cells (None: no Series column), --series, SER_03 rows, series, late)
LATE_WINDOW_CASES = [
    # January 2027 late-fee only (22 October to 1 December 2026): nothing stated is refused.
    ("2026-11-29", None, None, [2, 3], None, None),
    ("2026-10-22", None, None, [2, 3], None, None),
    ("2026-12-01", None, None, [2, 3], None, None),  # the late deadline day itself
    # June 2027 late-fee only until 21 April 2027: the bug was a silent January 2028 entry.
    ("2027-03-01", None, None, [2, 3], None, None),
    ("2027-04-21", None, None, [2, 3], None, None),
    # Outside late windows the default stays the first series at the standard fee.
    ("2026-10-21", None, None, [], "2027-01", False),  # the standard deadline day itself
    ("2026-12-02", None, None, [], "2027-06", False),
    ("2027-04-22", None, None, [], "2028-01", False),
    # Rows whose own Series cell is filled are stated; only the blank one is refused.
    ("2026-11-29", ("2027-01", "2027-01"), None, [], "2027-01", True),
    ("2026-11-29", ("2027-06", "June 2027"), None, [], "2027-06", False),
    ("2026-11-29", ("2027-01", ""), None, [3], None, None),
    ("2027-03-01", ("", "2028-01"), None, [2], None, None),
    # --series states the series for every row that names none.
    ("2026-11-29", None, "2027-06", [], "2027-06", False),
    ("2026-11-29", None, "2027-01", [], "2027-01", True),
    ("2027-03-01", None, "June 2027", [], "2027-06", True),
    ("2027-03-01", ("", ""), "2028-01", [], "2028-01", False),
]


@pytest.mark.parametrize(("received", "cells", "option", "refused", "series", "late"), LATE_WINDOW_CASES)
def test_in_a_late_window_a_row_that_states_no_series_is_refused(
    db_path, loaded_store, tmp_path, capsys, received, cells, option, refused, series, late
):
    shutil.copyfile(loaded_store, db_path)
    path = SERIES / "no_series.csv" if cells is None else _with_series_cells(tmp_path, *cells)
    extra = ("--series", option) if option else ()
    code, out = ingest(db_path, tmp_path, capsys, str(path), received, *extra)
    found = [(i["row"], i["column"], i["severity"]) for i in out["issues"] if i["code"] == "SER_03"]
    assert found == [(row, "Series", "error") for row in refused]
    if refused:
        # Every other problem is reported too (row 3 has no UCI), and nothing is entered.
        assert code == 1 and out["status"] == "Read and rejected"
        assert any(i["code"] != "SER_03" for i in out["issues"])
        assert stored(db_path, capsys) == []
    else:
        assert code == 0 and out["status"] == "Processing complete"
        assert {(e["series"], e["late"]) for e in stored(db_path, capsys)} == {(series, late)}


@pytest.mark.parametrize(
    ("received", "late_series", "late_title", "deadline", "next_series", "next_title"),
    [
        (dt.date(2026, 11, 29), "2027-01", "January 2027", "1 December 2026", "2027-06", "June 2027"),
        (dt.date(2027, 3, 1), "2027-06", "June 2027", "21 April 2027", "2028-01", "January 2028"),
    ],
)
def test_the_refusal_names_both_choices_from_the_reference_data(
    con, tmp_path, received, late_series, late_title, deadline, next_series, next_title
):
    from entries.pipeline import hall

    reference = refdata.snapshot(con)
    context = hall.context_for(reference, "12345", received)
    assert (context.series, context.series_source) == (next_series, "default")
    outcome = hall.submit(
        con,
        SERIES / "no_series.csv",
        context=context,
        reference=reference,
        order_ref=None,
        out_dir=tmp_path / "out",
        dry_run=True,
    )
    refused = [i for i in outcome.issues if i.code == "SER_03"]
    assert [i.row for i in refused] == [2, 3]
    expected = {
        "series": late_series,
        "title": late_title,
        "deadline": deadline,
        "next": next_series,
        "next_title": next_title,
    }
    assert all({k: i.params[k] for k in expected} == expected for i in refused)


def test_a_series_column_naming_january_is_a_late_january_entry(db_path, loaded_store, tmp_path, capsys):
    shutil.copyfile(loaded_store, db_path)
    code, out = ingest(db_path, tmp_path, capsys, "series_column_2027-01.csv", "2026-11-29")
    assert code == 0 and out["late"] is True
    assert out["fees_pence"] == LATE["05838"] + 2 * LATE["unit"]
    assert {(e["series"], e["late"]) for e in stored(db_path, capsys)} == {("2027-01", True)}
    late = [i for i in out["issues"] if i["code"] == "ENT_05"]
    assert len(late) == 1 and late[0]["column"] == "Series" and late[0]["severity"] == "warning"


def test_the_series_option_states_the_series_too(db_path, loaded_store, tmp_path, capsys):
    shutil.copyfile(loaded_store, db_path)
    code, out = ingest(db_path, tmp_path, capsys, "no_series.csv", "2026-11-29", "--series", "January 2027")
    assert code == 0 and (out["series"], out["series_source"], out["late"]) == ("2027-01", "option", True)
    assert out["fees_pence"] == LATE["05838"] + 2 * LATE["unit"]


def test_rows_may_name_different_series_each_priced_for_its_own(db_path, loaded_store, tmp_path, capsys):
    shutil.copyfile(loaded_store, db_path)
    code, out = ingest(db_path, tmp_path, capsys, "mixed_series_in_words.csv", "2026-11-29")
    assert code == 0
    assert out["by_series"] == [
        {"series": "2027-01", "late": True, "entries": 1, "fees_pence": LATE["05838"]},
        {"series": "2027-06", "late": False, "entries": 2, "fees_pence": 2 * STANDARD["unit"]},
    ]


def test_a_row_for_a_closed_series_is_refused_never_moved(db_path, loaded_store, tmp_path, capsys):
    shutil.copyfile(loaded_store, db_path)
    code, out = ingest(db_path, tmp_path, capsys, "series_column_2027-01.csv", "2026-12-02")
    assert code == 1 and out["status"] == "Read and rejected"
    closed = [(i["row"], i["column"]) for i in out["issues"] if i["code"] == "ENT_06"]
    assert closed == [(2, "Series"), (3, "Series")]
    assert stored(db_path, capsys) == []


def test_a_series_cell_that_names_no_series_is_an_error_with_a_fix(db_path, loaded_store, tmp_path, capsys):
    shutil.copyfile(loaded_store, db_path)
    code, out = ingest(db_path, tmp_path, capsys, "series_not_a_series.csv", "2026-11-29")
    assert code == 1 and [(i["code"], i["row"], i["column"]) for i in out["issues"] if i["severity"] == "error"] == [
        ("SER_01", 2, "Series")
    ]


@pytest.mark.slow
def test_the_nightly_takes_the_series_from_the_folder_then_the_option_never_a_default_in_a_late_window(
    tmp_path, loaded_store, capsys
):
    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    inbox = tmp_path / "inbox"
    (inbox / "12345" / "2027-01").mkdir(parents=True)
    (inbox / "23456").mkdir(parents=True)
    shutil.copy(SERIES / "no_series.csv", inbox / "12345" / "2027-01" / "january.csv")
    shutil.copy(SERIES / "no_series.csv", inbox / "12345" / "june.csv")
    # The other centre's copy, made its own by its centre number.
    text = (
        (SERIES / "no_series.csv")
        .read_text()
        .replace("12345,0042,123450260042C", "23456,0042,")
        .replace("12345,0043", "23456,0043")
    )
    (inbox / "23456" / "june.csv").write_text(text)
    base = ["--db", str(db), "--out", str(tmp_path / "out")]
    run = ["nightly", str(inbox), "--in-process", "--received-on", "2026-11-29", "--settle-seconds", "0", "--json"]
    assert main([*base, *run]) == 0
    files = {f"{f['centre']}/{f['file']}": f for f in json.loads(capsys.readouterr().out)["files"]}
    assert files["12345/january.csv"]["series"] == "2027-01" and files["12345/january.csv"]["late"] is True
    assert files["12345/january.csv"]["series_source"] == "folder"
    # INBOX/<centre>/ with no series folder and no --series, January late-fee only: refused.
    for name in ("12345/june.csv", "23456/june.csv"):
        assert files[name]["series_source"] == "default" and files[name]["status"] == "Read and rejected"
        assert [(i["row"], i["column"]) for i in files[name]["issues"] if i["code"] == "SER_03"] == [
            (2, "Series"),
            (3, "Series"),
        ]
    assert not [i for i in files["12345/january.csv"]["issues"] if i["code"] == "SER_03"]
    assert not list(inbox.rglob("*.csv"))  # every file claimed, the series folder's too

    # A second night with --series: files that name none take it.
    (inbox / "23456" / "stated.csv").write_text(
        text.replace("23456,0042", "23456,0052")
        .replace("23456,0043", "23456,0053")
        .replace("Smith,Amy", "Patel,Riya")
        .replace("Jones,Ben", "Khan,Omar")
    )
    assert main([*base, *run, "--series", "2027-01"]) == 0
    (night,) = json.loads(capsys.readouterr().out)["files"]
    assert (night["series"], night["series_source"], night["late"]) == ("2027-01", "option", True)


def test_the_template_has_a_series_column_with_the_open_series(tmp_path, loaded_store, capsys):
    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    from entries.reports.template import write_template
    from entries.store import database

    con = database.connect(db)
    path = write_template(tmp_path / "t.xlsx", con, "12345", on=dt.date(2026, 11, 29))
    wb = openpyxl.load_workbook(path)
    header = [c.value for c in wb["Entries"][1]]
    assert header[header.index("Candidate Group") + 1] == "Series"
    lists = wb["Lists"]
    column = next(c for c in lists[1] if c.value == "Series").column
    offered = [lists.cell(row=r, column=column).value for r in range(2, lists.max_row + 1)]
    assert [v for v in offered if v] == ["2027-01", "2027-06", "2028-01", "2028-06"]
    letter = openpyxl.utils.get_column_letter(header.index("Series") + 1)
    assert any(f"{letter}3:{letter}" in str(dv.sqref) for dv in wb["Entries"].data_validations.dataValidation)
    help_rows = {r[0].value: r[4].value for r in wb["Help"].iter_rows(min_row=2) if r[0].value}
    assert "2027-01 (January 2027): late fee only, until 1 December 2026" in help_rows["Series"]
    # January is in its late window that day: a blank Series is refused (SER_03), and the template says so.
    assert "you must fill in Series" in help_rows["Series"]
    assert any(
        str(r[0].value).startswith("Series: When a series is in its late window") for r in wb["Help"].iter_rows()
    )
    assert (
        wb["Entries"].cell(row=2, column=header.index("Series") + 1).value == "fill in: 2027-01 (late fee) or 2027-06"
    )
    (series_list,) = [
        dv for dv in wb["Entries"].data_validations.dataValidation if f"{letter}3:{letter}" in str(dv.sqref)
    ]
    assert "blank Series is refused" in series_list.error


def test_a_dry_run_says_what_would_change_and_stores_nothing(db_path, loaded_store, tmp_path, capsys):
    shutil.copyfile(loaded_store, db_path)
    commit = FIXTURES / "commit"

    def dry(name: str) -> tuple[int, dict]:
        code = main(
            [
                "--db",
                str(db_path),
                "--out",
                str(tmp_path / "out"),
                "ingest",
                str(commit / name),
                "--centre",
                "12345",
                "--received-on",
                "2027-01-15",
                "--dry-run",
                "--json",
            ]
        )
        return code, json.loads(capsys.readouterr().out)

    code, out = dry("full_award_certificate.csv")
    assert code == 0 and out["dry_run"] is True and out["status"] == "Processing complete"
    assert out["changes"] == {"new": 1, "already_entered": 0, "replaces": 0} and out["fees_pence"] == 9840
    assert out["claim_number"] is None and out["reports"] == {"annotated": None, "confirmation": None}
    assert stored(db_path, capsys) == [] and not (tmp_path / "out").exists()

    assert (
        main(
            [
                "--db",
                str(db_path),
                "--out",
                str(tmp_path / "out"),
                "ingest",
                str(commit / "full_award_certificate.csv"),
                "--centre",
                "12345",
                "--received-on",
                "2027-01-15",
            ]
        )
        == 0
    )
    capsys.readouterr()
    _, again = dry("full_award_certificate.csv")
    assert again["status"] == "Duplicate file" and again["changes"]["new"] == 0
    _, top_up = dry("top_up_to_extended_certificate.csv")
    assert top_up["changes"] == {"new": 0, "already_entered": 0, "replaces": 1}
    assert len(stored(db_path, capsys)) == 1
