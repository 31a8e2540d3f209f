"""Benchmark: build the demo, then time the registry callback's server time per role.

Run:  .venv/bin/python -m bench.registry [--runs 15] [--database-url URL]
The database is created fresh (SQLite file under a temporary folder unless a URL is given, which
must point at an empty database). Prints medians and p95 in milliseconds; results are recorded
in docs/PERFORMANCE.md. Not a test: timings vary between machines.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

import tracker.audit.trail  # noqa: F401
from dashboards.app import create_app
from tests.conftest import make_settings
from tests.web import call_callback, login
from tracker.catalogue import load_catalogue
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.migrate import upgrade_database
from tracker.demo.province import DEMO_PASSWORD, build_demo
from tracker.models import User


def timed(func, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   (n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cfp-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, database: {url.split('://')[0]}")  # fmt: skip
    start = time.perf_counter()
    upgrade_database(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        load_catalogue(session)
    print(f"migrate + catalogue: {(time.perf_counter() - start) * 1000:.0f} ms")
    start = time.perf_counter()
    with transaction(factory) as session:
        build_demo(session)
    print(f"demo build: {(time.perf_counter() - start) * 1000:.0f} ms")
    app = create_app(make_settings(url, tmp), factory)
    with transaction(factory) as session:
        names = {"province_admin": "admin", "city_staff": "changzhi", "leader": "lingdao"}
        assert session.scalars(select(User.username)).all()
    for role, username in names.items():
        client = app.server.test_client()
        login(client, username, DEMO_PASSWORD)
        call = lambda c=client: call_callback(c, app, "registry-grid")  # noqa: E731
        assert call().status_code == 200
        print(f"registry callback as {role:<15} {summary(timed(call, args.runs))}")


if __name__ == "__main__":
    main()
