"""Stdout is the command's own: what a library prints goes to stderr.

`command_stdout()` is entered once, by `entries.cli.main`, around every command. While it is in
force `sys.stdout` is a `CommandStdout`: text written by code of `entries.cli` (a command's
`print`, its `--json` document, argparse's help on the command's behalf) reaches the real stdout;
text any other code writes there (openpyxl prints "0 is out of range" while loading some
workbooks, and a library may print anything) goes to stderr instead. So `--json` is always exactly
one JSON document, whatever a library does while the command runs.

Who wrote is read from the call stack: the first frame outside the standard library (print,
argparse, json and the like write on someone's behalf) decides.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

_COMMAND_PACKAGE = "entries.cli"


def _written_by_the_command() -> bool:
    """True when the code that asked for the write (past standard library frames) is `entries.cli`."""
    frame = sys._getframe(2)  # the caller of CommandStdout.write
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name.split(".", 1)[0] not in sys.stdlib_module_names:
            return name == _COMMAND_PACKAGE or name.startswith(_COMMAND_PACKAGE + ".")
        frame = frame.f_back  # type: ignore[assignment]
    return False


class CommandStdout:
    """A stand-in for `sys.stdout`: the command's writes to `own`, everyone else's to `other`."""

    def __init__(self, own: TextIO, other: TextIO) -> None:
        self.own = own
        self.other = other

    def write(self, text: str) -> int:
        return (self.own if _written_by_the_command() else self.other).write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.own.flush()
        self.other.flush()

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding, buffer: the real stdout's
        return getattr(self.own, name)


@contextlib.contextmanager
def command_stdout() -> Iterator[None]:
    """Route library writes to stderr while a command runs; `sys.stdout` is put back after."""
    real = sys.stdout
    sys.stdout = CommandStdout(real, sys.stderr)
    try:
        yield
    finally:
        sys.stdout = real
