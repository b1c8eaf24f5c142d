"""A night with every kind of bad file among good ones (issue: one bad file never stops a night).

The inbox holds the sample centres' good uploads and, for centre 12345, every intake fixture (hostile
packages, odd formats, real-world quirks; tests/fixtures/intake/make_fixtures.py) and every
operations fixture (tests/fixtures/operations/make_fixtures.py). The run must finish, each file must
end in exactly one folder, the good files must be stored, nothing may print a traceback, and no
message anywhere may carry a fixture's personal data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from entries.cli import main
from tests.conftest import FIXTURES
from tests.test_nightly import EXPECTED, make_inbox

pytestmark = pytest.mark.slow

# Names, UCIs, ULNs and dates of birth the fixtures carry (base.xlsx/csv, headerless.csv, the samples).
PERSONAL = (
    "Smith",
    "O'Brien",
    "Zoë",
    "Nguyễn",
    "Văn An",
    "123450260042C",
    "1000000043",
    "1234567899",
    "2009-05-14",
    "14/05/2009",
)
FOLDERS = ("processed", "rejected", "failed")


def _bad_files() -> list[Path]:
    found = []
    for folder in (FIXTURES / "intake", FIXTURES / "operations"):
        found += [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() not in (".py", ".md", "")]
    return [p for p in found if not p.name.startswith(".")]


def test_a_night_mixing_every_bad_file_with_good_ones(tmp_path, capfd):
    inbox = make_inbox(tmp_path)
    bad = _bad_files()
    assert len(bad) >= 30
    names = {}
    for n, source in enumerate(bad):
        target = inbox / "12345" / f"bad{n:02d}_{source.name}"  # distinct names; the content is the fixture's
        shutil.copy(source, target)
        names[target.name] = source.name
    capfd.readouterr()
    code = main(
        [
            "--db",
            str(tmp_path / "db" / "e.duckdb"),
            "--out",
            str(tmp_path / "out"),
            "nightly",
            str(inbox),
            "--in-process",
            "--settle-seconds",
            "0",
            "--received-on",
            "2027-01-15",
            "--json",
        ]
    )
    said = capfd.readouterr()
    assert code == 0
    summary = json.loads(said.out)
    everything = said.out + said.err

    assert "Traceback" not in everything
    for personal in PERSONAL:
        assert personal not in everything, personal

    # Every file ends in exactly one folder; nothing is left in the inbox or in processing/.
    for name in [*EXPECTED, *(f"12345/{n}" for n in names)]:
        places = [f for f in FOLDERS if (tmp_path / f / name).is_file()]
        assert len(places) == 1, (name, places)
    assert not [p for p in inbox.rglob("*") if p.is_file()]
    assert not [p for p in (tmp_path / "processing").rglob("*") if p.is_file()]

    seen = {f"{f['centre']}/{f['file']}": f for f in summary["files"]}
    assert len(seen) == len(EXPECTED) + len(names)
    for name, (_folder, status) in EXPECTED.items():  # the good files are stored as on a clean night
        assert seen[name]["status"] == status, name
    for name in names:
        assert seen[f"12345/{name}"]["status"] in (
            "Upload failed",
            "Empty file",
            "Read and rejected",
            "Duplicate file",
            "Processing complete",
            "OCR handling this",
        )
    assert not list((tmp_path / "db" / "spool").iterdir())
