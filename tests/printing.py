"""Printing a report as a person does: LibreOffice converts the workbook (or HTML) to PDF, as
File > Print to A4 would, and poppler reads the PDF back (page count, paper size, text per page).

Used by the print tests; `libreoffice` (tests/conftest.py) skips them, saying why, where Debian's
libreoffice-calc is not installed (.ci/run installs it). Each conversion runs with a profile of its
own in a temporary folder, so two at once (xdist) never share LibreOffice's lock.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

A4_POINTS = (595, 842)  # 210 x 297 mm, as pdfinfo reports it (rounded)


def soffice() -> str | None:
    """LibreOffice's command, or None where it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(source: Path, folder: Path, timeout: float = 180) -> Path:
    """`source` (xlsx, csv, html) converted to PDF in `folder` by LibreOffice; returns the PDF's path."""
    command = soffice()
    if command is None:
        raise RuntimeError("LibreOffice is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [
                command,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    pdf = folder / (source.stem + ".pdf")
    if not pdf.exists():
        raise RuntimeError(f"LibreOffice wrote no PDF for {source.name}")
    return pdf


@dataclass(frozen=True)
class Printed:
    """A PDF as printed: its pages' sizes in points (width, height) and each page's text."""

    sizes: list[tuple[int, int]]
    texts: list[str]

    @property
    def pages(self) -> int:
        return len(self.sizes)

    def all_a4(self) -> bool:
        """Every page A4, portrait or landscape (within a point of rounding)."""
        return all(
            sorted(size) == sorted(A4_POINTS)
            or all(abs(a - b) <= 1 for a, b in zip(sorted(size), A4_POINTS, strict=True))
            for size in self.sizes
        )


def read_pdf(pdf: Path) -> Printed:
    """The page sizes (pdfinfo) and the text of each page (pdftotext, layout kept) of `pdf`."""
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    sizes = [
        (round(float(w)), round(float(h)))
        for w, h in re.findall(r"^Page\s+\d+ size:\s+([0-9.]+) x ([0-9.]+) pts", info, re.MULTILINE)
    ]
    texts = []
    for page in range(1, len(sizes) + 1):
        texts.append(
            subprocess.run(
                ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    return Printed(sizes, texts)


def printed(source: Path, folder: Path) -> Printed:
    """`source` printed to PDF by LibreOffice and read back."""
    return read_pdf(to_pdf(source, folder))


def page_pictures(pdf: Path, folder: Path, stem: str, dpi: int = 60) -> list[Path]:
    """Each page of `pdf` as a PNG in `folder` (pdftoppm), to look at."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(folder / stem)], check=True, capture_output=True)
    return sorted(folder.glob(f"{stem}*.png"))
