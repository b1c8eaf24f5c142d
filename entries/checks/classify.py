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
    """One line per entry: full award and top-up/moving-down rows once, unit rows once per unit."""
    base = rows.merge(codes, on="entry_code", how="inner")
    unit_cols = [f"unit_{n}" for n in range(1, 7)]
    has_units = base[unit_cols].notna().any(axis=1)
    whole = base[~has_units].assign(unit_number=pd.NA, unit_column=None)
    whole["kind"] = whole["code_kind"]
    parts = []
    for n, col in enumerate(unit_cols, start=1):
        part = base[has_units & base[col].notna()].assign(
            unit_number=lambda d, c=col: d[c], unit_column=f"Unit {n}", unit_pos=n
        )
        parts.append(part)
    units = pd.concat(parts, ignore_index=True) if parts else base.iloc[0:0]
    units["kind"] = "unit"
    lines = pd.concat([whole.assign(unit_pos=0), units], ignore_index=True)
    lines["unit_number"] = lines["unit_number"].astype("Int64")
    return lines.sort_values(["row", "unit_pos"], kind="stable").reset_index(drop=True)


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
    for i in lines.index[lines["kind"] == "top_up"]:
        line = lines.loc[i]
        held = active[
            (active["cand_key"] == line["cand_key"])
            & active["kind"].isin(HOLDING_KINDS)
            & (active["qualification_code"] == line["from_qualification_code"])
        ]
        if held.empty:
            issues.append(issue("CLS_01", row=int(line["row"]), from_code=line["from_qualification_code"]))
        else:
            lines.at[i, "replaces"] = int(held["entry_id"].iloc[0])
    for i in lines.index[lines["kind"] == "move_down"]:
        issues += _move_down(lines, i, active, history.achieved, t)

    limits = dict(zip(t["suites"]["suite_id"], t["suites"]["max_exam_attempts"], strict=False))
    unit_lines = lines[lines["kind"] == "unit"]
    if not unit_lines.empty:
        earlier = past[past["kind"] == "unit"].groupby(["cand_key", "suite_id", "unit_number"]).size()
        so_far = unit_lines.groupby(["cand_key", "suite_id", "unit_number"]).cumcount() + 1
        for i, nth in so_far.items():
            line = lines.loc[i]
            total = int(earlier.get((line["cand_key"], line["suite_id"], line["unit_number"]), 0)) + int(nth)
            if total > limits[line["suite_id"]]:
                issues.append(
                    issue(
                        "CLS_04",
                        row=int(line["row"]),
                        column=line["unit_column"],
                        unit=int(line["unit_number"]),
                        limit=limits[line["suite_id"]],
                    )
                )

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


def _move_down(lines: pd.DataFrame, i: int, active: pd.DataFrame, achieved: pd.DataFrame, t: dict) -> list[Issue]:
    line = lines.loc[i]
    row, larger, target = int(line["row"]), line["from_qualification_code"], line["qualification_code"]
    full = active[
        (active["cand_key"] == line["cand_key"])
        & (active["kind"] == "full_award")
        & (active["qualification_code"] == larger)
    ]
    if full.empty:
        return [issue("CLS_02", row=row, from_code=larger)]
    rules = t["rules_of_combination"][t["rules_of_combination"]["qualification_code"] == target]
    suite = line["suite_id"]
    glh = dict(
        zip(
            t["units"].loc[t["units"]["suite_id"] == suite, "unit_number"],
            t["units"].loc[t["units"]["suite_id"] == suite, "glh"],
            strict=False,
        )
    )
    target_glh = int(t["qualifications"].set_index("qualification_code").at[target, "glh"])
    done = set(
        achieved.loc[
            (achieved["cand_key"] == line["cand_key"]) & (achieved["suite_id"] == suite), "unit_number"
        ].astype(int)
    )
    mandatory = sorted(int(u) for u in rules.loc[rules["status"] == "mandatory", "unit_number"])
    allowed = {int(u) for u in rules["unit_number"]}
    missing = [u for u in mandatory if u not in done]
    hours = sum(glh.get(u, 0) for u in done & allowed)
    if missing or hours < target_glh:
        parts = []
        if missing:
            parts.append("units " + ", ".join(map(str, missing)))
        if hours < target_glh:
            parts.append(f"{target_glh - hours} more guided learning hours from its other units")
        return [issue("CLS_03", row=row, target=target, missing=" and ".join(parts))]
    lines.at[i, "replaces"] = int(full["entry_id"].iloc[0])
    return []


def _price(lines: pd.DataFrame, ctx: Context, t: dict) -> pd.DataFrame:
    """Each line's fee in its own series: the late fee when received after that series' entry
    deadline (validation has refused rows of a closed series; the default series is never late)."""
    deadlines = t["series"][["series", "entry_deadline"]]
    fees = t["fees"][["series", "entry_code", "fee_pence", "late_fee_pence"]]
    unit_fees = t["unit_fees"][["series", "suite_id", "fee_pence", "late_fee_pence"]]
    whole = lines[lines["kind"] != "unit"].merge(fees, on=["series", "entry_code"], how="left")
    units = lines[lines["kind"] == "unit"].merge(unit_fees, on=["series", "suite_id"], how="left")
    out = (
        pd.concat([whole, units], ignore_index=True)
        .merge(deadlines, on="series", how="left")
        .sort_values(["row", "unit_pos"], kind="stable")
        .reset_index(drop=True)
    )
    late = pd.to_datetime(out["entry_deadline"]) < pd.Timestamp(ctx.received_on)
    out["fee_pence"] = out["late_fee_pence"].where(late, out["fee_pence"]).fillna(0).astype("int64")
    out["late"] = late.astype(bool)
    return out.drop(columns=["entry_deadline"])
