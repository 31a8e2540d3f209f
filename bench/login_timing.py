"""Benchmark: a login with an unknown user name against one with a wrong password (issue 20: their
times within 20% of each other, so timing does not tell which accounts exist).

Run:  .venv/bin/python -m bench.login_timing [--runs 15]
A temporary SQLite database with one account; the app through Flask's test client, each attempt
from its own address (no throttling in the way). Prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import tracker.audit.trail  # noqa: F401
from dashboards.app import create_app
from tests.conftest import initialise, make_settings
from tests.factories import Factory
from tests.web import login
from tracker.core.db import make_engine, make_session_factory
from tracker.models import Role


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'timing.sqlite3'}"
        initialise(url)
        factory = make_session_factory(make_engine(url))
        with factory() as session:
            Factory(session).user(Role.LEADER, None, username="real-user")
            session.commit()
        app = create_app(make_settings(url, Path(folder)), factory)
        times: dict[str, list[float]] = {"wrong password": [], "unknown name": []}
        for run in range(args.runs):
            for kind, name in (("wrong password", "real-user"), ("unknown name", f"nobody-{run}")):
                client = app.server.test_client()
                client.environ_base["REMOTE_ADDR"] = f"10.{run}.{len(kind)}.1"
                start = time.perf_counter()
                answer = login(client, name, password="Wrong-pass-2025")
                times[kind].append(time.perf_counter() - start)
                assert answer.status_code == 401, answer.status_code
    wrong, unknown = (statistics.median(times[k]) * 1000 for k in ("wrong password", "unknown name"))
    print(f"{args.runs} runs: wrong password {wrong:.0f} ms, unknown name {unknown:.0f} ms (median, "
          f"form fetch and post); unknown / wrong = {unknown / wrong:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
