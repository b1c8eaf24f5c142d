"""Schemas of the awarding body's reference tables, as read from their CSV files (all text).

Codes stay text so their leading zeros survive; counts and amounts are coerced to whole numbers
(amounts are integer pence); dates are ISO `YYYY-MM-DD` text. Relationship checks across tables
live in `entries.refdata`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pandera.pandas as pa

from entries.core.series import SERIES_ANCHORED

FIVE_DIGITS = r"^\d{5}$"
ENTRY_CODE = r"^\d{5}([TM]\d)?$"
SUITE_ID = r"^[A-Z0-9]+(-[A-Z0-9]+)*$"
SORT_CODE = r"^\d{2}-\d{2}-\d{2}$"
ACCOUNT_NUMBER = r"^\d{8}$"
# exempt: outside VAT (no rate); zero: zero-rated (VAT at 0%); standard: VAT at the issuer's rate.
VAT_TREATMENTS = ("exempt", "zero", "standard")


def _is_iso_date(values: pd.Series) -> pd.Series:
    def ok(text: str) -> bool:
        try:
            return dt.date.fromisoformat(text).isoformat() == text
        except (TypeError, ValueError):
            return False

    return values.map(ok).astype(bool)


def iso_date() -> pa.Check:
    """A real calendar date written `YYYY-MM-DD`."""
    return pa.Check(_is_iso_date, element_wise=False, name="iso_date", error="a real date written YYYY-MM-DD")


def text(description: str, *checks: pa.Check, required: bool = True) -> pa.Column:
    """A text column; `required` forbids empty cells."""
    all_checks = list(checks)
    if required:
        all_checks.insert(0, pa.Check.str_length(min_value=1, error="must not be blank"))
    return pa.Column(str, checks=all_checks, description=description)


def pence(description: str) -> pa.Column:
    """A whole number of pence, not negative."""
    return pa.Column(int, pa.Check.ge(0, error="must not be negative"), coerce=True, description=description)


def _table(name: str, columns: dict[str, pa.Column], description: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(columns, name=name, strict=True, ordered=False, description=description)


SUITES = _table(
    "suites",
    {
        "suite_id": text("Suite identifier, e.g. L3-IT.", pa.Check.str_matches(SUITE_ID)),
        "title": text("Suite title as published."),
        "level": pa.Column(int, pa.Check.in_range(1, 8), coerce=True, description="Qualification level (1-8)."),
        "sector": text("Sector the suite belongs to."),
        "version": text("Specification version, e.g. 2016."),
        "max_exam_attempts": pa.Column(
            int,
            pa.Check.ge(1),
            coerce=True,
            description="Entries allowed for one examined unit across all series, resits included.",
        ),
    },
    "A qualification suite: the family of sizes that share units.",
)

QUALIFICATIONS = _table(
    "qualifications",
    {
        "qualification_code": text(
            "Five-digit code; also the full award entry code.", pa.Check.str_matches(FIVE_DIGITS)
        ),
        "suite_id": text("Suite the qualification belongs to (suites.suite_id)."),
        "size": text("Size name, e.g. Certificate, Extended Diploma."),
        "size_rank": pa.Column(int, pa.Check.ge(1), coerce=True, description="1 for the smallest size of the suite."),
        "title": text("Full published title."),
        "glh": pa.Column(int, pa.Check.gt(0), coerce=True, description="Guided learning hours needed to achieve it."),
    },
    "One size of qualification within a suite.",
)

UNITS = _table(
    "units",
    {
        "suite_id": text("Suite of the unit (suites.suite_id)."),
        "unit_number": pa.Column(int, pa.Check.ge(1), coerce=True, description="Unit number within the suite."),
        "title": text("Unit title."),
        "glh": pa.Column(int, pa.Check.gt(0), coerce=True, description="Guided learning hours of the unit."),
        "assessment": text(
            "exam: needs a unit entry per series; moderated: centre-assessed, no entry.",
            pa.Check.isin(["exam", "moderated"]),
        ),
    },
    "A unit of a suite.",
)

RULES_OF_COMBINATION = _table(
    "rules_of_combination",
    {
        "qualification_code": text("Qualification the unit counts towards.", pa.Check.str_matches(FIVE_DIGITS)),
        "unit_number": pa.Column(int, pa.Check.ge(1), coerce=True, description="Unit of the qualification's suite."),
        "status": text("mandatory or optional.", pa.Check.isin(["mandatory", "optional"])),
    },
    "A unit allowed in a qualification: all mandatory units plus optional ones reaching its glh.",
)

ENTRY_CODES = _table(
    "entry_codes",
    {
        "entry_code": text("Code centres enter, e.g. 05838, 05839T1, 05838M2.", pa.Check.str_matches(ENTRY_CODE)),
        "kind": text("full_award, top_up or move_down.", pa.Check.isin(["full_award", "top_up", "move_down"])),
        "qualification_code": text("Qualification the entry leads to.", pa.Check.str_matches(FIVE_DIGITS)),
        "from_qualification_code": text(
            "Top-up and moving-down: the full award entry it replaces; blank for a full award.",
            pa.Check.str_matches(r"^(\d{5})?$"),
            required=False,
        ),
        "title": text("Title shown to centres."),
    },
    "An entry code centres can use.",
)

FEES = _table(
    "fees",
    {
        "series": text("Series, YYYY-MM.", pa.Check.str_matches(SERIES_ANCHORED)),
        "entry_code": text("Entry code (entry_codes.entry_code).", pa.Check.str_matches(ENTRY_CODE)),
        "fee_pence": pence("Standard fee in pence, up to the entry deadline."),
        "late_fee_pence": pence("Late fee in pence, after the entry deadline."),
    },
    "The fee of an entry code in a series.",
)

UNIT_FEES = _table(
    "unit_fees",
    {
        "series": text("Series, YYYY-MM.", pa.Check.str_matches(SERIES_ANCHORED)),
        "suite_id": text("Suite (suites.suite_id)."),
        "fee_pence": pence("Standard fee in pence for one examined unit entry."),
        "late_fee_pence": pence("Late fee in pence for one examined unit entry."),
    },
    "The fee of one examined unit entry in a series.",
)

SERIES_TABLE = _table(
    "series",
    {
        "series": text("Series identifier, YYYY-MM.", pa.Check.str_matches(SERIES_ANCHORED)),
        "title": text("Series title, e.g. June 2027."),
        "entry_deadline": text("Standard fee up to and including this day.", iso_date()),
        "late_entry_deadline": text("Late fee up to and including this day; refused after it.", iso_date()),
    },
    "An examination series and its deadlines.",
)

CENTRES = _table(
    "centres",
    {
        "centre_number": text("Five-digit centre number.", pa.Check.str_matches(FIVE_DIGITS)),
        "name": text("Centre name."),
        "centre_type": text("school, college, ...", pa.Check.str_matches(r"^[a-z_]+$")),
        "address_line_1": text("First line of the centre's postal address (invoices).", required=False),
        "address_line_2": text("Second line of the address; may be blank.", required=False),
        "town": text("Post town.", required=False),
        "postcode": text("Postcode.", required=False),
    },
    "An approved centre.",
)

ISSUER = _table(
    "issuer",
    {
        "name": text("The awarding body's legal name, as invoices show it."),
        "address_line_1": text("First line of the issuer's address."),
        "address_line_2": text("Second line; may be blank.", required=False),
        "town": text("Post town."),
        "postcode": text("Postcode."),
        "vat_number": text("VAT registration number; may be blank when not registered.", required=False),
        "company_number": text("Company (or charity) registration number.", required=False),
        "vat_rate_basis_points": pa.Column(
            int,
            pa.Check.in_range(0, 10_000, error="must be 0 to 10000 (100%)"),
            coerce=True,
            description="VAT charged on entry fees, in hundredths of a percent (2000 = 20%; 0 = none).",
        ),
        "vat_note": text("What invoices say about VAT, e.g. that entry fees are exempt.", required=False),
        "payment_terms_days": pa.Column(
            int,
            pa.Check.in_range(0, 365, error="must be 0 to 365 days"),
            coerce=True,
            description="Days from the invoice date to the due date.",
        ),
        "invoice_prefix": text(
            "Letters that begin every invoice number, e.g. OCR.", pa.Check.str_matches(r"^[A-Z]{2,6}$")
        ),
        "vat_treatment": text(
            "How entry fees stand for VAT: exempt (no VAT, invoices say `VAT: exempt`), zero (zero-rated: "
            "VAT at 0%) or standard (VAT charged at vat_rate_basis_points).",
            pa.Check.isin(VAT_TREATMENTS, error="must be exempt, zero or standard"),
        ),
        "bank_name": text("The bank holding the account centres pay into, as invoices show it."),
        "sort_code": text(
            "The account's UK sort code, written NN-NN-NN.", pa.Check.str_matches(SORT_CODE, error="NN-NN-NN")
        ),
        "account_number": text(
            "The account's 8-digit UK account number (text: leading zeros kept).",
            pa.Check.str_matches(ACCOUNT_NUMBER, error="8 digits"),
        ),
        "account_name": text("The name the account is held in, as a payer's bank checks it."),
    },
    "Who issues invoices: one row.",
)

# Columns a published file may leave out (older editions had none): read as blank.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "centres": ("address_line_1", "address_line_2", "town", "postcode"),
}

CENTRE_APPROVALS = _table(
    "centre_approvals",
    {
        "centre_number": text("Centre (centres.centre_number).", pa.Check.str_matches(FIVE_DIGITS)),
        "suite_id": text("Suite approved (suites.suite_id)."),
        "approved_from": text("First day of the approval.", iso_date()),
    },
    "A centre's approval to enter candidates for a suite.",
)

# File name (without .csv) -> (schema, key columns). Order is load order.
TABLES: dict[str, tuple[pa.DataFrameSchema, tuple[str, ...]]] = {
    "suites": (SUITES, ("suite_id",)),
    "qualifications": (QUALIFICATIONS, ("qualification_code",)),
    "units": (UNITS, ("suite_id", "unit_number")),
    "rules_of_combination": (RULES_OF_COMBINATION, ("qualification_code", "unit_number")),
    "entry_codes": (ENTRY_CODES, ("entry_code",)),
    "series": (SERIES_TABLE, ("series",)),
    "fees": (FEES, ("series", "entry_code")),
    "unit_fees": (UNIT_FEES, ("series", "suite_id")),
    "centres": (CENTRES, ("centre_number",)),
    "centre_approvals": (CENTRE_APPROVALS, ("centre_number", "suite_id")),
    "issuer": (ISSUER, ("name",)),
}
