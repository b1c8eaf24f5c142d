"""The rule catalogue: every check's stable code, severity, message template and fix hint.

The catalogue is data (`rules.csv` beside this module); tests and reports match on codes, never on
the wording. Message templates take only non-personal values (codes, counts, column names).

Columns of `rules.csv` (one row per rule, UTF-8, quote text that holds commas):

- `code`: the stable code, e.g. `UCI_04`; catalogued once.
- `severity`: `error` or `warning`.
- `category`: one lowercase word grouping related rules (`reference`, `file`, `header`, `cell`,
  `sheet`, `centre`, `candidate`, `uci`, `uln`, `name`, `sex`, `dob`, `entry`, `unit`, `row`,
  `match`, `classify`, `duplicate`, `results`, `onboarding`); every code of one prefix shares one.
- `column`: the template column the issue sits on when the caller names none (may be blank).
- `params`: the placeholders of `message` and `fix` that the caller of `issue()` must supply, as
  names separated by spaces or `;` (blank when there are none). The implicit placeholders `{file}`,
  `{column}` and `{field}` (the column name in lower case) are filled by `issue()` itself from its
  own `file=` and `column=` arguments (or the rule's column; `the file` when no file is named), so
  they are never listed. Nor may a parameter be named `code`, `row`, `severity`, `file` or `column`:
  those are `issue()`'s own arguments.
- `message`, `fix`: `str.format` templates using only named placeholders.

`load_catalogue(path)` refuses a catalogue with a row of the wrong field count, a repeated code, an
unknown severity, a bad category, a placeholder that is neither declared nor implicit, a declared
parameter that neither template uses, or a positional or malformed placeholder. `issue()` raises a
`ValueError` naming the code and the missing parameter(s) when its caller leaves out a declared one.
"""

from __future__ import annotations

import csv
import re
import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
CATALOGUE_PATH = Path(__file__).with_name("rules.csv")
FIELDS = ("code", "severity", "category", "column", "params", "message", "fix")
# Filled by issue() from its own arguments: never declared, always available to a template.
IMPLICIT_PARAMS = frozenset({"file", "column", "field"})
# issue()'s own keyword arguments: a parameter of these names could never be passed.
RESERVED_PARAMS = frozenset({"code", "row", "severity", "file", "column"})
_CODE = re.compile(r"[A-Z]+_[0-9]{2}")
_CATEGORY = re.compile(r"[a-z]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Rule:
    """One catalogue row."""

    code: str
    severity: Severity
    column: str | None
    message: str
    fix: str
    params: frozenset[str] = frozenset()  # what the caller must pass to issue(); the implicit ones excluded
    category: str = ""


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~3x, and files carry 100k issues
class Issue:
    """One finding about one place in one file (row as the spreadsheet numbers it; header is 1)."""

    code: str
    severity: Severity
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    file: str | None = None
    params: dict = field(default_factory=dict, compare=False, repr=False)

    def as_json(self) -> dict:
        """The docs/architecture.md §5 issue object, with the fix beside the message."""
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }

    def as_line(self) -> str:
        """One human line: where, what, how to fix."""
        where = ", ".join(
            part
            for part in (
                self.file,
                f"row {self.row}" if self.row is not None else None,
                f"column {self.column}" if self.column else None,
            )
            if part
        )
        return f"{where + ': ' if where else ''}{self.code} {self.message} Fix: {self.fix}"


def placeholders(template: str) -> set[str]:
    """The names a `str.format` template uses (`{a}`, `{a!r}`, `{a:>5}`, `{a.b}` all name `a`).

    Raises ValueError for a malformed template or a positional placeholder (`{}`, `{0}`)."""
    names: set[str] = set()
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is None:
            continue
        root = re.split(r"[.\[]", name, maxsplit=1)[0]
        if not _NAME.fullmatch(root):
            raise ValueError(f"placeholder {{{name}}} is not a named parameter")
        names.add(root)
        if spec:
            names |= placeholders(spec)  # a nested {width} in a format spec is a parameter too
    return names


def _rule(rec: dict[str, str]) -> Rule:
    code = rec["code"]
    if not _CODE.fullmatch(code):
        raise ValueError(f"rule code {code!r} is not of the form PREFIX_NN")
    if rec["severity"] not in ("error", "warning"):
        raise ValueError(f"rule {code} has severity {rec['severity']!r}")
    if not _CATEGORY.fullmatch(rec["category"]):
        raise ValueError(f"rule {code} has category {rec['category']!r}: one lowercase word is needed")
    declared = [p for p in re.split(r"[\s;]+", rec["params"].strip()) if p]
    if len(set(declared)) != len(declared):
        raise ValueError(f"rule {code} declares a parameter twice: {rec['params']!r}")
    bad = [p for p in declared if not _NAME.fullmatch(p)]
    if bad:
        raise ValueError(f"rule {code} declares parameter(s) that are not names: {', '.join(bad)}")
    clash = sorted(set(declared) & (RESERVED_PARAMS | IMPLICIT_PARAMS))
    if clash:
        raise ValueError(
            f"rule {code} declares {', '.join(clash)}: issue() fills or takes these itself; do not list them"
        )
    try:
        used = placeholders(rec["message"]) | placeholders(rec["fix"])
    except ValueError as exc:
        raise ValueError(f"rule {code}: {exc}") from None
    undeclared = sorted(used - set(declared) - IMPLICIT_PARAMS)
    if undeclared:
        raise ValueError(f"rule {code} uses undeclared parameter(s) {', '.join(undeclared)}; add them to its params")
    unused = sorted(set(declared) - used)
    if unused:
        raise ValueError(f"rule {code} declares parameter(s) {', '.join(unused)} that neither message nor fix uses")
    return Rule(
        code=code,
        severity=rec["severity"],  # type: ignore[arg-type]
        column=rec["column"] or None,
        message=rec["message"],
        fix=rec["fix"],
        params=frozenset(declared),
        category=rec["category"],
    )


def load_catalogue(path: Path | str) -> dict[str, Rule]:
    """All rules by code from the catalogue CSV at `path`, validated (see the module docstring)."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise ValueError(
                f"{Path(path).name}: the header must be {','.join(FIELDS)}, not {','.join(reader.fieldnames or ())}"
            )
        rules: dict[str, Rule] = {}
        for rec in reader:
            if None in rec or any(v is None for v in rec.values()):
                raise ValueError(
                    f"rule {rec.get('code')} (line {reader.line_num}) does not have exactly {len(FIELDS)} fields"
                    " (quote text with commas)"
                )
            if rec["code"] in rules:
                raise ValueError(f"rule {rec['code']} is catalogued twice")
            rules[rec["code"]] = _rule(rec)
    return rules


@cache
def catalogue() -> dict[str, Rule]:
    """All rules by code, read once from `rules.csv`."""
    return load_catalogue(CATALOGUE_PATH)


def _missing(rule: Rule, given: object) -> ValueError:
    missing = sorted(rule.params - set(given))  # type: ignore[call-overload]
    return ValueError(
        f"issue({rule.code!r}) is missing parameter(s) {', '.join(missing)}: "
        f"rule {rule.code} declares {', '.join(sorted(rule.params))}"
    )


@cache
def _plain_text(code: str, column: str | None, file: str | None) -> tuple[str, str]:
    # Most issues have no parameters of their own: format each (code, place) once, not per row.
    rule = catalogue()[code]
    if rule.params:
        raise _missing(rule, ())
    values = {
        "file": file or "the file",
        "column": column or rule.column or "",
        "field": (column or rule.column or "").lower(),
    }
    return rule.message.format(**values), rule.fix.format(**values)


def issue(
    code: str,
    *,
    row: int | None = None,
    column: str | None = None,
    file: str | None = None,
    severity: Severity | None = None,
    **params: object,
) -> Issue:
    """Make an Issue for catalogue rule `code`, filling its templates with `params`.

    Every parameter the rule declares must be passed (ValueError naming it otherwise); more may be,
    and are kept on the issue."""
    try:
        rule = catalogue()[code]
    except KeyError:
        raise ValueError(f"{code!r} is not a code in the rule catalogue") from None
    if params:
        if not params.keys() >= rule.params:
            raise _missing(rule, params)
        values = {k: ("" if v is None else v) for k, v in params.items()}
        values.setdefault("file", file or "the file")
        values.setdefault("column", column or rule.column or "")
        values.setdefault("field", (column or rule.column or "").lower())
        message, fix = rule.message.format(**values), rule.fix.format(**values)
    else:
        values = {}
        message, fix = _plain_text(code, column, file)
    return Issue(
        code=code,
        severity=severity or rule.severity,
        message=message,
        fix=fix,
        row=row,
        column=column or rule.column,
        file=file,
        params=values,
    )
