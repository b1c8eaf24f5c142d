"""Read an upload's cells as text, safely: workbooks (xlsx, xls, xlsb, ods) in a child process under
limits, CSV in-process.

`read_upload` returns a `RawSheet` (every cell as text, with the spreadsheet's own row numbers and
column positions) or raises `Refused` with a catalogue code. It never logs cell contents.

The child writes the cells it read (and any copy of the sheet it needs) into a folder of its own,
made in the `work_dir` the caller names: a run's private folder (the store's spool `tmp/`), never the
system's temporary folder when one is given. Nothing here changes `os.environ` or
`tempfile.tempdir`: the folder is passed to the child explicitly (and, for a child that is a new
Python, as that one process's TMPDIR).
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from entries.core.limits import ReadLimits
from entries.intake import sandbox
from entries.intake.csvfile import read_csv_text
from entries.intake.sniff import Refused, sniff


@dataclass
class RawSheet:
    """Cells as text ('' for blank): column labels are 0-based sheet column positions, and
    `rows[i]` is the spreadsheet row number of frame row i. `flags` are (row, column, code,
    params) cell findings; `warnings` (code, params) file findings."""

    cells: pd.DataFrame
    rows: list[int]
    file_format: str
    encoding: str | None = None
    sheet: str | None = None
    date1904: bool = False
    delimiter: str | None = None
    flags: list[tuple[int, int, str, dict[str, Any]]] = field(default_factory=list)
    warnings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def read_upload(path: Path, limits: ReadLimits | None = None, *, work_dir: Path | None = None) -> RawSheet:
    """Read `path` by what its bytes are (not its name); raise Refused if it cannot be read.

    `work_dir` is where the reader's temporary folder (`entries-read-*`, removed before this
    returns) is made: a run's private folder (the store's spool `tmp/`, `entries.store.spool.
    temp_dir`; the portal's private uploads folder). Without one, the system's temporary folder."""
    limits = limits or ReadLimits.from_env()
    sniffed = sniff(path, limits)
    if sniffed.kind == "csv":
        text = read_csv_text(path.read_bytes(), limits)
        warnings: list[tuple[str, dict[str, Any]]] = (
            [("FILE_07", {"suffix": sniffed.suffix})] if sniffed.misnamed else []
        )
        if text.encoding == "cp1252":
            warnings.append(("FILE_21", {"encoding": "Windows-1252"}))
        return RawSheet(
            cells=text.cells,
            rows=text.rows,
            file_format="csv",
            encoding=text.encoding,
            delimiter=text.delimiter,
            flags=text.flags,
            warnings=warnings,
        )
    return _read_xlsx_in_child(path, limits, _work_dir(work_dir), sniffed.kind, sniffed.suffix)


def _work_dir(given: Path | None) -> Path | None:
    """The folder to make this read's temporary folder in (created owner-only if missing), or None
    for the system's."""
    if given is not None:
        Path(given).mkdir(mode=0o700, parents=True, exist_ok=True)
    return given


# Imported once by the fork server, so each forked reader starts with the parsers loaded.
_PRELOAD = [
    "entries.intake.sandbox",
    "entries.intake.xlsx",
    "entries.intake.calamine",
    "fastexcel",
    "pyarrow",
    "defusedxml",
]
_CONTEXT: multiprocessing.context.ForkServerContext | None = None
_CONTEXT_LOCK = threading.Lock()


def _fork_server() -> multiprocessing.context.ForkServerContext:
    """The fork server, started on first use. Its socket lives in the system's temporary folder
    (no run changes where that is), never in a run's private one (which a run removes when it
    ends and sweeps when it starts)."""
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            multiprocessing.forkserver.ensure_running()
            _CONTEXT = context
        return _CONTEXT


def _spawn_child(arguments: tuple[str, ...], seconds: float) -> int:
    """The same child as a new Python process (where forking from the server is not allowed); a
    blocking wait, with a timer that kills it at the limit. Its TMPDIR (its own environment only)
    is its output folder, so whatever it makes stays in there."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "entries.intake.sandbox", *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # parser messages may quote cells: never kept
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "TMPDIR": arguments[1]},
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(seconds, kill)
    timer.start()
    try:
        returncode = proc.wait()
    finally:
        timer.cancel()
    if killed.is_set():
        raise Refused("FILE_15", seconds=seconds)
    return returncode


def start_readers() -> None:
    """Start the readers' fork server now (a night does, before it makes its private folder)."""
    _fork_server()


def _run_child(path: Path, out: str, limits: ReadLimits, kind: str = "xlsx", suffix: str = "") -> int:
    """Read `path` (sniffed as `kind`, named with `suffix`) in a fresh child process forked from a
    server that has the parsers imported (a new Python per file cost about 150 ms of start-up); its
    exit code. A parser abort, an allocation failure or a hang ends that child only; past the time
    limit it is killed."""
    arguments = (str(path), out, json.dumps(limits.as_dict()), kind, suffix)
    if multiprocessing.current_process().daemon:
        # A daemonic process (a Dask worker) may not start children through multiprocessing.
        return _spawn_child(arguments, limits.child_seconds)
    child = _fork_server().Process(target=sandbox.forked_main, args=arguments, daemon=True)
    child.start()
    child.join(limits.child_seconds)
    if child.is_alive():
        child.kill()
        child.join()
        raise Refused("FILE_15", seconds=limits.child_seconds)
    return child.exitcode if child.exitcode is not None else -9


def _read_xlsx_in_child(
    path: Path, limits: ReadLimits, work_dir: Path | None, kind: str = "xlsx", suffix: str = ""
) -> RawSheet:
    """The workbook at `path` (xlsx, or the `kind` sniff saw: `ole2`, `xlsb`, `ods`) read by the
    child. An OLE2 file's structure is only ever looked at there (this process has seen its magic
    bytes alone), and its refusals come back as codes."""
    with tempfile.TemporaryDirectory(prefix="entries-read-", dir=work_dir) as out:
        returncode = _run_child(path, out, limits, kind, suffix)
        meta_path = Path(out) / "meta.json"
        if returncode != 0 or not meta_path.exists():
            how = f"signal {-returncode}" if returncode < 0 else f"exit {returncode}"
            raise Refused("FILE_14", detail=how)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if "refused" in meta:
            raise Refused(meta["refused"], **meta["params"])
        with pa.memory_map(str(Path(out) / "cells.arrow")) as source:
            table = pa.ipc.open_file(source).read_all()
    frame = table.to_pandas()
    offset = int(meta["offset"])
    width = frame.shape[1]
    frame.columns = range(offset, offset + width)
    frame = frame.fillna("")
    for missing in range(offset):  # columns left of the first used one are blank
        frame.insert(missing, missing, "")
    frame = frame.astype("str")
    flags = [(int(r), int(c), code, {"detail": detail}) for r, c, code, detail in meta["flags"]]
    frame = _with_error_text(frame, flags)
    return RawSheet(
        cells=frame,
        rows=list(range(1, len(frame) + 1)),
        file_format=str(meta.get("file_format", "xlsx")),
        sheet=meta["sheet"],
        date1904=bool(meta["date1904"]),
        flags=flags,
        warnings=[(code, params) for code, params in meta["warnings"]],
    )


def _with_error_text(frame: pd.DataFrame, flags: list[tuple[int, int, str, dict[str, Any]]]) -> pd.DataFrame:
    """`frame` with each error cell (`CELL_01`) holding the error Excel shows (`#DIV/0!`), not the
    blank calamine reads: a row or a sheet of error cells is then not taken for an empty one.
    Frame row i is spreadsheet row i + 1; rows and columns are added when an error cell lies past
    the values calamine returned."""
    errors = [(row, col, params.get("detail") or "#ERROR") for row, col, code, params in flags if code == "CELL_01"]
    if not errors:
        return frame
    height = max(len(frame), *(row for row, _, _ in errors))
    width = max(frame.shape[1], *(col + 1 for _, col, _ in errors))
    if height > len(frame) or width > frame.shape[1]:
        frame = frame.reindex(index=range(height), columns=range(width), fill_value="").astype("str")
    for row, col, text in errors:
        if frame.iat[row - 1, col].strip() == "":
            frame.iat[row - 1, col] = text
    return frame
