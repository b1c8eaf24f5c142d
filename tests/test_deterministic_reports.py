"""Every report is byte-identical across identical runs: the sample night, run twice at different
wall-clock times into two stores with the same "received on" dates, writes the same files with
the same bytes (annotated copies, confirmations, invoices, the finance summary, the history)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from entries.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "samples"
SAMPLES = DATA / "inbox"


def _sample_night(root: Path) -> dict[str, bytes]:
    shutil.copytree(SAMPLES, root / "inbox")
    base = ["--db", str(root / "e.duckdb"), "--out", str(root / "out")]
    assert main([*base, "reference", "load"]) == 0
    assert main([*base, "onboard", str(DATA / "onboarding"), "--received-on", "2026-09-01"]) == 0
    assert main([*base, "results", "load", str(DATA / "results.csv")]) == 0
    main(
        [*base, "nightly", str(root / "inbox"), "--in-process", "--received-on", "2027-01-15", "--settle-seconds", "0"]
    )
    assert main([*base, "invoices", "--series", "2027-06", "--on", "2027-01-16"]) == 0
    assert main([*base, "history", "--centre", "12345"]) == 0
    out = root / "out"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_the_sample_night_twice_gives_the_same_bytes(tmp_path, capsys):
    first = _sample_night(tmp_path / "first")
    time.sleep(2.1)  # zip entries keep time to two seconds: the second run's clock is another one
    second = _sample_night(tmp_path / "second")
    capsys.readouterr()
    kinds = {name.rsplit(".", 1)[-1] for name in first}
    assert {"xlsx", "csv", "html", "json"} <= kinds
    assert any(name.endswith(".annotated.xlsx") for name in first)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
