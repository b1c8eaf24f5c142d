"""End-to-end runs through the Prefect flows (one temporary Prefect API for the session)."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow


def test_ingest_flow_runs_the_same_stages(prefect_harness, db_path):
    from flows.ingest import ingest_flow

    good = ingest_flow(str(FIXTURES / "intake" / "base.xlsx"), "12345", series="2027-06", order_ref="PO-9",
                       received_on="2026-11-28", db=str(db_path), out=str(db_path.parent / "out"))
    bomb = ingest_flow(str(FIXTURES / "intake" / "zip_bomb.xlsx"), "12345", received_on="2026-11-28", db=str(db_path),
                       out=str(db_path.parent / "out"))
    assert (good["status"], good["rows"], good["order_ref"]) == ("Processing complete", 3, "PO-9")
    assert (bomb["status"], bomb["series"]) == ("Upload failed", "2027-01")
    assert bomb["issues"][0]["code"] == "FILE_10"
    assert good["reports"]["annotated"].endswith(".annotated.xlsx") and bomb["reports"]["annotated"] is None
    assert good["reports"]["confirmation"].endswith(".confirmation.xlsx") and bomb["reports"]["confirmation"] is None

    from entries import store

    con = store.connect(db_path)
    assert con.execute("SELECT count(*) FROM submissions").fetchall() == [(2,)]

    from prefect.artifacts import Artifact

    artifact = Artifact.get(f"submission-12345-{good['sha256'][:12]}")
    assert artifact is not None and "Processing complete" in str(artifact.data)
    for personal in ("Smith", "Zoë", "123450260042C", "2009-05-14"):
        assert personal not in str(artifact.data) and personal not in (artifact.description or "")
