"""The Prefect API the flows report to: the configured server, or a temporary local one.

Prefect 3 runs a flow only against an API. With no `PREFECT_API_URL`, it starts a temporary server
the first time a flow runs, and gives up after its own start-up time-out (20 s by default), which
a loaded 2-core machine can exceed. `ensure_api` starts that server up front with the project's
time-out, so a failure is one clear line before anything is claimed, never a traceback mid-run.
"""

from __future__ import annotations

import os

from entries.core.errors import EntriesError

# Measured on this 2-core machine with both cores busy: see README "Prefect". Override with
# ENTRIES_PREFECT_START_SECONDS.
DEFAULT_START_SECONDS = 90


def start_seconds() -> int:
    """How long to wait for a temporary Prefect API to answer."""
    return int(os.environ.get("ENTRIES_PREFECT_START_SECONDS") or DEFAULT_START_SECONDS)


def ensure_api(timeout_seconds: int | None = None) -> str:
    """The API URL the flows will use, starting a temporary local API when none is configured.

    Raises EntriesError (one line: what happened and what to do) when no API can be had."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    configured = PREFECT_API_URL.value()
    if configured:
        return str(configured)
    if not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        raise EntriesError("no Prefect API: set PREFECT_API_URL to a running Prefect server, or run with --in-process")
    from prefect.server.api.server import SubprocessASGIServer

    timeout = timeout_seconds or start_seconds()
    server = SubprocessASGIServer()  # the one instance the flows' client will reuse
    try:
        server.start(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - Prefect raises RuntimeError with the server's output: not shown
        raise EntriesError(
            f"the temporary Prefect API did not start within {timeout} s ({type(exc).__name__}); nothing was "
            "imported. Run again with --in-process, or set PREFECT_API_URL to a running Prefect server "
            "(ENTRIES_PREFECT_START_SECONDS waits longer)"
        ) from None
    return server.api_url
