"""Validation cost against reading cost for the same 100,000-row upload, in one process.

Run: `.venv/bin/python benchmarks/validate_speed.py [--rows 100000]`. Prints seconds for reading
(safe reader + intake) and for validating (every rule of the catalogue), and their ratio; the aim
(issue 4) is validation cheaper than reading. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from entries.checks.validate import Context, validate
from entries.intake.normalise import take_in
from entries.intake.reader import read_upload
from entries.store import database, refdata

sys.path.insert(0, str(Path(__file__).parent))
from read_speed import best_of, sample_rows, write_xlsx  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        reference = refdata.snapshot(database.connect(Path(tmp) / "ref.duckdb"))
        context = Context(centre="12345", series="2027-06", received_on=dt.date(2026, 11, 28))
        for label, with_ids in (("UCIs and ULNs filled in", True), ("UCIs and ULNs blank", False)):
            xlsx = Path(tmp) / f"bench-{with_ids}.xlsx"
            write_xlsx(xlsx, sample_rows(args.rows, with_ids=with_ids))
            rows = take_in(read_upload(xlsx)).rows
            read = best_of(args.runs, lambda xlsx=xlsx: take_in(read_upload(xlsx)))
            checked = best_of(args.runs, lambda rows=rows: validate(rows, context, reference))
            issues = len(validate(rows, context, reference).issues)
            print(
                f"{args.rows:,} rows, {label}: read {read:.2f} s; validate {checked:.2f} s ({issues:,} issues); "
                f"validate/read {checked / read:.2f} (aim < 1.00)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
