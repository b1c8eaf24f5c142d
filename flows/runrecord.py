"""Which Prefect flow run holds the night, and closing a killed night's run when the next takes over.

A night killed with SIGKILL (or on a machine that lost power) never tells Prefect: its flow run and
the task it was in stay RUNNING in the UI for ever. So the flow run holding the run lock writes its
id beside the store, in `<db>.flow-run` (JSON: the flow run's id and name, the process and when it
started; no personal data). The next night through Prefect, once it holds the lock, reads the
record: a run that is not finished in Prefect although its process is gone was killed, and is set
Crashed (forced: Prefect's rules refuse a change nobody proposed), with its unfinished task runs.
A night that ended in any other way (completed, failed by an exception, crashed and told) is final
in Prefect already and left alone.

In: the store's path and the current flow run (from Prefect's context). Out: the record file, and
the killed run's id when one was closed. `entries.store` knows nothing of it (it stays Prefect-free).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from uuid import UUID


@dataclass(frozen=True)
class RunRecord:
    """The flow run that last took the night's lock, and the process it ran in."""

    flow_run_id: str
    flow_run_name: str
    pid: int
    started: str | None  # the process's start (Linux clock ticks since boot): a reused pid is another process
    host: str


def record_path(db: Path) -> Path:
    """Beside the run lock (`<db>.lock`): `<db>.flow-run`."""
    return db.with_name(db.name + ".flow-run")


def _process_start(pid: int) -> str | None:
    """When process `pid` started (field 22 of /proc/<pid>/stat), or None where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count from its end.
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(record: RunRecord) -> bool:
    """Whether the process that ran `record` is still there (the same process, not a reused pid)."""
    if record.host != socket.gethostname():
        return True  # another machine's process cannot be seen from here: never close its run
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # there, under another user
    return record.started is None or _process_start(record.pid) == record.started


def read_record(db: Path) -> RunRecord | None:
    """The recorded flow run, or None when there is none (or a kill cut its writing short)."""
    try:
        return RunRecord(**json.loads(record_path(db).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def write_record(db: Path, flow_run_id: str, flow_run_name: str) -> RunRecord:
    """Record this process's flow run as the night's (written whole, then renamed into place)."""
    record = RunRecord(flow_run_id, flow_run_name, os.getpid(), _process_start(os.getpid()), socket.gethostname())
    target = record_path(db)
    staged = target.with_name(target.name + ".tmp")
    staged.write_text(json.dumps(asdict(record)), encoding="utf-8")
    os.replace(staged, target)
    return record


def close_killed(record: RunRecord, by: str) -> bool:
    """Set `record`'s flow run Crashed, with its unfinished task runs, if Prefect still has it
    unfinished and its process is gone; `by` names the run taking over. True when it was closed."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Crashed

    if _alive(record):
        return False  # it let go of the lock and is finishing (its artifact, its final state)
    run_id = UUID(record.flow_run_id)
    message = f"The process running this night was killed; flow run {by!r} took the night over."
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(run_id)
        except ObjectNotFound:
            return False  # recorded by another Prefect server than this one
        if run.state is None or run.state.is_final():
            return False
        unfinished = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
            task_run_filter=TaskRunFilter(
                state=TaskRunFilterState(
                    type=TaskRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING, StateType.SCHEDULED])
                )
            ),
        )
        for task_run in unfinished:
            client.set_task_run_state(task_run.id, Crashed(message=message), force=True)
        client.set_flow_run_state(run_id, Crashed(message=message), force=True)
    return True


def take_over(db: Path, flow_run_id: str, flow_run_name: str) -> RunRecord | None:
    """Under the run lock: close the previous night's run if it was killed, then record this one.
    Returns the record of the run that was closed, or None."""
    previous = read_record(db)
    closed = None
    if previous is not None and previous.flow_run_id != flow_run_id and close_killed(previous, flow_run_name):
        closed = previous
    write_record(db, flow_run_id, flow_run_name)
    return closed
