"""The reader's child process: parse one workbook under memory and time limits.

Started by the reader as a fork of a server process that has the parsers imported already
(`forked_main`, multiprocessing's forkserver: a fresh process per file, without paying for Python
and pyarrow's start-up each time), or run as `python -m entries.intake.sandbox INPUT OUTDIR
LIMITS_JSON [KIND SUFFIX]`. KIND is what the parent's sniff saw from the magic bytes: `xlsx`
(the default), `ole2` (a compound file, taken apart only here: an old .xls, or a refusal naming
what it is), `xlsb` or `ods`; SUFFIX the name's extension, for messages. It writes `cells.arrow`
(every column as text) and `meta.json` (with the format read) into OUTDIR, or `meta.json` alone
with the refusal code. Whatever goes wrong
in here (a parser abort, an allocation failure, a hang) ends this process only; the parent turns it
into `Upload failed` for this one file. It prints nothing: parser messages may quote cell contents.
Everything it writes (the cells, a one-sheet copy, any library's temporary file) goes into OUTDIR,
which the parent made in the run's private folder and removes.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
from pathlib import Path


def _limit_memory(limit: int) -> None:
    # Address space, so a runaway allocation fails inside this process instead of the machine.
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def run(input_path: str, out_dir: str, limits_json: str, kind: str = "xlsx", suffix: str = "") -> int:
    """Parse `input_path` (sniffed as `kind`) into `out_dir`; returns the process exit code (0 read
    or refused)."""
    from entries.core.limits import ReadLimits
    from entries.intake.sniff import Refused

    limits = ReadLimits(**json.loads(limits_json))
    _limit_memory(limits.child_memory_bytes)
    # This process is one file's reader and nothing else: a library here that makes a temporary
    # file with `tempfile` makes it in OUTDIR too (the parent's process is never changed).
    tempfile.tempdir = out_dir
    out = Path(out_dir)
    from entries.intake.calamine import read_other_format
    from entries.intake.xlsx import read_xlsx

    try:
        if kind == "xlsx":
            table, scan, offset = read_xlsx(input_path, limits, work_dir=out_dir)
            file_format = "xlsx"
        else:
            table, scan, offset, file_format = read_other_format(input_path, kind, suffix, limits, out_dir)
    except Refused as refused:
        refusal: dict[str, object] = {"refused": refused.code, "params": {k: str(v) for k, v in refused.params.items()}}
        (out / "meta.json").write_text(json.dumps(refusal), encoding="utf-8")
        return 0
    import pyarrow as pa

    with pa.OSFile(str(out / "cells.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write(table)
    meta: dict[str, object] = {
        "file_format": file_format,
        "sheet": scan.sheet,
        "date1904": scan.date1904,
        "offset": offset,
        "flags": scan.flags,
        "warnings": scan.warnings,
    }
    (out / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return 0


def forked_main(input_path: str, out_dir: str, limits_json: str, kind: str = "xlsx", suffix: str = "") -> None:
    """A forked reader child: nothing printed (a parser's messages may quote cells), exit code as `run`."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        code = run(input_path, out_dir, limits_json, kind, suffix)
    except MemoryError:
        code = 3
    except Exception:  # noqa: BLE001 - the parent only needs to know it failed, not the text
        code = 4
    os._exit(code)  # no interpreter shutdown work in a child that may hold a broken parser


if __name__ == "__main__":
    try:
        sys.exit(run(*sys.argv[1:6]))
    except MemoryError:
        sys.exit(3)
    except Exception:  # noqa: BLE001 - the parent only needs to know it failed, not the text
        sys.exit(4)
