"""Schema of an invoice line: billed entries of one order and claim grouped by entry code, kind,
late flag and fee.

`entries.reports.invoice` builds one row per line and validates the lines with INVOICE_LINE before
writing any invoice file. Amounts are integer pence; `amount_pence` is exactly
`quantity * unit_fee_pence`.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from entries.core.series import SERIES_ANCHORED

ENTRY_CODE = r"^\d{5}([TM]\d)?$"


def _amount_is_quantity_times_fee(frame: pd.DataFrame) -> pd.Series:
    return frame["amount_pence"] == frame["quantity"] * frame["unit_fee_pence"]


INVOICE_LINE = pa.DataFrameSchema(
    {
        "invoice_number": pa.Column(
            str, pa.Check.str_matches(r"^[A-Z]{2,6}-[0-9]{4}-[0-9]{6}$"), description="The issued invoice's number."
        ),
        "centre": pa.Column(str, pa.Check.str_matches(r"^[0-9]{5}$"), description="Centre number invoiced."),
        "series": pa.Column(str, pa.Check.str_matches(SERIES_ANCHORED), description="Series of the entries, YYYY-MM."),
        "order_ref": pa.Column(
            str,
            nullable=True,
            description="The centre's order number as given with the upload; null for entries sent without one.",
        ),
        "claim_number": pa.Column(
            str,
            pa.Check.str_matches(r"^C[0-9]{7}[A-Z]$"),
            nullable=True,
            description="Claim number of the submission that made the entries (quoted in all communications).",
        ),
        "entry_code": pa.Column(
            str,
            pa.Check.str_matches(ENTRY_CODE),
            description="Entry code (the qualification's code for unit entries).",
        ),
        "kind": pa.Column(
            str,
            pa.Check.isin(["full_award", "unit", "top_up", "move_down"]),
            description="full_award, unit, top_up or move_down.",
        ),
        "title": pa.Column(str, description="Entry code title shown to centres (unit entries say so)."),
        "late": pa.Column(bool, description="True for entries charged the late fee: late fees are lines of their own."),
        "quantity": pa.Column("int64", pa.Check.ge(1), description="Number of stored entries on the line."),
        "unit_fee_pence": pa.Column(
            "int64", pa.Check.ge(0), description="Fee of one entry in integer pence, as stored (standard or late)."
        ),
        "amount_pence": pa.Column("int64", pa.Check.ge(0), description="quantity x unit_fee_pence, in integer pence."),
    },
    checks=[
        pa.Check(
            _amount_is_quantity_times_fee,
            name="amount_is_quantity_times_fee",
            error="amount_pence must equal quantity x unit_fee_pence",
        )
    ],
    unique=["invoice_number", "order_ref", "claim_number", "entry_code", "kind", "late", "unit_fee_pence"],
    name="invoice_line",
    description="One invoice line: entries of one order and claim with the same entry code, kind, late flag and fee.",
    strict=True,
    ordered=False,
)
