"""Dependencies point inward: tracker ← reports ← jobs ← dashboards ← tracker_cli, inside
``tracker`` each capability package imports only the packages below it, and inside ``jobs`` each
module only the modules below it (the work never imports the registry)."""

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


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports, at any depth (``from tracker import claims`` → tracker.claims)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            package = node.module in ("tracker", "jobs")  # `from tracker import claims` names a package
            found |= {f"{node.module}.{a.name}" for a in node.names} if package else {node.module}
    return found


def imported_layers(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)} & LAYERS


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
    "ops": {"core", "models", "audit"},
    "demo": BASE
    | {"catalogue", "delivery", "lifecycle", "flags", "progress", "claims", "uploads", "monitoring"},
}


def imported_packages(path: Path) -> set[str]:
    """The tracker packages a module imports (``tracker.X...`` → X), at any depth of the file."""
    return {name.split(".")[1] for name in imported_modules(path) if name.startswith("tracker.")}


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


# Inside jobs: what each module may import of jobs (besides itself). The work (a job's module) is
# handed a jobs.context.JobContext and never imports the registry, the runner or the process; the
# registry (schedule) imports the work; the runner runs a registered job; control (the dashboard's
# requests) runs through the runner; the scheduler process uses them all.
WORK = {"flag_notice", "flag_scan", "reminders", "bulletins", "audit_verify"}
JOB_MODULES = {
    "__init__": set(),
    "context": set(),
    "flag_notice": {"context"},
    "flag_scan": {"context", "flag_notice"},
    "reminders": {"context"},
    "bulletins": {"context"},
    "audit_verify": {"context"},
    "schedule": {"context"} | WORK,
    "runner": {"context", "schedule"},
    "control": {"schedule", "runner", "bulletins"},
    "scheduler": {"schedule", "runner", "control"},
}


def imported_job_modules(path: Path) -> set[str]:
    """The jobs modules a module imports (``jobs.X`` → X; ``from jobs import X`` → X), at any depth of
    the file (an import inside a function counts: it is how a cycle hides)."""
    return {name.split(".")[1] for name in imported_modules(path) if name.startswith("jobs.")}


def test_every_jobs_module_has_a_place() -> None:
    assert {p.stem for p in (ROOT / "jobs").glob("*.py")} == set(JOB_MODULES)


def test_jobs_modules_import_only_the_modules_below_them() -> None:
    offenders = {
        path.stem: sorted(bad)
        for path in (ROOT / "jobs").glob("*.py")
        if (bad := imported_job_modules(path) - JOB_MODULES[path.stem] - {path.stem})
    }
    assert offenders == {}


def test_the_jobs_rule_has_no_cycle() -> None:
    """Each module's allowed imports are strictly below it: an order exists (so no two modules may
    import each other, however the table is edited)."""
    placed: list[str] = []
    waiting = dict(JOB_MODULES)
    while waiting:
        ready = sorted(m for m, below in waiting.items() if below <= set(placed))
        assert ready, f"a cycle among {sorted(waiting)}"
        placed += ready
        for module in ready:
            del waiting[module]


def test_only_the_registry_side_imports_the_schedule() -> None:
    """No job's work imports jobs.schedule: only the runner, control and the scheduler process do."""
    assert {m for m, below in JOB_MODULES.items() if "schedule" in below} == {
        "runner",
        "control",
        "scheduler",
    }


def test_the_jobs_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bulletins.py"
    module.write_text(
        "from jobs.context import JobContext\n\n\ndef late():\n    from jobs.schedule import JOBS\n"
        "    from jobs import scheduler\n",
        encoding="utf-8",
    )
    found = imported_job_modules(module)
    assert found == {"context", "schedule", "scheduler"}
    assert found - JOB_MODULES["bulletins"] == {"schedule", "scheduler"}
