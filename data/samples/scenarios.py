"""The sample scenarios: invented centres, candidates and the rows each sample file holds.

Pure data: every function takes the one seeded `random.Random` and returns rows and notes; nothing
here writes a file (`sample_writers.py` does, `make_samples.py` decides which file gets which rows).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from entries.intake.headers import TEMPLATE_COLUMNS  # noqa: E402
from entries.intake.uci import CHECK_LETTERS, complete, uci_problem  # noqa: E402
from entries.intake.uln import uln_problem  # noqa: E402

SEED = 2027
SERIES = "2027-06"
RECEIVED_ON = dt.date(2027, 1, 15)
ENTRY_DEADLINE = dt.date(2027, 2, 21)
HELP_PREFIX = "Help: delete this line before you submit."

# Year 13 in June 2027 were born 1 Sep 2008 - 31 Aug 2009; Year 12 a year later. UCIs are made in
# the year a candidate is first entered: 25 for Year 13, 26 for Year 12.
YEAR_GROUPS = {
    13: (dt.date(2008, 9, 1), dt.date(2009, 8, 31), "25"),
    12: (dt.date(2009, 9, 1), dt.date(2010, 8, 31), "26"),
}

FEMALE = [
    "Amelia", "Olivia", "Zoë", "Siân", "Chloé", "Niamh", "Aoife", "Ffion", "Maryam", "Priya",
    "Hannah", "Grace", "Freya", "Isla", "Renée", "Anaïs", "Mary Jane", "Anne-Marie", "Jessica",
    "Leah", "Ruby", "Sofia", "Aisha", "Ellie", "Megan", "Lucy", "Charlotte", "Evie", "Imogen",
    "Mei", "Thảo", "Bethan", "Nia", "Éabha", "Zara Louise",
]
MALE = [
    "Oliver", "Jack", "Harry", "Rhys", "Dylan", "Seán", "Dónal", "Mohammed", "Aryan", "Kwame",
    "Tomás", "Mateusz", "Ethan", "Lewis", "Callum", "Owen", "Finley", "Kai", "Reuben", "Noah",
    "Joel", "Daniel", "Samuel", "Björn", "Emre", "Huw", "Ioan", "Minh", "Jean-Luc", "Ravi",
    "Cian", "Thomas James",
]
SURNAMES = [
    "Smith", "Jones", "O'Neill", "Nguyễn", "Patel", "Williams", "Evans", "Davies", "Hughes",
    "McAllister", "Ó Súilleabháin", "Kowalski", "Okafor", "Clarke", "Ahmed", "Khan", "Fitzgerald",
    "D'Souza", "Wright", "Thompson", "Begum", "Lefèvre", "Jiménez", "Müller", "Pryce", "Ellis",
    "Mensah", "Turner", "Roberts", "Chen", "Hussain", "Murphy", "Sharma", "Walker", "Price",
    "Lloyd", "Ashworth", "Smith-Jones", "van der Berg", "Trần", "Phạm", "Lê", "Brontë-Hale",
    "MacLeod", "Øvergaard", "Ní Bhriain", "St. John", "Gruffydd", "Adeyemi", "Kaur",
]
# Each file opens with these so every file carries accents and apostrophes.
FEATURED = [("Zoë", "O'Neill", "F"), ("Siân", "Nguyễn", "F"), ("Seán", "Ó Súilleabháin", "M"), ("Renée", "Lefèvre", "F")]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _read(name: str) -> list[dict[str, str]]:
    with (REPO / "reference_data" / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


QUALS = {q["qualification_code"]: q for q in _read("qualifications.csv")}
EXAM_UNITS = {(u["suite_id"], u["unit_number"]) for u in _read("units.csv") if u["assessment"] == "exam"}
MODERATED_UNITS = {(u["suite_id"], u["unit_number"]) for u in _read("units.csv") if u["assessment"] == "moderated"}
UNIT_GLH = {(u["suite_id"], u["unit_number"]): int(u["glh"]) for u in _read("units.csv")}
RULES: dict[str, dict[str, str]] = {}
for _r in _read("rules_of_combination.csv"):
    RULES.setdefault(_r["qualification_code"], {})[_r["unit_number"]] = _r["status"]
APPROVED = {(a["centre_number"], a["suite_id"]) for a in _read("centre_approvals.csv")}
ENTRY_CODES = {e["entry_code"]: e for e in _read("entry_codes.csv")}
SERIES_ROW = {s["series"]: s for s in _read("series.csv")}


def exam_units_of(qual: str) -> list[str]:
    """Examined units that belong to `qual` (in its rules of combination), in unit order."""
    suite = QUALS[qual]["suite_id"]
    return sorted((u for u in RULES[qual] if (suite, u) in EXAM_UNITS), key=int)


def check_clean_entry(centre: str, code: str, units: list[str]) -> None:
    """Fail loudly if a row meant to be clean is not valid against the reference data."""
    entry = ENTRY_CODES[code]
    qual = entry["qualification_code"]
    suite = QUALS[qual]["suite_id"]
    assert (centre, suite) in APPROVED, (centre, suite)
    if units:
        assert entry["kind"] == "full_award", code
        allowed = exam_units_of(qual)
        assert all(u in allowed for u in units), (code, units, allowed)
        assert len(set(units)) == len(units)


@dataclass(frozen=True)
class Person:
    centre: str
    number: str  # 4 digits
    uci: str
    uln: str
    surname: str
    forenames: str
    sex: str  # M / F
    dob: dt.date
    group: str
    year: int


def make_uln(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        remainder = sum(w * d for w, d in zip(range(10, 1, -1), digits)) % 11
        if remainder == 0:
            continue
        uln = "".join(map(str, digits)) + str(10 - remainder)
        if uln_problem(uln) is None:
            return uln


def random_date(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


class Centre:
    """Hands out unique candidate numbers, UCI serials and names for one centre."""

    def __init__(self, rng: random.Random, number: str) -> None:
        self.rng = rng
        self.number = number
        self.numbers = rng.sample(range(1, 1000), 200)  # typical: numbered 0001-0999
        self.serials = rng.sample(range(1, 10000), 200)
        self.names: set[tuple[str, str]] = set()
        self.featured = list(FEATURED)

    def name(self) -> tuple[str, str, str]:
        if self.featured:
            forenames, surname, sex = self.featured.pop(0)
        else:
            while True:
                sex = self.rng.choice("FM")
                forenames = self.rng.choice(FEMALE if sex == "F" else MALE)
                surname = self.rng.choice(SURNAMES)
                if (surname, forenames) not in self.names:
                    break
        self.names.add((surname, forenames))
        return nfc(forenames), nfc(surname), sex

    def person(self, year: int, group: str, *, uci_share: float = 0.85, uln_share: float = 0.6) -> Person:
        forenames, surname, sex = self.name()
        first, last, yy = YEAR_GROUPS[year]
        uci = complete(f"{self.number}0{yy}{self.serials.pop():04d}") if self.rng.random() < uci_share else ""
        uln = make_uln(self.rng) if self.rng.random() < uln_share else ""
        return Person(
            centre=self.number,
            number=f"{self.numbers.pop():04d}",
            uci=uci,
            uln=uln,
            surname=surname,
            forenames=forenames,
            sex=sex,
            dob=random_date(self.rng, first, last),
            group=group,
            year=year,
        )


def uk(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def iso(d: dt.date) -> str:
    return d.isoformat()


def template_row(p: Person, code: str, units: list[str] = (), dob: str | None = None) -> list[str]:
    """One row in TEMPLATE_COLUMNS order; every value text."""
    unit_cells = (list(units) + [""] * 6)[:6]
    return [p.centre, p.number, p.uci, p.uln, p.surname, p.forenames, p.sex, uk(p.dob) if dob is None else dob,
            code, *unit_cells, p.group]


def col_letter(column: str) -> str:
    return "ABCDEFGHIJKLMNOP"[TEMPLATE_COLUMNS.index(column)]


def centre_12345(rng: random.Random) -> tuple[list[list[str]], list[list[str]], dict]:
    """Clean L3-IT / L3-BUS workbook (40 candidates) and the top-up / moving-down CSV."""
    centre = Centre(rng, "12345")
    entries: list[tuple[Person, str, list[str]]] = []
    # 32 Year 13 full awards: 8 x 05838, 8 x 05839, 8 x 05850, 8 x 05851, groups 13A-13D.
    for code in ["05838"] * 8 + ["05839"] * 8 + ["05850"] * 8 + ["05851"] * 8:
        group = rng.choice(["13A", "13B"] if code.startswith("0583") else ["13C", "13D"])
        entries.append((centre.person(13, group), code, []))
    # 8 Year 12 unit entries (exams this series, certification later).
    unit_plans = [("05839", 2), ("05839", 3), ("05838", 2), ("05839", 1), ("05851", 3), ("05851", 2), ("05850", 1), ("05851", 1)]
    for code, how_many in unit_plans:
        units = exam_units_of(code)[:how_many] if how_many > 1 else [rng.choice(exam_units_of(code))]
        entries.append((centre.person(12, rng.choice(["12A", "12B"])), code, units))
    for p, code, units in entries:
        check_clean_entry(p.centre, code, units)
    entries.sort(key=lambda e: e[0].number)
    rows = [template_row(p, code, units) for p, code, units in entries]

    # Top-ups and moving down, each for a candidate of the first file with the `from` full award.
    def pick(code: str, taken: set[str]) -> Person:
        options = [p for p, c, u in entries if c == code and not u and p.uci and p.number not in taken]
        chosen = rng.choice(options)
        taken.add(chosen.number)
        return chosen

    taken: set[str] = set()
    changes = [(pick("05838", taken), "05839T1"), (pick("05838", taken), "05839T1"), (pick("05850", taken), "05851T1"),
               (pick("05839", taken), "05838M2")]
    for p, code in changes:
        frm = ENTRY_CODES[code]["from_qualification_code"]
        assert any(q is p and c == frm and not u for q, c, u in entries)
        check_clean_entry(p.centre, code, [])
    changes.sort(key=lambda e: e[0].number)
    topup_rows = [template_row(p, code) for p, code in changes]
    info = {
        "entries": entries,
        "changes": changes,
        "mover": next(p for p, c in changes if c == "05838M2"),
        "toppers": [(p, c) for p, c in changes if "T" in c],
    }
    return rows, topup_rows, info


MIS_HEADER = ["Centre No", "Exam Candidate Number", "Unique Candidate Identifier", "Unique Learner Number",
              "Legal Surname", "Legal Forenames", "Gender", "DOB", "Main Entry Code",
              "Unit 1", "Unit 2", "Unit 3", "Unit 4", "Unit 5", "Unit 6", "Reg Group"]


def centre_23456(rng: random.Random) -> tuple[list[list[str]], dict]:
    """MIS export: 25 candidates, L3-HSC and L3-SPA, Gender as Male/Female."""
    centre = Centre(rng, "23456")
    plans = (
        [("05860", [], 13)] * 4 + [("05861", [], 13)] * 5 + [("05862", [], 13)] * 2
        + [("05870", [], 13)] * 3 + [("05871", [], 13)] * 4 + [("05872", [], 13)]
        + [("05861", ["1", "2"], 12), ("05861", ["3"], 12), ("05871", ["1", "2", "3"], 12),
           ("05871", ["6"], 12), ("05862", ["1", "2", "6"], 12), ("05870", ["1"], 12)]
    )
    entries = []
    for code, units, year in plans:
        suite = QUALS[code]["suite_id"]
        group = f"{year}{'H' if suite == 'L3-HSC' else 'S'}{rng.randint(1, 2)}"
        p = centre.person(year, group, uci_share=0.9, uln_share=0.7)
        check_clean_entry(p.centre, code, units)
        entries.append((p, code, units))
    entries.sort(key=lambda e: (e[0].surname.casefold(), e[0].forenames.casefold()))  # MIS: by surname
    rows = []
    for p, code, units in entries:
        row = template_row(p, code, units)
        row[6] = {"M": "Male", "F": "Female"}[p.sex]
        rows.append(row)
    return rows, {"entries": entries}


def centre_34567(rng: random.Random) -> tuple[list[list[str]], list[dict], dict]:
    """L3-HSC workbook with the help line left in and one planted mistake per row."""
    centre = Centre(rng, "34567")
    if 42 in centre.numbers:
        centre.numbers.remove(42)  # 0042 is kept for the row typed as 42
    help_line = [
        f"{HELP_PREFIX} Centre Number: 5 digits: your centre, 34567",
        "4 digits, e.g. 0042", "13 characters; leave blank if not known", "10 digits; leave blank if not known",
        "legal surname, e.g. O'Neill-Smith", "legal forenames, e.g. Mary Jane", "M or F", "DD/MM/YYYY or YYYY-MM-DD",
        "e.g. 05860", *["unit number; blank for a full award"] * 6, "optional, e.g. 13B",
    ]
    rows: list[list[str]] = [help_line]
    planted: list[dict] = []
    people: list[Person] = []

    def add(p: Person, code: str, units: list[str] = (), *, column: str | None = None, value: str | None = None,
            rule: str = "", severity: str = "error", note: str = "") -> int:
        row = template_row(p, code, list(units))
        if column is not None:
            row[TEMPLATE_COLUMNS.index(column)] = value
        rows.append(row)
        people.append(p)
        number = len(rows) + 1  # spreadsheet row: header is row 1
        if rule:
            shown = value if value is not None else row[TEMPLATE_COLUMNS.index(column)]
            planted.append({"row": number, "column": column, "value": shown, "rule": rule, "severity": severity, "note": note})
        return number

    def person(**changes) -> Person:
        p = centre.person(13, rng.choice(["13H1", "13H2"]), uci_share=1.0, uln_share=0.5)
        return replace(p, **changes)

    # Valid rows first (they must stay valid).
    add(person(), "05860")
    p = person(uln=make_uln(rng))
    stem = p.uci[:12]
    wrong = next(letter for letter in CHECK_LETTERS[::-1] if letter != p.uci[12])
    assert uci_problem(stem + wrong) == "check"
    add(p, "05861", column="UCI", value=stem + wrong,
        rule="UCI check letter: the 13th character is not the check letter of the first 12 (docs/architecture.md §6)",
        note=f"the right letter is {p.uci[12]}")
    add(person(), "05861", column="ULN", value="9999999999",
        rule="ULN placeholder: an unknown ULN must be left blank, never 9999999999")
    add(person(), "05862", column="Surname", value="", rule="Surname is required")
    add(person(forenames="Ch1oe", sex="F"), "05860", column="Forenames", value="Ch1oe",
        rule="Forenames may hold letters, spaces, hyphens, apostrophes and full stops only (a digit 1 typed for l)")
    add(person(), "05861", column="Sex", value="X", rule="Sex must be M or F")
    add(person(dob=dt.date(2015, 9, 20)), "05860", column="Date of Birth", value="20/09/2015",
        rule="Age: the candidate must be at least 13; born 20/09/2015 they are 11 on 2027-01-15 and on 31/08/2027")
    add(person(dob=dt.date(2029, 5, 14)), "05861", column="Date of Birth", value="14/05/2029",
        rule="Date of birth in the future (2029 typed for 2009)",
        note="the under-13 age rule may fire on the same cell too")
    assert "05899" not in ENTRY_CODES and ("34567", QUALS["05838"]["suite_id"]) not in APPROVED
    assert ("L3-HSC", "4") in MODERATED_UNITS and "4" in RULES["05861"] and "3" in exam_units_of("05861")
    add(person(), "05899", column="Entry Code", value="05899",
        rule="Entry code not in the entry codes list")
    add(person(), "05838", column="Entry Code", value="05838",
        rule="Centre not approved for the suite: 05838 is L3-IT and centre 34567 is approved for L3-HSC only")
    add(person(), "05861", ["1", "4"], column="Unit 2", value="4",
        rule="Unit entry for a moderated unit: HSC unit 4 (Anatomy and physiology) is centre-assessed and takes no entry")
    add(person(), "05861T1", ["3"], column="Unit 1", value="3",
        rule="Top-up and moving-down codes take no unit numbers",
        note="the candidate also has no earlier 05860 full award on record, which commit would question; "
             "the file is rejected at prepare before that")
    first = person()
    add(first, "05862")
    second = person(number=first.number, uci="")
    add(second, "05860", column="Candidate Number", value=first.number,
        rule=f"Candidate number used twice for different people: {first.number} is already the candidate "
             f"in the row above (different name and date of birth)",
        note="the rule may mark both rows; this second row is the planted one")
    p42 = person(number="0042")
    assert all(q.number != "0042" for q in people)
    add(p42, "05860", column="Candidate Number", value="42",
        rule="Leading zeros missing: 42 is restored to 0042 (CELL_04)", severity="warning")
    add(person(), "05861", ["1", "2"])
    planted.insert(0, {"row": 2, "column": "Centre Number", "value": help_line[0][:41] + " ...",
                       "rule": "Help line left in: the template's row 2 is skipped (HELP_01)", "severity": "warning",
                       "note": "every cell of row 2 holds the template's hint; none is read as an entry"})
    valid = [number for number in range(3, len(rows) + 2) if number not in {m["row"] for m in planted}]
    for number in valid:
        row = rows[number - 2]
        units = [u for u in row[9:15] if u]
        check_clean_entry("34567", row[8], units)
    return rows, planted, {"people": people, "valid_rows": valid}


def centre_56789(rng: random.Random) -> tuple[list[list[str]], dict]:
    """20 valid rows across L3-IT, L3-HSC and L3-SPA, dates written ISO."""
    centre = Centre(rng, "56789")
    plans = [("05838", []), ("05839", []), ("05839", []), ("05840", []), ("05839", ["1", "2", "3"]), ("05839", ["6"]),
             ("05860", []), ("05861", []), ("05861", []), ("05863", []), ("05861", ["1", "2"]), ("05862", ["6"]),
             ("05870", []), ("05871", []), ("05871", []), ("05872", []), ("05874", []), ("05871", ["2", "3"]),
             ("05870", ["1", "2"]), ("05873", [])]
    entries = []
    for code, units in plans:
        year = 12 if units else 13
        suite = QUALS[code]["suite_id"][3:]
        p = centre.person(year, f"{year}{suite}", uci_share=0.8, uln_share=0.5)
        check_clean_entry(p.centre, code, units)
        entries.append((p, code, units))
    entries.sort(key=lambda e: e[0].number)
    rows = [template_row(p, code, units, dob=iso(p.dob)) for p, code, units in entries]
    return rows, {"entries": entries}


def results(rng: random.Random, info12: dict, info56: dict, info23: dict) -> tuple[list[list[str]], list[str]]:
    """Earlier unit results: the moving-down candidate's achieve 05838 (units 1 and 2, 180 glh)."""
    out: list[list[str]] = []
    notes: list[str] = []
    mover: Person = info12["mover"]
    # Entered for 05839; passed units 1 and 2, failed unit 3 (mandatory for 05839): so moves down.
    out += [[mover.uci, "05839", "1", "2027-01", "Merit"], [mover.uci, "05839", "2", "2027-01", "Pass"],
            [mover.uci, "05839", "3", "2027-01", "U"]]
    mandatory = [u for u, s in RULES["05838"].items() if s == "mandatory"]
    achieved = {"1", "2"}
    glh = sum(UNIT_GLH[("L3-IT", u)] for u in achieved)
    assert set(mandatory) <= achieved and glh >= int(QUALS["05838"]["glh"])
    notes.append(f"`{mover.uci}` (centre 12345 candidate {mover.number}, the `05838M2` row): 05839 unit 1 Merit "
                 f"(2027-01), unit 2 Pass (2027-01), unit 3 U (2027-01). Units 1 and 2 are 05838's mandatory units "
                 f"and make {glh} glh, its full size; unit 3 is mandatory for 05839 and not achieved.")
    grades = ["Pass", "Merit", "Distinction", "Pass", "Merit", "Distinction*"]
    for p, code in info12["toppers"]:
        frm = ENTRY_CODES[code]["from_qualification_code"]
        for unit in exam_units_of(frm):
            out.append([p.uci, frm, unit, "2027-01", rng.choice(grades)])
    notes.append("The three top-up candidates (rows of `topups_june_2027.csv` with a `T` code): their "
                 "Certificate's examined units, 2027-01, all achieved.")
    extra = [p for p, c, u in info56["entries"] if p.uci and not u and c in ("05839", "05861")][:2]
    for p, code, _ in [e for e in info56["entries"] if e[0] in extra]:
        out.append([p.uci, code, "1", "2027-01", "Pass"])
        out.append([p.uci, code, "2", "2027-01", "U"])
    one = next(p for p, c, u in info23["entries"] if p.uci and c == "05871" and not u)
    out.append([one.uci, "05871", "1", "2027-01", "Merit"])
    notes.append("Two centre 56789 candidates (unit 1 Pass, unit 2 U) and one centre 23456 SPA candidate "
                 "(unit 1 Merit): ordinary history, nothing planted.")
    for row in out:
        assert uci_problem(row[0]) is None and row[3] in ("2027-01", "2027-01")
    return out, notes


def readme(counts: dict[str, int], info12: dict, planted: list[dict], valid_rows: list[int], result_notes: list[str],
           n_results: int) -> str:
    mover = info12["mover"]
    valid = ", ".join(map(str, valid_rows[:-1])) + f" and {valid_rows[-1]}"
    planted_dup = next(m["row"] for m in planted if "used twice" in m["rule"])
    quiet = " and ".join(str(r) for r in valid_rows if r != planted_dup - 1)
    toppers = ", ".join(f"{p.number} `{c}`" for p, c in info12["toppers"])
    lines = [
        "# Sample uploads",
        "",
        "Made by `make_samples.py` (run `.venv/bin/python data/samples/make_samples.py` from the repository "
        "root): seeded with `random.Random(2027)`, fixed dates, no wall clock, so the bytes (and so the "
        "files' SHA-256) are the same on every run. Every name is invented. The uploads are for the June "
        f"2027 series (`{SERIES}`) as received on {RECEIVED_ON.isoformat()}, before its entry deadline "
        f"{ENTRY_DEADLINE.isoformat()}: try `entries nightly data/samples/inbox` or "
        "`entries ingest data/samples/inbox/12345/entries_june_2027.xlsx --centre 12345 --received-on 2027-01-15`.",
        "",
        "Workbooks are written with openpyxl, every code and date cell stored as text so leading zeros stay; "
        "CSV files are UTF-8. Rows below are numbered as a spreadsheet shows them (header = row 1); column "
        "letters are those of the template (A Centre Number, B Candidate Number, C UCI, D ULN, E Surname, "
        "F Forenames, G Sex, H Date of Birth, I Entry Code, J-O Unit 1-6, P Candidate Group).",
        "",
        "| file | data rows | what it is |",
        "| --- | --- | --- |",
        f"| `inbox/12345/entries_june_2027.xlsx` | {counts['12345a']} | Clean. Northfield Academy (L3-IT, L3-BUS): 32 "
        "Year 13 full awards (8 each of 05838, 05839, 05850, 05851; groups 13A-13D) and 8 Year 12 unit entries "
        "(the qualification's code plus examined units in Unit 1-3, e.g. 05839 with 1, 2, 3; groups 12A/12B). "
        "Dates DD/MM/YYYY. |",
        f"| `inbox/12345/topups_june_2027.csv` | {counts['12345b']} | Clean; UTF-8 with a BOM, as Excel's \"CSV UTF-8\" "
        f"saves it. Template headers. Top-ups for candidates {toppers}, each of whom has the `from` full award in "
        f"the first file, and `05838M2` (moving down) for candidate {mover.number}, who has a 05839 full award in "
        "the first file and whose results in `results.csv` achieve 05838. Commit it after the first file. |",
        f"| `inbox/23456/mis_export.csv` | {counts['23456']} | Riverside College's MIS export (L3-HSC, L3-SPA): MIS "
        "headers (`Centre No`, `Exam Candidate Number`, `Unique Candidate Identifier`, `Unique Learner Number`, "
        "`Legal Surname`, `Legal Forenames`, `Gender`, `DOB`, `Main Entry Code`, `Unit 1`-`Unit 6`, `Reg Group`), "
        "sorted by surname, UTF-8 without BOM, DOB DD/MM/YYYY. Clean except that `Gender` (column G) says "
        "`Male`/`Female` on every row instead of `M`/`F`: the Sex rule should read them as M/F with a "
        "warning on each row (amber, not red, in column G) and accept the file. |",
        f"| `inbox/34567/entries_with_mistakes.xlsx` | {counts['34567']} | St Anne's School (L3-HSC only). The "
        "template's help line left in at row 2, then one planted mistake per row (table below); rows "
        f"{valid} are valid. Expected outcome: `Read and rejected`. |",
        "| `inbox/45678/empty.xlsx` | 0 | The template's header row and nothing else: `Empty file` (FILE_19). |",
        "| `inbox/45678/old_format.xlsx` | - | Not a workbook: the OLE2 magic bytes `D0 CF 11 E0 A1 B1 1A E1` and "
        "zeros to 4,096 bytes, as a broken download of an old `.xls` leaves it. The reader parses the OLE2 "
        "directory to name what is inside (old Excel by version, password-protected, Word, PowerPoint); here "
        "there is none to read, so it is damaged: `Upload failed` (FILE_02). |",
        f"| `inbox/56789/entries.xlsx` | {counts['56789']} | Clean. Meadowbank College (L3-IT, L3-HSC, L3-SPA): "
        "full awards of every size from Certificate to Extended Diploma, and Year 12 unit entries. Dates of "
        "birth written YYYY-MM-DD. |",
        f"| `results.csv` | {n_results} | Not an upload: earlier unit results for `entries results load` "
        "(`UCI, Qualification Code, Unit Number, Series, Result`), series 2027-01 and 2027-01. |",
        "",
        "In the clean files most candidates have a UCI (their centre's number, `0`, the year first entered - 25 "
        "for Year 13, 26 for Year 12 - a 4-digit serial and the check letter) and some leave it blank; some have "
        "a valid ULN and the rest leave it blank. Candidate numbers are 4 digits with their leading zeros.",
        "",
        "## Mistakes planted in `inbox/34567/entries_with_mistakes.xlsx`",
        "",
        "One per row; every other cell of the row is valid. Severity is what the rule should report.",
        "",
        "| row | column | value | rule it should trip | severity |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m in planted:
        shown = "(blank)" if m["value"] == "" else f"`{m['value']}`"
        rule = m["rule"] + (f". Note: {m['note']}." if m["note"] else ".")
        lines.append(f"| {m['row']} | {col_letter(m['column'])} {m['column']} | {shown} | {rule} | {m['severity']} |")
    lines += [
        "",
        f"So the annotated workbook should show red on the {sum(m['severity'] == 'error' for m in planted)} error "
        f"rows above (and on row {planted_dup - 1} too if the duplicate-number rule marks both rows), a warning "
        f"for the help line and the 42, and nothing on rows {quiet} (row {planted_dup - 1} is valid on its own but "
        f"shares its candidate number with row {planted_dup}). Clean files may still carry warnings: "
        "accented names (certificates print them without accents) and blank UCIs.",
        "",
        "## `results.csv`",
        "",
        *[f"- {n}" for n in result_notes],
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
