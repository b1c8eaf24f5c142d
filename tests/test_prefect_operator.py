"""What an operator reads in the Prefect UI (issue 23, item 3), against a real Prefect API (the
session's `prefect_harness`): flow runs named for what they do, a refused file's deliver task named
by its status and a machine fault's Failed, every file's status in the night's table, a killed night's
run closed as Crashed by the next night, and the served deployments (the nightly failing on a missing
inbox, invoicing and onboarding run on demand and through `--prefect`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from entries.core import clock
from tests.conftest import FIXTURES, PROJECT

pytestmark = pytest.mark.slow

RECEIVED = "2027-01-15"
# centre 12345's inbox for a small night: a file name -> (fixture, the deliver task's state name).
NIGHT = {
    "base.xlsx": (FIXTURES / "intake" / "base.xlsx", "Completed"),
    "missing_columns.csv": (FIXTURES / "intake" / "missing_columns.csv", "Read and rejected"),
    "header_only.csv": (FIXTURES / "intake" / "header_only.csv", "Empty file"),
    "truncated.xlsx": (FIXTURES / "intake" / "truncated.xlsx", "Upload failed"),
    "left_by_fault.csv": (FIXTURES / "intake" / "base.csv", "Machine fault"),
}
FAULT = "no space left on the disk that holds the spool: free space on that disk and run again"


def _client():
    from prefect import get_client

    return get_client(sync_client=True)


def _run(state):
    """The flow run a flow's final state (`return_state=True`) belongs to."""
    with _client() as client:
        return client.read_flow_run(state.state_details.flow_run_id)


def _task_runs(flow_run_id) -> dict:
    """name -> task run, of one flow run."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with _client() as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {run.name: run for run in runs}


def _inbox(root: Path) -> Path:
    inbox = root / "inbox"
    (inbox / "12345").mkdir(parents=True)
    for name, (fixture, _) in NIGHT.items():
        shutil.copyfile(fixture, inbox / "12345" / name)
    return inbox


@pytest.fixture(scope="module")
def night(prefect_harness, tmp_path_factory):  # noqa: ARG001 - the API the flow reports to
    """One night through the flow over NIGHT, a fault of the machine stopping `left_by_fault.csv`:
    (its final state, its summary)."""
    from entries.pipeline import file_steps
    from entries.pipeline.run_result import Left
    from flows.nightly import nightly_flow

    root = tmp_path_factory.mktemp("night")
    real = file_steps.deliver

    def deliver(con, layout, claim, spooled, reference, out_dir):
        if claim.file_name == "left_by_fault.csv":
            return Left(FAULT)  # as a full disk under the spool leaves it
        return real(con, layout, claim, spooled, reference, out_dir)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(file_steps, "deliver", deliver)
        state = nightly_flow(
            str(_inbox(root)),
            db=str(root / "db" / "e.duckdb"),
            out=str(root / "out"),
            received_on=RECEIVED,
            settle_seconds=0,
            return_state=True,
        )
    return state, state.result()


def test_a_night_is_named_for_its_received_on_date(prefect_harness, night):
    state, _ = night
    assert state.is_completed() and _run(state).name == f"nightly {RECEIVED}"


def test_each_files_deliver_task_says_what_became_of_the_file(prefect_harness, night):
    from prefect.client.schemas.objects import StateType

    state, summary = night
    tasks = _task_runs(state.state_details.flow_run_id)
    seen = {name: tasks[f"deliver 12345/{name}"].state for name in NIGHT}
    assert {name: s.name for name, s in seen.items()} == {name: want for name, (_, want) in NIGHT.items()}
    # A refusal is the checks' verdict on the centre's file: the task did its work (Completed).
    assert seen["missing_columns.csv"].type == StateType.COMPLETED
    assert "HDR_" in (seen["missing_columns.csv"].message or "")
    # A fault of the machine is not a verdict on the file: Failed, for the operator, and the night goes on.
    assert seen["left_by_fault.csv"].type == StateType.FAILED and FAULT in (seen["left_by_fault.csv"].message or "")
    assert [(f["file"], f["reason"]) for f in summary["left_by_fault"]] == [("left_by_fault.csv", FAULT)]
    assert {f["file"] for f in summary["files"]} == set(NIGHT) - {"left_by_fault.csv"}


def test_the_nights_table_has_every_files_status(prefect_harness, night):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.nightly import NIGHT_ARTIFACT

    state, summary = night
    with _client() as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    assert artifact.key == NIGHT_ARTIFACT
    table = artifact.data if isinstance(artifact.data, list) else json.loads(str(artifact.data))
    rows = {r["file"]: r for r in table}
    statuses = {f["file"]: f["status"] for f in summary["files"]} | {"left_by_fault.csv": "Left for the next run"}
    assert {name: r["status"] for name, r in rows.items()} == statuses
    assert rows["missing_columns.csv"]["outcome"] == "refused: the centre's file"
    assert rows["base.xlsx"]["outcome"] == "stored"
    assert rows["left_by_fault.csv"]["outcome"].startswith("fault of the machine")
    assert rows["left_by_fault.csv"]["note"] == FAULT


def test_ingest_invoicing_and_onboarding_runs_are_named_for_what_they_do(prefect_harness, tmp_path, monkeypatch):
    from flows.ingest import ingest_flow
    from flows.invoicing import invoicing_flow
    from flows.onboarding import onboarding_flow

    monkeypatch.setattr(clock, "today", lambda: dt.date(2027, 1, 20))
    db, out = str(tmp_path / "e.duckdb"), str(tmp_path / "out")
    ingested = ingest_flow(str(FIXTURES / "intake" / "base.xlsx"), "12345", db=db, out=out, return_state=True)
    invoiced = invoicing_flow("2027-06", db=db, out=out, return_state=True)
    ranged = invoicing_flow(
        db=db, out=out, received_from="2027-01-01", received_to="2027-01-31", on="2027-01-31", return_state=True
    )
    onboarded = onboarding_flow(
        str(FIXTURES / "onboard" / "good_onboarding.xlsx"), db=db, out=out, received_on="2027-01-10", return_state=True
    )
    assert [_run(s).name for s in (ingested, invoiced, ranged, onboarded)] == [
        "ingest 12345/base.xlsx",
        "invoices 2027-06",
        "invoices 2027-01-01..2027-01-31",
        "onboard good_onboarding.xlsx",
    ]
    assert all(s.is_completed() for s in (ingested, invoiced, ranged, onboarded))
    assert invoiced.result()["centres"][0]["centre"] == "12345"
    assert ranged.result()["received"] == ["2027-01-01", "2027-01-31"]


# A night through the flow in a child process: to its end, or killed (SIGKILL, its whole process
# group) right after its first file's commit, inside that file's deliver task.
NIGHT_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    def main():
        root, how = Path(sys.argv[1]), sys.argv[2]
        if how == "killed":
            from entries.pipeline import hall
            commit = hall.commit

            def commit_then_die(*args, **kwargs):
                done = commit(*args, **kwargs)
                os.killpg(os.getpgid(0), signal.SIGKILL)
                return done

            hall.commit = commit_then_die
        from flows.nightly import nightly_flow
        nightly_flow(str(root / "inbox"), str(root / "db" / "e.duckdb"), str(root / "out"),
                     received_on=sys.argv[3], settle_seconds=0)

    if __name__ == "__main__":  # the night's worker processes import this module too
        main()
    """
)


def _night_in_child(root: Path, how: str, received_on: str) -> int:
    from prefect.settings import PREFECT_API_URL

    script = root / "night_child.py"
    script.write_text(NIGHT_CHILD)
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    child = subprocess.Popen(
        [sys.executable, str(script), str(root), how, received_on],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    return child.wait(timeout=600)


def test_a_killed_nights_run_is_closed_as_crashed_when_the_next_night_takes_over(prefect_harness, tmp_path):
    from prefect.client.schemas.objects import StateType

    from flows.nightly import nightly_flow
    from flows.runrecord import read_record

    db = tmp_path / "db" / "e.duckdb"
    inbox = tmp_path / "inbox" / "12345"
    inbox.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "intake" / "base.csv", inbox / "first.csv")
    assert _night_in_child(tmp_path, "to its end", "2027-01-14") == 0
    finished = read_record(db)
    assert finished is not None
    shutil.copyfile(FIXTURES / "intake" / "base.xlsx", inbox / "second.xlsx")
    assert _night_in_child(tmp_path, "killed", RECEIVED) == -signal.SIGKILL
    killed = read_record(db)
    assert killed is not None and killed.flow_run_id != finished.flow_run_id
    with _client() as client:
        before = client.read_flow_run(killed.flow_run_id)
    assert (before.name, before.state_type) == (f"nightly {RECEIVED}", StateType.RUNNING)  # as the UI showed it
    assert _task_runs(before.id)["deliver 12345/second.xlsx"].state_type == StateType.RUNNING

    resumed = nightly_flow(str(tmp_path / "inbox"), str(db), str(tmp_path / "out"), settle_seconds=0, return_state=True)
    assert resumed.is_completed()
    assert [f["file"] for f in resumed.result()["files"]] == ["second.xlsx"]  # the killed night, finished
    with _client() as client:
        after = client.read_flow_run(killed.flow_run_id)
        untouched = client.read_flow_run(finished.flow_run_id)
    assert after.state_type == StateType.CRASHED and _run(resumed).name in (after.state.message or "")
    assert _task_runs(after.id)["deliver 12345/second.xlsx"].state_type == StateType.CRASHED
    # The night that ended on its own (its process gone too) stays as it ended.
    assert untouched.state_type == StateType.COMPLETED
    assert read_record(db).flow_run_id == str(resumed.state_details.flow_run_id)


@pytest.fixture
def served(prefect_harness, tmp_path, loaded_store):  # noqa: ARG001 - the API the deployments report to
    """`entries serve` in a child process, on a store with the reference data: (inbox, db, out)."""
    from prefect.settings import PREFECT_API_URL

    inbox, db, out = tmp_path / "inbox", tmp_path / "e.duckdb", tmp_path / "out"
    inbox.mkdir()
    shutil.copyfile(loaded_store, db)
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # pick a run up within a second, not ten
    }
    command = [sys.executable, "-m", "entries.cli", "--db", str(db), "--out", str(out), "serve", str(inbox)]
    # A cron that does not fire while the test runs: the runs here are the test's own.
    server = subprocess.Popen(
        [*command, "--cron", "0 2 1 1 *"],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        _wait_for_deployments(server)
        yield inbox, db, out
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=60)


def _wait_for_deployments(server: subprocess.Popen) -> None:
    """Until `entries serve` has registered its three deployments (it exits only on failure)."""
    from prefect.exceptions import ObjectNotFound

    for _ in range(240):
        assert server.poll() is None, "entries serve stopped"
        with _client() as client:
            try:
                for name in ("nightly-import/nightly-import", "invoicing/invoices", "onboard-centres/onboard"):
                    client.read_deployment_by_name(name)
                return
            except ObjectNotFound:
                pass
        time.sleep(0.5)
    raise AssertionError("entries serve did not register its deployments")


def test_served_deployments_fail_a_missing_inbox_and_run_invoicing_and_onboarding(served):
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment

    inbox, _, _ = served
    empty = run_deployment("nightly-import/nightly-import", parameters={"received_on": RECEIVED}, timeout=300)
    assert (empty.name, empty.state_type) == (f"nightly {RECEIVED}", StateType.COMPLETED)  # an empty inbox: 0 files
    inbox.rmdir()  # the inbox's disk not mounted, say
    missing = run_deployment("nightly-import/nightly-import", parameters={"received_on": RECEIVED}, timeout=300)
    assert missing.state_type == StateType.FAILED and "no inbox folder" in (missing.state.message or "")

    onboarded = run_deployment(
        "onboard-centres/onboard",
        parameters={"path": str(FIXTURES / "onboard" / "good_onboarding.xlsx"), "received_on": "2027-01-10"},
        timeout=300,
    )
    invoiced = run_deployment("invoicing/invoices", parameters={"series": "2027-06"}, timeout=300)
    assert [(r.name, r.state_type) for r in (onboarded, invoiced)] == [
        ("onboard good_onboarding.xlsx", StateType.COMPLETED),
        ("invoices 2027-06", StateType.COMPLETED),
    ]


def test_serve_refuses_a_missing_inbox(cli, tmp_path):
    code, _, err = cli("serve", str(tmp_path / "nowhere"))
    assert code == 2 and "no inbox folder" in err


def _latest_run(name: str):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with _client() as client:
        (run,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
    return run


def test_invoices_and_onboard_run_through_prefect_with_the_option(prefect_harness, cli, ingest, tmp_path):
    from prefect.client.schemas.objects import StateType

    assert ingest([("0042", "05838")])["exit"] == 0
    code, out, _ = cli("invoices", "--series", "2027-06", "--on", "2027-01-20", "--prefect", "--json")
    assert code == 0 and [c["centre"] for c in json.loads(out)["centres"]] == ["12345"]
    run = _latest_run("invoices 2027-06")
    assert run.state_type == StateType.COMPLETED and run.parameters["db"] == str(tmp_path / "e.duckdb")

    code, out, _ = cli("onboard", str(FIXTURES / "onboard" / "good_onboarding.xlsx"), "--prefect")
    assert code == 0 and "loaded in one transaction" in out
    run = _latest_run("onboard good_onboarding.xlsx")
    assert run.state_type == StateType.COMPLETED and run.parameters["db"] == str(tmp_path / "e.duckdb")
