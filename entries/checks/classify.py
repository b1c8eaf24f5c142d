"""Classification: entry rows become full award, unit, top-up and moving-down entries, priced.

Pure: it takes the normalised rows (each with its candidate key), the reference tables and the
candidates' history (entries and achieved units stored before this file) and returns the entries
to store plus the issues found. "Already" always means stored before this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from entries.checks.reference import Reference
from entries.checks.validate import Context
from entries.core.rules import Issue, issue
from schemas.entry import CLASSIFIED_ENTRY

HOLDING_KINDS = ("full_award", "top_up", "move_down")  # what a top-up can build on


@dataclass
class History:
    """What the store held before this file, for the candidates in it (keyed by cand_key).

    entries: cand_key, entry_id, entry_code, kind, qualification_code, suite_id, unit_number, series, replaced_by
    achieved: cand_key, suite_id, unit_number (units with a result other than U)
    """

    entries: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=[
                "cand_key",
                "entry_id",
                "entry_code",
                "kind",
                "qualification_code",
                "suite_id",
                "unit_number",
                "series",
                "replaced_by",
            ]
        )
    )
    achieved: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["cand_key", "suite_id", "unit_number"])
    )


@dataclass
class Classified:
    """Entries to store (schemas.entry.CLASSIFIED_ENTRY) and the issues found classifying them."""

    entries: pd.DataFrame
    issues: list[Issue]

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


def _expand(rows: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
    """One line per entry: full award and top-up/moving-down rows once, unit rows once per unit
    (the unit columns melted into lines in one step, not filtered column by column)."""
    base = rows.merge(codes, on="entry_code", how="inner")
    unit_cols = [f"unit_{n}" for n in range(1, 7)]
    has_units = base[unit_cols].notna().any(axis=1)
    whole = base[~has_units].assign(unit_number=pd.NA, unit_column=None, unit_pos=0)
    whole["kind"] = whole["code_kind"]
    lines = [whole]
    if has_units.any():
        with_units = base[has_units].rename_axis("_base").reset_index()
        melted = with_units[["_base", *unit_cols]].melt(id_vars="_base", var_name="_col", value_name="unit_number")
        melted = melted[melted["unit_number"].notna()]
        melted["unit_pos"] = melted["_col"].str.slice(5).astype("int64")
        melted["unit_column"] = "Unit " + melted["_col"].str.slice(5)
        units = with_units.merge(melted[["_base", "unit_number", "unit_pos", "unit_column"]], on="_base")
        lines.append(units.drop(columns=["_base"]).assign(kind="unit"))
    out = pd.concat(lines, ignore_index=True) if len(lines) > 1 else whole.reset_index(drop=True)
    out["unit_number"] = out["unit_number"].astype("Int64")
    return out.sort_values(["row", "unit_pos"], kind="stable").reset_index(drop=True)


def classify(rows: pd.DataFrame, ctx: Context, reference: Reference, history: History) -> Classified:
    """Classify and price `rows` (normalised rows with an int `cand_key` column)."""
    t = reference.tables
    codes = (
        t["entry_codes"]
        .rename(columns={"kind": "code_kind"})
        .merge(t["qualifications"][["qualification_code", "suite_id", "glh"]], on="qualification_code", how="left")
    )
    lines = _expand(
        rows, codes[["entry_code", "code_kind", "qualification_code", "from_qualification_code", "suite_id"]]
    )
    issues: list[Issue] = []
    past = history.entries
    active = past[past["replaced_by"].isna()]

    # Dedupe against history and within the file: same candidate, code, unit and series.
    key = ["cand_key", "entry_code", "unit_number", "series"]
    on_record = (
        lines.merge(past[key].drop_duplicates().assign(_seen=True), on=key, how="left")["_seen"]
        .fillna(False)
        .astype(bool)
    )
    repeated = lines.duplicated(subset=key, keep="first")
    for row, series in zip(
        lines.loc[on_record | repeated, "row"], lines.loc[on_record | repeated, "series"], strict=True
    ):
        issues.append(issue("DUP_01", row=int(row), series=series))
    lines = lines[~(on_record | repeated)].reset_index(drop=True)

    lines["replaces"] = pd.array([pd.NA] * len(lines), dtype="Int64")
    issues += _top_ups(lines, active)
    issues += _moves_down(lines, active, history.achieved, t)
    issues += _beyond_the_limit(lines, past, t)

    priced = _price(lines, ctx, t)
    entries = pd.DataFrame(
        {
            "source_row": priced["row"].astype("int64"),
            "cand_key": priced["cand_key"].astype("int64"),
            "centre_number": priced["centre_number"].astype("str"),
            "candidate_number": priced["candidate_number"].astype("str"),
            "series": priced["series"].astype("str"),
            "entry_code": priced["entry_code"].astype("str"),
            "kind": priced["kind"].astype("str"),
            "qualification_code": priced["qualification_code"].astype("str"),
            "suite_id": priced["suite_id"].astype("str"),
            "unit_number": priced["unit_number"].astype("Int64"),
            "fee_pence": priced["fee_pence"].astype("int64"),
            "late": priced["late"].astype(bool),
            "candidate_group": priced["candidate_group"].astype("str"),
            "replaces": priced["replaces"].astype("Int64"),
        }
    )
    return Classified(entries=CLASSIFIED_ENTRY.validate(entries), issues=issues)


# Every step below is set-based (merges and group-bys over all the file's lines at once): a loop
# that filtered the history once per line grew with every top-up, moving down and unit in a file.


def _first_held(active: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
    """cand_key, qualification_code and the entry_id of the earliest active entry of `kinds` for each."""
    held = active.loc[active["kind"].isin(kinds), ["cand_key", "qualification_code", "entry_id"]]
    held = held.sort_values("entry_id", kind="stable").drop_duplicates(["cand_key", "qualification_code"])
    return held.astype({"cand_key": "int64", "qualification_code": "str", "entry_id": "int64"})


def _replaced(lines: pd.DataFrame, found: pd.DataFrame) -> None:
    """Mark `lines.replaces` from `found` (columns line, entry_id)."""
    if len(found):
        lines.loc[found["line"].to_numpy(), "replaces"] = found["entry_id"].astype("int64").to_numpy()


def _top_ups(lines: pd.DataFrame, active: pd.DataFrame) -> list[Issue]:
    """A top-up replaces the candidate's full award (or earlier top-up or moving down) entry for the
    qualification it builds on; without one on record, CLS_01."""
    tops = lines.loc[lines["kind"] == "top_up", ["cand_key", "from_qualification_code", "row"]]
    if tops.empty:
        return []
    held = _first_held(active, HOLDING_KINDS).rename(columns={"qualification_code": "from_qualification_code"})
    found = tops.rename_axis("line").reset_index().merge(held, on=["cand_key", "from_qualification_code"], how="left")
    on_record = found["entry_id"].notna()
    _replaced(lines, found[on_record])
    return [
        issue("CLS_01", row=int(row), from_code=code)
        for row, code in zip(
            found.loc[~on_record, "row"], found.loc[~on_record, "from_qualification_code"], strict=True
        )
    ]


def _moves_down(lines: pd.DataFrame, active: pd.DataFrame, achieved: pd.DataFrame, t: dict) -> list[Issue]:
    """Moving down replaces the full award entry of the larger qualification (CLS_02 without one) when
    the candidate has achieved the smaller one's mandatory units and guided learning hours (CLS_03).

    CLS_03 says exactly what is still needed: the mandatory units not achieved, and the hours the
    optional units must make once those are achieved (none when the mandatory units alone make
    them)."""
    moves = lines.loc[
        lines["kind"] == "move_down", ["cand_key", "from_qualification_code", "qualification_code", "suite_id", "row"]
    ]
    if moves.empty:
        return []
    fulls = _first_held(active, ("full_award",)).rename(columns={"qualification_code": "from_qualification_code"})
    moves = moves.rename_axis("line").reset_index().merge(fulls, on=["cand_key", "from_qualification_code"], how="left")
    issues = [
        issue("CLS_02", row=int(row), from_code=code)
        for row, code in zip(
            moves.loc[moves["entry_id"].isna(), "row"],
            moves.loc[moves["entry_id"].isna(), "from_qualification_code"],
            strict=True,
        )
    ]
    moves = moves[moves["entry_id"].notna()]
    if moves.empty:
        return issues
    rules = t["rules_of_combination"][["qualification_code", "unit_number", "status"]].astype({"unit_number": "int64"})
    done = achieved[["cand_key", "suite_id", "unit_number"]].astype({"cand_key": "int64", "unit_number": "int64"})
    done = done.drop_duplicates()
    # Mandatory units of the smaller qualification that the candidate has not achieved.
    mandatory = moves[["line", "cand_key", "suite_id", "qualification_code"]].merge(
        rules[rules["status"] == "mandatory"], on="qualification_code"
    )
    mandatory = mandatory.merge(done.assign(_done=True), on=["cand_key", "suite_id", "unit_number"], how="left")
    units = t["units"][["suite_id", "unit_number", "glh"]].astype({"unit_number": "int64"})
    not_done = (
        mandatory[mandatory["_done"].isna()]
        .drop_duplicates(["line", "unit_number"])
        .merge(units, on=["suite_id", "unit_number"], how="left")
        .sort_values("unit_number")
    )
    missing = not_done.groupby("line")["unit_number"].agg(lambda listed: _units_phrase([int(u) for u in listed]))
    # The missing mandatory units' hours count once they are achieved: what is short is what the
    # optional units must still make up, never hours the missing mandatory units already give.
    missing_hours = not_done["glh"].fillna(0).astype("int64").groupby(not_done["line"]).sum()
    # Guided learning hours of the achieved units that count towards the smaller qualification.
    counted = (
        moves[["line", "cand_key", "suite_id", "qualification_code"]]
        .merge(done, on=["cand_key", "suite_id"])
        .merge(rules[["qualification_code", "unit_number"]].drop_duplicates(), on=["qualification_code", "unit_number"])
        .merge(units, on=["suite_id", "unit_number"], how="left")
    )
    hours = counted["glh"].fillna(0).astype("int64").groupby(counted["line"]).sum()
    target = t["qualifications"][["qualification_code", "glh"]].rename(columns={"glh": "target_glh"})
    moves = moves.merge(target, on="qualification_code", how="left")
    moves["missing"] = moves["line"].map(missing)
    moves["hours"] = moves["line"].map(hours).fillna(0).astype("int64")
    moves["short"] = (
        moves["target_glh"].astype("int64")
        - moves["hours"]
        - moves["line"].map(missing_hours).fillna(0).astype("int64")
    )
    ready = moves["missing"].isna() & (moves["short"] <= 0)
    _replaced(lines, moves[ready])
    for row, code, units_missing, short in zip(
        moves.loc[~ready, "row"],
        moves.loc[~ready, "qualification_code"],
        moves.loc[~ready, "missing"],
        moves.loc[~ready, "short"],
        strict=True,
    ):
        parts = [] if pd.isna(units_missing) else [f"mandatory {units_missing}"]
        if short > 0:
            parts.append(f"optional units making {short} more guided learning hour{'' if short == 1 else 's'}")
        issues.append(issue("CLS_03", row=int(row), target=code, missing=", and ".join(parts)))
    return issues


def _units_phrase(numbers: list[int]) -> str:
    """`unit 2`, `units 1 and 2`, `units 1, 2 and 3`: unit numbers as a sentence lists them."""
    if len(numbers) == 1:
        return f"unit {numbers[0]}"
    return "units " + ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"


def _beyond_the_limit(lines: pd.DataFrame, past: pd.DataFrame, t: dict) -> list[Issue]:
    """CLS_04 for each unit line that takes a candidate's entries for a unit (those on record, then
    this file's in row order) beyond the suite's attempts."""
    units = lines.loc[lines["kind"] == "unit", ["cand_key", "suite_id", "unit_number", "row", "unit_column"]]
    if units.empty:
        return []
    key = ["cand_key", "suite_id", "unit_number"]
    earlier = (
        past.loc[past["kind"] == "unit", key]
        .astype({"cand_key": "int64", "suite_id": "str", "unit_number": "int64"})
        .value_counts()
        .rename("earlier")
        .reset_index()
    )
    units = units.astype({"cand_key": "int64", "suite_id": "str", "unit_number": "int64"})
    units["nth"] = units.groupby(key).cumcount() + 1
    units = units.merge(earlier, on=key, how="left").merge(
        t["suites"][["suite_id", "max_exam_attempts"]].astype({"suite_id": "str"}), on="suite_id", how="left"
    )
    over = units[units["earlier"].fillna(0).astype("int64") + units["nth"] > units["max_exam_attempts"]]
    return [
        issue("CLS_04", row=int(row), column=column, unit=int(unit), limit=int(limit))
        for row, column, unit, limit in zip(
            over["row"], over["unit_column"], over["unit_number"], over["max_exam_attempts"], strict=True
        )
    ]


def _price(lines: pd.DataFrame, ctx: Context, t: dict) -> pd.DataFrame:
    """Each line's fee in its own series: the late fee when received after that series' entry
    deadline (validation has refused rows of a closed series; the default series is never late).
    A full award, top-up or moving-down entry is priced by its code, a unit entry by its suite.
    Left merges keep the lines' order (the reference tables have one row per key)."""
    fees = t["fees"][["series", "entry_code", "fee_pence", "late_fee_pence"]]
    unit_fees = t["unit_fees"][["series", "suite_id", "fee_pence", "late_fee_pence"]].rename(
        columns={"fee_pence": "unit_fee_pence", "late_fee_pence": "unit_late_fee_pence"}
    )
    out = (
        lines.merge(fees, on=["series", "entry_code"], how="left")
        .merge(unit_fees, on=["series", "suite_id"], how="left")
        .merge(t["series"][["series", "entry_deadline"]], on="series", how="left")
    )
    unit = (out["kind"] == "unit").to_numpy()
    standard = out["unit_fee_pence"].where(unit, out["fee_pence"])
    late_fee = out["unit_late_fee_pence"].where(unit, out["late_fee_pence"])
    late = pd.to_datetime(out["entry_deadline"]) < pd.Timestamp(ctx.received_on)
    out["fee_pence"] = late_fee.where(late, standard).fillna(0).astype("int64")
    out["late_fee_pence"] = late_fee
    out["late"] = late.astype(bool)
    return out.drop(columns=["entry_deadline", "unit_fee_pence", "unit_late_fee_pence"])
