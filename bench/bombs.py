"""Benchmark: how fast, and in how much memory, each workbook import refuses a spreadsheet bomb.

Run:  .venv/bin/python -m bench.bombs [--runs 5]
Builds the three bombs of tests/core/test_spreadsheet_bombs.py (3 million cells in about 200 KB; 70 MiB
of shared strings; a sheet declaring a million rows) and times ``tracker.core.spreadsheets.open_workbook``
with each import's limits (the forms' and the claims registry's), in a fresh process per
measurement: the peak resident memory's growth during the refusal and the peak of Python's
allocations (tracemalloc) while it ran. Prints medians; results are in
docs/PERFORMANCE.md. Not a test: timings vary between machines.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time, tracemalloc
from tracker.lifecycle.applications import ValidationFailed
from tracker.core.spreadsheets import BULK, FORMS, open_workbook
content = open(sys.argv[1], "rb").read()
limits = {"forms": FORMS, "claims": BULK}[sys.argv[2]]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
start = time.perf_counter()
try:
    open_workbook(content, limits, read_only=sys.argv[2] == "claims")
    refused = False
except ValidationFailed:
    refused = True
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"refused": refused, "seconds": seconds, "extra_mib": (after - before) / 1024,
                  "python_peak_mib": peak / 2**20}))
"""


def main() -> int:
    from tests.core.test_spreadsheet_bombs import bombs

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    files = bombs.__wrapped__()  # the fixture's builder
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; {args.runs} runs each"
    )
    with tempfile.TemporaryDirectory() as folder:
        for kind, content in files.items():
            path = Path(folder) / f"{kind}.xlsx"
            path.write_bytes(content)
            for limits in ("forms", "claims"):
                results = [json.loads(subprocess.run([sys.executable, "-c", CHILD, str(path), limits], check=True,
                                                     capture_output=True, text=True).stdout) for _ in range(args.runs)]  # fmt: skip
                assert all(r["refused"] for r in results), (kind, limits)
                print(f"{kind:9} {len(content) / 1024:8.0f} KB  {limits:6}  refused in "
                      f"{statistics.median(r['seconds'] for r in results) * 1000:7.1f} ms (max "
                      f"{max(r['seconds'] for r in results) * 1000:.1f}), peak RSS +"
                      f"{max(r['extra_mib'] for r in results):5.1f} MiB, Python allocations peak "
                      f"{max(r['python_peak_mib'] for r in results):5.1f} MiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
