"""The import contracts in pyproject.toml ([tool.importlinter], run by `make check`): the layers,
only the store importing duckdb, `entries` Prefect-free, no import circle.

The real tree keeps every contract; a copy of the tree with one planted import breaks the contract
it should, so the contracts are shown to fail, not only to pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the packages in `root` (its pyproject.toml), importing them from there."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-logo", "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the packages and pyproject.toml, for one planted import at a time."""
    root = tmp_path_factory.mktemp("tree")
    for package in ("entries", "schemas", "flows"):
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def planted(tree: Path, files: dict[str, str]):
    """Write `files` (path -> source) into the copy; returns a function that takes them out again."""
    written = []
    for name, source in files.items():
        path = tree / name
        assert not path.exists()
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        written.append(path)
    return lambda: [p.unlink() for p in written]


def test_the_tree_keeps_every_contract():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("files", "contracts"),
    [
        *[
            ({f"{layer}/planted_query.py": "import duckdb\n"}, {"The store owns its SQL"})
            for layer in ("entries/cli", "entries/web", "entries/pipeline", "entries/reports", "flows")
        ],
        # A lazy import inside a function counts as much as one at the top.
        (
            {"entries/reports/planted_lazy.py": "def later():\n    from duckdb import connect\n"},
            {"The store owns its SQL"},
        ),
        # An upward import also closes a circle: the layer above already imports this one.
        ({"entries/store/planted_up.py": "from entries.reports import confirmation\n"}, {"Layers", "No import circle"}),
        ({"entries/intake/planted_up.py": "from entries.checks import validate\n"}, {"Layers", "No import circle"}),
        ({"entries/core/planted_flow.py": "import prefect\n"}, {"entries and schemas stay Prefect-free"}),
        (
            {
                "entries/web/planted_a.py": "from entries.web import planted_b\n",
                "entries/web/planted_b.py": "from entries.web import planted_a\n",
            },
            {"No import circle"},
        ),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_a_planted_import_breaks_its_contract(tree, files, contracts):
    remove = planted(tree, files)
    try:
        done = lint(tree)
    finally:
        remove()
    assert done.returncode != 0
    broken = {line for line in done.stdout.splitlines() if line.endswith(" BROKEN")}
    # The planted import breaks these contracts and no other.
    assert {c for c in contracts for line in broken if line.startswith(c)} == contracts, done.stdout[-3000:]
    assert len(broken) == len(contracts), broken


def test_the_composition_root_may_start_flows(tree):
    remove = planted(tree, {"entries/cli/planted_start.py": "def go():\n    from flows.nightly import runner_for\n"})
    try:
        done = lint(tree)
    finally:
        remove()
    assert done.returncode == 0, done.stdout[-3000:]
