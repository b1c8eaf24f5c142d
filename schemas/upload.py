"""Schemas of an upload at its two boundaries: the raw rows as text, and the normalised rows.

`raw_upload_schema` is the template as the centre sent it: every column text, each shape rule a
named check whose name is its catalogue code, so pandera's failure cases become issues directly.
`NORMALISED_ROW` is the typed row the commit stage relies on, after trimming, completing and
converting. Rules that need reference data are DuckDB anti-joins in `entries.validate`.
"""

from __future__ import annotations

import unicodedata

import pandas as pd
import pandera.pandas as pa

from entries.core.series import SERIES_ANCHORED, parse_series_cells
from entries.intake.uci import check_letters_valid
from entries.intake.uln import check_digits_valid, placeholder_mask

# Apostrophes and hyphens as word processors and MIS exports type them (O’Neill, Smith‑Jones): name
# punctuation, not letters, so never "accented" (NAM_04); NAM_08 says they print as the plain ones.
TYPOGRAPHIC_PUNCTUATION = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark, the curly apostrophe
    "\u02bc": "'",  # modifier letter apostrophe
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
}
NAME_PUNCTUATION = " .'-" + "".join(TYPOGRAPHIC_PUNCTUATION)
CONTROL = r"[\x00-\x08\x0b-\x1f\x7f]"
INVISIBLE = "\u00a0\u200b\u200c\u200d\u2060\ufeff"
MAX_CELL = 32_767  # Excel's own cell limit: longer text would be cut on the way back to the centre


def _blank(s: pd.Series) -> pd.Series:
    return s.str.strip() == ""


def _check(code: str, fn) -> pa.Check:
    # The check's name is the rule code: failure cases carry it straight to the issues table.
    return pa.Check(fn, name=code, element_wise=False, ignore_na=False)


def _uci_shape(s: pd.Series) -> pd.Series:
    return s.str.strip().str.upper()


def uci_check_ok(s: pd.Series) -> pd.Series:
    """True unless a well-formed 13-character UCI has the wrong check letter."""
    u = _uci_shape(s)
    shaped = u.str.fullmatch(r"[0-9]{5}[0A-Z][0-9]{6}[A-Z]")
    ok = pd.Series(True, index=s.index)
    ok[shaped] = check_letters_valid(u[shaped])
    return ok


def uln_check_ok(s: pd.Series) -> pd.Series:
    """True unless a 10-digit, non-placeholder ULN has the wrong check digit."""
    v = s.str.strip()
    digits = v.str.fullmatch(r"[0-9]{10}") & ~placeholder_mask(v)
    ok = pd.Series(True, index=s.index)
    ok[digits] = check_digits_valid(v[digits])
    return ok


def tidy_name(s: pd.Series) -> pd.Series:
    """Invisible characters removed, non-breaking spaces made spaces, runs of spaces folded, trimmed."""
    out = s
    if out.str.contains(f"[{INVISIBLE}]", regex=True).any():  # rarely: one scan decides
        for ch in INVISIBLE:
            out = out.str.replace(ch, " " if ch == "\u00a0" else "", regex=False)
    return out.str.replace(r" {2,}", " ", regex=True).str.strip()


def _name_letters_only(s: pd.Series) -> pd.Series:
    tidy = tidy_name(s)
    ascii_ok = tidy.str.fullmatch(r"[A-Za-z .'\-]*")
    ok = ascii_ok.copy()
    rest = tidy[~ascii_ok]
    # Control characters have their own rule (NAM_05); here only letters and name punctuation.
    ok[~ascii_ok] = rest.map(lambda v: all(_name_character(c) or unicodedata.category(c) == "Cc" for c in v)).astype(
        bool
    )
    return ok


def _name_character(c: str) -> bool:
    """A letter, a combining accent (how some files spell ễ: e, then U+0302 and U+0303; the letter
    is the same, NAM_04 says it is accented) or name punctuation."""
    return c.isalpha() or unicodedata.category(c) in ("Mn", "Mc") or c in NAME_PUNCTUATION


def disallowed_characters(value: str) -> str:
    """The characters of a name that are neither letters nor name punctuation (for the message)."""
    tidy = tidy_name(pd.Series([value], dtype="str")).iloc[0]
    found = sorted({c for c in tidy if not (_name_character(c) or unicodedata.category(c) == "Cc")})
    return " ".join(found)


def _plain_punctuation(s: pd.Series) -> pd.Series:
    return s.str.translate(str.maketrans(TYPOGRAPHIC_PUNCTUATION))


def _ascii_letters(s: pd.Series) -> pd.Series:
    # Typographic apostrophes and hyphens are not accents: they are NAM_08's, not this rule's.
    return _plain_punctuation(tidy_name(s)).str.fullmatch(r"[\x00-\x7f]*")


def _plain_apostrophes_and_hyphens(s: pd.Series) -> pd.Series:
    tidy = tidy_name(s)
    return _plain_punctuation(tidy) == tidy


def _name_checks(required: bool) -> list[pa.Check]:
    return [
        _check("NAM_01" if required else "NAM_02", lambda s: ~_blank(s)),
        _check("NAM_03", _name_letters_only),
        _check("NAM_04", _ascii_letters),
        _check("NAM_08", _plain_apostrophes_and_hyphens),
        _check("NAM_05", lambda s: ~s.str.contains(CONTROL, regex=True)),
        _check("NAM_06", lambda s: tidy_name(s) == s),
        _check("CELL_06", lambda s: s.str.len() <= MAX_CELL),
    ]


def two_digit_year(s: pd.Series) -> pd.Series:
    """True where a date is written day, month and a two-digit year (14/05/09): a real date, but
    whose century is a guess."""
    return s.str.strip().str.fullmatch(r"[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-][0-9]{2}")


def _unit_checks() -> list[pa.Check]:
    return [_check("UNI_01", lambda s: _blank(s) | s.str.strip().str.fullmatch(r"[0-9]{1,3}"))]


def text(description: str, checks: list[pa.Check] | None = None) -> pa.Column:
    return pa.Column(str, checks=checks or [], description=description)


def raw_upload_schema(centre: str) -> pa.DataFrameSchema:
    """The upload as text, checked for shape; `centre` is the uploading centre (for CEN_02, UCI_06)."""
    sex = r"(?i)m|f|male|female"
    return pa.DataFrameSchema(
        {
            "row": pa.Column(int, description="Row number as the spreadsheet shows it (the header is row 1)."),
            "Centre Number": text(
                "The centre making the entry: 5 digits, the uploading centre.",
                [
                    _check("CEN_01", lambda s: s.str.strip().str.fullmatch(r"[0-9]{5}")),
                    _check("CEN_02", lambda s: ~s.str.strip().str.fullmatch(r"[0-9]{5}") | (s.str.strip() == centre)),
                ],
            ),
            "Candidate Number": text(
                "The candidate's 4-digit number at the centre, 0001-9999.",
                [
                    _check("CAN_01", lambda s: s.str.strip().str.fullmatch(r"[0-9]{4}") & (s.str.strip() != "0000")),
                ],
            ),
            "UCI": text(
                "Unique candidate identifier: centre(5), 0 or letter, year(2), serial(4), check letter.",
                [
                    _check("UCI_01", lambda s: ~_blank(s)),
                    _check("UCI_02", lambda s: _blank(s) | _uci_shape(s).str.len().isin([12, 13])),
                    _check(
                        "UCI_03",
                        lambda s: (
                            ~_uci_shape(s).str.len().isin([12, 13])
                            | _uci_shape(s).str.fullmatch(r"[0-9]{5}[0A-Z][0-9]{6}[A-Z]?")
                        ),
                    ),
                    _check("UCI_04", uci_check_ok),
                    _check("UCI_05", lambda s: ~_uci_shape(s).str.fullmatch(r"[0-9]{5}[0A-Z][0-9]{6}")),
                    _check(
                        "UCI_06",
                        lambda s: (
                            ~_uci_shape(s).str.fullmatch(r"[0-9]{5}[0A-Z][0-9]{6}[A-Z]?")
                            | (_uci_shape(s).str.slice(0, 5) == centre)
                        ),
                    ),
                ],
            ),
            "ULN": text(
                "Unique learner number: 10 digits with a check digit; blank when unknown.",
                [
                    _check("ULN_02", lambda s: ~placeholder_mask(s.str.strip())),
                    _check(
                        "ULN_01",
                        lambda s: (
                            _blank(s) | s.str.strip().str.fullmatch(r"[0-9]{10}") | placeholder_mask(s.str.strip())
                        ),
                    ),
                    _check("ULN_03", uln_check_ok),
                ],
            ),
            "Surname": text("Legal surname (required).", _name_checks(required=True)),
            "Forenames": text("Legal forenames (may be blank).", _name_checks(required=False)),
            "Sex": text(
                "M or F (Male and Female are read as M and F).",
                [
                    _check("SEX_01", lambda s: s.str.strip().str.fullmatch(sex)),
                    _check("SEX_02", lambda s: ~s.str.strip().str.fullmatch(sex) | s.str.strip().isin(["M", "F"])),
                ],
            ),
            "Date of Birth": text(
                "Date of birth, ISO after intake (DD/MM/YYYY and Excel dates are converted).",
                [
                    _check(
                        "DOB_01",
                        lambda s: (
                            pd.to_datetime(
                                s.str.strip().where(s.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")),
                                format="%Y-%m-%d",
                                errors="coerce",
                            ).notna()
                            | two_digit_year(s)
                        ),
                    ),
                    _check("DOB_05", lambda s: ~two_digit_year(s)),
                ],
            ),
            "Entry Code": text(
                "Full award, top-up (T) or moving-down (M) code, e.g. 05838, 05839T1.",
                [
                    _check("ENT_01", lambda s: ~_blank(s)),
                ],
            ),
            **{
                f"Unit {n}": text(f"Unit number {n} for a unit entry; blank for a full award.", _unit_checks())
                for n in range(1, 7)
            },
            "Candidate Group": text("Optional group used to select candidates, e.g. 13A."),
            "Series": text(
                "Optional series of this row's entries: 2027-06, June 2027 or Jun 2027; blank for the upload's series.",
                [_check("SER_01", lambda s: _blank(s) | parse_series_cells(s.str.strip()).notna())],
            ),
        },
        checks=[
            _check(
                "NAM_07", lambda df: (tidy_name(df["Surname"]).str.len() + tidy_name(df["Forenames"]).str.len()) <= 40
            ),
        ],
        name="raw_upload",
        description="One row of an entries upload, every cell as the text the centre meant.",
        strict=True,
    )


NORMALISED_ROW = pa.DataFrameSchema(
    {
        "row": pa.Column(int, description="Row number as the spreadsheet shows it."),
        "centre_number": pa.Column(str, pa.Check.str_matches(r"^[0-9]{5}$"), description="Uploading centre, 5 digits."),
        "candidate_number": pa.Column(
            str, pa.Check.str_matches(r"^[0-9]{4}$"), description="Candidate number, 4 digits."
        ),
        "uci": pa.Column(
            str,
            pa.Check.str_matches(r"^[0-9]{5}[0A-Z][0-9]{6}[A-Z]$"),
            nullable=True,
            description="UCI, 13 characters, completed; null when blank.",
        ),
        "uln": pa.Column(
            str, pa.Check.str_matches(r"^[0-9]{10}$"), nullable=True, description="ULN, 10 digits; null when blank."
        ),
        "surname": pa.Column(str, pa.Check.str_length(min_value=1), description="Surname, tidied."),
        "forenames": pa.Column(str, description="Forenames, tidied; may be empty."),
        "sex": pa.Column(str, pa.Check.isin(["M", "F"]), description="M or F."),
        "date_of_birth": pa.Column("datetime64[s]", description="Date of birth."),
        "entry_code": pa.Column(
            str, pa.Check.str_matches(r"^[0-9]{5}([TM][0-9])?$"), description="Entry code, upper case."
        ),
        **{
            f"unit_{n}": pa.Column(
                "Int64", pa.Check.ge(1), nullable=True, description=f"Unit number {n}, null when blank."
            )
            for n in range(1, 7)
        },
        "candidate_group": pa.Column(str, description="Candidate group, may be empty."),
        "series": pa.Column(
            str,
            pa.Check.str_matches(SERIES_ANCHORED),
            description="Series of the row: its Series cell, else the upload's (folder, --series or the default).",
        ),
    },
    name="normalised_row",
    description="One entry row after intake and shape checks: typed, trimmed, completed.",
    strict=True,
)
