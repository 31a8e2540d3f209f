"""Claims at national scale: import and full-scan throughput (issue 5, docs/PERFORMANCE.md).

Run:  .venv/bin/python -m bench.claims [--claims 1000000] [--runs 3] [--backend sqlite|postgresql|both]

Generates a synthetic exchange file (tracker.claims.synth: realistic values around each product's
benchmark, 5% of claims with a planted problem; cached under var/bench/), then for each run and
backend: a fresh database (a temporary SQLite file; a PostgreSQL database on 127.0.0.1 created and
dropped), the catalogue, and times
  import  tracker.claims.registry.import_claims of the whole file, committed (claims/s);
  scan    tracker.claims.scan.scan_claims over all current versions, storing every flag, committed;
  rescan  the same scan again (nothing new: every flag seen again).
Prints each run and the medians. Targets on the 2-core machine: import >= 50,000 claims/s, a full
scan of 1,000,000 claims <= 20 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, select, text

import tracker.audit.trail  # noqa: F401  (audit hooks)
from tracker.access.accounts import create_user
from tracker.catalogue import load_catalogue
from tracker.claims.registry import import_claims
from tracker.claims.scan import scan_claims
from tracker.claims.synth import generate, to_csv
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.migrate import upgrade_database
from tracker.models import Role, User

CACHE = Path(__file__).resolve().parents[1] / "var" / "bench"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1"


def claims_file(count: int) -> Path:
    path = CACHE / f"claims_{count}.csv"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        frame = generate(count, seed=2025)
        to_csv(frame, path)
        frame[["claim_id", "issue"]].to_csv(path.with_suffix(".labels.csv"), index=False)
    return path


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def one_run(backend: str, path: Path) -> dict[str, float]:
    content = path.read_bytes()
    with fresh_database(backend) as url:
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with transaction(factory, actor="bench") as session:
            load_catalogue(session)
            create_user(session, username="bench", display_name="bench", role=Role.PROVINCE_STAFF,
                        password="Bench-2025-cfp")  # fmt: skip

        def run_import() -> None:
            with transaction(factory, actor="bench") as session:
                user = session.scalars(select(User).where(User.username == "bench")).one()
                result = import_claims(session, user, content, path.name)
                assert result.new > 0

        def run_scan() -> None:
            with transaction(factory, actor="bench") as session:
                scan_claims(session, now=dt.datetime.now(dt.UTC))

        figures = {"import": seconds(run_import), "scan": seconds(run_scan), "rescan": seconds(run_scan)}
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    path = claims_file(args.claims)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        runs = []
        for number in range(1, args.runs + 1):
            figures = one_run(backend, path)
            runs.append(figures)
            print(f"{backend} run {number}: import {figures['import']:.1f} s "
                  f"({args.claims / figures['import']:,.0f} claims/s), scan {figures['scan']:.1f} s, "
                  f"rescan {figures['rescan']:.1f} s", flush=True)  # fmt: skip
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(f"{backend} median of {args.runs}: import {median['import']:.1f} s "
              f"({args.claims / median['import']:,.0f} claims/s), scan {median['scan']:.1f} s, "
              f"rescan {median['rescan']:.1f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
