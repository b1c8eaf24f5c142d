"""The rule catalogue itself: every template fills from its declared parameters, and the loader
refuses a catalogue whose rows and templates disagree."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from entries.core import rules
from entries.core.rules import CATALOGUE_PATH, FIELDS, IMPLICIT_PARAMS, catalogue, issue, load_catalogue, placeholders

GOOD_ROW = {
    "code": "TST_01",
    "severity": "error",
    "category": "test",
    "column": "",
    "params": "entry_code series",
    "message": "Entry code {entry_code} has no fee in series {series}.",
    "fix": "Add a fee for {series} in {file}.",
}


def write_catalogue(path: Path, *rows: dict, header: tuple[str, ...] = FIELDS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(f, "") for f in header])
    return path


def refused(tmp_path: Path, *rows: dict) -> str:
    with pytest.raises(ValueError) as caught:
        load_catalogue(write_catalogue(tmp_path / "rules.csv", *rows))
    return str(caught.value)


# --- the project's own catalogue -------------------------------------------------------------


def test_the_catalogue_loads_through_load_catalogue():
    assert load_catalogue(CATALOGUE_PATH) == catalogue()
    assert len(catalogue()) >= 100


@pytest.mark.parametrize("code", sorted(catalogue()))
def test_every_template_fills_from_its_declared_parameters(code):
    rule = catalogue()[code]
    values = {name: f"<{name}>" for name in rule.params}
    made = issue(code, row=2, column="Surname", file="entries.xlsx", **values)  # no KeyError, no IndexError
    text = made.message + " " + made.fix
    assert "{" not in text and "}" not in text, text
    assert [name for name in rule.params if f"<{name}>" not in text] == []
    assert (made.code, made.severity, made.row, made.column, made.file) == (
        code,
        rule.severity,
        2,
        "Surname",
        "entries.xlsx",
    )


@pytest.mark.parametrize("code", sorted(c for c, r in catalogue().items() if not r.params))
def test_rules_without_parameters_fill_with_none(code):
    made = issue(code)
    assert "{" not in made.message + made.fix
    assert made.column == catalogue()[code].column


def test_declared_parameters_are_exactly_the_templates_placeholders():
    for rule in catalogue().values():
        used = placeholders(rule.message) | placeholders(rule.fix)
        assert rule.params == used - IMPLICIT_PARAMS, rule.code


def test_categories_are_one_word_and_shared_by_a_code_prefix():
    by_prefix: dict[str, set[str]] = {}
    for rule in catalogue().values():
        assert rule.category.isalpha() and rule.category.islower(), rule.code
        by_prefix.setdefault(rule.code.split("_")[0], set()).add(rule.category)
    assert {p: c for p, c in by_prefix.items() if len(c) > 1} == {}


# --- issue() --------------------------------------------------------------------------------


def test_issue_names_the_missing_parameter():
    with pytest.raises(ValueError, match=r"ENT_04.*\bseries\b") as caught:
        issue("ENT_04", row=2, entry_code="05838")
    assert "entry_code" not in str(caught.value).split("missing")[1].split(":")[0]


def test_issue_with_no_parameters_for_a_rule_that_declares_some_names_them_all():
    with pytest.raises(ValueError, match=r"REF_02.*expected, missing, unexpected"):
        issue("REF_02", file="series.csv")


def test_issue_of_an_unknown_code_is_a_clear_error():
    with pytest.raises(ValueError, match="NOPE_01"):
        issue("NOPE_01")


def test_implicit_parameters_come_from_the_issue_itself():
    made = issue("NAM_03", row=4, column="Forenames")
    assert "forenames cell" in made.message
    assert issue("REF_01", file="centres.csv").message == "Reference file centres.csv is missing."
    assert issue("REF_01").message == "Reference file the file is missing."


def test_extra_parameters_are_allowed_and_kept():
    made = issue("ENT_03", row=2, entry_code="05899", detail="kept")
    assert made.params["detail"] == "kept" and "05899" in made.message


def test_a_none_parameter_counts_as_given():
    assert issue("ENT_03", entry_code=None).message == "Your centre is not approved for the suite of entry code ."


# --- the loader ------------------------------------------------------------------------------


def test_a_good_catalogue_loads(tmp_path):
    loaded = load_catalogue(write_catalogue(tmp_path / "rules.csv", GOOD_ROW))
    rule = loaded["TST_01"]
    assert (rule.params, rule.category, rule.column) == (frozenset({"entry_code", "series"}), "test", None)


def test_parameters_may_be_separated_by_semicolons(tmp_path):
    loaded = load_catalogue(write_catalogue(tmp_path / "rules.csv", {**GOOD_ROW, "params": "entry_code; series"}))
    assert loaded["TST_01"].params == {"entry_code", "series"}


def test_loader_refuses_an_undeclared_placeholder(tmp_path):
    message = refused(tmp_path, {**GOOD_ROW, "params": "entry_code"})
    assert "TST_01" in message and "series" in message and "undeclared" in message


def test_loader_refuses_a_placeholder_only_in_the_fix(tmp_path):
    message = refused(tmp_path, {**GOOD_ROW, "fix": "Add a fee for {series} by {deadline}."})
    assert "TST_01" in message and "deadline" in message


def test_loader_refuses_a_declared_parameter_never_used(tmp_path):
    message = refused(tmp_path, {**GOOD_ROW, "params": "entry_code series centre"})
    assert "TST_01" in message and "centre" in message and "neither" in message


@pytest.mark.parametrize("name", ["file", "column", "field", "row", "code", "severity"])
def test_loader_refuses_declaring_a_name_issue_fills_or_takes(tmp_path, name):
    message = refused(
        tmp_path, {**GOOD_ROW, "params": f"entry_code series {name}", "message": f"{{{name}}} {GOOD_ROW['message']}"}
    )
    assert "TST_01" in message and name in message


@pytest.mark.parametrize("template", ["Row {} is wrong.", "Row {0} is wrong.", "Row {row is wrong.", "Row } is wrong."])
def test_loader_refuses_positional_or_malformed_placeholders(tmp_path, template):
    assert "TST_01" in refused(tmp_path, {**GOOD_ROW, "message": template, "params": "series"})


def test_loader_reads_placeholders_with_format_specs(tmp_path):
    row = {
        **GOOD_ROW,
        "message": "Entry code {entry_code!r:>{width}} has no fee in series {series.year}.",
        "params": "entry_code series width",
    }
    assert load_catalogue(write_catalogue(tmp_path / "rules.csv", row))["TST_01"].params == {
        "entry_code",
        "series",
        "width",
    }


def test_loader_refuses_an_unknown_severity(tmp_path):
    assert "'fatal'" in refused(tmp_path, {**GOOD_ROW, "severity": "fatal"})


def test_loader_refuses_a_repeated_code(tmp_path):
    assert "twice" in refused(tmp_path, GOOD_ROW, {**GOOD_ROW, "message": "Other {entry_code} {series}."})


@pytest.mark.parametrize("category", ["", "Two words", "UPPER"])
def test_loader_refuses_a_bad_category(tmp_path, category):
    assert "category" in refused(tmp_path, {**GOOD_ROW, "category": category})


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("TST_02,error,test,,,A message, with an unquoted comma.,A fix.", "TST_02"),
        ("TST_03,error,test,,,Too few fields", "TST_03"),
    ],
)
def test_loader_refuses_a_row_with_the_wrong_field_count(tmp_path, line, code):
    path = write_catalogue(tmp_path / "rules.csv", GOOD_ROW)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    with pytest.raises(ValueError, match=f"{code}.*exactly 7 fields"):
        load_catalogue(path)


def test_loader_refuses_the_old_header(tmp_path):
    path = write_catalogue(tmp_path / "rules.csv", GOOD_ROW, header=("code", "severity", "column", "message", "fix"))
    with pytest.raises(ValueError, match="header"):
        load_catalogue(path)


def test_catalogue_is_cached_over_the_default_path():
    assert catalogue() is catalogue()
    assert rules.CATALOGUE_PATH.name == "rules.csv"
