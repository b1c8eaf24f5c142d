"""Schema of a classified, priced entry: what the commit stage stores, one row per entry."""

from __future__ import annotations

import pandera.pandas as pa

from entries.core.series import SERIES_ANCHORED

CLASSIFIED_ENTRY = pa.DataFrameSchema(
    {
        "source_row": pa.Column(int, description="Spreadsheet row the entry came from."),
        "cand_key": pa.Column(
            int, description="Candidate: a stored candidate_id, or a negative key for a candidate new in this file."
        ),
        "centre_number": pa.Column(str, pa.Check.str_matches(r"^[0-9]{5}$"), description="Centre making the entry."),
        "candidate_number": pa.Column(
            str, pa.Check.str_matches(r"^[0-9]{4}$"), description="Candidate number as entered."
        ),
        "series": pa.Column(str, pa.Check.str_matches(SERIES_ANCHORED), description="Series of the entry."),
        "entry_code": pa.Column(str, description="Entry code as entered (the qualification's code for unit entries)."),
        "kind": pa.Column(
            str,
            pa.Check.isin(["full_award", "unit", "top_up", "move_down"]),
            description="full_award, unit, top_up or move_down.",
        ),
        "qualification_code": pa.Column(str, description="Qualification the entry leads to."),
        "suite_id": pa.Column(str, description="Suite of that qualification."),
        "unit_number": pa.Column("Int64", nullable=True, description="Unit of a unit entry; null otherwise."),
        "fee_pence": pa.Column(
            "int64", pa.Check.ge(0), description="Fee in pence: standard, or late after the entry deadline."
        ),
        "late": pa.Column(bool, description="True when the late fee applies."),
        "candidate_group": pa.Column(str, description="Candidate group from the upload."),
        "replaces": pa.Column(
            "Int64", nullable=True, description="entry_id of the stored entry a top-up or moving-down replaces."
        ),
    },
    name="classified_entry",
    description="One stored entry after classification and pricing.",
    strict=True,
)
