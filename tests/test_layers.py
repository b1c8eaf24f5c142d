"""The package's layers: imports point only down the pipeline, and `entries` stays Prefect-free.

cli -> web -> pipeline -> reports -> store -> checks -> schemas -> intake -> core. A module may import
its own layer and any layer below it; `entries.cli` is the composition root and may reach `flows`.
The contract is checked on the source text (every import, at any depth, lazy ones included), so it
needs nothing installed and fails the moment an upward import is written.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first. `schemas` is the top-level data dictionary: it may use identifiers from intake.
LAYERS = (
    "entries.core",
    "entries.intake",
    "schemas",
    "entries.checks",
    "entries.store",
    "entries.reports",
    "entries.pipeline",
    "entries.web",
    "entries.cli",
    "flows",
)
PREFECT_FREE = ("entries", "schemas")


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the layer `module` belongs to, or None for third-party modules."""
    for n, name in enumerate(LAYERS):
        if module == name or module.startswith(name + "."):
            return n
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in `source`, relative imports resolved."""
    found = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.append((node.lineno, base))
            # `from entries.store import database` imports entries.store.database
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(source: str, module: str) -> list[str]:
    """Every import in `module`'s `source` that points up the layers or brings Prefect into entries."""
    own = layer_of(module)
    problems = []
    for line, target in imports_of(source, module):
        if module.split(".")[0] in PREFECT_FREE and (target == "prefect" or target.startswith("prefect")):
            problems.append(f"{module}:{line} imports {target}: entries and schemas stay Prefect-free")
            continue
        theirs = layer_of(target)
        if own is None or theirs is None or theirs <= own:
            continue
        if LAYERS[own] == "entries.cli" and LAYERS[theirs] == "flows":
            continue  # the composition root (the entries.cli package) starts flows
        problems.append(f"{module}:{line} imports {target} ({LAYERS[theirs]} is above {LAYERS[own]})")
    return problems


def project_modules() -> list[tuple[str, Path]]:
    return sorted((module_name(p), p) for top in ("entries", "schemas", "flows") for p in (ROOT / top).rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    assert [m for m, _ in project_modules() if layer_of(m) is None and m not in ("entries", "entries.__init__")] == []


def test_imports_only_point_down_the_pipeline():
    problems = [p for module, path in project_modules() for p in violations(path.read_text(), module)]
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("entries.intake.reader", "from entries.checks.validate import Context"),
        ("entries.core.rules", "from entries.intake import uci"),
        ("entries.store.commit", "def later():\n    from entries.reports.confirmation import write_confirmation"),
        ("entries.checks.classify", "import entries.pipeline.hall"),
        ("entries.reports.invoice", "from ..pipeline import nightly"),
        ("schemas.upload", "from entries.store import database"),
        ("entries.store.database", "import prefect"),
    ],
)
def test_an_upward_import_is_caught(module, source):
    assert violations(textwrap.dedent(source), module) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("entries.pipeline.hall", "from entries.store.commit import commit"),
        ("entries.store.commit", "from entries.checks.classify import classify"),
        ("entries.cli", "def serve():\n    from flows.nightly import runner_for"),
        ("flows.nightly", "from prefect import flow\nfrom entries.pipeline import nightly"),
    ],
)
def test_a_downward_import_is_allowed(module, source):
    assert violations(textwrap.dedent(source), module) == []
