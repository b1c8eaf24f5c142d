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

from entries.intake.headers import TEMPLATE_COLUMNS
from entries.intake.normalise import take_in
from entries.intake.reader import read_upload


def sample_rows(n: int, seed: int = 7, with_ids: bool = False) -> list[list[str]]:
    """n synthetic entry rows, as text, shaped like a real upload (no real people).

    Up to 9,999 candidates (one centre's numbering), each a consistent person with several entries.
    With `with_ids`, nine in ten candidates carry a valid UCI and half a valid ULN, as an MIS
    export does; without, every UCI and ULN is blank (a warning on every row).
    """
    from entries.intake.uci import complete

    rnd = random.Random(seed)
    surnames = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan"]
    forenames = ["Amy", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Harry", "Isla", "Jack"]
    entries = [
        ("05838", ""),
        ("05839", ""),
        ("05850", ""),
        ("05851", ""),
        ("05838", "1"),
        ("05838", "2"),
        ("05839", "3"),
        ("05850", "1"),
        ("05851", "3"),
        ("05839", "6"),
    ]
    people = [
        (
            rnd.choice(surnames),
            rnd.choice(forenames),
            rnd.choice("MF"),
            f"{rnd.randint(1, 28):02d}/{rnd.randint(1, 12):02d}/{rnd.randint(2006, 2010)}",
            f"13{rnd.choice('ABC')}",
            complete(f"12345025{k:04d}") if with_ids and rnd.random() < 0.9 else "",
            _uln(rnd) if with_ids and rnd.random() < 0.5 else "",
        )
        for k in range(9999)
    ]
    rows = []
    for i in range(n):
        number = i % 9999
        surname, forename, sex, dob, group, uci, uln = people[number]
        code, unit = entries[(i // 9999) % len(entries)]
        rows.append(
            ["12345", f"{number + 1:04d}", uci, uln, surname, forename, sex, dob, code, unit, "", "", "", "", "", group]
        )
    return rows


def _uln(rnd: random.Random) -> str:
    while True:
        body = [rnd.randint(1, 9)] + [rnd.randint(0, 9) for _ in range(8)]
        remainder = sum(d * w for d, w in zip(body, range(10, 1, -1), strict=False)) % 11
        if remainder not in (0, 1):  # 10 - 1 = 9 is fine too, but keep the digit single
            return "".join(map(str, body)) + str(10 - remainder)


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
        print(
            f"xlsx {args.rows:,} rows: fastexcel raw {args.rows / raw:,.0f} rows/s ({raw:.2f} s); "
            f"entries reader {args.rows / mine:,.0f} rows/s ({mine:.2f} s); ratio {raw / mine:.2f} (target >= 0.50)"
        )
        csv_path = Path(tmp) / "bench.csv"
        print(f"writing {args.csv_rows:,}-row csv ...", flush=True)
        write_csv(csv_path, sample_rows(args.csv_rows))
        mine_csv = best_of(args.runs, lambda: ours(csv_path))
        print(
            f"csv {args.csv_rows:,} rows: entries reader {args.csv_rows / mine_csv:,.0f} rows/s ({mine_csv:.2f} s) "
            f"(target >= 300,000 rows/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
