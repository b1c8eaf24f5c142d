"""The rule catalogue: every check's stable code, severity, message template and fix hint.

The catalogue is data (`rules.csv` beside this module); tests and reports match on codes, never on
the wording. Message templates take only non-personal values (codes, counts, column names).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
CATALOGUE_PATH = Path(__file__).with_name("rules.csv")


@dataclass(frozen=True)
class Rule:
    """One catalogue row."""

    code: str
    severity: Severity
    column: str | None
    message: str
    fix: str


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~3x, and files carry 100k issues
class Issue:
    """One finding about one place in one file (row as the spreadsheet numbers it; header is 1)."""

    code: str
    severity: Severity
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    file: str | None = None
    params: dict = field(default_factory=dict, compare=False, repr=False)

    def as_json(self) -> dict:
        """The DESIGN.md §5 issue object."""
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }

    def as_line(self) -> str:
        """One human line: where, what, how to fix."""
        where = ", ".join(
            part
            for part in (
                self.file,
                f"row {self.row}" if self.row is not None else None,
                f"column {self.column}" if self.column else None,
            )
            if part
        )
        return f"{where + ': ' if where else ''}{self.code} {self.message} Fix: {self.fix}"


@cache
def catalogue() -> dict[str, Rule]:
    """All rules by code, read once from `rules.csv`."""
    with CATALOGUE_PATH.open(newline="", encoding="utf-8") as fh:
        rules = {}
        for rec in csv.DictReader(fh):
            if None in rec or any(v is None for v in rec.values()):
                raise ValueError(f"rule {rec.get('code')} does not have exactly 5 fields (quote text with commas)")
            if rec["code"] in rules:
                raise ValueError(f"rule {rec['code']} is catalogued twice")
            if rec["severity"] not in ("error", "warning"):
                raise ValueError(f"rule {rec['code']} has severity {rec['severity']!r}")
            rules[rec["code"]] = Rule(
                code=rec["code"],
                severity=rec["severity"],  # type: ignore[arg-type]
                column=rec["column"] or None,
                message=rec["message"],
                fix=rec["fix"],
            )
    return rules


@cache
def _plain_text(code: str, column: str | None, file: str | None) -> tuple[str, str]:
    # Most issues have no parameters of their own: format each (code, place) once, not per row.
    rule = catalogue()[code]
    values = {"file": file or "the file", "column": column or rule.column or "", "field": (column or rule.column or "").lower()}
    return rule.message.format(**values), rule.fix.format(**values)


def issue(
    code: str,
    *,
    row: int | None = None,
    column: str | None = None,
    file: str | None = None,
    severity: Severity | None = None,
    **params: object,
) -> Issue:
    """Make an Issue for catalogue rule `code`, filling its templates with `params`."""
    rule = catalogue()[code]
    if params:
        values = {k: ("" if v is None else v) for k, v in params.items()}
        values.setdefault("file", file or "the file")
        values.setdefault("column", column or rule.column or "")
        values.setdefault("field", (column or rule.column or "").lower())
        message, fix = rule.message.format(**values), rule.fix.format(**values)
    else:
        values = {}
        message, fix = _plain_text(code, column, file)
    return Issue(
        code=code,
        severity=severity or rule.severity,
        message=message,
        fix=fix,
        row=row,
        column=column or rule.column,
        file=file,
        params=values,
    )
