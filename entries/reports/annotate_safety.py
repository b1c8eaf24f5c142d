"""Nothing active handed back: the annotated copy of a centre's workbook carries its values, never
its links or macros.

The copy goes back to the centre and to the operator, who open it in Excel, so whatever in the
upload would act when opened or clicked is dropped from the loaded workbook (`drop_active_parts`):
every cell hyperlink (a `javascript:` or `file://` target, a web address, a jump within the
workbook: a cell that showed a link keeps its text), external workbook links (openpyxl is told not
to load them; a defined name pointing into another workbook goes too), data connections (a query
table's link to one, pivot tables with their caches), macros (openpyxl drops the VBA project
unless asked to keep it; the copy is saved as a plain `.xlsx`, never macro-enabled or a template)
and custom document properties (a property may be linked to content).

`check_package` then reads the saved copy's package before it is handed back: only the kinds of
relationship a plain workbook of values, styles, comments and pictures needs, none to anything
outside the package, no hyperlink element on any sheet, and the plain workbook content type. A
copy that fails the check is refused with ValueError (the caller then sends the rows in a new
workbook instead: `entries.pipeline.hall.write_reports`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from defusedxml import ElementTree as SafeET
from openpyxl.packaging.custom import CustomPropertyList
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName, DefinedNameDict

PLAIN_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
# The relationships a saved copy may hold (the last segment of the type): the package's own, the
# workbook's sheets and shared parts, and what marks and pictures need. Anything else (hyperlink,
# externalLink, connections, vbaProject, oleObject, control, pivot...) is refused.
ALLOWED_RELATIONSHIPS = frozenset(
    {
        "officeDocument",
        "core-properties",
        "extended-properties",
        "worksheet",
        "chartsheet",
        "styles",
        "theme",
        "sharedStrings",
        "comments",
        "vmlDrawing",
        "drawing",
        "chart",
        "chartUserShapes",
        "image",
        "table",
    }
)
_HYPERLINKS = re.compile(rb"<(?:\w+:)?hyperlinks?[\s/>]")


def drop_active_parts(wb: Workbook) -> None:
    """Remove from a loaded workbook everything that would act when opened or clicked (see the module
    docstring); cell values, styles, comments and merged ranges are left as they are."""
    wb.vba_archive = None
    wb.template = False  # saved as a plain workbook, not a template
    wb._external_links = []  # type: ignore[attr-defined]  # openpyxl's own list, not in the stubs
    wb.custom_doc_props = CustomPropertyList()  # type: ignore[attr-defined]  # openpyxl 3.1, not in the stubs
    _keep_internal_names(wb.defined_names, wb.sheetnames)
    for ws in wb.worksheets:
        for cell in ws._cells.values():
            if cell.hyperlink is not None:
                cell.hyperlink = None
        ws._hyperlinks = []  # type: ignore[attr-defined]
        # A pivot cache keeps a copy of its source and may name a connection; its table's cells
        # are on the sheet as values already.
        ws._pivots = []  # type: ignore[attr-defined]
        ws.legacy_drawing = None  # form controls' drawing, kept only with the macros
        for table in ws.tables.values():
            # A query table's table is filled from a connection: kept as a plain table of its cells.
            if table.tableType == "queryTable" or table.connectionId is not None:
                table.tableType = None
                table.connectionId = None
                for column in table.tableColumns:
                    column.queryTableFieldId = None
                    column.uniqueName = None
        _keep_internal_names(ws.defined_names, wb.sheetnames)


def _keep_internal_names(names: DefinedNameDict, sheets: list[str]) -> None:
    """Drop each defined name that is not a range on a sheet of this workbook (another workbook's
    cells, a formula, a constant): the copy holds values, and nothing in it points outside."""
    for key in [k for k, name in names.items() if not _internal_range(name, sheets)]:
        del names[key]


def _internal_range(name: DefinedName, sheets: list[str]) -> bool:
    value = str(name.value or "")
    if "[" in value:  # `[1]Sheet!A1`, `'C:\dir\[book.xlsx]Sheet'!A1`: another workbook
        return False
    try:
        if name.type != "RANGE":
            return False
        places = list(name.destinations)
    except Exception:  # noqa: BLE001 - openpyxl's tokenizer fails on text it cannot parse: not a range then
        return False
    return bool(places) and all(sheet in sheets for sheet, _cells in places)


def check_package(path: Path) -> None:
    """Raise ValueError unless the saved workbook at `path` is a plain `.xlsx` whose relationships are
    all of ALLOWED_RELATIONSHIPS, inside the package, and whose sheets hold no hyperlink."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        types = SafeET.fromstring(zf.read("[Content_Types].xml"), forbid_dtd=True)
        workbook_types = [
            element.get("ContentType", "")
            for element in types.iter()
            if element.get("PartName", "").lstrip("/") == "xl/workbook.xml"
        ]
        if workbook_types != [PLAIN_WORKBOOK]:
            raise ValueError("the annotated copy is not a plain workbook")
        for name in names:
            if name.endswith(".rels"):
                for element in SafeET.fromstring(zf.read(name), forbid_dtd=True).iter():
                    if not element.tag.endswith("Relationship"):
                        continue
                    kind = element.get("Type", "").rstrip("/").rsplit("/", 1)[-1]
                    if kind not in ALLOWED_RELATIONSHIPS or element.get("TargetMode", "").casefold() == "external":
                        raise ValueError(f"the annotated copy holds a {kind or 'typeless'} relationship")
            elif name.startswith("xl/worksheets/") and _HYPERLINKS.search(zf.read(name)):
                raise ValueError("the annotated copy holds a hyperlink")
