"""End-to-end runs through the Prefect flows (one temporary Prefect API for the session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow


def test_ingest_flow_runs_the_same_stages(prefect_harness, db_path):
    from flows.ingest import ingest_flow

    good = ingest_flow(
        str(FIXTURES / "intake" / "base.xlsx"),
        "12345",
        series="2027-06",
        order_ref="PO-9",
        received_on="2026-11-28",
        db=str(db_path),
        out=str(db_path.parent / "out"),
    )
    bomb = ingest_flow(
        str(FIXTURES / "intake" / "zip_bomb.xlsx"),
        "12345",
        received_on="2026-11-28",
        db=str(db_path),
        out=str(db_path.parent / "out"),
    )
    assert (good["status"], good["rows"], good["order_ref"]) == ("Processing complete", 3, "PO-9")
    # No series given, received 28 November 2026: June 2027, the first still at the standard fee.
    assert (bomb["status"], bomb["series"], bomb["series_source"]) == ("Upload failed", "2027-06", "default")
    assert bomb["issues"][0]["code"] == "FILE_10"
    assert good["reports"]["annotated"].endswith(".annotated.xlsx") and bomb["reports"]["annotated"] is None
    assert good["reports"]["confirmation"].endswith(".confirmation.xlsx") and bomb["reports"]["confirmation"] is None

    from entries.store import database

    con = database.connect(db_path)
    assert con.execute("SELECT count(*) FROM submissions").fetchall() == [(2,)]

    from prefect.artifacts import Artifact

    artifact = Artifact.get(f"submission-12345-{good['sha256'][:12]}")
    assert artifact is not None and "Processing complete" in str(artifact.data)
    for personal in ("Smith", "Zoë", "123450260042C", "2009-05-14"):
        assert personal not in str(artifact.data) and personal not in (artifact.description or "")


def test_nightly_flow_over_an_inbox_of_several_centres(prefect_harness, tmp_path):
    from flows.nightly import nightly_flow
    from tests.test_nightly import EXPECTED, make_inbox

    inbox = make_inbox(tmp_path)
    summary = nightly_flow(
        str(inbox),
        db=str(tmp_path / "db" / "e.duckdb"),
        out=str(tmp_path / "out"),
        received_on="2027-01-15",
        settle_seconds=0,
    )
    seen = {f"{f['centre']}/{f['file']}": f for f in summary["files"]}
    assert set(seen) == set(EXPECTED)
    for name, (folder, status) in EXPECTED.items():
        assert seen[name]["status"] == status and (tmp_path / folder / name).is_file(), name
    assert summary["totals"]["files"] == len(EXPECTED)
    assert all(Path(p).is_file() for f in summary["files"] if f["reports"] for p in _paths(f["reports"]))
    assert not list((tmp_path / "db" / "spool").iterdir())  # prepared rows do not outlive the run

    # What the Prefect UI shows: the night's table (a row of counts per file), tasks named by centre and file.
    import json

    from prefect.artifacts import Artifact
    from prefect.client.orchestration import get_client

    from flows.nightly import NIGHT_ARTIFACT

    artifact = Artifact.get(NIGHT_ARTIFACT)
    assert artifact is not None
    table = artifact.data if isinstance(artifact.data, list) else json.loads(str(artifact.data))
    assert {(r["centre"], r["file"], r["status"]) for r in table} == {
        (f["centre"], f["file"], f["status"]) for f in summary["files"]
    }
    assert f"{len(EXPECTED)} file(s)" in (artifact.description or "")
    with get_client(sync_client=True) as client:
        names = {run.name for run in client.read_task_runs()}
    for name in EXPECTED:
        assert f"deliver {name}" in names, name


def _paths(reports: dict) -> list[str]:
    return [p for key, p in reports.items() if key in ("annotated", "confirmation") and p]


def test_nightly_flow_on_a_local_dask_cluster(prefect_harness, tmp_path):
    from flows.nightly import runner_for
    from tests.test_nightly import EXPECTED, make_inbox

    inbox = make_inbox(tmp_path)
    summary = runner_for("local")(
        str(inbox),
        db=str(tmp_path / "db" / "e.duckdb"),
        out=str(tmp_path / "out"),
        received_on="2027-01-15",
        settle_seconds=0,
    )
    assert {f"{f['centre']}/{f['file']}": f["status"] for f in summary["files"]} == {
        k: v[1] for k, v in EXPECTED.items()
    }


def test_nothing_personal_in_prefect_storage(prefect_harness, tmp_path):
    """After flows ran over files holding names and UCIs, Prefect's home (results, logs, database)
    holds none of them. The flows run here, so the test proves the same when run alone."""
    import os

    from prefect.settings import get_current_settings

    from entries.intake.reader import read_upload
    from flows.ingest import ingest_flow
    from flows.nightly import nightly_flow
    from tests.test_nightly import make_inbox

    upload = FIXTURES / "intake" / "base.xlsx"
    cells = read_upload(upload).cells.to_string()
    assert all(p in cells for p in ("Smith", "O'Brien", "Zoë", "123450260042C"))  # the flows saw them
    db = tmp_path / "db" / "e.duckdb"
    ingest_flow(str(upload), "12345", series="2027-06", received_on="2027-01-15", db=str(db), out=str(tmp_path / "out"))
    nightly_flow(
        str(make_inbox(tmp_path)), db=str(db), out=str(tmp_path / "out"), received_on="2027-01-15", settle_seconds=0
    )

    url = str(get_current_settings().server.database.connection_url.get_secret_value())
    database = Path(url.split("///", 1)[1]) if "///" in url else None
    places = [Path(os.environ["PREFECT_HOME"])] + ([database.parent] if database else [])
    files = [p for place in places for p in place.rglob("*") if p.is_file() and p.stat().st_size < 50_000_000]
    assert database is not None and database in files  # the harness's own API database is searched too
    blobs = b"".join(p.read_bytes() for p in files)
    for personal in ("Smith", "O'Brien", "Zoë", "123450260042C"):
        assert personal.encode() not in blobs


def test_serve_schedules_the_nightly_import_at_two_in_london(tmp_path):
    from flows.schedule import nightly_deployment

    deployment = nightly_deployment(str(tmp_path / "inbox"), str(tmp_path / "e.duckdb"), str(tmp_path / "out"))
    schedule = deployment.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "Europe/London")
    assert deployment.parameters["inbox"].endswith("inbox")


def test_invoicing_flow_totals_every_centre(prefect_harness, tmp_path):
    from entries.pipeline.nightly import run_nightly
    from flows.invoicing import invoicing_flow
    from tests.test_nightly import RECEIVED, make_inbox

    run_nightly(
        make_inbox(tmp_path), tmp_path / "db" / "e.duckdb", tmp_path / "out", received_on=RECEIVED, settle_seconds=0
    )
    done = invoicing_flow("2027-06", db=str(tmp_path / "db" / "e.duckdb"), out=str(tmp_path / "out"))
    assert [c["centre"] for c in done["centres"]] == ["12345", "23456", "56789"]
    assert Path(done["summary"]).is_file()


def test_onboarding_flow_loads_a_workbook(prefect_harness, tmp_path):
    from flows.onboarding import onboarding_flow

    done = onboarding_flow(
        str(FIXTURES / "onboard" / "good_onboarding.xlsx"),
        db=str(tmp_path / "e.duckdb"),
        out=str(tmp_path / "out"),
        received_on="2027-01-10",
    )
    assert done["stored"] and done["centres"]["added"] == 2
