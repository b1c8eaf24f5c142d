"""Schema of an invoice line: stored entries of one order grouped by entry code, kind, late flag and fee.

`entries.invoice` builds one row per line and validates the lines with INVOICE_LINE before writing
any invoice file. Amounts are integer pence; `amount_pence` is exactly `quantity * fee_pence`.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from entries.core.series import SERIES_ANCHORED

ENTRY_CODE = r"^\d{5}([TM]\d)?$"


def _amount_is_quantity_times_fee(frame: pd.DataFrame) -> pd.Series:
    return frame["amount_pence"] == frame["quantity"] * frame["fee_pence"]


INVOICE_LINE = pa.DataFrameSchema(
    {
        "centre": pa.Column(str, pa.Check.str_matches(r"^[0-9]{5}$"), description="Centre number invoiced."),
        "series": pa.Column(str, pa.Check.str_matches(SERIES_ANCHORED), description="Series of the entries, YYYY-MM."),
        "order_ref": pa.Column(
            str,
            nullable=True,
            description="The centre's order number as given with the upload; null for entries sent without one.",
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
        "fee_pence": pa.Column("int64", pa.Check.ge(0), description="Fee of one entry in integer pence, as stored."),
        "amount_pence": pa.Column("int64", pa.Check.ge(0), description="quantity x fee_pence, in integer pence."),
    },
    checks=[
        pa.Check(
            _amount_is_quantity_times_fee,
            name="amount_is_quantity_times_fee",
            error="amount_pence must equal quantity x fee_pence",
        )
    ],
    unique=["centre", "series", "order_ref", "entry_code", "kind", "late", "fee_pence"],
    name="invoice_line",
    description="One invoice line: entries of one order with the same entry code, kind, late flag and fee.",
    strict=True,
    ordered=False,
)
