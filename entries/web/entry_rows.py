"""The web entry form's draft as rows: template rows for the hall, and the summary's lines.

In: a `Draft` (or one candidate of it); the hall's dry-run preview. Out: `hall.FormRows`, one
template row per candidate (every value text, as an uploaded spreadsheet gives them), and the
summary's entries as plain values. Nothing here reads the store or a request.
"""

from __future__ import annotations

import pandas as pd

from entries.intake.headers import TEMPLATE_COLUMNS, UNIT_COLUMNS
from entries.pipeline import hall
from entries.web.entry_draft import Draft


def template_row(draft: Draft, person: dict, units: list[int] | None = None) -> dict[str, str]:
    """One template row (every value text) for a candidate of the draft."""
    row = dict.fromkeys(TEMPLATE_COLUMNS, "")
    row.update(
        {
            "Centre Number": draft.centre,
            "Candidate Number": person["candidate_number"],
            "UCI": person["uci"],
            "ULN": person["uln"],
            "Surname": person["surname"],
            "Forenames": person["forenames"],
            "Sex": person["sex"],
            "Date of Birth": person["date_of_birth"],
            "Entry Code": draft.entry_code or "",
            "Candidate Group": person.get("group", ""),
            **{column: str(u) for column, u in zip(UNIT_COLUMNS, units or [], strict=False)},
        }
    )
    return row


def form_rows(draft: Draft) -> hall.FormRows:
    """The draft as the hall takes it: one template row per candidate, in candidate-number order."""
    rows = []
    for p in sorted(draft.people.values(), key=lambda p: p.candidate_number):
        units = list(p.option[1]) if p.option and p.option[0] == "units" else []
        person = {
            "candidate_number": p.candidate_number,
            "uci": p.uci,
            "uln": p.uln,
            "surname": p.surname,
            "forenames": p.forenames,
            "sex": p.sex,
            "date_of_birth": p.date_of_birth.isoformat(),
            "group": p.group,
        }
        rows.append(template_row(draft, person, units))
    return hall.FormRows(f"Web entry form {draft.entry_code}", rows)


def summary_lines(preview: pd.DataFrame | None) -> list[dict]:
    """The dry run's entries, as the summary lists them: fee standard or late, what each replaces."""
    if preview is None or preview.empty:
        return []
    return [
        {
            "candidate_number": r.candidate_number,
            "entry_code": r.entry_code,
            "kind": r.kind,
            "unit": None if pd.isna(r.unit_number) else int(r.unit_number),
            "series": r.series,
            "late": bool(r.late),
            "fee_pence": int(r.fee_pence),
            "replaces": not pd.isna(r.replaces),
        }
        for r in preview.sort_values(["candidate_number", "entry_code", "unit_number"]).itertuples(index=False)
    ]
