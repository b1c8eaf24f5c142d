"""Every code in the rule catalogue is produced by the real code path on a tiny input.

`PRODUCERS` maps each catalogue code to a producer: a function that runs what a centre's upload, a
reference delivery, a results file or an onboarding really goes through (`prepare`, `validate`,
`commit`, `read_reference`, `load_results`, `onboard`) on a small input and returns the issues.
`test_code_is_produced` is parametrised over `rules.csv` itself, so:
- a code added to the catalogue without a producer here fails (`...[NEW_01]`);
- a producer that stops raising its code fails (the code must be among the issues it returns),
  and so does one that raises it with a severity other than the catalogue's.
A producer shared by several codes runs once (`_run`). Inputs are the fixtures under
tests/fixtures where one exists, else built in the test's temporary directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from entries.checks.reference import Reference
from entries.checks.validate import Context, validate
from entries.core.errors import ReferenceDataError
from entries.core.limits import ReadLimits
from entries.core.rules import Issue, catalogue
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.pipeline.hall import prepare
from entries.pipeline.onboard import onboard
from entries.store import database, refdata
from entries.store.commit import commit
from entries.store.results import load_results
from tests.conftest import FIXTURES, REFERENCE

INTAKE = FIXTURES / "intake"
COMMIT = FIXTURES / "commit"
RESULTS = FIXTURES / "results"
ONBOARD_FOLDER = FIXTURES / "onboard" / "good_onboarding_folder"
CTX = Context(centre="12345", series="2027-06", received_on=dt.date(2026, 11, 28))
HEADER = ",".join(TEMPLATE_COLUMNS)
VALID = {
    "Centre Number": "12345",
    "Candidate Number": "0042",
    "UCI": "123450260042C",
    "ULN": "1000000043",
    "Surname": "Smith",
    "Forenames": "Amy",
    "Sex": "F",
    "Date of Birth": "2009-05-14",
    "Entry Code": "05838",
    "Unit 1": "",
    "Unit 2": "",
    "Unit 3": "",
    "Unit 4": "",
    "Unit 5": "",
    "Unit 6": "",
    "Candidate Group": "13A",
    "Series": "",
}


class Kit:
    """What a producer may use: its temporary directory, the reference snapshot, fresh stores."""

    def __init__(self, tmp: Path, shared: Shared) -> None:
        self.tmp = tmp
        self.shared = shared

    @property
    def reference(self) -> Reference:
        return self.shared.reference

    def store(self):
        """A fresh store with the project's reference data loaded (a copy of one loaded once)."""
        path = self.tmp / f"store{len(list(self.tmp.glob('store*.duckdb')))}.duckdb"
        shutil.copyfile(self.shared.loaded_store, path)
        return database.connect(path)

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.tmp / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path


class Shared:
    """Made once per module, when first asked for."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    @functools.cached_property
    def loaded_store(self) -> Path:
        path = self.tmp / "loaded.duckdb"
        con = database.connect(path)
        refdata.load_reference(con, REFERENCE)
        con.close()
        return path

    @functools.cached_property
    def reference(self) -> Reference:
        con = database.connect(self.loaded_store)
        try:
            return refdata.snapshot(con)
        finally:
            con.close()

    @functools.cached_property
    def results_store(self):
        """One store for every results producer: a file with a defect stores nothing."""
        path = self.tmp / "results.duckdb"
        shutil.copyfile(self.loaded_store, path)
        return database.connect(path)


Producer = Callable[[Kit], Iterable[Issue]]
PRODUCERS: dict[str, Producer] = {}


def produces(*codes: str, producer: Producer | None = None):
    """Register `producer` (or the decorated function) as the producer of `codes`."""

    def register(fn: Producer) -> Producer:
        for code in codes:
            assert code not in PRODUCERS, f"{code} has two producers"
            PRODUCERS[code] = fn
        return fn

    return register(producer) if producer is not None else register


# --- row rules: `validate` on the normalised template rows -------------------------------------


def frame(*rows: dict) -> pd.DataFrame:
    records = [{"row": 2 + i, **VALID, **row} for i, row in enumerate(rows)]
    return pd.DataFrame(records, columns=["row", *TEMPLATE_COLUMNS]).astype({c: "str" for c in TEMPLATE_COLUMNS})


def rows(*cells: dict, ctx: Context = CTX, reference: Callable[[Reference], Reference] | None = None) -> Producer:
    def produce(kit: Kit) -> list[Issue]:
        ref = reference(kit.reference) if reference else kit.reference
        return validate(frame(*cells), ctx, ref).issues

    return produce


def _without_fee(reference: Reference) -> Reference:
    fees = reference.tables["fees"]
    kept = fees[~((fees.series == "2027-06") & (fees.entry_code == "05838"))]
    return dataclasses.replace(reference, tables={**reference.tables, "fees": kept})


ROW_RULES: dict[str, Producer] = {
    "CEN_01": rows({"Centre Number": "1234x"}),
    "CEN_02": rows({"Centre Number": "23456"}),
    "CEN_03": rows({"Centre Number": "99999"}, ctx=dataclasses.replace(CTX, centre="99999")),
    "CAN_01": rows({"Candidate Number": "42"}),
    "UCI_01": rows({"UCI": ""}),
    "UCI_02": rows({"UCI": "12345026004"}),
    "UCI_03": rows({"UCI": "1234A0260042C"}),
    "UCI_04": rows({"UCI": "123450260042D"}),
    "UCI_05": rows({"UCI": "123450260042"}),
    "UCI_06": rows({"UCI": "681990012058G"}),
    "ULN_01": rows({"ULN": "12345"}),
    "ULN_02": rows({"ULN": "9999999999"}),
    "ULN_03": rows({"ULN": "1000000063"}),
    "NAM_01": rows({"Surname": ""}),
    "NAM_02": rows({"Forenames": ""}),
    "NAM_03": rows({"Surname": "Sm1th"}),
    "NAM_04": rows({"Forenames": "Zoë"}),
    "NAM_05": rows({"Surname": "Sm\x0bith"}),
    "NAM_06": rows({"Surname": "Le  Roux"}),
    "NAM_07": rows({"Surname": "Featherstonehaugh-Wolfeschlegel", "Forenames": "Amelia Jane"}),
    "NAM_08": rows({"Surname": "O\u2019Neill"}),
    "CELL_06": rows({"Surname": "a" * 32_768}),
    "SEX_01": rows({"Sex": "X"}),
    "SEX_02": rows({"Sex": "Male"}),
    "DOB_01": rows({"Date of Birth": "not a date"}),
    "DOB_05": rows({"Date of Birth": "14/05/09"}),
    "SER_01": rows({"Series": "next summer"}),
    "SER_02": rows({"Series": "2031-06"}),
    # No series stated on 28 November 2026, January 2027 late-fee only: the default is refused.
    "SER_03": rows({}, ctx=dataclasses.replace(CTX, series_source="default")),
    "DOB_02": rows({"Date of Birth": "2026-12-01"}),
    "DOB_03": rows({"Date of Birth": "2016-01-01"}),
    "DOB_04": rows({"Date of Birth": "1900-01-01"}),
    "ENT_01": rows({"Entry Code": ""}),
    "ENT_02": rows({"Entry Code": "05899"}),
    "ENT_03": rows({"Entry Code": "05860"}),
    "ENT_04": rows({}, reference=_without_fee),
    "ENT_05": rows({}, ctx=dataclasses.replace(CTX, received_on=dt.date(2027, 2, 22))),
    "ENT_06": rows({}, ctx=dataclasses.replace(CTX, received_on=dt.date(2027, 4, 22))),
    "UNI_01": rows({"Unit 1": "x"}),
    "UNI_02": rows({"Unit 1": "3"}),
    "UNI_03": rows({"Entry Code": "05839", "Unit 1": "4"}),
    "UNI_04": rows({"Unit 1": "1", "Unit 2": "1"}),
    "UNI_05": rows({"Entry Code": "05839T1", "Unit 1": "1"}),
    "ROW_01": rows({}, {}),
    "ROW_02": rows({"UCI": ""}, {"UCI": "", "Forenames": "Ben"}),
    "ROW_03": rows({}, {"Candidate Number": "0043"}),
}
for _code, _producer in ROW_RULES.items():
    produces(_code, producer=_producer)


# --- intake: `prepare` on an uploaded file ------------------------------------------------------


def upload(make: str | Callable[[Kit], Path], limits: ReadLimits | None = None) -> Producer:
    """`prepare` a fixture under tests/fixtures/intake (by name) or a file `make(kit)` writes."""

    def produce(kit: Kit) -> list[Issue]:
        path = INTAKE / make if isinstance(make, str) else make(kit)
        return prepare(path, CTX, kit.reference, limits).issues

    return produce


def _limits(**changes: float) -> ReadLimits:
    return dataclasses.replace(ReadLimits(), **changes)


def _csv(name: str, *lines: str, header: str = HEADER) -> Callable[[Kit], Path]:
    return lambda kit: kit.write(name, "\r\n".join([header, *lines]) + "\r\n")


def _base_row(**cells: str) -> str:
    return ",".join({**VALID, **cells}[c] for c in TEMPLATE_COLUMNS)


def _encrypted_ods(kit: Kit) -> Path:
    path = kit.tmp / "entries.ods"  # an OpenDocument spreadsheet saved with a password
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/>'
            "</manifest:file-entry></manifest:manifest>",
        )
        zf.writestr("content.xml", bytes(range(256)))
    return path


def _no_visible_sheet(kit: Kit) -> Path:
    path = kit.tmp / "hidden_only.xlsx"
    with zipfile.ZipFile(INTAKE / "base.xlsx") as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b'name="Entries"', b'name="Data"').replace(b'state="visible"', b'state="hidden"')
                assert b'state="hidden"' in data
            target.writestr(info, data)
    return path


def _second_sheet_with_data(kit: Kit) -> Path:
    path = kit.tmp / "two_sheets.xlsx"
    wb = openpyxl.Workbook()
    entries = wb.active
    entries.title = "Entries"
    entries.append(list(TEMPLATE_COLUMNS))
    entries.append([VALID[c] for c in TEMPLATE_COLUMNS])
    wb.create_sheet("Year 13").append(["more entries here"])
    wb.save(path)
    return path


for _code, _producer in {
    "FILE_01": upload("zero_bytes.xlsx"),
    "FILE_02": upload("truncated.xlsx"),
    "FILE_03": upload("excel4_worksheet.xls"),
    "FILE_04": upload(_encrypted_ods),
    "FILE_05": upload("encrypted.xlsx"),
    "FILE_07": upload("csv_named.xlsx"),
    "FILE_08": upload(lambda kit: kit.write("scan.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")),
    "FILE_09": upload("base.csv", _limits(max_file_bytes=100)),
    "FILE_10": upload("zip_bomb.xlsx"),
    "FILE_11": upload("xxe.xlsx"),
    "FILE_12": upload("base.xlsx", _limits(max_rows=2)),
    "FILE_13": upload("far_cell_xfd1048576.xlsx"),
    # The far cell reaches the parser with the column check lifted: calamine aborts its process.
    "FILE_14": upload("far_cell_xfd1048576.xlsx", _limits(max_columns=20_000, max_rows=2_000_000)),
    "FILE_15": upload("base.xlsx", _limits(child_seconds=0.0001)),  # no child can be forked that fast
    "FILE_16": upload(
        lambda kit: kit.write("bad_utf8.csv", b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n12345,0042,\xff\xfe\r\n")
    ),
    "FILE_17": upload("ragged.csv"),
    "FILE_18": upload(_no_visible_sheet),
    "FILE_19": upload("header_only.csv"),
    "FILE_20": upload(lambda kit: kit.write("blank.csv", ",,,\r\n , ,\r\n")),
    "FILE_21": upload("cp1252_accents.csv"),
    "HDR_01": upload("missing_columns.csv"),
    "HDR_02": upload(_csv("notes.csv", _base_row() + ",bring a calculator", header=HEADER + ",Notes")),
    "HDR_03": upload(_csv("twice.csv", _base_row() + ",Smith", header=HEADER + ",Surname")),
    "HELP_01": upload("help_line_left_in.xlsx"),
    "CELL_01": upload("error_cells.xlsx"),
    "CELL_02": upload("uncached_formula.xlsx"),
    "CELL_03": upload("merged_cells.xlsx"),
    "CELL_04": upload(_csv("lost_zeros.csv", _base_row(**{"Candidate Number": "42", "UCI": ""}))),
    "CELL_05": upload("date1904.xlsx"),
    "SHEET_01": upload(_second_sheet_with_data),
    "SHEET_02": upload("hidden_sheet.xlsx"),
}.items():
    produces(_code, producer=_producer)


# --- the commit stage: `prepare` and `commit` against a store that already holds entries -----------------


def ingest(
    con, path: Path, series: str = "2027-06", received: dt.date = dt.date(2027, 1, 15), centre: str = "12345"
) -> list[Issue]:
    """`prepare` then `commit` (ingest_file without writing the reports), for centre 12345 unless told."""
    reference = refdata.snapshot(con)
    prepared = prepare(path, Context(centre=centre, series=series, received_on=received), reference)
    return commit(con, prepared, reference, order_ref=None).issues


def after(first: str | None, then: str | Callable[[Kit], Path], **when) -> Producer:
    """Ingest commit fixture `first` (January series, if any), then `then`; the second file's issues."""

    def produce(kit: Kit) -> list[Issue]:
        con = kit.store()
        try:
            if first is not None:
                ingest(con, COMMIT / first, series="2027-01", received=dt.date(2026, 10, 1))
            return ingest(con, COMMIT / then if isinstance(then, str) else then(kit), **when)
        finally:
            con.close()

    return produce


def _another_person_as_0042(kit: Kit) -> Path:
    header = (COMMIT / "full_award_certificate.csv").read_text(encoding="utf-8").splitlines()[0]
    return kit.write("another_0042.csv", f"{header}\r\n12345,0042,,,Jones,Ben,M,02/11/2008,05850,,,,,,,13A\r\n")


@produces("CAND_04")
def _uci_of_another_centres_candidate(kit: Kit) -> list[Issue]:
    con = kit.store()
    try:
        ingest(con, COMMIT / "full_award_certificate.csv", series="2027-01", received=dt.date(2026, 10, 1))
        header = (COMMIT / "full_award_certificate.csv").read_text(encoding="utf-8").splitlines()[0]
        moved = kit.write("moved.csv", f"{header}\r\n23456,0007,123450260042C,,Smith,Amy,F,14/05/2009,05838,,,,,,,\r\n")
        return ingest(con, moved, centre="23456")
    finally:
        con.close()


def _same_entry_other_bytes(kit: Kit) -> Path:
    return kit.write("again.csv", (COMMIT / "full_award_certificate.csv").read_text(encoding="utf-8") + "\n")


@produces("CLS_04")
def _fourth_sitting_of_a_unit(kit: Kit) -> list[Issue]:
    con = kit.store()  # L3-IT allows 3 entries per examined unit, resits included; one file per series
    try:
        found: list[Issue] = []
        for n, (series, received) in enumerate(
            (
                ("2027-01", dt.date(2026, 10, 1)),
                ("2027-06", dt.date(2027, 1, 15)),
                ("2028-01", dt.date(2027, 9, 1)),
                ("2028-06", dt.date(2028, 1, 10)),
            )
        ):
            copy = kit.write(
                f"unit_1_{series}.csv", (COMMIT / "unit_entry_unit_1.csv").read_text(encoding="utf-8") + "\n" * n
            )
            found = ingest(con, copy, series=series, received=received)
        return found
    finally:
        con.close()


produces("CAND_01", producer=after("full_award_certificate.csv", "probable_duplicate_candidate.csv"))
produces("CAND_02", producer=after("full_award_certificate.csv", "uci_with_other_date_of_birth.csv"))
produces("CAND_03", producer=after("full_award_certificate.csv", _another_person_as_0042))
produces("CLS_01", producer=after(None, "top_up_to_extended_certificate.csv"))
produces("CLS_02", producer=after(None, "move_down_to_certificate.csv"))
produces(
    "CLS_03", producer=after("full_award_extended_certificate.csv", "move_down_to_certificate.csv")
)  # no unit achieved
produces(
    "DUP_01",
    "DUP_02",
    producer=after(
        "full_award_certificate.csv", _same_entry_other_bytes, series="2027-01", received=dt.date(2026, 10, 1)
    ),
)
produces(
    "FILE_22",
    producer=after(
        "full_award_certificate.csv", "full_award_certificate.csv", series="2027-01", received=dt.date(2026, 10, 1)
    ),
)


# --- reference data: `read_reference` on a broken copy of the delivery ---------------------------


def broken_reference(file: str, breaker: Callable[[Path], None]) -> Producer:
    def produce(kit: Kit) -> list[Issue]:
        target = kit.tmp / "reference"
        shutil.copytree(REFERENCE, target)
        breaker(target / file)
        with pytest.raises(ReferenceDataError) as caught:
            refdata.read_reference(target)
        return caught.value.problems

    return produce


def _replace(old: str, new: str) -> Callable[[Path], None]:
    def breaker(path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path.name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return breaker


def _append(line: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


def _drop(line: str) -> Callable[[Path], None]:
    return _replace(line + "\n", "")


for _code, _producer in {
    "REF_01": broken_reference("centres.csv", Path.unlink),
    "REF_02": broken_reference("series.csv", _replace("late_entry_deadline", "late_deadline")),
    "REF_03": broken_reference("suites.csv", _replace("2016,3\nL3-BUS", "2016,three\nL3-BUS")),
    "REF_04": broken_reference("suites.csv", _append("L3-IT,Copy,3,IT,2016,3")),
    "REF_05": broken_reference("centre_approvals.csv", _append("99999,L3-IT,2016-09-01")),
    "REF_06": broken_reference("fees.csv", _replace("2027-01,05838,9840,14760", "2027-01,05838,9840,9000")),
    "REF_07": broken_reference("series.csv", _replace("2026-10-21,2026-12-01", "2026-12-21,2026-12-01")),
    "REF_08": broken_reference(
        "entry_codes.csv", _replace("05838M2,move_down,05838,05839", "05839M1,move_down,05839,05838")
    ),
    "REF_09": broken_reference("qualifications.csv", _replace("Certificate in IT,180", "Certificate in IT,120")),
    "REF_10": broken_reference("qualifications.csv", _replace("Certificate in IT,180", "Certificate in IT,240")),
    "REF_11": broken_reference("fees.csv", _drop("2027-01,05838,9840,14760")),
    "REF_12": broken_reference("unit_fees.csv", _drop("2027-01,L3-IT,3450,5175")),
    "REF_13": broken_reference(
        "units.csv", lambda p: p.write_bytes(p.read_bytes().replace(b"Fundamentals", b"Fundam\xe9ntals"))
    ),
    "REF_15": broken_reference(
        "issuer.csv",
        _append("Another Body,1 Road,,Town,AB1 2CD,,,0,,30,ABC,exempt,A Bank,11-22-33,87654321,Another Body"),
    ),
    "REF_14": broken_reference("entry_codes.csv", _replace("05839T1,top_up,05839,05838", "05839T1,top_up,05838,05839")),
}.items():
    produces(_code, producer=_producer)


# --- unit results: `load_results` -----------------------------------------------------------------


def results_file(name: str) -> Producer:
    return lambda kit: load_results(kit.shared.results_store, RESULTS / name).issues


for _code, _name in {
    "RES_01": "missing_column.csv",
    "RES_02": "bad_qualification_code.csv",
    "RES_03": "unknown_qualification.csv",
    "RES_04": "bad_unit_number.csv",
    "RES_05": "unit_not_in_qualification.csv",
    "RES_06": "bad_series.csv",
    "RES_07": "unknown_series.csv",
    "RES_08": "bad_result.csv",
    "RES_09": "conflicting_duplicate.csv",
    "RES_10": "unknown_uci.csv",
    "RES_11": "moderated_unit.csv",
}.items():
    produces(_code, producer=results_file(_name))


# --- onboarding: `onboard` on a folder of CSV files (read in-process) ----------------------------

CANDIDATES_HEADER = "Centre No,Exam Number,UCI,ULN,Legal Surname,Legal Forenames,Gender,DOB,Reg Group"
CENTRES_HEADER = "Centre Number,Centre Name,Centre Type"


def onboarding(first_good: bool = False, drop: str | None = None, **sheets: str) -> Producer:
    """`onboard` the good folder with `sheets` (file stem -> CSV text) replaced, `drop` removed;
    after onboarding the good folder itself when `first_good`."""

    def produce(kit: Kit) -> list[Issue]:
        folder = kit.tmp / "onboarding"
        shutil.copytree(ONBOARD_FOLDER, folder)
        if drop:
            (folder / f"{drop}.csv").unlink()
        for stem, text in sheets.items():
            (folder / f"{stem}.csv").write_text(text, encoding="utf-8")
        con = kit.store()
        try:
            if first_good:
                assert onboard(con, ONBOARD_FOLDER, kit.tmp / "out", dt.date(2026, 9, 15), work_dir=kit.tmp).stored
            return [
                i.issue for i in onboard(con, folder, kit.tmp / "out", dt.date(2026, 9, 15), work_dir=kit.tmp).issues
            ]
        finally:
            con.close()

    return produce


for _code, _producer in {
    "ONB_01": onboarding(drop="approvals"),
    "ONB_02": onboarding(centres="Centre Number,Centre Name\n90001,Fenwick Studio School\n"),
    "ONB_03": onboarding(centres=f"{CENTRES_HEADER}\n90001,,school\n90002,Harbour Training,Training Provider\n"),
    "ONB_04": onboarding(
        centres=f"{CENTRES_HEADER}\n90001,Fenwick Studio School,hospital\n90002,Harbour Training,Training Provider\n"
    ),
    "ONB_05": onboarding(
        centres=f"{CENTRES_HEADER}\n90001,Fenwick Studio School,school\n90002,Harbour Training,Training Provider\n"
        "90001,Fenwick Studio School,school\n"
    ),
    "ONB_06": onboarding(
        centres=f"{CENTRES_HEADER}\n90001,Fenwick Studio School,school\n90002,Harbour Training,Training Provider\n"
        "12345,Northfield Academy,school\n"
    ),
    "ONB_07": onboarding(approvals="Centre Number,Suite,Approved From\n90001,L3-XX,01/09/2026\n"),
    "ONB_08": onboarding(approvals="Centre Number,Suite,Approved From\n90001,L3-IT,31/02/2026\n"),
    "ONB_09": onboarding(approvals="Centre Number,Suite,Approved From\n90009,L3-IT,01/09/2026\n"),
    "ONB_10": onboarding(
        first_good=True, candidates=f"{CANDIDATES_HEADER}\n90001,0001,,,Fairweather,Tom,M,01/01/2010,12A\n"
    ),
    "ONB_11": onboarding(
        candidates=f"{CANDIDATES_HEADER},Entry Code\n90001,0001,,,Ashworth,Lena,F,14/05/2010,12A,05838\n"
    ),
    "ONB_12": onboarding(
        first_good=True, candidates=f"{CANDIDATES_HEADER}\n90002,0009,900010260001W,,Ashworth,Lena,F,14/05/2010,\n"
    ),
}.items():
    produces(_code, producer=_producer)


# --- operations: the night goes on when one file's later stage fails ------------------------------


def _one_file_night(kit: Kit, source: Path, broken: str | None = None) -> list[Issue]:
    """Run the nightly import over an inbox holding `source` for centre 12345; with `broken`, that
    function of the nightly pipeline raises. The file's issues, as the run reports them."""
    from unittest import mock

    from entries.pipeline import hall, nightly

    inbox = kit.tmp / "night" / "inbox" / "12345"
    inbox.mkdir(parents=True)
    shutil.copy2(source, inbox / source.name)  # keeps the modification time
    db = kit.tmp / "night" / "e.duckdb"
    shutil.copyfile(kit.shared.loaded_store, db)

    def boom(*_args, **_kwargs):
        raise RuntimeError("a failure nobody foresaw")

    target = {"report": (hall, "write_annotated"), "prepare": (hall, "prepare")}.get(broken or "")
    with mock.patch.object(*target, boom) if target else contextlib.nullcontext():
        result = nightly.run_nightly(
            inbox.parent, db, kit.tmp / "night" / "out", received_on=dt.date(2027, 1, 15), settle_seconds=0
        )
    (found,) = result.files
    return [
        Issue(code=i["code"], severity=i["severity"], message=i["message"], fix="", row=i["row"], column=i["column"])
        for i in found["issues"]
    ]


produces("RPT_01", producer=lambda kit: _one_file_night(kit, FIXTURES / "operations" / "mac_empty_style.xlsx"))
produces("RPT_02", producer=lambda kit: _one_file_night(kit, INTAKE / "base.xlsx", broken="report"))
produces("RUN_01", producer=lambda kit: _one_file_night(kit, INTAKE / "base.xlsx", broken="prepare"))


@produces("RUN_02")
def _future_dated_upload(kit: Kit) -> list[Issue]:
    import os
    import time

    ahead = kit.tmp / "ahead" / "from_a_fast_clock.csv"
    ahead.parent.mkdir()
    shutil.copy(COMMIT / "full_award_certificate.csv", ahead)
    os.utime(ahead, (time.time() + 86_400, time.time() + 86_400))
    return _one_file_night(kit, ahead)


# --- the checks --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    made = Shared(tmp_path_factory.mktemp("rule_coverage"))
    yield made
    if "results_store" in made.__dict__:
        made.results_store.close()


_RUNS: dict[Producer, list[Issue]] = {}


def _run(producer: Producer, kit: Kit) -> list[Issue]:
    if producer not in _RUNS:
        _RUNS[producer] = list(producer(kit))
    return _RUNS[producer]


@pytest.mark.parametrize("code", sorted(catalogue()))
def test_code_is_produced(code, tmp_path, shared):
    producer = PRODUCERS.get(code)
    assert producer is not None, f"{code} is in rules.csv but nothing here produces it: add a producer to PRODUCERS"
    found = _run(producer, Kit(tmp_path, shared))
    hits = [i for i in found if i.code == code]
    assert hits, f"the producer of {code} raised only {sorted({i.code for i in found})}"
    assert {i.severity for i in hits} == {catalogue()[code].severity}
    assert all("{" not in i.message + i.fix for i in hits)


def test_producers_are_for_catalogue_codes_only():
    assert set(PRODUCERS) - set(catalogue()) == set()


# --- intake: formats named for what they are, limits on every sheet (appended) ------------------------

for _code, _producer in {
    "FILE_23": upload("excel2007_beta.xlsx"),
    "FILE_24": upload("password_old.xls"),
    "FILE_25": upload("nul_byte_early.csv"),
    "FILE_26": upload("merged_other_sheet.xlsx"),
    "FILE_27": upload("many_cell_styles.xlsx"),
    "FILE_28": upload("hidden_sheet.xlsx", _limits(max_rows=1)),  # its hidden sheet Old has 2 entry rows
    "FILE_29": upload("cell_over_csv_field_limit.csv"),
    "HDR_04": upload("headerless.csv"),
    "SHEET_03": upload("excel4_macro_sheet.xlsm"),
}.items():
    produces(_code, producer=_producer)
