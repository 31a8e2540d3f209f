"""Size and shape of the code, for the refactor's before/after (issue 19): module lengths, function
lengths (median, p90, max), functions over McCabe complexity 10, and the share of signatures that
use ``Any``, per package.

    .venv/bin/python scripts/code_stats.py             # the five packages, migrations excluded
    .venv/bin/python scripts/code_stats.py --json OUT  # the same figures as JSON

Counts come from Python's own ``ast``: a module's length is its physical lines; a function's is
from its ``def`` (decorators excluded) to its last line, nested functions counted on their own too.
Complexity is McCabe's as ruff's C901 counts it (ruff is asked, so there is one definition).
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tracker", "dashboards", "jobs", "reports", "tracker_cli")
SKIP = ("migrations",)
LONG_MODULE = 400
COMPLEX = 10


@dataclass(frozen=True)
class Function:
    module: str
    name: str
    line: int
    length: int
    complexity: int
    uses_any: bool


def complex_functions() -> dict[tuple[str, int], int]:
    """(module, line) → McCabe complexity of each function over COMPLEX, as ruff's C901 counts it
    (one definition of complexity: the linter's)."""
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run(
        [str(ruff), "check", "--select", "C901", "--config", f"lint.mccabe.max-complexity={COMPLEX}",
         "--output-format", "json", "--exit-zero", "--no-cache", *PACKAGES],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = {}
    for item in json.loads(out):
        score = int(item["message"].rsplit("(", 1)[1].split(" ")[0])
        found[(str(Path(item["filename"]).resolve().relative_to(ROOT)), item["location"]["row"])] = score
    return found


def _uses_any(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    annotations = [a.annotation for a in (*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs)]
    annotations += [node.args.vararg.annotation if node.args.vararg else None,
                    node.args.kwarg.annotation if node.args.kwarg else None, node.returns]  # fmt: skip
    return any(
        isinstance(n, ast.Name) and n.id == "Any" for a in annotations if a is not None for n in ast.walk(a)
    )


def functions(path: Path, complexity: dict[tuple[str, int], int]) -> list[Function]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = str(path.relative_to(ROOT))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            found.append(
                Function(
                    module,
                    node.name,
                    node.lineno,
                    length,
                    complexity.get((module, node.lineno), 0),
                    _uses_any(node),
                )
            )
    return found


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if not any(part in SKIP for part in p.parts))


def _p90(values: list[int]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else float(values[0] if values else 0)


def stats() -> dict[str, object]:
    report: dict[str, object] = {}
    every: list[Function] = []
    complexity = complex_functions()
    for package in PACKAGES:
        paths = modules(package)
        lines = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in paths}
        found = [f for p in paths for f in functions(p, complexity)]
        every += found
        lengths = [f.length for f in found]
        report[package] = {
            "modules": len(paths),
            "long_modules": {m: n for m, n in sorted(lines.items(), key=lambda i: -i[1]) if n > LONG_MODULE},
            "functions": len(found),
            "length_median": statistics.median(lengths) if lengths else 0,
            "length_p90": _p90(lengths),
            "length_max": max(lengths, default=0),
            "complex": [
                f"{f.module}:{f.line} {f.name} ({f.complexity})" for f in found if f.complexity > COMPLEX
            ],
            "signatures_with_any": round(100 * sum(f.uses_any for f in found) / len(found), 1)
            if found
            else 0,
        }
    lengths = [f.length for f in every]
    report["all"] = {
        "functions": len(every), "length_median": statistics.median(lengths), "length_p90": _p90(lengths),
        "length_max": max(lengths), "longest": asdict(max(every, key=lambda f: f.length)),
        "complex": sum(f.complexity > COMPLEX for f in every),
        "signatures_with_any": round(100 * sum(f.uses_any for f in every) / len(every), 1),
    }  # fmt: skip
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this file")
    args = parser.parse_args()
    report = stats()
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    for package in PACKAGES:
        r = report[package]
        assert isinstance(r, dict)
        print(f"{package:12} {r['modules']:3} modules, {len(r['long_modules'])} over {LONG_MODULE} lines; "
              f"{r['functions']:4} functions, length median {r['length_median']}, p90 {r['length_p90']:.0f}, "
              f"max {r['length_max']}; complexity > {COMPLEX}: {len(r['complex'])}; "
              f"signatures with Any {r['signatures_with_any']}%")  # fmt: skip
        for module, count in r["long_modules"].items():
            print(f"{'':14}{module}: {count} lines")
    a = report["all"]
    assert isinstance(a, dict)
    print(f"{'all':12} {a['functions']} functions, length median {a['length_median']}, p90 {a['length_p90']:.0f}, "
          f"max {a['length_max']} ({a['longest']['module']}:{a['longest']['line']} {a['longest']['name']}); "
          f"complexity > {COMPLEX}: {a['complex']}; signatures with Any {a['signatures_with_any']}%")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
