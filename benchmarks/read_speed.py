"""Reading speed: our safe reader against fastexcel reading the same file raw, in one process.

Run: `.venv/bin/python benchmarks/read_speed.py [--rows 100000] [--csv-rows 500000]`.
Prints rows/s for each and the ratio; targets (issue 3): xlsx at least 0.5 x fastexcel raw, CSV at
least 300,000 rows/s. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

import fastexcel
from openpyxl import Workbook

from entries.headers import TEMPLATE_COLUMNS
from entries.intake import take_in
from entries.reader import read_upload


def sample_rows(n: int, seed: int = 7) -> list[list[str]]:
    """n synthetic entry rows, as text, shaped like a real upload (no real people)."""
    rnd = random.Random(seed)
    surnames = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan"]
    forenames = ["Amy", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Harry", "Isla", "Jack"]
    rows = []
    for i in range(n):
        rows.append([
            "12345", f"{i % 9999 + 1:04d}", "", "", rnd.choice(surnames), rnd.choice(forenames), rnd.choice("MF"),
            f"{rnd.randint(1, 28):02d}/{rnd.randint(1, 12):02d}/{rnd.randint(2006, 2010)}", "05838",
            "", "", "", "", "", "", f"13{rnd.choice('ABC')}",
        ])
    return rows


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Entries")
    ws.append(list(TEMPLATE_COLUMNS))
    for row in rows:
        ws.append(row)
    wb.save(path)


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(TEMPLATE_COLUMNS)
        writer.writerows(rows)


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ours(path: Path) -> None:
    intake = take_in(read_upload(path))
    assert len(intake.rows) > 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--csv-rows", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        xlsx = Path(tmp) / "bench.xlsx"
        print(f"writing {args.rows:,}-row xlsx ...", flush=True)
        write_xlsx(xlsx, sample_rows(args.rows))
        raw = best_of(args.runs, lambda: fastexcel.read_excel(str(xlsx)).load_sheet(0).to_arrow())
        mine = best_of(args.runs, lambda: ours(xlsx))
        print(f"xlsx {args.rows:,} rows: fastexcel raw {args.rows / raw:,.0f} rows/s ({raw:.2f} s); "
              f"entries reader {args.rows / mine:,.0f} rows/s ({mine:.2f} s); ratio {raw / mine:.2f} (target >= 0.50)")
        csv_path = Path(tmp) / "bench.csv"
        print(f"writing {args.csv_rows:,}-row csv ...", flush=True)
        write_csv(csv_path, sample_rows(args.csv_rows))
        mine_csv = best_of(args.runs, lambda: ours(csv_path))
        print(f"csv {args.csv_rows:,} rows: entries reader {args.csv_rows / mine_csv:,.0f} rows/s ({mine_csv:.2f} s) "
              f"(target >= 300,000 rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
