"""Every message a centre or an operator reads says what is so (issue 23, item 4).

Three kinds of check, all by rule code (never by a rule's wording):

- Every rule of the catalogue (`entries/core/rules.csv`), its message and its fix, rendered through
  `issue()` with example parameters of the kind its callers pass, is finished text: no placeholder
  left, every declared parameter shown, none that may be left out (`issue()` refuses), no `None`,
  no doubled or stray space, a capital to start and a full stop to end.
- Every call in the package that names a rule by its code (`issue("X", ...)`, `Refused("X", ...)`,
  and `issue(code, ...)` under `case "X":`) passes exactly the parameters the rule declares: none
  missing, none computed and never shown.
- Where a message's claim can be checked against the rule it states, it is:
  - moving down (CLS_03): raised exactly when the candidate lacks a mandatory unit of the smaller
    qualification or its guided learning hours; the numbers it states are the target's code, the
    mandatory units missing and the hours the optional units must still make once those are
    achieved, recomputed here from the reference data (units 1 and 2 that make the Certificate's
    180 hours leave nothing more to make);
  - ENT_06: any error rejects the whole file, so no error message says a row alone was not
    entered, and a file refused for a closed series stores nothing and its reason names no row;
  - names: typographic apostrophes and hyphens (O’Neill, Smith‑Jones) are name punctuation, never
    "accented letters" (NAM_04) nor disallowed characters (NAM_03): NAM_08 says how they print.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from entries.checks.classify import History, classify
from entries.checks.upload import Outcome
from entries.checks.validate import Context, validate
from entries.core import clock
from entries.core.rules import IMPLICIT_PARAMS, Rule, catalogue, issue
from entries.core.status import Status
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.pipeline import hall
from entries.store import database, refdata
from schemas.upload import TYPOGRAPHIC_PUNCTUATION
from tests.conftest import PROJECT

# Example values of each parameter, of the kind the code passes (codes, counts, column names, dates:
# never personal data). Each rule takes the ones it declares; EXAMPLE_FOR overrides a few by rule.
EXAMPLES: dict[str, object] = {
    "allowed": "1, 2, 3, 6",
    "candidate": "0042",
    "centre": "12345",
    "check": "greater_than_or_equal_to(0)",
    "closed": "1 December 2026",
    "count": 2,
    "deadline": "21 October 2026",
    "detail": "compression ratio over 200:1",
    "direction": "smaller",
    "encoding": "Windows-1252",
    "entry_code": "05838",
    "expected": "Centre Number, Candidate Number, UCI, ULN, Surname",
    "file_name": "centres",
    "first": 3,
    "found": "23456",
    "from_code": "05839",
    "glh": 360,
    "issuer": "68199",
    "key": "05838T1",
    "kind": "top-up",
    "known": "2027-01, 2028-06",
    "length": 44,
    "letter": "K",
    "limit": 100000,
    "mandatory": 420,
    "missing": "Sex, Date of Birth",
    "named": " named as .xlsx",
    "next": "2027-06",
    "next_title": "June 2027",
    "qualification": "05899",
    "reachable": 300,
    "received": "2026-11-02",
    "record": 7,
    "rows": "2, 5, 9",
    "seconds": 30,
    "series": "2027-01",
    "sheet": "Year 13",
    "position": 2,
    "size": 31457280,
    "step": "reading",
    "submission": "S000042",
    "suffix": ".xlsx",
    "suite": "L3-XX",
    "suite_id": "L3-IT",
    "target": "05838",
    "title": "January 2027",
    "unexpected": "Notes",
    "unit": 7,
    "value": "Male",
    "version": "Excel 5.0/95",
}
EXAMPLE_FOR: dict[str, dict[str, object]] = {
    "CLS_03": {"missing": "mandatory units 1 and 2"},
    "FILE_17": {"found": 18, "expected": 17},
    "HDR_01": {"found": "Surname, Forenames", "missing": "Sex, Date of Birth"},
    "ONB_02": {"found": "centre_number", "missing": "name, centre_type"},
    "ONB_04": {"allowed": "school, college, other", "value": "academy"},
    "REF_05": {"value": "L3-XX", "target": "suite"},
    "REF_08": {"kind": "Top-up", "direction": "larger"},  # the caller capitalises: it starts the sentence
    "SER_02": {"series": "2031-06"},
    "SEX_02": {"value": "Male", "letter": "M"},
}
RULES = sorted(catalogue())


def example_params(code: str) -> dict[str, Any]:
    rule = catalogue()[code]
    return {name: EXAMPLE_FOR.get(code, {}).get(name, EXAMPLES[name]) for name in rule.params}


def render(code: str, **params: Any) -> tuple[str, str]:
    rule = catalogue()[code]
    made = issue(code, row=5, column=rule.column or "Surname", file="entries.xlsx", **params)
    return made.message, made.fix


# --- every message and fix, rendered ------------------------------------------------------------


def test_every_declared_parameter_has_an_example():
    declared = set().union(*(rule.params for rule in catalogue().values()))
    assert declared - set(EXAMPLES) == set()


@pytest.mark.parametrize("code", RULES)
def test_the_message_and_fix_render_as_finished_sentences(code):
    for text in render(code, **example_params(code)):
        assert "{" not in text and "}" not in text, text
        assert "None" not in text, text
        assert not re.search(r"  | [.,;:)](?:\s|$)|\( ", text), text
        assert text[0].isupper() or text[0].isdigit(), text
        assert text.endswith((".", ".)")), text


@pytest.mark.parametrize("code", [c for c in RULES if catalogue()[c].params])
def test_every_parameter_the_rule_declares_is_shown_and_none_may_be_left_out(code):
    params = example_params(code)
    for name in params:
        marked = render(code, **{**params, name: "\u2063marked\u2063"})
        assert any("\u2063marked\u2063" in text for text in marked), (code, name)
        with pytest.raises(ValueError, match=rf"{code}.*\b{name}\b"):
            issue(code, **{k: v for k, v in params.items() if k != name})


# --- every call naming a rule passes exactly its parameters ------------------------------------

OWN_ARGUMENTS = {"row", "column", "file", "severity"}  # issue()'s own keywords, never a rule's


def _coded_calls(tree: ast.AST) -> list[tuple[int, str, ast.Call]]:
    """(line, code, call) for each `issue`/`Refused` call whose code is known where it is written."""
    found: list[tuple[int, str, ast.Call]] = []

    def callee(node: ast.Call) -> str | None:
        return getattr(node.func, "id", getattr(node.func, "attr", None))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and callee(node) in ("issue", "Refused") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value, node))
        if isinstance(node, ast.Match) and isinstance(node.subject, ast.Name):
            for case in node.cases:
                pattern = case.pattern
                if not (isinstance(pattern, ast.MatchValue) and isinstance(pattern.value, ast.Constant)):
                    continue  # `case _:` and alternatives name no single code
                for inner in ast.walk(ast.Module(body=case.body, type_ignores=[])):
                    if (
                        isinstance(inner, ast.Call)
                        and callee(inner) == "issue"
                        and inner.args
                        and isinstance(inner.args[0], ast.Name)
                        and inner.args[0].id == node.subject.id
                    ):
                        found.append((inner.lineno, str(pattern.value.value), inner))
    return found


def _sources() -> list[Path]:
    return sorted(p for folder in ("entries", "schemas", "flows") for p in (PROJECT / folder).rglob("*.py"))


def test_every_call_naming_a_rule_passes_exactly_its_parameters():
    wrong = []
    checked = 0
    for path in _sources():
        for line, code, call in _coded_calls(ast.parse(path.read_text(encoding="utf-8"))):
            if any(k.arg is None for k in call.keywords):
                continue  # **params: issue() itself refuses a missing one at run time
            rule: Rule | None = catalogue().get(code)
            where = f"{path.relative_to(PROJECT)}:{line} {code}"
            if rule is None:
                wrong.append(f"{where}: not a catalogue code")
                continue
            given = {k.arg for k in call.keywords if k.arg} - OWN_ARGUMENTS
            checked += 1
            if rule.params - given:
                wrong.append(f"{where}: missing {sorted(rule.params - given)}")
            if given - rule.params - IMPLICIT_PARAMS:
                wrong.append(f"{where}: passes {sorted(given - rule.params)}, which neither template shows")
    assert wrong == []
    assert checked > 100  # the scan found the calls (ENT_06's, under its `case`, among them)


def test_the_scan_sees_a_call_under_its_case():
    tree = ast.parse('match code:\n    case "ENT_06":\n        issue(code, row=2, series="2027-01")\n')
    assert [(code, sorted(k.arg or "" for k in call.keywords)) for _, code, call in _coded_calls(tree)] == [
        ("ENT_06", ["row", "series"])
    ]


# --- error messages and the whole file ----------------------------------------------------------

ROW_ONLY_CONSEQUENCE = re.compile(r"\b(this|the) row (was|is|has been) not (entered|stored|accepted)\b", re.I)


@pytest.mark.parametrize("code", [c for c in RULES if catalogue()[c].severity == "error"])
def test_no_error_message_says_only_its_row_was_not_entered(code):
    # Any error makes the file `Read and rejected`: no row of it is entered, not only this one.
    message, fix = render(code, **example_params(code))
    assert not ROW_ONLY_CONSEQUENCE.search(message + " " + fix)


@pytest.fixture
def submit(con, tmp_path, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 12, 2))
    reference = refdata.snapshot(con)

    def _submit(lines: list[str], series: str) -> Outcome:
        path = tmp_path / "entries.csv"
        path.write_text("\r\n".join([",".join(TEMPLATE_COLUMNS), *lines]) + "\r\n", encoding="utf-8")
        ctx = Context(centre="12345", series=series, received_on=dt.date(2026, 12, 2))
        return hall.submit(con, path, context=ctx, reference=reference, order_ref=None, out_dir=tmp_path / "out")

    return _submit


def _line(number: str, uci: str, series: str) -> str:
    cells = dict.fromkeys(TEMPLATE_COLUMNS, "")
    cells.update(
        {
            "Centre Number": "12345",
            "Candidate Number": number,
            "UCI": uci,
            "Surname": "Smith",
            "Forenames": "Amy",
            "Sex": "F",
            "Date of Birth": "14/05/2009",
            "Entry Code": "05838",
            "Candidate Group": "13A",
            "Series": series,
        }
    )
    return ",".join(cells[c] for c in TEMPLATE_COLUMNS)


# January 2027 closed after 1 December 2026 (its late deadline); June 2027 is open on 2 December.
CLOSED_SERIES_FILES = [
    pytest.param(["2027-01", ""], "2027-06", {2}, id="one-row-for-a-closed-series"),
    pytest.param(["", ""], "2027-01", {2, 3}, id="the-whole-file-for-a-closed-series"),
]


@pytest.mark.parametrize(("series_cells", "upload_series", "closed_rows"), CLOSED_SERIES_FILES)
def test_a_closed_series_rejects_the_whole_file_and_its_message_says_no_more(
    con, submit, series_cells, upload_series, closed_rows
):
    lines = [
        _line("0042", "123450260042C", series_cells[0]),
        _line("0043", "", series_cells[1]),
    ]
    outcome = submit(lines, upload_series)
    assert outcome.status == Status.READ_AND_REJECTED and outcome.accepted == 0
    assert con.execute("SELECT count(*) FROM entries").fetchall() == [(0,)]
    closed = [i for i in outcome.issues if i.code == "ENT_06"]
    assert {i.row for i in closed} == closed_rows
    assert {i.code for i in outcome.issues if i.severity == "error"} == {"ENT_06"}
    # The file's reason is the first error's message: it is about the file, and names no row.
    assert outcome.reason is not None and not re.search(r"\bthis row\b", outcome.reason, re.I)
    assert not any(ROW_ONLY_CONSEQUENCE.search(i.message) for i in closed)


# --- moving down: what CLS_03 says is missing is what the rule finds missing ---------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory, loaded_store):
    path = tmp_path_factory.mktemp("messages") / "entries.duckdb"
    shutil.copyfile(loaded_store, path)
    con = database.connect(path)
    try:
        return refdata.snapshot(con)
    finally:
        con.close()


def _moves_down(reference, cases: list[tuple[str, set[int]]]) -> list[set[str] | None]:
    """Classify one moving-down row per case (code, units achieved), each for its own candidate
    holding the larger full award, all in one file; for each, the numbers its CLS_03 states (None
    when it is not raised, and then the row replaces the larger full award)."""
    codes = reference.tables["entry_codes"].set_index("entry_code")
    suite_of = reference.tables["qualifications"].set_index("qualification_code")["suite_id"]
    rows, held, done = [], [], []
    for key, (entry_code, achieved) in enumerate(cases, start=1):
        larger = str(codes.at[entry_code, "from_qualification_code"])
        suite = str(suite_of[larger])
        rows.append(
            {
                "row": key + 1,
                "centre_number": "12345",
                "candidate_number": f"{key:04d}",
                "entry_code": entry_code,
                **{f"unit_{u}": None for u in range(1, 7)},
                "candidate_group": "13A",
                "series": "2027-06",
                "cand_key": key,
            }
        )
        held.append((key, key, larger, "full_award", larger, suite, None, "2026-06", None))
        done += [(key, suite, u) for u in sorted(achieved)]
    norm = pd.DataFrame(rows)
    for u in range(1, 7):
        norm[f"unit_{u}"] = norm[f"unit_{u}"].astype("Int64")
    columns = ["cand_key", "entry_id", "entry_code", "kind", "qualification_code", "suite_id", "unit_number"]
    history = History(
        entries=pd.DataFrame(held, columns=[*columns, "series", "replaced_by"]).astype({"unit_number": "Int64"}),
        achieved=pd.DataFrame(done, columns=["cand_key", "suite_id", "unit_number"]).astype(
            {"cand_key": "int64", "unit_number": "int64"}
        ),
    )
    ctx = Context(centre="12345", series="2027-06", received_on=dt.date(2026, 10, 1))
    classified = classify(norm, ctx, reference, history)
    said = {i.row: set(re.findall(r"[0-9]+", i.message)) for i in classified.issues if i.code == "CLS_03"}
    replaces = dict(zip(classified.entries["source_row"], classified.entries["replaces"].notna(), strict=True))
    for key in range(1, len(cases) + 1):
        assert replaces[key + 1] == (key + 1 not in said), cases[key - 1]  # refused, or it replaces
    return [said.get(key + 1) for key in range(1, len(cases) + 1)]


def _what_is_missing(reference, entry_code: str, achieved: set[int]) -> set[str]:
    """The reference data's own answer: the mandatory units not achieved, and the hours the optional
    units must make once they are (a qualification is its mandatory units plus optional units
    reaching its glh); empty when moving down may be made."""
    t = reference.tables
    target = str(t["entry_codes"].set_index("entry_code").at[entry_code, "qualification_code"])
    qualification = t["qualifications"].set_index("qualification_code").loc[target]
    rules = t["rules_of_combination"][t["rules_of_combination"]["qualification_code"] == target]
    units = t["units"][t["units"]["suite_id"] == qualification["suite_id"]]
    glh = dict(zip(units["unit_number"].astype(int), units["glh"].astype(int), strict=True))
    allowed = set(rules["unit_number"].astype(int))
    mandatory = set(rules.loc[rules["status"] == "mandatory", "unit_number"].astype(int))
    missing = mandatory - achieved
    short = int(qualification["glh"]) - sum(glh[u] for u in (achieved & allowed) | missing)
    if not missing and short <= 0:
        return set()
    return {target} | {str(u) for u in missing} | ({str(short)} if short > 0 else set())


# (moving-down code, units achieved, the numbers CLS_03 states, or None when it is not raised)
MOVES_DOWN = [
    # The Certificate is units 1 and 2 (90 + 90 = its 180 hours): nothing more once they are achieved.
    pytest.param("05838M2", set(), {"05838", "1", "2"}, id="certificate-nothing-achieved"),
    pytest.param("05838M2", {1}, {"05838", "2"}, id="certificate-unit-2-missing"),
    pytest.param("05838M2", {1, 2}, None, id="certificate-units-1-and-2-achieved"),
    pytest.param("05838M2", {1, 2, 3}, None, id="certificate-more-than-enough"),
    # The Extended Certificate is units 1, 2 and 3 (240 hours) and optional units to 360.
    pytest.param("05839M3", set(), {"05839", "1", "2", "3", "120"}, id="extended-nothing-achieved"),
    pytest.param("05839M3", {1, 2, 3}, {"05839", "120"}, id="extended-only-optional-hours-missing"),
    pytest.param("05839M3", {1, 2, 4}, {"05839", "3", "60"}, id="extended-unit-3-and-60-hours-missing"),
    pytest.param("05839M3", {1, 2, 4, 5, 6}, {"05839", "3"}, id="extended-only-unit-3-missing"),
    pytest.param("05839M3", {1, 2, 3, 4, 5}, None, id="extended-achieved"),
]


@pytest.mark.parametrize(("entry_code", "achieved", "stated"), MOVES_DOWN)
def test_moving_down_says_exactly_what_is_missing(reference, entry_code, achieved, stated):
    assert _moves_down(reference, [(entry_code, achieved)]) == [stated]
    assert _what_is_missing(reference, entry_code, achieved) == (stated or set())


def test_every_moving_down_code_agrees_with_the_reference_data(reference):
    t = reference.tables
    target_of = t["entry_codes"].set_index("entry_code")["qualification_code"]
    rules = t["rules_of_combination"]
    cases = []
    for entry_code in t["entry_codes"].loc[t["entry_codes"]["kind"] == "move_down", "entry_code"]:
        mine = rules[rules["qualification_code"] == target_of[entry_code]]
        mandatory = set(mine.loc[mine["status"] == "mandatory", "unit_number"].astype(int))
        optional = sorted(set(mine.loc[mine["status"] == "optional", "unit_number"].astype(int)))
        for achieved in (set(), mandatory, set(optional), mandatory | set(optional), mandatory | set(optional[:1])):
            cases.append((entry_code, achieved))
    expected = [_what_is_missing(reference, code, achieved) or None for code, achieved in cases]
    assert _moves_down(reference, cases) == expected
    assert len(cases) >= 5 * 16 and None in expected and any(expected)


# --- names: typographic apostrophes and hyphens are not accents ---------------------------------

CTX = Context(centre="12345", series="2027-06", received_on=dt.date(2026, 11, 28))
VALID_ROW = {
    "Centre Number": "12345",
    "Candidate Number": "0042",
    "UCI": "123450260042C",
    "ULN": "1000000043",
    "Surname": "Smith",
    "Forenames": "Amy",
    "Sex": "F",
    "Date of Birth": "2009-05-14",
    "Entry Code": "05838",
    "Candidate Group": "13A",
}
NAME_CODES = {"NAM_03", "NAM_04", "NAM_08"}

# (surname, the name codes it gets)
NAMES = [
    pytest.param("O\u2019Neill", {"NAM_08"}, id="curly-apostrophe"),
    pytest.param("O\u2018Neill", {"NAM_08"}, id="left-quote-as-apostrophe"),
    pytest.param("O\u02bcNeill", {"NAM_08"}, id="modifier-letter-apostrophe"),
    pytest.param("Smith\u2010Jones", {"NAM_08"}, id="hyphen"),
    pytest.param("Smith\u2011Jones", {"NAM_08"}, id="non-breaking-hyphen"),
    pytest.param("O'Neill", set(), id="plain-apostrophe"),
    pytest.param("Smith-Jones", set(), id="plain-hyphen"),
    pytest.param("Zoë", {"NAM_04"}, id="accented-letter"),
    pytest.param("D\u2019Aubigné", {"NAM_04", "NAM_08"}, id="accent-and-curly-apostrophe"),
    pytest.param("O\u2019Ne1ll", {"NAM_03", "NAM_08"}, id="curly-apostrophe-and-a-digit"),
]


def _name_codes(reference, surname: str) -> set[str]:
    cells = {c: VALID_ROW.get(c, "") for c in TEMPLATE_COLUMNS} | {"Surname": surname}
    frame = pd.DataFrame([{"row": 2, **cells}], columns=["row", *TEMPLATE_COLUMNS]).astype(
        {c: "str" for c in TEMPLATE_COLUMNS}
    )
    return {i.code for i in validate(frame, CTX, reference).issues if i.code in NAME_CODES}


@pytest.mark.parametrize(("surname", "codes"), NAMES)
def test_typographic_apostrophes_and_hyphens_are_not_accents(reference, surname, codes):
    assert _name_codes(reference, surname) == codes


@pytest.mark.parametrize("mark", sorted(TYPOGRAPHIC_PUNCTUATION))
def test_each_typographic_mark_prints_as_a_plain_one_and_is_told_so(reference, mark):
    assert TYPOGRAPHIC_PUNCTUATION[mark] in "'-"
    assert _name_codes(reference, f"Ab{mark}Cd") == {"NAM_08"}
