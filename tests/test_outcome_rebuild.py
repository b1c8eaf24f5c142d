"""A committed file's outcome rebuilt from the store alone (a nightly resumed after a kill).

Issues with template values (CLS_01's `from_code`, CAND_01's `candidate`) must come back exactly as
the centre was told, without the values only the first run had.
"""

from __future__ import annotations

import datetime as dt

import pytest

from entries.checks.validate import Context
from entries.pipeline import hall
from entries.store import refdata
from entries.store.outcomes import outcome_from_store
from tests.conftest import FIXTURES

COMMIT = FIXTURES / "commit"


@pytest.mark.parametrize(
    ("first", "then", "code"),
    [
        (None, "top_up_to_extended_certificate.csv", "CLS_01"),  # a top-up with no full award on record
        ("full_award_certificate.csv", "probable_duplicate_candidate.csv", "CAND_01"),  # a held lookalike
    ],
)
def test_outcome_rebuilt_from_the_store_matches_the_first_run(con, tmp_path, first, then, code):
    reference = refdata.snapshot(con)
    ctx = Context(centre="12345", series="2027-06", received_on=dt.date(2027, 1, 15))

    def ingest(name: str):
        return hall.submit(con, COMMIT / name, context=ctx, reference=reference, order_ref="PO-1", out_dir=tmp_path)

    if first is not None:
        ingest(first)
    outcome = ingest(then)
    assert code in {i.code for i in outcome.issues}
    rebuilt = outcome_from_store(con, outcome.submission_id)
    assert rebuilt.as_json() | {"reports": None} == outcome.as_json() | {"reports": None}
    assert [(i.code, i.message, i.fix) for i in rebuilt.issues] == [(i.code, i.message, i.fix) for i in outcome.issues]
