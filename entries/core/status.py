"""The guide's file statuses, spelled exactly as centres see them."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Every upload ends in one of these (docs/architecture.md §3)."""

    UPLOAD_FAILED = "Upload failed"
    EMPTY_FILE = "Empty file"
    READ_AND_REJECTED = "Read and rejected"
    DUPLICATE_FILE = "Duplicate file"
    READ_AND_RECOGNISED = "Read and recognised"
    PROCESSING_IN_PROGRESS = "Processing in progress"
    OCR_HANDLING_THIS = "OCR handling this"
    PROCESSING_COMPLETE = "Processing complete"


# Refusal codes that mean "nothing in it" rather than "could not read it".
EMPTY_CODES = frozenset({"FILE_01", "FILE_19", "FILE_20"})
# A file that ends in one of these was accepted by the command (exit 0); any other is refused.
ACCEPTED = frozenset({Status.PROCESSING_COMPLETE, Status.OCR_HANDLING_THIS, Status.READ_AND_RECOGNISED})


def status_for_refusal(code: str) -> Status:
    """The status of a file refused before its rows could be read."""
    return Status.EMPTY_FILE if code in EMPTY_CODES else Status.UPLOAD_FAILED
