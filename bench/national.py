"""National scale: build the database of a national roll-out, then time the dashboard callbacks.

Run:  .venv/bin/python -m bench.national [--backend sqlite|postgresql|both] [--runs 30] [--keep]
      .venv/bin/python -m bench.national --pilots 2000 --claims 100000   # a smaller build to try it

The build (seeded, so every run measures the same data), in a fresh database (a temporary SQLite
file; a PostgreSQL database on 127.0.0.1, created and dropped):
  31 provinces, 300 cities (Shanxi's 11 from the catalogue, the rest generated);
  10,000 pilots spread over the cities, each with the 5 standard-shaped tasks and 3 milestones;
  120,000 monthly updates (12 a pilot from its start, most accepted) with a figure for every task;
  1,000,000 carbon-label claims imported through tracker.claims.registry (the file of bench.claims);
  50,000 flags.
Rows are written with bulk inserts (the generator is not the system under test); the claims go
through the real importer.

Then, through the Flask test client exactly as the browser posts them, the server time of
  overview      the 概览 callback (every figure) as the Shanxi admin: no filter, one city, one product;
                as a city user (长治);
  pilot page    the page callback of /pilot?id=N for pilots drawn at random, as the admin and the city;
  registry      the 试点名录 grid as the admin.
Each is called --runs times with the data unchanged, the result cache (dashboards/cache.py) emptied
before each call so every call computes; the overview kinds are then timed again as served from
that cache ("cached"). The first call of a kind is also reported on its own (cold). Prints medians
and p95 in ms; results go in docs/PERFORMANCE.md.
Targets (2 cores): p95 <= 150 ms on the overview and the pilot page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

import tracker.audit.trail  # noqa: F401  (audit hooks)
from bench.claims import claims_file, fresh_database
from dashboards import cache
from dashboards.app import create_app
from tests.conftest import make_settings
from tests.web import call_callback, login
from tracker.access.accounts import create_user
from tracker.catalogue import load_catalogue
from tracker.claims.registry import import_claims
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.migrate import upgrade_database
from tracker.models import (
    Batch,
    City,
    Flag,
    FlagStatus,
    Milestone,
    Organisation,
    OrganisationKind,
    Pilot,
    PilotCategory,
    PilotStatus,
    Product,
    ProgressUpdate,
    Province,
    Role,
    Severity,
    Task,
    TaskProgress,
    UpdateStatus,
    User,
)
from tracker_cli.serve import freeze_startup_heap

PASSWORD = "Bench-2025-cfp"
TASKS = [("1", "参与国家产品碳足迹规则制定", 0, 4), ("2", "开展特定产品碳足迹标准制定", 1, 7),
         ("3.1", "开展产品碳足迹数据采集", 2, 9), ("3.2", "开展产品碳足迹核算", 4, 11),
         ("4", "推动碳足迹标识认证与应用", 6, 12)]  # fmt: skip
RULES = ["PROGRESS_BACKWARDS", "DONE_WITHOUT_EVIDENCE", "TOTAL_NOT_SUM", "BELOW_FLOOR", "COPIED_FIGURES"]


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def build(url: str, *, pilots: int, cities: int, provinces: int, updates: int, claims: int, flags: int,
          seed: int = 2025) -> dict[str, float]:  # fmt: skip
    """Fill a fresh database; returns the seconds each part took."""
    rng = random.Random(seed)
    took: dict[str, float] = {}
    upgrade_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    start = time.perf_counter()
    with transaction(factory, actor="bench") as session:
        load_catalogue(session)
        shanxi = session.scalars(select(Province).where(Province.code == "140000")).one()
        create_user(session, username="bench_admin", display_name="bench", role=Role.PROVINCE_ADMIN,
                    password=PASSWORD)  # fmt: skip
        create_user(session, username="bench_city", display_name="bench", role=Role.CITY_STAFF,
                    password=PASSWORD, city="140400")  # fmt: skip
        create_user(session, username="bench_staff", display_name="bench", role=Role.PROVINCE_STAFF,
                    password=PASSWORD)  # fmt: skip
        for n in range(1, provinces):
            session.add(Province(code=f"{500000 + n * 1000}", name_zh=f"基准省{n:02d}", short_zh=f"基{n:02d}",
                                 name_en=f"Bench {n:02d}"))  # fmt: skip
        session.flush()
        others = list(session.scalars(select(Province).where(Province.id != shanxi.id).order_by(Province.id)))
        have = session.scalar(select(func.count(City.id))) or 0
        rows = [{"province_id": others[i % len(others)].id, "code": f"{600000 + i}", "name_zh": f"基准市{i:03d}",
                 "short_zh": f"基{i:03d}", "name_en": f"Bench city {i:03d}", "phone_area_code": "0000"}
                for i in range(cities - have)]  # fmt: skip
        session.execute(insert(City), rows)
    with transaction(factory, actor="bench") as session:
        city_rows = session.execute(select(City.id, City.province_id)).all()
        products = list(session.scalars(select(Product.id)))
        batches = {b.province_id: b.id for b in session.scalars(select(Batch))}
        batch_id = next(iter(batches.values()))
        # Organisations and pilots, spread evenly over the cities.
        session.execute(insert(Organisation), [
            {"name": f"基准企业{i:05d}有限公司", "city_id": city_rows[i % len(city_rows)].id,
             "kind": OrganisationKind.ENTERPRISE} for i in range(pilots)])  # fmt: skip
        orgs = session.execute(select(Organisation.id, Organisation.city_id).order_by(Organisation.id)).all()
        pilot_rows = []
        for i, org in enumerate(orgs):
            begin = add_months(dt.date(2025, 9, 1), rng.randrange(0, 10))
            status = rng.choices([PilotStatus.IN_IMPLEMENTATION, PilotStatus.EXTENDED, PilotStatus.WITHDRAWN,
                                  PilotStatus.COMPLETED], [85, 6, 3, 6])[0]  # fmt: skip
            pilot_rows.append({"organisation_id": org.id, "city_id": org.city_id, "batch_id": batch_id,
                               "category": PilotCategory.PRODUCT, "product_id": rng.choice(products),
                               "name": f"基准企业{i:05d}碳足迹试点", "status": status, "start_date": begin,
                               "end_date": dt.date(begin.year + 1, begin.month, 1) - dt.timedelta(days=1),
                               "published_on": begin, "version": 1})  # fmt: skip
        session.execute(insert(Pilot), pilot_rows)
        pilot_list = session.execute(select(Pilot.id, Pilot.start_date).order_by(Pilot.id)).all()
        session.execute(insert(Task), [
            {"pilot_id": p.id, "position": n, "number": number, "title": title, "weight": Decimal(1),
             "planned_start": add_months(p.start_date, first), "planned_end": add_months(p.start_date, last) - dt.timedelta(days=1)}
            for p in pilot_list for n, (number, title, first, last) in enumerate(TASKS, 1)])  # fmt: skip
        session.execute(insert(Milestone), [
            {"pilot_id": p.id, "title": title, "due_date": add_months(p.start_date, months) - dt.timedelta(days=1),
             "evidence_required": True, "achieved_on": None if rng.random() < 0.4 else add_months(p.start_date, months - 1)}
            for p in pilot_list for title, months in (("建成数据采集系统", 4), ("完成核算报告", 8), ("取得碳标识", 12))])  # fmt: skip
    took["pilots"] = time.perf_counter() - start

    start = time.perf_counter()
    with transaction(factory, actor="bench") as session:
        tasks: dict[int, list[int]] = {}
        for task_id, pilot_id in session.execute(select(Task.id, Task.pilot_id).order_by(Task.id)):
            tasks.setdefault(pilot_id, []).append(task_id)
        per_pilot = max(1, updates // len(pilot_list))
        update_rows = []
        for p in pilot_list:
            for month in range(per_pilot):
                begin = add_months(p.start_date, month)
                status = UpdateStatus.ACCEPTED if rng.random() < 0.92 else rng.choice(list(UpdateStatus))
                update_rows.append({"pilot_id": p.id, "period_start": begin,
                                    "period_end": add_months(begin, 1) - dt.timedelta(days=1), "status": status,
                                    "work_done": "按计划推进数据采集与核算", "is_late": rng.random() < 0.1,
                                    "submitted_at": dt.datetime(begin.year, begin.month, 3, tzinfo=dt.UTC)})  # fmt: skip
        for chunk in range(0, len(update_rows), 20_000):
            session.execute(insert(ProgressUpdate), update_rows[chunk : chunk + 20_000])
        figures = []
        for update_id, pilot_id, begin in session.execute(
            select(ProgressUpdate.id, ProgressUpdate.pilot_id, ProgressUpdate.period_start).order_by(ProgressUpdate.id)
        ):  # fmt: skip
            months = (begin.year - 2025) * 12 + begin.month
            for n, task_id in enumerate(tasks[pilot_id]):
                figures.append({"update_id": update_id, "task_id": task_id,
                                "percent": Decimal(min(100, max(0, months * 8 - n * 10 + rng.randrange(-5, 6))))})  # fmt: skip
        for chunk in range(0, len(figures), 50_000):
            session.execute(insert(TaskProgress), figures[chunk : chunk + 50_000])
    took["updates"] = time.perf_counter() - start

    start = time.perf_counter()
    if claims:
        with transaction(factory, actor="bench") as session:
            user = session.scalars(select(User).where(User.username == "bench_staff")).one()
            path = claims_file(claims)
            import_claims(session, user, path.read_bytes(), path.name)
    took["claims"] = time.perf_counter() - start

    start = time.perf_counter()
    with transaction(factory, actor="bench") as session:
        city_of = {pid: cid for pid, cid in session.execute(select(Pilot.id, Pilot.city_id))}
        ids = list(city_of)
        now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        rows = [{"fingerprint": f"bench-{n:06d}", "rule_id": rng.choice(RULES),
                 "severity": rng.choice(list(Severity)), "subject_type": "update", "subject_id": n,
                 "city_id": city_of[pid], "pilot_id": pid, "message_zh": "基准测试线索", "message_en": "bench flag",
                 "evidence": {}, "status": rng.choices(list(FlagStatus), [60, 10, 10, 10, 10])[0],
                 "first_seen": now, "last_seen": now} for n, pid in enumerate(rng.choices(ids, k=flags))]  # fmt: skip
        for chunk in range(0, len(rows), 20_000):
            session.execute(insert(Flag), rows[chunk : chunk + 20_000])
    took["flags"] = time.perf_counter() - start
    # Fresh bulk loads have no planner statistics yet; a running database gets them from autovacuum.
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()
    return took


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(url: str, runs: int, seed: int = 7) -> dict[str, tuple[float, float, float]]:
    """(cold, median, p95) in ms of each callback kind."""
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(url)
    factory = make_session_factory(engine)
    app = create_app(make_settings(url, folder), factory)
    with factory() as session:
        shanxi = session.scalars(select(Province).where(Province.code == "140000")).one()
        changzhi = session.scalars(select(City).where(City.code == "140400")).one()
        own = list(session.scalars(select(Pilot.id).join(Pilot.city).where(City.province_id == shanxi.id)))
        city_pilots = list(session.scalars(select(Pilot.id).where(Pilot.city_id == changzhi.id)))
        product = session.scalar(select(Pilot.product_id).where(Pilot.id == own[0]))
    clients = {}
    for name in ("bench_admin", "bench_city"):
        client = app.server.test_client()
        assert login(client, name, PASSWORD).status_code == 302
        clients[name] = client

    def page(client: Any, path: str, search: str) -> Callable[[], None]:
        def call() -> None:
            answer = call_callback(client, app, "_pages_content", {"_pages_location.pathname": path,
                                                                  "_pages_location.search": search})  # fmt: skip
            assert answer.status_code == 200, answer.status_code

        return call

    def callback(client: Any, output: str, values: dict[str, Any]) -> Callable[[], None]:
        def call() -> None:
            answer = call_callback(client, app, output, values)
            assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
            json.loads(answer.get_data(as_text=True))

        return call

    kinds: dict[str, Callable[[], Callable[[], None]]] = {
        "overview, admin, whole province": lambda: callback(clients["bench_admin"], "ov-cards", {}),
        "overview, admin, one city": lambda: callback(
            clients["bench_admin"], "ov-cards", {"ov-city": [changzhi.id]}
        ),
        "overview, admin, one product": lambda: callback(
            clients["bench_admin"], "ov-cards", {"ov-product": [product]}
        ),
        "overview, city user": lambda: callback(clients["bench_city"], "ov-cards", {}),
        "pilot page, admin": lambda: page(clients["bench_admin"], "/pilot", f"?id={rng.choice(own)}"),
        "pilot page, city user": lambda: page(
            clients["bench_city"], "/pilot", f"?id={rng.choice(city_pilots)}"
        ),
        "registry grid, admin": lambda: callback(clients["bench_admin"], "registry-grid", {}),
    }
    freeze_startup_heap(None)  # as each worker of `tracker serve` does once it has built the app
    results = {}
    # Each kind computed every time (the cache emptied before each call), and the overview kinds also as
    # served while the data is unchanged (dashboards/cache.py: keyed on the audit trail's last id).
    runs_of = [(kind, make, True) for kind, make in kinds.items()]
    runs_of += [
        (f"{kind} (cached)", make, False) for kind, make in kinds.items() if kind.startswith("overview")
    ]
    for kind, make, computed in runs_of:
        samples = []
        for _ in range(runs + 1):
            action = make()
            if computed:
                cache.clear()
            begin = time.perf_counter()
            action()
            samples.append((time.perf_counter() - begin) * 1000)
        cold, warm = samples[0], samples[1:]
        results[kind] = (cold, statistics.median(warm), p95(warm))
        print(f"  {kind:43} cold {cold:8.1f} ms   median {statistics.median(warm):7.1f} ms   "
              f"p95 {p95(warm):7.1f} ms   (n={len(warm)})", flush=True)  # fmt: skip
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pilots", type=int, default=10_000)
    parser.add_argument("--cities", type=int, default=300)
    parser.add_argument("--provinces", type=int, default=31)
    parser.add_argument("--updates", type=int, default=120_000)
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--flags", type=int, default=50_000)
    parser.add_argument("--measure", metavar="URL", help="only time the callbacks on this built database")
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.runs)
        return
    print(f"{platform.processor() or platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}", flush=True)  # fmt: skip
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        with fresh_database(backend) as url:
            took = build(url, pilots=args.pilots, cities=args.cities, provinces=args.provinces,
                         updates=args.updates, claims=args.claims, flags=args.flags)  # fmt: skip
            print(f"{backend}: built in " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()), flush=True)
            # Measured in a fresh process, as a web worker would serve it: the build's heap (a
            # million claims went through pandas here) would otherwise slow every garbage collection.
            subprocess.run([sys.executable, "-m", "bench.national", "--measure", url, "--runs", str(args.runs)],
                           check=True)  # fmt: skip


if __name__ == "__main__":
    main()
