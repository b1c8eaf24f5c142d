"""Schemas of a bulk onboarding's Centres and Approvals sheets, raw (text) and normalised.

The Candidates sheet is an entries upload without entries: it goes through `entries.intake` and
`entries.validate` (schemas.upload). Here, as there, each shape rule is a named check whose name is
its catalogue code, so pandera's failure cases become issues directly. Rules that need the store or
the reference data (known suite, known centre, already on record) live in `entries.onboard`.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from schemas.upload import CONTROL, MAX_CELL

# The one list of centre types an onboarding accepts (typed any case, spaces or hyphens for `_`).
CENTRE_TYPES: tuple[str, ...] = ("school", "college", "academy", "training_provider", "other")

# Sheet columns and the header spellings accepted for them (matched ignoring case, spaces, punctuation).
CENTRE_COLUMNS: dict[str, tuple[str, ...]] = {
    "Centre Number": ("Centre Number", "Centre No", "Centre"),
    "Name": ("Name", "Centre Name"),
    "Type": ("Type", "Centre Type"),
    # The address, for invoices: one `Address` cell (lines separated by commas or line breaks), or
    # its parts. All optional.
    "Address": ("Address", "Centre Address", "Postal Address"),
    "Address Line 1": ("Address Line 1", "Address 1", "Street"),
    "Address Line 2": ("Address Line 2", "Address 2", "Locality"),
    "Town": ("Town", "City", "Post Town"),
    "Postcode": ("Postcode", "Post Code", "Postal Code"),
}
OPTIONAL_CENTRE_COLUMNS: tuple[str, ...] = ("Address", "Address Line 1", "Address Line 2", "Town", "Postcode")
ADDRESS_FIELDS: tuple[str, ...] = ("address_line_1", "address_line_2", "town", "postcode")
APPROVAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "Centre Number": ("Centre Number", "Centre No", "Centre"),
    "Suite": ("Suite", "Suite ID", "Suite Code"),
    "Approved From": ("Approved From", "Approval Date", "Approved On", "Date Approved"),
}


def centre_type_key(values: pd.Series) -> pd.Series:
    """`Training Provider`, `training-provider` -> `training_provider`."""
    return values.str.strip().str.casefold().str.replace(r"[\s\-]+", "_", regex=True)


def _check(code: str, fn) -> pa.Check:
    return pa.Check(fn, name=code, element_wise=False, ignore_na=False)


def _text(description: str, checks: list[pa.Check]) -> pa.Column:
    return pa.Column(str, checks=checks, description=description)


def _centre_number() -> pa.Column:
    return _text("Centre number, 5 digits.", [_check("CEN_01", lambda s: s.str.strip().str.fullmatch(r"[0-9]{5}"))])


RAW_CENTRES = pa.DataFrameSchema(
    {
        "row": pa.Column(int, description="Row number as the spreadsheet shows it."),
        "Centre Number": _centre_number(),
        "Name": _text(
            "The centre's name (required).",
            [
                _check("ONB_03", lambda s: s.str.strip() != ""),
                _check("NAM_05", lambda s: ~s.str.contains(CONTROL, regex=True)),
                _check("CELL_06", lambda s: s.str.len() <= MAX_CELL),
            ],
        ),
        "Type": _text(
            f"Centre type, one of {', '.join(CENTRE_TYPES)}.",
            [
                _check("ONB_04", lambda s: centre_type_key(s).isin(CENTRE_TYPES)),
            ],
        ),
        **{
            column: _text(
                f"Optional: {column.lower()} of the centre's postal address (invoices).",
                [
                    _check("NAM_05", lambda s: ~s.str.contains(CONTROL, regex=True)),
                    _check("CELL_06", lambda s: s.str.len() <= MAX_CELL),
                ],
            )
            for column in OPTIONAL_CENTRE_COLUMNS
        },
    },
    name="raw_onboarding_centres",
    description="One row of an onboarding's Centres sheet, every cell as text.",
    strict=True,
)

RAW_APPROVALS = pa.DataFrameSchema(
    {
        "row": pa.Column(int, description="Row number as the spreadsheet shows it."),
        "Centre Number": _centre_number(),
        "Suite": _text("Suite identifier, e.g. L3-IT (checked against the reference suites).", []),
        "Approved From": _text(
            "First day of the approval; ISO after intake (DD/MM/YYYY and Excel dates are converted).",
            [
                _check(
                    "ONB_08",
                    lambda s: pd.to_datetime(
                        s.str.strip().where(s.str.strip().str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")),
                        format="%Y-%m-%d",
                        errors="coerce",
                    ).notna(),
                ),
            ],
        ),
    },
    name="raw_onboarding_approvals",
    description="One row of an onboarding's Approvals sheet, every cell as text.",
    strict=True,
)

CENTRE_ROW = pa.DataFrameSchema(
    {
        "row": pa.Column(int),
        "centre_number": pa.Column(
            str, pa.Check.str_matches(r"^[0-9]{5}$"), unique=True, description="Centre, 5 digits."
        ),
        "name": pa.Column(str, pa.Check.str_length(min_value=1), description="Centre name, tidied."),
        "centre_type": pa.Column(str, pa.Check.isin(CENTRE_TYPES), description="One of CENTRE_TYPES."),
        "address_line_1": pa.Column(str, description="First line of the postal address; may be empty."),
        "address_line_2": pa.Column(str, description="Second line (more lines joined with commas); may be empty."),
        "town": pa.Column(str, description="Post town; may be empty."),
        "postcode": pa.Column(str, description="Postcode, upper case; may be empty."),
    },
    name="onboarding_centre",
    description="A centre as stored in onboarded_centres.",
    strict=True,
)

APPROVAL_ROW = pa.DataFrameSchema(
    {
        "row": pa.Column(int),
        "centre_number": pa.Column(str, pa.Check.str_matches(r"^[0-9]{5}$"), description="Centre, 5 digits."),
        "suite_id": pa.Column(str, pa.Check.str_length(min_value=1), description="A reference suite."),
        "approved_from": pa.Column("datetime64[s]", description="First day of the approval."),
    },
    unique=["centre_number", "suite_id"],
    name="onboarding_approval",
    description="An approval as stored in onboarded_approvals.",
    strict=True,
)
