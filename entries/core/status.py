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


# The guide's table of statuses: each one's description and the action it asks of the centre, word
# for word, for every page and report that shows a status.
CONTACT_CENTRE = "Please call the OCR Customer Contact Centre to resolve this issue"
UPLOAD_AGAIN = "Please check and upload the spreadsheet again"
NONE_REQUIRED = "None required"
GUIDE: dict[Status, tuple[str, str]] = {
    Status.DUPLICATE_FILE: ("The spreadsheet could not be processed as it contains duplicate entries", CONTACT_CENTRE),
    Status.EMPTY_FILE: ("The spreadsheet does not contain any details", UPLOAD_AGAIN),
    Status.OCR_HANDLING_THIS: ("We are currently resolving the outstanding issues with the spreadsheet", NONE_REQUIRED),
    Status.PROCESSING_COMPLETE: ("The spreadsheet has been successfully uploaded and processed", NONE_REQUIRED),
    Status.PROCESSING_IN_PROGRESS: ("We are currently resolving any issues with the spreadsheet", NONE_REQUIRED),
    Status.READ_AND_RECOGNISED: (
        "The spreadsheet has been successfully uploaded and is currently being processed",
        NONE_REQUIRED,
    ),
    Status.READ_AND_REJECTED: (
        "The spreadsheet is incorrectly formatted or there was a problem processing the file",
        CONTACT_CENTRE,
    ),
    Status.UPLOAD_FAILED: ("The spreadsheet could not be uploaded", UPLOAD_AGAIN),
}
# The guide's contact details, and what to quote.
CONTACT = {
    "name": "OCR Customer Contact Centre",
    "phone": "02476 851509",
    "email": "vocational.qualifications@ocr.org.uk",
    "quote": "Please quote your centre number, entry code and claim number in all communications.",
}


def described(status: str) -> dict[str, str]:
    """A status as the guide shows it: {"status", "description", "action"} (an unknown text keeps
    its words, with no description or action)."""
    try:
        description, action = GUIDE[Status(status)]
    except ValueError:
        return {"status": status, "description": "", "action": ""}
    return {"status": status, "description": description, "action": action}


# Refusal codes that mean "nothing in it" rather than "could not read it".
EMPTY_CODES = frozenset({"FILE_01", "FILE_19", "FILE_20"})
# A file that ends in one of these was accepted by the command (exit 0); any other is refused.
ACCEPTED = frozenset({Status.PROCESSING_COMPLETE, Status.OCR_HANDLING_THIS, Status.READ_AND_RECOGNISED})


def status_for_refusal(code: str) -> Status:
    """The status of a file refused before its rows could be read."""
    return Status.EMPTY_FILE if code in EMPTY_CODES else Status.UPLOAD_FAILED
