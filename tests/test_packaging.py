"""`pip install .` alone must give a `helpers` that imports: pyproject lists what it needs."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "helpers"


def module_level_imports(path: Path) -> set[str]:
    """Top-level names imported when the module loads (not inside functions or try blocks)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_pyproject_lists_every_third_party_import_of_helpers() -> None:
    imported = set().union(*(module_level_imports(p) for p in PACKAGE.rglob("*.py")))
    third_party = imported - set(sys.stdlib_module_names) - {"__future__", "helpers"}
    distributions = packages_distributions()
    needed = {distributions[name][0].lower() for name in third_party}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert needed <= {d.lower() for d in declared}, sorted(needed)
