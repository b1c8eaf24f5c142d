"""A minimal one-sheet xlsx package, for calamine to read instead of a package it would misread.

In: the chosen sheet's XML, its shared strings and styles (as bytes, Strict namespaces already
rewritten by `transitional`) and the date system. Out: a transitional package at `target` holding
that sheet alone, called `Entries`, so the parser never sees a macro sheet, a path it would resolve
differently, or any other part of the centre's file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from entries.intake.xlsx_package import PKG_REL_NS, STRICT_MAIN, STRICT_REL, TRANSITIONAL_MAIN, TRANSITIONAL_REL


def transitional(xml: bytes) -> bytes:
    """Strict Open XML namespaces (SpreadsheetML and relationships) rewritten as transitional."""
    return xml.replace(STRICT_MAIN.encode(), TRANSITIONAL_MAIN.encode()).replace(
        STRICT_REL.encode(), TRANSITIONAL_REL.encode()
    )


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<Relationships xmlns="{PKG_REL_NS[1:-1]}">'
    f'<Relationship Id="rId1" Type="{TRANSITIONAL_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def write_one_sheet_copy(
    target: Path, sheet_xml: bytes, shared_strings: bytes | None, styles: bytes | None, date1904: bool
) -> None:
    """A minimal transitional package holding one sheet (uncompressed: it lives a few seconds).

    The sheet is always called `Entries` in the copy: it is read by position, and its real name
    is reported from the original workbook."""
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<workbook xmlns="{TRANSITIONAL_MAIN}" xmlns:r="{TRANSITIONAL_REL}">'
        f'<workbookPr date1904="{1 if date1904 else 0}"/>'
        '<sheets><sheet name="Entries" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    rels = [f'<Relationship Id="rId1" Type="{TRANSITIONAL_REL}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared_strings is not None:
        rels.append(f'<Relationship Id="rId2" Type="{TRANSITIONAL_REL}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        rels.append(f'<Relationship Id="rId3" Type="{TRANSITIONAL_REL}/styles" Target="styles.xml"/>')
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{PKG_REL_NS[1:-1]}">{"".join(rels)}</Relationships>'
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
        out.writestr("[Content_Types].xml", _CONTENT_TYPES)
        out.writestr("_rels/.rels", _ROOT_RELS)
        out.writestr("xl/workbook.xml", workbook)
        out.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        out.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings is not None:
            out.writestr("xl/sharedStrings.xml", shared_strings)
        if styles is not None:
            out.writestr("xl/styles.xml", styles)
