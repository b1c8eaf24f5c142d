"""Read the entries sheet of an xlsx/xlsm workbook as text, flagging cells that are not plain values.

Runs inside the reader's child process (`entries.intake.sandbox`): a parser crash or memory blow-up
there costs one file, never the run.

The package is resolved here, not by the parser: the workbook part is found through `_rels/.rels`
(so it may sit at the package root), part names may use `\\` and relationship targets `..`, and
Strict Open XML namespaces are read like transitional ones; Excel 4 macro sheets are never read.
Every other sheet of the workbook is checked once against the workbook-wide limits (merged cells,
rows, cell formats), because the report step opens the whole workbook.

Values are read by fastexcel (calamine), every column as text. A plain package (as Excel,
LibreOffice and openpyxl write one) is read as it is; any other is read from a one-sheet copy this
module writes: the chosen sheet, its shared strings and styles (Strict namespaces rewritten as
transitional), and nothing else, so the parser never sees a macro sheet, a path it would resolve
differently, or a declared extent the real cells do not have. The sheet's XML is scanned alongside
for what calamine hides (error cells read as blanks, formulas without a saved value, merged ranges)
and for real sizes beyond the limits.

This module plans and runs the read; the package is resolved by `entries.intake.xlsx_package`, the
XML scanned by `entries.intake.xlsx_scan`, and the copy written by `entries.intake.one_sheet_copy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow

import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from entries.core.limits import ReadLimits
from entries.intake.one_sheet_copy import transitional, write_one_sheet_copy
from entries.intake.sniff import Refused
from entries.intake.xlsx_package import (
    WORKSHEET,
    Package,
    Sheet,
    Workbook,
    check_container,
    choose_sheet,
    read_member,
    read_workbook,
)
from entries.intake.xlsx_scan import (
    SheetScan,
    check_workbook,
    declared_usual,
    declared_within,
    scan_sheet,
    without_declared_extent,
)


def _calamine_path(target: str) -> str:
    """Where calamine looks for a workbook relationship's target (it resolves them against xl/
    itself, without `..`)."""
    if target.startswith("/"):
        return target[1:]
    return target if target.startswith("xl/") else f"xl/{target}"


def _plain(package: Package, workbook: Workbook, head: bytes, limits: ReadLimits) -> bool:
    """True for a package calamine reads as it is: transitional, the workbook at xl/workbook.xml,
    zip names as the part names, targets calamine resolves to the same parts, no macro sheet, and
    a declared extent within the limits. Anything else is read through a one-sheet copy."""
    if workbook.strict or workbook.part != "xl/workbook.xml" or not declared_within(head, limits):
        return False
    if not declared_usual(head):  # a whole-row `1:4` or malformed dimension: calamine rejects some
        return False
    if any(s.kind != WORKSHEET and s.kind != "chartsheet" for s in workbook.sheets):
        return False
    for rel in workbook.relationships.values():
        if rel.external or rel.kind not in (WORKSHEET, "chartsheet", "sharedStrings", "styles"):
            continue
        if _calamine_path(rel.raw) != rel.target or package.names.get(rel.target.casefold()) != rel.target:
            return False
    return package.names.get("xl/workbook.xml") == "xl/workbook.xml"


@dataclass
class _Plan:
    """What `read_xlsx` reads: the sheet chosen, the workbook-wide findings, and either the original
    file (`direct`) or the parts for a one-sheet copy."""

    sheet: Sheet
    date1904: bool
    warnings: list[tuple[str, dict]]
    merged_elsewhere: int
    direct: bool
    xml: bytes = b""
    shared_strings: bytes | None = None
    styles: bytes | None = None
    extras: tuple[str, ...] = ()  # zip names of parts the direct read must entity-check alongside
    drop_dimension: bool = False  # the second try: the copy is read without its `<dimension>`


def _plan(path: str, limits: ReadLimits, *, copy: bool = False) -> _Plan:
    """How to read `path`; `copy` reads through a one-sheet copy even a package calamine could
    read as it is (the second try, after calamine refused the original)."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise Refused("FILE_02") from None
    try:
        with zf:
            check_container(zf, limits)
            package = Package(zf, limits)
            workbook = read_workbook(package)
            chosen = choose_sheet(workbook.sheets)
            if chosen.part is None:
                raise Refused("FILE_02")
            warnings, merged = check_workbook(package, workbook, chosen, limits)
            with zf.open(package.names[chosen.part.casefold()]) as fh:
                head = fh.read(4096)
            direct = not copy and _plain(package, workbook, head, limits)
            plan = _Plan(chosen, workbook.date1904, warnings, merged, direct, drop_dimension=copy)
            if plan.direct:  # the scan thread reads the sheet and checks the shared strings
                plan.extras = tuple(package.names[p.casefold()] for p in (workbook.shared_strings, chosen.part) if p)
                return plan
            plan.xml = package.read(chosen.part)
            plan.shared_strings = package.read(workbook.shared_strings) if workbook.shared_strings else None
            plan.styles = package.read(workbook.styles) if workbook.styles else None
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, KeyError):
        raise Refused("FILE_02") from None
    if workbook.strict:
        plan.xml = transitional(plan.xml)
        plan.shared_strings = transitional(plan.shared_strings) if plan.shared_strings is not None else None
        plan.styles = transitional(plan.styles) if plan.styles is not None else None
    return plan


def read_xlsx(path: str, limits: ReadLimits, work_dir: str | None = None) -> tuple[pyarrow.Table, SheetScan, int]:
    """Read the entries sheet: (pyarrow data of text columns, scan, absolute index of column 0).

    A plain package is read as it is, its sheet XML scanned on a second thread while calamine
    parses (it releases the GIL), so the scan costs almost nothing; a refusal from the scan still
    refuses the file. Any other package is read through a one-sheet copy written into `work_dir`;
    a sheet whose declared extent is beyond the limits is scanned before the parser runs, and read
    (with the declaration dropped) only if its real cells are within them; an unusual declaration
    (`1:4`) is dropped too. When calamine refuses a plain package as it is (a part it resolves or
    parses its own way), the sheet is read once more through a one-sheet copy without its
    declaration: the package was already opened and parsed here, so only a sheet calamine cannot
    read even then is `FILE_02`.
    """
    plan = _plan(path, limits)
    try:
        return _read(path, plan, limits, work_dir)
    except _ParserFailed as failed:
        if not plan.direct:
            raise Refused("FILE_02") from failed.__cause__
    try:
        return _read(path, _plan(path, limits, copy=True), limits, work_dir)
    except _ParserFailed as failed:
        raise Refused("FILE_02") from failed.__cause__


class _ParserFailed(Exception):
    """calamine raised while loading the sheet (its errors have no stable types; never their text)."""


def _read(path: str, plan: _Plan, limits: ReadLimits, work_dir: str | None) -> tuple[pyarrow.Table, SheetScan, int]:
    """One read of the sheet as `plan` says; `_ParserFailed` when calamine raises."""
    outcome: dict[str, Any] = {}

    def scan_original() -> None:
        try:
            with zipfile.ZipFile(path) as own:
                for name in plan.extras[:-1]:  # the shared strings: checked for entities only
                    read_member(own, name, limits)
                outcome["flags"] = scan_sheet(read_member(own, plan.extras[-1], limits), limits, plan.merged_elsewhere)
        except Refused as refused:
            outcome["refused"] = refused
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError):
            outcome["refused"] = Refused("FILE_02")

    xml = plan.xml
    if not plan.direct and not declared_within(xml[:4096], limits):
        outcome["flags"] = scan_sheet(xml, limits, plan.merged_elsewhere)  # real excess refused first
        xml = without_declared_extent(xml)
    elif not plan.direct and (plan.drop_dimension or not declared_usual(xml[:4096])):
        xml = without_declared_extent(xml)

    def scan_copy() -> None:
        try:
            outcome["flags"] = scan_sheet(xml, limits, plan.merged_elsewhere)
        except Refused as refused:
            outcome["refused"] = refused

    with tempfile.TemporaryDirectory(prefix="entries-sheet-", dir=work_dir) as work:
        source: str | int = plan.sheet.name
        target = path
        if not plan.direct:
            target, source = str(Path(work) / "sheet.xlsx"), 0
            write_one_sheet_copy(Path(target), xml, plan.shared_strings, plan.styles, plan.date1904)
        scanner = None
        if "flags" not in outcome:
            scanner = threading.Thread(target=scan_original if plan.direct else scan_copy, name="sheet-scan")
            scanner.start()
        import fastexcel  # imported here: only the child process pays for it

        failure: Exception | None = None
        try:
            loaded = fastexcel.read_excel(target).load_sheet(source, header_row=None, dtypes="string", skip_rows=0)
            columns = loaded.available_columns()
            table = loaded.to_arrow()
        except Exception as exc:  # noqa: BLE001 - calamine's errors carry no stable types; never their text
            failure = exc
        if scanner is not None:
            scanner.join()
    if "refused" in outcome:
        raise outcome["refused"]
    if failure is not None:
        raise _ParserFailed() from failure
    scan_result = SheetScan(
        sheet=plan.sheet.name, date1904=plan.date1904, warnings=plan.warnings, flags=outcome["flags"]
    )
    offset = columns[0].absolute_index if columns else 0
    return table, scan_result, offset
