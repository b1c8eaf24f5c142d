"""`entries ingest`'s door: one file through the hall (entries.pipeline.hall) in this process."""

from __future__ import annotations

from pathlib import Path

from entries.checks.reference import Reference
from entries.checks.upload import Outcome
from entries.checks.validate import Context
from entries.core.limits import ReadLimits
from entries.pipeline import hall
from entries.store.database import Connection


def ingest_file(
    con: Connection,
    path: Path,
    *,
    context: Context,
    reference: Reference,
    order_ref: str | None,
    out_dir: Path,
    limits: ReadLimits | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Prepare, store and report one file (a dry run decides everything and writes nothing)."""
    return hall.submit(
        con,
        path,
        context=context,
        reference=reference,
        order_ref=order_ref,
        out_dir=out_dir,
        limits=limits,
        dry_run=dry_run,
    )
