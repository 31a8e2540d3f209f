"""Dependencies point inward: tracker ← reports ← jobs ← dashboards ← tracker_cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "tracker": {"tracker"},
    "reports": {"tracker", "reports"},
    "jobs": {"tracker", "reports", "jobs"},
    "dashboards": {"tracker", "reports", "jobs", "dashboards"},
}
LAYERS = {"tracker", "reports", "jobs", "dashboards", "tracker_cli"}


def imported_layers(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & LAYERS
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_inner_layers(layer: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in (ROOT / layer).rglob("*.py")
        if (bad := imported_layers(path) - ALLOWED[layer])
    }
    assert offenders == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from dashboards.app import create_app\nimport tracker.models\n", encoding="utf-8")
    assert imported_layers(module) == {"dashboards", "tracker"}
