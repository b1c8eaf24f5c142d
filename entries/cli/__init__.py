"""The `entries` command line (docs/architecture.md §5).

Exit codes: 0 success, 1 a refused file or broken data, 2 a usage error. Errors are one clear line on
stderr (problem lists follow it, one line each); no traceback reaches the operator.

`main` is the console script (`entries = "entries.cli:main"`) and the one last guard: stdout is
the command's own while it runs (`entries.cli.stdout`: a library's print goes to stderr). The command
tree is in `parser`, and each command's handler in the module of its kind (`intake`, `money`,
`store_admin`, `portal`, `records`, `review`, `catalogue`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from entries.cli.parser import build_parser
from entries.cli.stdout import command_stdout
from entries.core import crash
from entries.core.errors import EntriesError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        with command_stdout():  # stdout is the command's: a library's print goes to stderr
            args = build_parser().parse_args(argv)
            return args.handler(args)
    except EntriesError as exc:
        print(f"entries: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("entries: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the last guard: never a traceback, never a cell's text
        parsed = locals().get("args")
        doing = f"entries {getattr(parsed, 'command', '')}".strip()
        from entries.core.faults import machine_fault

        fault = machine_fault(exc)
        if fault is not None:  # the machine, in words: no log to write on a full disk
            print(f"entries: error: {doing} stopped: {fault}", file=sys.stderr)
            return 1
        log = crash.record(exc, doing, crash.log_dir(getattr(parsed, "db", None)))
        print(f"entries: error: {crash.one_line(exc, doing, log)}", file=sys.stderr)
        return 1
