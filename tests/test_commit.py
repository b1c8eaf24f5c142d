"""The commit stage: candidates, classification, dedupe, fees, held rows and whole-file transactions."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from entries.checks.validate import Context
from entries.core.status import Status
from entries.pipeline import hall
from entries.store import refdata, review
from tests.conftest import FIXTURES, PROJECT

COMMIT = FIXTURES / "commit"


@pytest.fixture
def run(con, tmp_path):
    """Ingest a commit fixture for centre 12345 (June 2027 series unless told otherwise)."""
    reference = refdata.snapshot(con)

    def _run(
        name: str, series: str = "2027-06", received: dt.date = dt.date(2027, 1, 15), order_ref: str | None = "PO-1"
    ):
        ctx = Context(centre="12345", series=series, received_on=received)
        return hall.submit(
            con, COMMIT / name, context=ctx, reference=reference, order_ref=order_ref, out_dir=tmp_path / "out"
        )

    return _run


def codes(outcome) -> set[str]:
    return {i.code for i in outcome.issues}


def count(con, sql: str = "SELECT count(*) FROM entries") -> int:
    return con.execute(sql).fetchall()[0][0]


def test_full_award_is_stored_and_priced(con, run):
    outcome = run("full_award_certificate.csv")
    assert outcome.status == Status.PROCESSING_COMPLETE
    assert outcome.entries == {"full_award": 1, "unit": 0, "top_up": 0, "move_down": 0}
    assert outcome.fees_pence == 9840  # 05838 standard fee, received before the entry deadline
    assert con.execute("SELECT kind, unit_number, fee_pence, late, order_ref FROM entries").fetchall() == [
        ("full_award", None, 9840, False, "PO-1")
    ]


def test_late_entry_takes_the_late_fee(con, run):
    outcome = run("full_award_certificate.csv", received=dt.date(2027, 3, 1))
    assert outcome.fees_pence == 14760 and "ENT_05" in codes(outcome)
    assert con.execute("SELECT late FROM entries").fetchall() == [(True,)]


def test_unit_entries_one_per_unit(con, run):
    outcome = run("unit_entries_two_candidates.csv")
    assert outcome.entries["unit"] == 3 and outcome.fees_pence == 3 * 3450
    assert con.execute("SELECT candidate_number, unit_number FROM entries ORDER BY 1, 2").fetchall() == [
        ("0042", 1),
        ("0042", 2),
        ("0043", 3),
    ]


def test_top_up_without_its_full_award_is_rejected(con, run):
    outcome = run("top_up_to_extended_certificate.csv")
    assert outcome.status == Status.READ_AND_REJECTED and "CLS_01" in codes(outcome)
    assert count(con) == 0


def test_top_up_after_full_award_replaces_it(con, run):
    run("full_award_certificate.csv", series="2027-01", received=dt.date(2026, 10, 1))
    outcome = run("top_up_to_extended_certificate.csv")
    assert outcome.status == Status.PROCESSING_COMPLETE and outcome.entries["top_up"] == 1
    rows = con.execute("SELECT entry_code, replaced_by IS NOT NULL FROM entries ORDER BY entry_id").fetchall()
    assert rows == [("05838", True), ("05839T1", False)]


def test_unit_entries_never_count_for_a_top_up(con, run):
    run("unit_entry_unit_1.csv", series="2027-01", received=dt.date(2026, 10, 1))
    assert "CLS_01" in codes(run("top_up_to_extended_certificate.csv"))


def _results(con, *units: tuple[int, str]) -> None:
    con.executemany(
        "INSERT INTO unit_results VALUES ('123450260042C', '05839', ?, '2027-01', ?, now())",
        [[unit, result] for unit, result in units],
    )


def test_moving_down_with_the_units_achieved(con, run):
    run("full_award_extended_certificate.csv", series="2027-01", received=dt.date(2026, 10, 1))
    _results(con, (1, "Merit"), (2, "Pass"), (3, "U"))
    outcome = run("move_down_to_certificate.csv")
    assert outcome.status == Status.PROCESSING_COMPLETE and outcome.entries["move_down"] == 1
    assert con.execute("SELECT entry_code FROM entries WHERE replaced_by IS NOT NULL").fetchall() == [("05839",)]


def test_moving_down_names_the_units_still_missing(con, run):
    run("full_award_extended_certificate.csv", series="2027-01", received=dt.date(2026, 10, 1))
    _results(con, (1, "Pass"), (2, "U"))
    outcome = run("move_down_to_certificate.csv")
    issue = next(i for i in outcome.issues if i.code == "CLS_03")
    # The numbers the message states: the target's code and unit 2 (units 1 and 2 make the hours).
    assert outcome.status == Status.READ_AND_REJECTED and set(re.findall(r"[0-9]+", issue.message)) == {"05838", "2"}
    assert count(con) == 1


def test_moving_down_without_the_larger_full_award(con, run):
    _results(con, (1, "Pass"), (2, "Pass"))
    assert "CLS_02" in codes(run("move_down_to_certificate.csv"))


def test_resit_beyond_the_limit(con, tmp_path):
    # L3-IT allows 3 entries per examined unit, resits included. Each series' upload is its own file.
    reference = refdata.snapshot(con)

    def upload(series: str, received: dt.date):
        copy = tmp_path / f"unit_1_{series}.csv"
        copy.write_text(
            (COMMIT / "unit_entry_unit_1.csv").read_text() + "\n" * (int(series[2:4]) * 12 + int(series[-2:]))
        )
        return hall.submit(
            con, copy, context=Context("12345", series, received), reference=reference, order_ref=None, out_dir=tmp_path
        )

    for series, received in (
        ("2027-01", dt.date(2026, 10, 1)),
        ("2027-06", dt.date(2027, 1, 15)),
        ("2028-01", dt.date(2027, 9, 1)),
    ):
        assert upload(series, received).status == Status.PROCESSING_COMPLETE
    fourth = upload("2028-06", dt.date(2028, 1, 10))
    assert fourth.status == Status.READ_AND_REJECTED
    assert [(i.code, i.column) for i in fourth.issues if i.code == "CLS_04"] == [("CLS_04", "Unit 1")]
    assert count(con) == 3


def test_entry_already_on_record_is_not_stored_again(con, run, tmp_path):
    run("full_award_certificate.csv")
    copy = tmp_path / "again.csv"
    copy.write_text((COMMIT / "full_award_certificate.csv").read_text() + "\n")  # other bytes, same entry
    reference = refdata.snapshot(con)
    outcome = hall.submit(
        con,
        copy,
        context=Context("12345", "2027-06", dt.date(2027, 1, 15)),
        reference=reference,
        order_ref=None,
        out_dir=tmp_path,
    )
    assert outcome.status == Status.DUPLICATE_FILE and {"DUP_01", "DUP_02"} <= codes(outcome)
    assert count(con) == 1


def test_same_file_twice_is_a_duplicate_and_the_store_is_unchanged(con, run):
    run("unit_entries_two_candidates.csv")
    before = con.execute("SELECT * FROM entries ORDER BY entry_id").fetchall()
    candidates = con.execute("SELECT * FROM candidates ORDER BY candidate_id").fetchall()
    second = run("unit_entries_two_candidates.csv")
    assert second.status == Status.DUPLICATE_FILE
    assert con.execute("SELECT * FROM entries ORDER BY entry_id").fetchall() == before
    assert con.execute("SELECT * FROM candidates ORDER BY candidate_id").fetchall() == candidates


def test_known_candidate_is_selected_not_created_again(con, run):
    run("full_award_certificate.csv")
    run("unit_entries_two_candidates.csv")
    assert count(con, "SELECT count(*) FROM candidates") == 2


def test_probable_duplicate_candidate_is_held_then_resolved(con, run, tmp_path):
    run("full_award_certificate.csv")
    held = run("probable_duplicate_candidate.csv")
    assert held.status == Status.OCR_HANDLING_THIS and held.held == 1 and "CAND_01" in codes(held)
    assert count(con) == 1 and count(con, "SELECT count(*) FROM candidates") == 1
    items = review.open_items(con)
    assert [(i["reason_code"], i["on_record"]["candidate_number"]) for i in items] == [("CAND_01", "0042")]
    done = hall.resolve_held(con, items[0]["review_id"], "existing", refdata.snapshot(con), tmp_path)
    assert Path(done.pop("confirmation")).is_file()  # the centre's confirmation shows what is now stored
    assert done == {
        "review_id": items[0]["review_id"],
        "resolution": "existing",
        "entries": 1,
        "submission_status": "Processing complete",
        "submission_id": held.submission_id,
        "candidate_number": None,
    }
    assert count(con, "SELECT count(DISTINCT candidate_id) FROM entries") == 1
    # One number per candidate at a centre: the held row's entry takes the number on record.
    assert con.execute("SELECT DISTINCT candidate_number FROM entries").fetchall() == [("0042",)]
    history = [
        s
        for s, _ in con.execute(
            "SELECT status, seq FROM submission_status WHERE submission_id = ? ORDER BY seq", [held.submission_id]
        ).fetchall()
    ]
    assert history == ["Read and recognised", "Processing in progress", "OCR handling this", "Processing complete"]


def test_held_item_resolved_as_new_candidate_or_rejected(con, run, tmp_path):
    run("full_award_certificate.csv")
    run("probable_duplicate_candidate.csv")
    item = review.open_items(con)[0]["review_id"]
    hall.resolve_held(con, item, "new", refdata.snapshot(con), tmp_path)
    assert count(con, "SELECT count(*) FROM candidates") == 2
    with pytest.raises(Exception, match="already resolved"):
        hall.resolve_held(con, item, "reject", refdata.snapshot(con), tmp_path)


def test_review_list_shows_what_each_held_row_would_enter(con, run):
    run("full_award_certificate.csv")
    run("probable_duplicate_candidate.csv")
    (item,) = review.open_items(con)
    assert item["entries"] == [{"row": 2, "entry_code": "05850", "units": [], "series": "2027-06"}]


def test_a_candidate_number_clash_is_resolved_with_a_free_number(con, run, tmp_path):
    run("full_award_certificate.csv")
    held = run("candidate_number_of_another_candidate.csv")
    assert held.status == Status.OCR_HANDLING_THIS and "CAND_03" in codes(held)
    (item,) = review.open_items(con)
    with pytest.raises(Exception, match="clashes with a candidate on record"):
        hall.resolve_held(con, item["review_id"], "new", refdata.snapshot(con), tmp_path)
    done = hall.resolve_held(con, item["review_id"], "new-number", refdata.snapshot(con), tmp_path)
    assert (done["candidate_number"], done["entries"], done["submission_status"]) == ("0001", 1, "Processing complete")
    assert con.execute("SELECT candidate_number, surname FROM candidates ORDER BY candidate_number").fetchall() == [
        ("0001", "Okafor"),
        ("0042", "Smith"),
    ]
    assert con.execute("SELECT candidate_number, entry_code FROM entries ORDER BY entry_id").fetchall() == [
        ("0042", "05838"),
        ("0001", "05850"),
    ]
    assert review.free_candidate_number(con, "12345") == "0002"


def test_uci_on_record_with_another_date_of_birth_is_held(con, run, tmp_path):
    run("full_award_certificate.csv")
    held = run("uci_with_other_date_of_birth.csv")
    assert held.status == Status.OCR_HANDLING_THIS and "CAND_02" in codes(held)
    item = review.open_items(con)[0]["review_id"]
    with pytest.raises(Exception, match="existing or reject"):
        hall.resolve_held(con, item, "new", refdata.snapshot(con), tmp_path)
    assert (
        hall.resolve_held(con, item, "reject", refdata.snapshot(con), tmp_path)["submission_status"]
        == "Processing complete"
    )
    assert count(con) == 1


CHILD = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from entries.store import commit as stage
    from entries.store import refdata
    from entries.store import database
    from entries.pipeline import hall
    from entries.checks.validate import Context

    db, source, marker = sys.argv[1:4]
    real = stage.store_entries

    def store_then_stall(*args, **kwargs):
        done = real(*args, **kwargs)
        Path(marker).write_text("inside the transaction")
        time.sleep(120)  # killed here, before COMMIT
        return done

    stage.store_entries = store_then_stall
    con = database.connect(Path(db))
    hall.submit(con, Path(source), context=Context("12345", "2027-06", dt.date(2027, 1, 15)),
                reference=refdata.snapshot(con), order_ref=None, out_dir=Path(db).parent / "out")
    """
)


@pytest.mark.slow
def test_kill_mid_transaction_leaves_nothing_then_the_file_commits_whole(db_path, tmp_path):
    from entries.store import database

    database.connect(db_path).close()
    marker = tmp_path / "inside"
    source = COMMIT / "unit_entries_two_candidates.csv"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), str(source), str(marker)],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, "the child ended before reaching the transaction"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    con = database.connect(db_path)
    tables = ("submissions", "entries", "candidates", "accepted_files", "submission_status")
    counts = dict(con.execute(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)).fetchall())
    assert counts == dict.fromkeys(tables, 0)
    outcome = hall.submit(
        con,
        source,
        context=Context("12345", "2027-06", dt.date(2027, 1, 15)),
        reference=refdata.snapshot(con),
        order_ref=None,
        out_dir=tmp_path / "out",
    )
    assert outcome.status == Status.PROCESSING_COMPLETE
    assert con.execute("SELECT count(*) FROM entries").fetchall() == [(3,)]


def _many_candidates(n: int) -> tuple:
    """Normalised rows and a history for `n` candidates, six cases in turn (see the test below)."""
    import pandas as pd

    from entries.checks.classify import History

    rows, past, achieved, expected = [], [], [], {}
    entry_id = 1

    def row(k: int, code: str, unit: int | None = None, series: str = "2027-06") -> int:
        number = len(rows) + 2
        rows.append(
            {
                "row": number,
                "centre_number": "12345",
                "candidate_number": f"{k:04d}",
                "entry_code": code,
                "unit_1": unit,
                **{f"unit_{u}": None for u in range(2, 7)},
                "candidate_group": "13A",
                "series": series,
                "cand_key": k,
            }
        )
        return number

    def held(k: int, code: str, kind: str = "full_award", unit: int | None = None, series: str = "2026-06") -> int:
        nonlocal entry_id
        entry_id += 1
        past.append((k, entry_id, code, kind, code[:5], "L3-IT", unit, series, None))
        return entry_id

    for k in range(1, n + 1):
        case = k % 6
        if case == 0:  # a top-up building on the Certificate on record: replaces it
            expected[row(k, "05839T1")] = ("replaces", held(k, "05838"))
        elif case == 1:  # a top-up with nothing on record
            expected[row(k, "05839T1")] = ("CLS_01", None)
        elif case == 2:  # moving down with units 1 and 2 achieved: replaces the Extended Certificate
            achieved += [(k, "L3-IT", 1), (k, "L3-IT", 2)]
            expected[row(k, "05838M2")] = ("replaces", held(k, "05839"))
        elif case == 3:  # moving down with unit 2 not achieved
            achieved.append((k, "L3-IT", 1))
            held(k, "05839")
            expected[row(k, "05838M2")] = ("CLS_03", {"05838", "2"})  # the numbers its message states
        elif case == 4:  # moving down without the larger full award
            expected[row(k, "05838M2")] = ("CLS_02", None)
        else:  # unit 1 twice on record; once more is the third attempt, twice more is one too many
            held(k, "05838", "unit", 1, "2026-06")
            held(k, "05838", "unit", 1, "2026-11")
            expected[row(k, "05838", 1, "2027-01")] = ("ok", None)
            expected[row(k, "05838", 1, "2027-06")] = ("CLS_04", None)
    norm = pd.DataFrame(rows)
    for u in range(1, 7):
        norm[f"unit_{u}"] = norm[f"unit_{u}"].astype("Int64")
    columns = ["cand_key", "entry_id", "entry_code", "kind", "qualification_code", "suite_id", "unit_number"]
    history = History(
        entries=pd.DataFrame(past, columns=[*columns, "series", "replaced_by"]).astype({"unit_number": "Int64"}),
        achieved=pd.DataFrame(achieved, columns=["cand_key", "suite_id", "unit_number"]),
    )
    return norm, history, expected


def test_a_file_of_many_top_ups_moves_down_and_resits_is_classified_row_by_row_at_once(con):
    """Six cases over 600 candidates in one file: each row gets its own outcome (set-based: no
    step filters the history per row)."""
    from entries.checks.classify import classify

    norm, history, expected = _many_candidates(600)
    ctx = Context(centre="12345", series="2027-06", received_on=dt.date(2026, 10, 1))
    classified = classify(norm, ctx, refdata.snapshot(con), history)
    by_row = {i.row: i for i in classified.issues}
    replaces = dict(zip(classified.entries["source_row"], classified.entries["replaces"], strict=True))
    for row, (what, detail) in expected.items():
        if what == "replaces":
            assert row not in by_row and replaces[row] == detail, row
        elif what == "ok":
            assert row not in by_row and pd_isna(replaces[row]), row
        else:
            assert by_row[row].code == what, row
            if detail:
                assert set(re.findall(r"[0-9]+", by_row[row].message)) == detail, row
    assert len(by_row) == sum(1 for what, _ in expected.values() if what.startswith("CLS"))


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
