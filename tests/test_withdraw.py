"""Withdrawals through the command line (DESIGN §10): what matches, the credit against the published
fees and deadlines, dry runs, refusals, and what a withdrawn entry no longer is (listed, a base for a
top-up, a duplicate of a new entry)."""

from __future__ import annotations

import csv
import json

import openpyxl

from tests.conftest import REFERENCE, uci_of, withdraw


def published_fee(series: str, code: str) -> int:
    """The standard fee in pence of `code` in `series`, as reference_data/fees.csv publishes it."""
    with (REFERENCE / "fees.csv").open(newline="") as f:
        return next(int(r["fee_pence"]) for r in csv.DictReader(f) if (r["series"], r["entry_code"]) == (series, code))


def deadline(series: str) -> str:
    """The series' standard entry deadline, as reference_data/series.csv publishes it."""
    with (REFERENCE / "series.csv").open(newline="") as f:
        return next(r["entry_deadline"] for r in csv.DictReader(f) if r["series"] == series)


def listed(cli) -> list[tuple[str, str]]:
    code, out, _ = cli("list", "--centre", "12345", "--json")
    assert code == 0
    return [(e["candidate_number"], e["entry_code"]) for e in json.loads(out)]


def test_a_claim_is_withdrawn_whole_with_its_fees_credited_before_the_deadline(cli, ingest, tmp_path):
    first = ingest([("0042", "05838"), ("0043", "05838")])
    other = ingest([("0044", "05838")])
    assert first["status"] == "Processing complete" and other["status"] == "Processing complete"
    code, out, _ = withdraw(cli, "--claim", first["claim_number"], "--on", deadline("2027-06"))
    assert code == 0
    fee = published_fee("2027-06", "05838")
    assert [(w["candidate_number"], w["entry_code"], w["fee_pence"], w["credit_pence"]) for w in out["withdrawn"]] == [
        ("0042", "05838", fee, fee),
        ("0043", "05838", fee, fee),
    ]
    assert {w["claim_number"] for w in out["withdrawn"]} == {first["claim_number"]}
    assert out["total_credit_pence"] == 2 * fee
    assert listed(cli) == [("0044", "05838")]
    _, history, _ = cli("history", "--centre", "12345", "--json")
    counts = {s["claim_number"]: (s["withdrawn"], s["credit_pence"]) for s in json.loads(history)}
    assert counts == {first["claim_number"]: (2, 2 * fee), other["claim_number"]: (0, 0)}
    sheet = openpyxl.load_workbook(tmp_path / "out" / "history" / "history_centre_12345.xlsx")["Submissions"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    at = rows[0].index("Withdrawn")
    assert rows[0][at + 1] == "Credit (pence)"
    assert {(r[1], r[at], r[at + 1]) for r in rows[1:]} == {
        (first["claim_number"], 2, 2 * fee),
        (other["claim_number"], 0, 0),
    }


def test_no_credit_the_day_after_the_deadline(cli, ingest):
    ingest([("0042", "05838")])
    code, out, _ = withdraw(cli, "--candidate", "0042", "--on", "2027-02-22")
    assert deadline("2027-06") == "2027-02-21"
    assert code == 0 and out["withdrawn"][0]["fee_pence"] == published_fee("2027-06", "05838")
    assert out["withdrawn"][0]["credit_pence"] == 0 and out["total_credit_pence"] == 0


def test_a_candidate_by_number_or_uci_narrowed_to_one_entry_code(cli, ingest):
    ingest([("0042", "05838"), ("0042", "05840"), ("0043", "05838")])
    code, out, _ = withdraw(cli, "--candidate", "0042", "--entry-code", "05840", "--on", "2027-01-20")
    assert code == 0 and [(w["candidate_number"], w["entry_code"]) for w in out["withdrawn"]] == [("0042", "05840")]
    assert out["total_credit_pence"] == published_fee("2027-06", "05840")
    code, out, _ = withdraw(cli, "--candidate", uci_of("0042"), "--on", "2027-01-20")
    assert code == 0 and [(w["candidate_number"], w["entry_code"]) for w in out["withdrawn"]] == [("0042", "05838")]
    assert listed(cli) == [("0043", "05838")]


def test_a_dry_run_changes_nothing(cli, ingest):
    ingest([("0042", "05838")])
    code, out, _ = withdraw(cli, "--candidate", "0042", "--dry-run", "--on", "2027-01-20")
    assert code == 0 and out["dry_run"] is True and len(out["withdrawn"]) == 1
    assert listed(cli) == [("0042", "05838")]
    code, again, _ = withdraw(cli, "--candidate", "0042", "--on", "2027-01-20")
    assert code == 0 and again["withdrawn"] == out["withdrawn"]


def test_nothing_matching_is_exit_1_with_one_line(cli, ingest):
    ingest([("0042", "05838")])
    for args in (["--candidate", "0099"], ["--candidate", "0042", "--entry-code", "05840"], ["--claim", "C0000099A"]):
        code, out, err = cli("withdraw", "--centre", "12345", *args, "--json")
        if args[0] == "--claim" and code == 2:
            continue  # not a claim number at all (its check letter): a usage error, also nothing done
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1, (args, err)
    assert cli("withdraw", "--centre", "12345", "--candidate", "0042", "--on", "2027-01-20")[0] == 0
    code, _, err = cli("withdraw", "--centre", "12345", "--candidate", "0042")
    assert code == 1 and len(err.strip().splitlines()) == 1  # already withdrawn: no longer live
    assert cli("withdraw", "--centre", "23456", "--candidate", "0042")[0] == 1  # another centre's


def test_a_full_award_with_a_live_top_up_is_refused_until_the_top_up_goes(cli, ingest):
    full = ingest([("0042", "05838")], series="2027-01", received="2026-10-01")
    top = ingest([("0042", "05839T1")])
    assert top["status"] == "Processing complete" and top["entries"]["top_up"] == 1
    code, _, err = cli("withdraw", "--centre", "12345", "--claim", full["claim_number"], "--on", "2026-10-02")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert sorted(listed(cli)) == [("0042", "05838"), ("0042", "05839T1")]
    code, out, _ = withdraw(cli, "--claim", top["claim_number"], "--on", "2027-01-20")
    assert code == 0 and out["total_credit_pence"] == published_fee("2027-06", "05839T1")
    # The top-up gone, the full award is live again: another top-up may rest on it, or it may go.
    code, out, _ = withdraw(cli, "--claim", full["claim_number"], "--on", "2026-10-02", "--dry-run")
    assert code == 0 and out["total_credit_pence"] == published_fee("2027-01", "05838")


def test_a_top_up_needs_a_live_full_award(cli, ingest):
    ingest([("0042", "05838")], series="2027-01", received="2026-10-01")
    assert withdraw(cli, "--candidate", "0042", "--on", "2026-10-02")[0] == 0
    top = ingest([("0042", "05839T1")])
    assert top["exit"] == 1 and "CLS_01" in {i["code"] for i in top["issues"]}


def test_a_withdrawn_entry_can_be_entered_again(cli, ingest):
    ingest([("0042", "05838")])
    assert withdraw(cli, "--candidate", "0042", "--on", "2027-01-20")[0] == 0
    again = ingest([("0042", "05838", "13B")])
    assert again["status"] == "Processing complete", again["issues"]
    assert "DUP_01" not in {i["code"] for i in again["issues"]} and again["entries"]["full_award"] == 1
    assert listed(cli) == [("0042", "05838")]
    # And the new entry is live like any other: it is withdrawn in its turn, not refused as done.
    code, out, _ = withdraw(cli, "--candidate", "0042", "--on", "2027-01-21")
    assert code == 0 and [w["claim_number"] for w in out["withdrawn"]] == [again["claim_number"]]


def test_the_withdrawal_records_who_when_and_why_for_the_credit(cli, ingest, tmp_path):
    from entries.store import database

    ingest([("0042", "05838")])
    code, _, _ = cli(
        "withdraw", "--centre", "12345", "--candidate", "0042", "--on", "2027-01-20", "--reason", "left the college"
    )
    assert code == 0
    con = database.connect(tmp_path / "e.duckdb")
    try:
        rows = con.execute(
            "SELECT withdrawn_on, credit_pence, by_whom, reason, recorded_at FROM withdrawals"
        ).fetchall()
    finally:
        con.close()
    (on, credit, who, why, at) = rows[0]
    assert len(rows) == 1 and on.isoformat() == "2027-01-20" and credit == published_fee("2027-06", "05838")
    assert who.startswith("operator ") and why == "left the college" and at is not None


def test_an_entry_withdrawn_before_it_was_billed_is_never_billed(cli, ingest):
    ingest([("0042", "05838"), ("0043", "05838")])
    assert withdraw(cli, "--candidate", "0042", "--on", "2027-01-16")[0] == 0
    code, out, err = cli("invoice", "--centre", "12345", "--series", "2027-06", "--on", "2027-01-17", "--json")
    assert code == 0, err
    found = json.loads(out)
    invoices = found if isinstance(found, list) else found.get("invoices", [found])
    assert [i["total_pence"] for i in invoices] == [published_fee("2027-06", "05838")]  # candidate 0043 only


def test_a_refusal_never_echoes_the_uci_it_was_given(cli, ingest):
    ingest([("0042", "05838")])
    uci = uci_of("0043")  # a UCI with no live entry at the centre
    code, out, err = cli("withdraw", "--centre", "12345", "--candidate", uci)
    assert code == 1 and uci not in out + err and "the UCI given" in err
