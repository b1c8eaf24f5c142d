#!/usr/bin/env python3
"""Write the sample inbox, results file and README under data/samples/ (deterministic).

    .venv/bin/python data/samples/make_samples.py

Everything comes from one `random.Random(2027)` and fixed dates: running it twice gives the same
bytes (the xlsx zip members carry a fixed timestamp), so the files' SHA-256 keys are stable. The
uploads are for the June 2027 series (`2027-06`), as if received on 2027-01-15, before its entry
deadline of 2027-02-21. Names are invented. Unit entries and approvals are checked against
`reference_data/` as the files are made, so a change there that breaks a "clean" sample fails here.

Output (the folder is replaced each run, this script and nothing else excepted):
    inbox/<centre number>/<file>   the uploads, laid out for `entries nightly INBOX`
    results.csv                    earlier unit results for `entries results load`
    README.md                      what each file is and the mistakes planted in it
"""

from __future__ import annotations

import datetime as dt
import random
import shutil

from sample_writers import write_csv, write_xlsx
from scenarios import (
    ENTRY_DEADLINE,
    HERE,
    MIS_HEADER,
    RECEIVED_ON,
    SEED,
    SERIES,
    SERIES_ROW,
    TEMPLATE_COLUMNS,
    centre_12345,
    centre_23456,
    centre_34567,
    centre_56789,
    readme,
    results,
)

INBOX = HERE / "inbox"
RESULTS = HERE / "results.csv"
ONBOARDING = HERE / "onboarding"  # the results' candidates, on record from an earlier series
README = HERE / "README.md"


def write_onboarding(result_rows: list[list[str]], info12: dict, info56: dict, info23: dict) -> None:
    """The candidates the results are for, as a bulk onboarding folder (they were entered in an
    earlier series, so they are on record before their results are loaded)."""
    people = [info12["mover"], *(p for p, _ in info12["toppers"])]
    people += [p for p, _, _ in info56["entries"]] + [p for p, _, _ in info23["entries"]]
    by_uci = {p.uci: p for p in people if p.uci}
    wanted = sorted({row[0] for row in result_rows}, key=lambda u: (by_uci[u].centre, by_uci[u].number))
    if ONBOARDING.exists():
        shutil.rmtree(ONBOARDING)
    write_csv(ONBOARDING / "centres.csv", ["Centre Number", "Name", "Type"], [])
    write_csv(ONBOARDING / "approvals.csv", ["Centre Number", "Suite", "Approved From"], [])
    write_csv(
        ONBOARDING / "candidates.csv",
        ["Centre Number", "Candidate Number", "UCI", "ULN", "Surname", "Forenames", "Sex", "Date of Birth",
         "Candidate Group"],
        [
            [p.centre, p.number, p.uci, p.uln, p.surname, p.forenames, p.sex, p.dob.strftime("%d/%m/%Y"), p.group]
            for p in (by_uci[u] for u in wanted)
        ],
    )


def main() -> None:
    assert RECEIVED_ON <= dt.date.fromisoformat(SERIES_ROW[SERIES]["entry_deadline"]) == ENTRY_DEADLINE
    rng = random.Random(SEED)
    if INBOX.exists():
        shutil.rmtree(INBOX)
    # Without the optional Series column: these uploads are for the series their folder, the
    # operator's --series or the default gives.
    header = [c for c in TEMPLATE_COLUMNS if c != "Series"]

    rows12, topups12, info12 = centre_12345(rng)
    write_xlsx(INBOX / "12345" / "entries_june_2027.xlsx", header, rows12)
    write_csv(INBOX / "12345" / "topups_june_2027.csv", header, topups12, bom=True)

    rows23, info23 = centre_23456(rng)
    write_csv(INBOX / "23456" / "mis_export.csv", MIS_HEADER, rows23)

    rows34, planted, info34 = centre_34567(rng)
    write_xlsx(INBOX / "34567" / "entries_with_mistakes.xlsx", header, rows34)

    write_xlsx(INBOX / "45678" / "empty.xlsx", header, [])
    old = INBOX / "45678" / "old_format.xlsx"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".ljust(4096, b"\x00"))

    rows56, info56 = centre_56789(rng)
    write_xlsx(INBOX / "56789" / "entries.xlsx", header, rows56)

    result_rows, result_notes = results(rng, info12, info56, info23)
    write_csv(RESULTS, ["UCI", "Qualification Code", "Unit Number", "Series", "Result"], result_rows)
    write_onboarding(result_rows, info12, info56, info23)

    counts = {"12345a": len(rows12), "12345b": len(topups12), "23456": len(rows23), "34567": len(rows34) - 1,
              "56789": len(rows56)}
    README.write_text(readme(counts, info12, planted, info34["valid_rows"], result_notes, len(result_rows)),
                      encoding="utf-8")
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"wrote the inbox, results.csv and README.md under {HERE} ({total:,} bytes in the folder)")


if __name__ == "__main__":
    main()
