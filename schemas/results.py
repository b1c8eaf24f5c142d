"""Schema of a unit results file (`entries results load`): the rows as text, before they are stored.

Every check is named by its catalogue code, so pandera's failure cases become issues with the CSV's
row numbers. Shape rules look at one cell; reference rules (known qualification, unit of that
qualification, known series) are DuckDB anti-joins against the store's `ref_*` tables; the last
check finds one result key given two different results in the same file.
"""

from __future__ import annotations

import re
import uuid

import duckdb
import pandas as pd
import pandera.pandas as pa

from entries.core.series import SERIES_ANCHORED
from entries.core.series import SERIES_PATTERN as SERIES
from entries.intake.uci import uci_problem

COLUMNS: tuple[str, ...] = ("UCI", "Qualification Code", "Unit Number", "Series", "Result")
# The canonical spelling of each result, best first; U is "unclassified" (not achieved).
RESULTS: tuple[str, ...] = ("Distinction*", "Distinction", "Merit", "Pass", "U")
RESULT_RANK: dict[str, int] = {r: len(RESULTS) - 1 - i for i, r in enumerate(RESULTS)}  # U = 0 ... D* = 4
QUALIFICATION = r"[0-9]{5}"
UNIT = r"[0-9]{1,4}"
_RESULT_KEYS = {r.casefold(): r for r in RESULTS}


def uci_text(s: pd.Series) -> pd.Series:
    """A UCI cell as compared: trimmed, upper case."""
    return s.str.strip().str.upper()


def uci_reason(s: pd.Series) -> pd.Series:
    """`uci_problem` of each cell ("" when acceptable); only 13 characters will do (no stem completion)."""
    u = uci_text(s)
    return u.map(lambda v: "length" if len(v) != 13 else (uci_problem(v) or "")).astype("str")


def result_text(s: pd.Series) -> pd.Series:
    """The canonical spelling of each result cell (case and spaces ignored); NA if not a result."""
    return s.map(lambda v: _RESULT_KEYS.get(re.sub(r"\s+", "", v).casefold())).astype(object)


def unit_number(s: pd.Series) -> pd.Series:
    """Unit cells as whole numbers (nullable); NA where the cell is not one."""
    u = s.str.strip()
    return pd.to_numeric(u.where(u.str.fullmatch(UNIT)), errors="coerce").astype("Int64")


def _check(code: str, fn) -> pa.Check:
    # The check's name is the rule code: failure cases carry it straight to the issues list.
    return pa.Check(fn, name=code, element_wise=False, ignore_na=False)


def _unknown(con: duckdb.DuckDBPyConnection, probe: pd.DataFrame, sql: str) -> set[int]:
    """Positions `i` of `probe` that the anti-join `sql` (over table `probe`) returns."""
    if probe.empty:
        return set()
    name = f"results_probe_{uuid.uuid4().hex}"
    con.register(name, probe)
    try:
        return {int(r[0]) for r in con.execute(sql.replace("probe", name)).fetchall()}
    finally:
        con.unregister(name)


def _mask(index: pd.Index, bad: set[int]) -> pd.Series:
    return pd.Series([i not in bad for i in range(len(index))], index=index, dtype=bool)


def known_qualification(con: duckdb.DuckDBPyConnection):
    """Check: a 5-digit qualification code is in `ref_qualifications` (others are RES_02's)."""

    def fn(s: pd.Series) -> pd.Series:
        q = s.str.strip()
        probe = pd.DataFrame({"i": range(len(s)), "q": q.to_numpy()})[q.str.fullmatch(QUALIFICATION).to_numpy()]
        return _mask(
            s.index,
            _unknown(
                con,
                probe,
                """
            SELECT p.i FROM probe p
            WHERE NOT EXISTS (SELECT 1 FROM ref_qualifications r WHERE r.qualification_code = p.q)""",
            ),
        )

    return fn


def known_series(con: duckdb.DuckDBPyConnection):
    """Check: a `YYYY-MM` series is in `ref_series` (others are RES_06's)."""

    def fn(s: pd.Series) -> pd.Series:
        v = s.str.strip()
        probe = pd.DataFrame({"i": range(len(s)), "s": v.to_numpy()})[v.str.fullmatch(SERIES).to_numpy()]
        return _mask(
            s.index,
            _unknown(
                con,
                probe,
                """
            SELECT p.i FROM probe p WHERE NOT EXISTS (SELECT 1 FROM ref_series r WHERE r.series = p.s)""",
            ),
        )

    return fn


def _unit_probe(df: pd.DataFrame) -> pd.DataFrame:
    """(i, q, u) for the rows with a 5-digit qualification code and a whole-number unit."""
    q = df["Qualification Code"].str.strip()
    u = unit_number(df["Unit Number"])
    probe = pd.DataFrame({"i": range(len(df)), "q": q.to_numpy(), "u": u.to_numpy()})
    return probe[(q.str.fullmatch(QUALIFICATION) & u.notna()).to_numpy()]


def unit_of_qualification(con: duckdb.DuckDBPyConnection):
    """Check: a whole-number unit belongs to its known qualification (`ref_rules_of_combination`)."""

    def fn(df: pd.DataFrame) -> pd.Series:
        sql = """SELECT p.i FROM probe p
                 WHERE EXISTS (SELECT 1 FROM ref_qualifications q WHERE q.qualification_code = p.q)
                   AND NOT EXISTS (SELECT 1 FROM ref_rules_of_combination r
                                   WHERE r.qualification_code = p.q AND r.unit_number = p.u)"""
        return _mask(df.index, _unknown(con, _unit_probe(df), sql))

    return fn


def candidate_on_record(con: duckdb.DuckDBPyConnection):
    """Check: a well-formed UCI belongs to a candidate on record (a result is for someone entered)."""

    def fn(s: pd.Series) -> pd.Series:
        u = uci_text(s)
        probe = pd.DataFrame({"i": range(len(s)), "u": u.to_numpy()})[(uci_reason(s) == "").to_numpy()]
        return _mask(
            s.index,
            _unknown(
                con,
                probe,
                """
            SELECT p.i FROM probe p WHERE NOT EXISTS (SELECT 1 FROM candidates c WHERE c.uci = p.u)""",
            ),
        )

    return fn


def examined_unit(con: duckdb.DuckDBPyConnection):
    """Check: the unit is examined, not moderated (a moderated unit's result is the centre's
    assessment, moderated, and does not come through this file)."""

    def fn(df: pd.DataFrame) -> pd.Series:
        sql = """SELECT p.i FROM probe p JOIN ref_qualifications q ON q.qualification_code = p.q
                 JOIN ref_units un ON un.suite_id = q.suite_id AND un.unit_number = p.u
                 WHERE un.assessment = 'moderated'"""
        return _mask(df.index, _unknown(con, _unit_probe(df), sql))

    return fn


def result_key(df: pd.DataFrame) -> pd.Series:
    """The stored key of each row (UCI, qualification, unit, series) as one comparable string."""
    unit = (
        unit_number(df["Unit Number"])
        .astype("str")
        .where(unit_number(df["Unit Number"]).notna(), df["Unit Number"].str.strip())
    )
    return (
        uci_text(df["UCI"])
        + "\x1f"
        + df["Qualification Code"].str.strip()
        + "\x1f"
        + unit
        + "\x1f"
        + df["Series"].str.strip()
    )


def result_as_compared(s: pd.Series) -> pd.Series:
    """A result cell as two rows are compared: its canonical spelling, else the trimmed text."""
    canonical = result_text(s)
    return canonical.where(canonical.notna(), s.str.strip().str.casefold()).astype("str")


def no_conflicting_results(df: pd.DataFrame) -> pd.Series:
    """False on every row whose key appears again in the file with a different result."""
    key = result_key(df)
    results = result_as_compared(df["Result"]).groupby(key.to_numpy()).transform("nunique")
    return pd.Series(results.to_numpy() <= 1, index=df.index)


def text(description: str, checks: list[pa.Check]) -> pa.Column:
    return pa.Column(str, checks=checks, description=description)


def results_schema(con: duckdb.DuckDBPyConnection) -> pa.DataFrameSchema:
    """The results file as text; `con` is the store whose reference tables the codes must be in."""
    return pa.DataFrameSchema(
        {
            "row": pa.Column(int, description="Row number as the spreadsheet shows it (the header is row 1)."),
            "UCI": text(
                "Unique candidate identifier, all 13 characters: centre(5), 0 or letter, year(2), serial(4), check letter.",
                [
                    _check("UCI_02", lambda s: uci_text(s).str.len() == 13),
                    _check("UCI_03", lambda s: uci_reason(s) != "structure"),
                    _check("UCI_04", lambda s: uci_reason(s) != "check"),
                    _check("RES_10", candidate_on_record(con)),
                ],
            ),
            "Qualification Code": text(
                "The qualification the unit was taken for: 5 digits, a known qualification.",
                [
                    _check("RES_02", lambda s: s.str.strip().str.fullmatch(QUALIFICATION)),
                    _check("RES_03", known_qualification(con)),
                ],
            ),
            "Unit Number": text(
                "The unit's number: a whole number, a unit of that qualification.",
                [
                    _check("RES_04", lambda s: s.str.strip().str.fullmatch(UNIT)),
                ],
            ),
            "Series": text(
                "The series the result was awarded in, YYYY-MM, a known series.",
                [
                    _check("RES_06", lambda s: s.str.strip().str.fullmatch(SERIES)),
                    _check("RES_07", known_series(con)),
                ],
            ),
            "Result": text(
                "Distinction*, Distinction, Merit, Pass or U (not achieved); any case.",
                [
                    _check("RES_08", lambda s: result_text(s).notna()),
                ],
            ),
        },
        checks=[
            _check("RES_05", unit_of_qualification(con)),
            _check("RES_11", examined_unit(con)),
            _check("RES_09", no_conflicting_results),
        ],
        name="unit_results_file",
        description="One unit result per row: a candidate's result for one unit of one qualification in one series.",
        strict=True,
    )


STORED_RESULT = pa.DataFrameSchema(
    {
        "uci": pa.Column(
            str, pa.Check.str_matches(r"^[0-9]{5}[0A-Z][0-9]{6}[A-Z]$"), description="UCI, 13 characters, upper case."
        ),
        "qualification_code": pa.Column(
            str, pa.Check.str_matches(r"^[0-9]{5}$"), description="Qualification code, 5 digits."
        ),
        "unit_number": pa.Column("int64", pa.Check.ge(0), description="Unit number."),
        "series": pa.Column(str, pa.Check.str_matches(SERIES_ANCHORED), description="Series, YYYY-MM."),
        "result": pa.Column(str, pa.Check.isin(list(RESULTS)), description="Result, canonical spelling."),
    },
    name="stored_result",
    description="One unit result as written to `unit_results` (loaded_at is added on write).",
    strict=True,
)
