"""Dependencies point inward: tracker ← reports ← jobs ← dashboards ← tracker_cli, and inside
``tracker`` each capability package imports only the packages below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


# Inside tracker: what each capability package may import (besides itself). Each package's docstring
# says the same in words.
BASE = {"core", "models", "audit", "access", "review"}
PACKAGES = {
    "core": set(),
    "models": {"core"},
    "catalogue": {"core", "models"},
    "migrations": {"core", "models", "catalogue"},
    "audit": {"core", "models"},
    "access": {"core", "models", "audit"},
    "review": {"core", "models", "audit", "access"},
    "delivery": BASE,
    "lifecycle": BASE | {"delivery"},
    "flags": BASE | {"delivery"},
    "progress": BASE | {"delivery", "lifecycle", "flags"},
    "claims": BASE | {"catalogue", "delivery", "lifecycle", "flags"},
    "uploads": BASE | {"lifecycle", "progress"},
    "monitoring": BASE | {"catalogue", "delivery", "lifecycle", "flags", "progress", "claims", "uploads"},
    "demo": BASE
    | {"catalogue", "delivery", "lifecycle", "flags", "progress", "claims", "uploads", "monitoring"},
}


def imported_packages(path: Path) -> set[str]:
    """The tracker packages a module imports (``tracker.X...`` → X), at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "tracker" else [f"tracker.{a.name}" for a in node.names]
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith("tracker.")}
    return found


def test_tracker_has_no_loose_modules() -> None:
    """Every module lives in a capability package: a newcomer finds a rule by its folder."""
    loose = sorted(p.name for p in (ROOT / "tracker").glob("*.py") if p.name != "__init__.py")
    assert loose == []
    packages = {p.name for p in (ROOT / "tracker").iterdir() if (p / "__init__.py").exists()}
    assert packages - {"migrations"} == set(PACKAGES) - {"migrations"}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_imports_only_the_packages_below_it(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in (ROOT / "tracker" / package).rglob("*.py")
        if (bad := imported_packages(path) - PACKAGES[package] - {package})
    }
    assert offenders == {}


def test_every_package_says_what_it_may_import() -> None:
    for package in set(PACKAGES) - {"migrations"}:
        doc = ast.get_docstring(
            ast.parse((ROOT / "tracker" / package / "__init__.py").read_text(encoding="utf-8"))
        )
        assert doc and "May import" in doc, package


def test_the_package_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text(
        "from tracker.monitoring.figures import scope_figures\nfrom tracker import claims\n", encoding="utf-8"
    )
    assert imported_packages(module) == {"monitoring", "claims"}
