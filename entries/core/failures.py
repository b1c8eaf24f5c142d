"""Pandera's lazy failures turned into catalogue issues: the one place that reads `SchemaErrors`.

Every schema in `schemas/` names each check by its rule code (`UCI_02`), so a failure case's `check`
is the issue's code. A wide check (one that looks at a whole row) reports every column of a failing
row: one issue is kept per rule, row and place (the rule's own column, else the failing column).
Checks that are not catalogue codes (pandera's own dtype and coercion checks) either take a
`fallback` code or, when none is given, are a bug in the caller's schema and re-raise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from entries.core.rules import Issue, catalogue, issue


@dataclass(frozen=True, slots=True)
class Failure:
    """One failing cell or row, as a schema found it: where, which check, and the failing value."""

    code: str
    check: str  # the check's own name: the code itself, or pandera's (e.g. `dtype('int64')`)
    position: int | None  # position in the validated frame; None for a whole-column failure
    column: str
    value: object


# A caller's template parameters for one failure (empty for rules without parameters).
Params = Callable[[Failure], dict]


def rows_for_message(rows: Iterable[object], limit: int = 10) -> str:
    """Spreadsheet row numbers as a message lists them: `2, 5, 9` and `, ...` past `limit`."""
    listed = [str(r) for r in rows]
    return ", ".join(listed[:limit]) + (", ..." if len(listed) > limit else "")


def schema_issues(
    schema: pa.DataFrameSchema,
    frame: pd.DataFrame,
    *,
    file: str | None = None,
    row_of: Callable[[int], int | None] | None = None,
    params: Params | None = None,
    fallback: str | None = None,
) -> tuple[pd.DataFrame | None, list[Issue]]:
    """Validate `frame` lazily against `schema`: (the validated frame, or None on failure; issues).

    `row_of(position)` gives the spreadsheet row of a frame position (default: the frame's `row`
    column). `params(failure)` gives the template parameters of a failure's rule. `fallback` is the
    code for failures whose check is not in the catalogue; without one they re-raise.
    """
    try:
        return schema.validate(frame, lazy=True), []
    except pa.errors.SchemaErrors as exc:
        failures = _failures(exc.failure_cases, frame, fallback)
        if failures is None:
            raise
    if row_of is None:
        rows = frame["row"].to_numpy() if "row" in frame.columns else None

        def row_of(position: int) -> int | None:
            return None if rows is None else int(rows[position])

    found = []
    for failure in failures:
        row = None if failure.position is None else row_of(failure.position)
        extra = params(failure) if params is not None else {}
        found.append(issue(failure.code, row=row, column=failure.column, file=file, **extra))
    return None, found


def _failures(cases: pd.DataFrame, frame: pd.DataFrame, fallback: str | None) -> list[Failure] | None:
    """One Failure per rule, row and place; None when a check is not a rule and there is no fallback."""
    rules = catalogue()
    checks = cases["check"].astype(str)
    known = checks.isin(rules.keys())
    if not known.all() and fallback is None:
        return None
    codes = checks.where(known, fallback)
    place = codes.map(lambda c: rules[c].column).where(known)
    place = place.fillna(cases["column"].astype(str))
    located = cases["index"].notna()
    # A whole-column check that failed only because some of its cells did not convert says nothing new.
    columns_with_cells = set(place[located])
    keep = located | ~place.isin(columns_with_cells)
    table = pd.DataFrame(
        {
            "code": codes,
            "check": checks,
            "index": cases["index"],
            "place": place,
            "value": cases["failure_case"],
        }
    )[keep]
    # Pandera reports a coercion failure twice (coerce and dtype): keep one per cell.
    table = table.drop_duplicates(subset=["code", "index", "place"])
    found_at = np.full(len(table), -1, dtype="int64")
    has_label = table["index"].notna().to_numpy()
    if has_label.any():
        labels = table["index"][has_label]
        if pd.api.types.is_integer_dtype(frame.index.dtype):
            labels = labels.astype("int64")  # failure cases carry labels as objects
        found_at[has_label] = frame.index.get_indexer(labels)
    positions = [None if p < 0 else p for p in found_at.tolist()]
    return [
        Failure(code, check, position, place_, value)
        for code, check, position, place_, value in zip(
            table["code"].tolist(),
            table["check"].tolist(),
            positions,
            table["place"].tolist(),
            table["value"].tolist(),
            strict=True,
        )
    ]
