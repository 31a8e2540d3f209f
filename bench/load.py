"""Load: N logged-in sessions at once against a real `tracker serve` on the demo data (issue 17).

Run:  .venv/bin/python -m bench.load [--backend sqlite|postgresql|both] [--sessions 30] [--seconds 30]
                                     [--workers 4] [--runs 3] [--think 1.0] [--json OUT] [--profile DIR]

Each run, per backend:
  1. a fresh database (a temporary SQLite file; on PostgreSQL a new database on 127.0.0.1, dropped at
     the end) migrated and filled as `tracker init` and `tracker demo --no-serve` do (the catalogue,
     tracker.demo.province.build_demo, last month's bulletin), then, directly in the database, extra city
     accounts when there are more sessions than demo accounts, three accounts that only ever get
     wrong passwords, and an API token for every session's account;
  2. `tracker serve --host 127.0.0.1 --port <free> --workers W` as a subprocess with
     TRACKER_DATABASE_URL set, until /livez answers;
  3. every session logs in through the login form (CSRF token from the form, as a browser), reads the
     pilots its token may see, and loads each page once (warm-up, not measured); then for --seconds,
     each session repeats a random action, pausing a random 0–2×--think seconds between actions (mean
     --think, default 1 s: a busy user; --think 0 sends back to back and finds the saturation point):
       overview      open / as the browser does: on a full load (a quarter of the views: a first
                     visit, a refresh) the page (HTML, /_dash-layout, /_dash-dependencies: kind
                     "shell"), then, as on a navigation by the menu's links, POST
                     /_dash-update-component for the page content (the overview arrives with its
                     figures); timed: the callbacks;
       overview filter  the overview's filter callback (one city, or one status for a city user);
       registry      open /pilots the same way: page content, then the grid's initial callback (the
                     two callbacks timed together: what the reader waits for after the shell);
       pilot page    load /pilot?id=N (always a full load: the grids' and the overview's links to a
                     pilot are plain links) for a pilot the session may see;
       api read      GET /api/v1/pilots or /api/v1/pilots/{id} with the session's bearer token;
       save (api)    city accounts, each on a pilot of its own city that owes the period's update (no
                     two sessions share a pilot): GET the period's update (its version; an api read),
                     then PUT /api/v1/pilots/{id}/updates/{period} with that version; a 409 (changed
                     in between) is a domain answer, counted apart from errors;
       save (form)   the same writers through the update form: load /update-form?pilot=N&period=P
                     ("form page"), then POST its save callback with the version the page carried;
       login         log in again with the right password (302);
       login refused a wrong password for one of the three dedicated accounts (at most 7 tries each,
                     one at a time: 5 × 401, then 429), so the address stays under its limit of 20
                     failures and nobody else is locked out; 401 and 429 are the expected answers.
     The initial callbacks a page triggers are found as the Dash renderer finds them, from
     /_dash-dependencies: the server-side callbacks without prevent_initial_call whose inputs are all
     in the page (checked against Chromium's requests for /, /pilots and /pilot).
  4. the server is stopped and the database dropped, also on error or Ctrl-C.
Every loop stops by time and by count (--max-actions per session); every request has a 30 s timeout.
Only 127.0.0.1 is contacted.

Per kind: count, throughput, p50/p95/p99 latency in ms (measured by the client, queueing in the
server included: gunicorn's sync workers take one request each), errors (any 5xx, connection error
or timeout, and any other unexpected status) and the status codes seen; per run also all requests per second and the server's CPU time per request.
With --runs N, the median of the runs' figures (errors summed over runs). --profile DIR samples every
worker with py-spy during the window (`.venv/bin/pip install py-spy`; not a project dependency) and
prints the functions that took the most of it.
Targets on the 2-core machine: 30 sessions, 0 errors, p95 <= 300 ms for every read kind and
<= 500 ms for both saves. Results go in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, or_, select, text

import tracker.audit.trail  # noqa: F401  (audit hooks)
from bench.claims import fresh_database
from tracker.access import accounts
from tracker.core.clock import local_today
from tracker.core.config import get_settings
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.periods import reporting_period
from tracker.demo.province import DEMO_PASSWORD, build_demo
from tracker.models import City, Pilot, ProgressUpdate, Role, User
from tracker.progress.owed import owing_pilots_query
from tracker.progress.updates import EDITABLE
from tracker_cli.main import _demo_bulletin, initialise

ROOT = Path(__file__).resolve().parents[1]
TRACKER = Path(sys.executable).with_name("tracker")
HOST = "127.0.0.1"
TIMEOUT = 30.0
WRONG_ACCOUNTS = 3
# Per account: 5 failures (401) reach the per-user limit, then 429s; 3 × 5 failures stay under 20 per address.
WRONG_TRIES = 7
READS = ("shell", "overview", "overview filter", "registry", "pilot page", "api read", "form page")
SAVES = ("save (api)", "save (form)")
KINDS = (*READS, *SAVES, "login", "login refused")
READ_TARGET_MS, SAVE_TARGET_MS, TARGET_SESSIONS = 300.0, 500.0, 30
FULL_LOADS = 0.25  # the share of overview and registry views that load the whole page
# How often a session picks each action (saves only for sessions that own a pilot to write).
WEIGHTS = {"overview": 20, "overview filter": 5, "registry": 15, "pilot page": 20, "api read": 20,
           "save (api)": 8, "save (form)": 4, "login": 2, "login refused": 1}  # fmt: skip


# --- the database ---------------------------------------------------------------------------------


@dataclass
class Account:
    username: str
    role: Role
    city_id: int | None
    token: str = ""
    write_pilot: int | None = None  # the pilot this session saves updates on (its city's, its own)


@dataclass
class Plan:
    accounts: list[Account]
    wrong: list[str]  # accounts that only get wrong passwords
    period: str
    city_ids: list[int]


def build(url: str, instance: Path, sessions: int) -> Plan:
    """The demo as `tracker init` + `tracker demo --no-serve` build it, then the bench's accounts."""
    os.environ["TRACKER_DATABASE_URL"] = url
    os.environ["TRACKER_INSTANCE_DIR"] = str(instance)
    get_settings.cache_clear()
    settings = get_settings()
    initialise(url)  # tracker init
    engine = make_engine(url)
    factory = make_session_factory(engine)
    today = local_today(settings.timezone)
    with transaction(factory, actor="tracker demo") as session:  # as tracker_cli.main.demo does
        build_demo(session, today=today)
    _demo_bulletin(factory, settings, today, url)
    period = reporting_period(today, settings.reporting)
    with transaction(factory, actor="bench load") as session:
        cities = list(session.scalars(select(City).order_by(City.code)))
        demo = {u.username: u for u in session.scalars(select(User))}
        # Pilots that owe this period's update and may still be edited, by city.
        editable = or_(ProgressUpdate.id.is_(None), ProgressUpdate.status.in_(EDITABLE))
        writable: dict[int, list[int]] = {}
        for pilot_id, city_id in session.execute(
            select(Pilot.id, Pilot.city_id)
            .outerjoin(ProgressUpdate, (ProgressUpdate.pilot_id == Pilot.id) & (ProgressUpdate.period_start == period.start))
            .where(owing_pilots_query(period), editable).order_by(Pilot.id)
        ):  # fmt: skip
            writable.setdefault(city_id, []).append(pilot_id)
        provincial = [demo["admin"], demo["sheng"], demo["lingdao"]]
        chosen: list[Account] = []
        city_turn = 0
        for number in range(sessions):
            if number % 5 == 0:  # one session in five is the province's (admin, staff, leader, ...)
                turn = number // 5
                if turn < len(provincial):
                    user = provincial[turn]
                else:
                    role = Role.PROVINCE_STAFF if turn % 2 else Role.LEADER
                    user = accounts.create_user(session, username=f"bench_prov_{turn}", display_name="bench",
                                                role=role, password=DEMO_PASSWORD)  # fmt: skip
            else:
                city = cities[city_turn % len(cities)]
                round_ = city_turn // len(cities)
                city_turn += 1
                name = city.name_en.lower()
                user = demo[name] if round_ == 0 else accounts.create_user(
                    session, username=f"bench_{name}_{round_}", display_name="bench", role=Role.CITY_STAFF,
                    password=DEMO_PASSWORD, city=city.code)  # fmt: skip
            pilots = writable.get(user.city_id or 0, []) if user.role is Role.CITY_STAFF else []
            account = Account(
                user.username, user.role, user.city_id, write_pilot=pilots.pop(0) if pilots else None
            )
            account.token = accounts.issue_api_token(session, user, "bench load")
            chosen.append(account)
        wrong = []
        for number in range(1, WRONG_ACCOUNTS + 1):
            accounts.create_user(session, username=f"bench_wrong_{number}", display_name="bench",
                                 role=Role.CITY_STAFF, password=DEMO_PASSWORD, city=cities[0].code)  # fmt: skip
            wrong.append(f"bench_wrong_{number}")
        city_ids = [c.id for c in cities]
    engine.dispose()
    return Plan(chosen, wrong, period.key, city_ids)


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str, instance: Path, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`tracker serve` on loopback; stopped (its whole process group) when the block ends."""
    port = free_port()
    env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_INSTANCE_DIR": str(instance)}
    log = (instance / "server.log").open("wb")
    process = subprocess.Popen(
        [str(TRACKER), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(300):  # at most 60 s
            if process.poll() is not None:
                raise RuntimeError(
                    f"tracker serve exited ({process.returncode}): {server_log(instance)[-2000:]}"
                )
            try:
                if requests.get(f"{base}/livez", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("tracker serve did not answer /livez within 60 s")
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # gunicorn's master and its workers
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        log.close()


def server_log(instance: Path) -> str:
    return (instance / "server.log").read_text(encoding="utf-8", errors="replace")


def worker_cpu(process: subprocess.Popen[bytes]) -> float:
    """CPU seconds used so far by the server's master and its live workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in [process.pid, *worker_pids(process)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def postgres_cpu() -> dict[int, float]:
    """CPU seconds used so far by each running PostgreSQL process (its backends serve the workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split(") ", 1)
        except (OSError, ValueError):
            continue
        if name.endswith("(postgres"):
            fields = rest.split()
            found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def used_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings by the processes alive at the second (new ones count in full)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- recording ------------------------------------------------------------------------------------


@dataclass
class Recorder:
    on: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    domain: Counter[str] = field(default_factory=Counter)  # 409 on saves, 401/429 on wrong passwords
    details: dict[str, list[str]] = field(default_factory=dict)
    requests: int = 0  # HTTP requests sent in the window

    def sent(self, count: int = 1) -> None:
        if self.on:
            with self.lock:
                self.requests += count

    def add(self, kind: str, ms: float | None, status: str, outcome: str, detail: str = "") -> None:
        """``outcome``: ok, domain (a legitimate refusal) or error."""
        if not self.on:
            return
        with self.lock:
            if ms is not None:
                self.samples.setdefault(kind, []).append(ms)
            self.statuses.setdefault(kind, Counter())[status] += 1
            if outcome == "error":
                self.errors[kind] += 1
                seen = self.details.setdefault(kind, [])
                if len(seen) < 5 and detail not in seen:
                    seen.append(detail)
            elif outcome == "domain":
                self.domain[kind] += 1


def quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(recorder: Recorder, seconds: float) -> dict[str, dict[str, Any]]:
    result = {}
    for kind in KINDS:
        samples = sorted(recorder.samples.get(kind, []))
        statuses = recorder.statuses.get(kind, Counter())
        if not samples and not statuses:
            continue
        result[kind] = {
            "count": sum(statuses.values()), "per_s": sum(statuses.values()) / seconds,
            "p50": quantile(samples, 0.50) if samples else None, "p95": quantile(samples, 0.95) if samples else None,
            "p99": quantile(samples, 0.99) if samples else None, "errors": recorder.errors[kind],
            "domain": recorder.domain[kind], "statuses": dict(sorted(statuses.items())),
            "error_details": recorder.details.get(kind, []),
        }  # fmt: skip
    return result


# --- one session ----------------------------------------------------------------------------------


def walk(tree: Any, found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every component with an id in a Dash layout, id → props."""
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict):
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            for value in props.values():
                walk(value, found)
    elif isinstance(tree, list):
        for item in tree:
            walk(item, found)
    return found


def outputs_of(dependency: dict[str, Any]) -> list[dict[str, str]]:
    key = dependency["output"]
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]} for part in parts
    ]


def payload(dependency: dict[str, Any], props: dict[str, dict[str, Any]], changed: list[str],
            values: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The body the Dash renderer posts for a callback: input and state values from the page."""
    values = values or {}

    def with_value(item: dict[str, Any]) -> dict[str, Any]:
        name = f"{item['id']}.{item['property']}"
        value = values[name] if name in values else props.get(item["id"], {}).get(item["property"])
        return {"id": item["id"], "property": item["property"], "value": value}

    outputs = outputs_of(dependency)
    body = {"output": dependency["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [with_value(i) for i in dependency["inputs"]], "changedPropIds": changed,
            "parsedChangedPropsIds": changed}  # fmt: skip
    if dependency["state"]:
        body["state"] = [with_value(s) for s in dependency["state"]]
    return body


def brief(response: requests.Response) -> str:
    """What an answer says, in a line: an error page's title, a JSON error's English message."""
    title = re.search(r"<title>([^<]*)</title>", response.text[:2000])
    if title:
        return title.group(1).strip()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("message_en" in body or "message" in body):
        return str(body.get("message_en") or body.get("message"))
    return re.sub(r"\s+", " ", response.text[:200])


class Failure(Exception):
    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class Recorded(Failure):
    """A failure already recorded under its own kind (a page inside a save, say)."""


class WrongPasswords:
    """The dedicated accounts for wrong passwords, one attempt at a time on each, at most WRONG_TRIES."""

    def __init__(self, names: list[str]) -> None:
        self.lock = threading.Lock()
        self.left = dict.fromkeys(names, WRONG_TRIES)
        self.busy: set[str] = set()

    def take(self) -> str | None:
        with self.lock:
            for name, left in self.left.items():
                if left and name not in self.busy:
                    self.left[name] -= 1
                    self.busy.add(name)
                    return name
            return None

    def any_left(self) -> bool:
        with self.lock:
            return any(self.left.values())

    def give_back(self, name: str) -> None:
        with self.lock:
            self.busy.discard(name)


class Session:
    def __init__(self, base: str, account: Account, plan: Plan, dependencies: list[dict[str, Any]],
                 recorder: Recorder, wrong: WrongPasswords, seed: int) -> None:  # fmt: skip
        self.base, self.account, self.plan, self.recorder, self.wrong = base, account, plan, recorder, wrong
        self.dependencies = [d for d in dependencies if d.get("clientside_function") is None]
        self.rng = random.Random(seed)
        self.http = requests.Session()
        self.api = {"Authorization": f"Bearer {account.token}"}
        self.pilots: list[int] = []
        self.tasks: list[int] = []
        self.saves = 0
        self.retries = 0  # failed requests during the setup

    # - requests -

    def send(
        self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs: Any
    ) -> tuple[Any, float]:
        self.recorder.sent()
        start = time.perf_counter()
        try:
            response = self.http.request(
                method, self.base + path, timeout=TIMEOUT, allow_redirects=False, **kwargs
            )
        except requests.RequestException as error:
            raise Failure("connection", f"{method} {path.split('?')[0]}: {type(error).__name__}") from None
        took = (time.perf_counter() - start) * 1000
        if response.status_code not in expect:
            detail = brief(response)
            raise Failure(
                str(response.status_code), f"{method} {path.split('?')[0]} {response.status_code}: {detail}"
            )
        return response, took

    def timed(self, kind: str, action: Any) -> None:
        """Run one action and record it: its time (ms) and status, or the failure."""
        try:
            took, status, outcome = action()
        except Recorded:
            return
        except Failure as failure:
            self.recorder.add(kind, None, failure.status, "error", failure.detail)
            return
        self.recorder.add(kind, took, status, outcome)

    def callback(self, dependency: dict[str, Any], props: dict[str, dict[str, Any]], changed: list[str],
                 values: dict[str, Any] | None = None, conflict: tuple[int, ...] = ()) -> tuple[Any, float]:  # fmt: skip
        response, took = self.send("POST", "/_dash-update-component", expect=(200, 204, *conflict),
                                   json=payload(dependency, props, changed, values))  # fmt: skip
        return (response.json() if response.status_code == 200 else response.status_code), took

    def dependency(self, output: str, inputs_include: str | None = None) -> dict[str, Any]:
        for item in self.dependencies:
            ids = {o["id"] + "." + o["property"] for o in outputs_of(item)}
            duplicate = output in ids and "@" in item["output"].split(output, 1)[1].split("...")[0]
            wanted = inputs_include is None or any(i["id"] == inputs_include for i in item["inputs"])
            if output in ids and not duplicate and wanted:
                return item
        raise KeyError(output)

    # - the browser's part -

    def page(self, kind: str, path: str, search: str = "", full: bool = True) -> dict[str, dict[str, Any]]:
        """Open a page as the browser does; records the shell and the callbacks (``kind``); the page's
        components (id → props) after its initial callbacks. ``full``: a full load (the HTML, layout and
        dependencies first); else a navigation inside the app, as the menu's links do (callbacks only)."""
        shell = 0.0
        try:
            for address in (path + search, "/_dash-layout", "/_dash-dependencies") if full else ():
                _response, took = self.send("GET", address)
                shell += took
        except Failure as failure:
            self.recorder.add("shell", None, failure.status, "error", failure.detail)
            raise Recorded(failure.status, failure.detail) from None
        if full:
            self.recorder.add("shell", shell, "200", "ok")
        try:
            pages = self.dependency("_pages_content.children")
            location = {"_pages_location": {"pathname": path, "search": search}}
            body, took = self.callback(
                pages, location, ["_pages_location.pathname", "_pages_location.search"]
            )
            tree = body["response"]["_pages_content"]["children"] if isinstance(body, dict) else None
            props = walk(tree, {})
            # Then the renderer fires the callbacks without prevent_initial_call whose inputs are all on the page.
            for item in self.dependencies:
                if item.get("prevent_initial_call") or not item["inputs"]:
                    continue
                if all(i["id"] in props for i in item["inputs"]) and all(
                    o["id"] in props for o in outputs_of(item)
                ):
                    answer, more = self.callback(item, props, [])
                    took += more
                    for name, changes in (
                        (answer if isinstance(answer, dict) else {}).get("response", {}).items()
                    ):
                        props.setdefault(name, {}).update(changes)
        except Failure as failure:
            self.recorder.add(kind, None, failure.status, "error", failure.detail)
            raise Recorded(failure.status, failure.detail) from None
        self.recorder.add(kind, took, "200", "ok")
        return props

    # - actions -

    def login(self, client: requests.Session | None = None, username: str | None = None,
              password: str = DEMO_PASSWORD, expect: tuple[int, ...] = (302,)) -> tuple[float, str]:  # fmt: skip
        http = client or self.http
        start = time.perf_counter()
        try:
            self.recorder.sent(2)
            form = http.get(f"{self.base}/login", timeout=TIMEOUT)
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            if form.status_code != 200 or not csrf:
                raise Failure(str(form.status_code), f"GET /login {form.status_code}")
            start = time.perf_counter()
            response = http.post(f"{self.base}/login", timeout=TIMEOUT, allow_redirects=False, data={
                "csrf": csrf.group(1), "username": username or self.account.username, "password": password,
                "next": "/"})  # fmt: skip
        except requests.RequestException as error:
            raise Failure("connection", f"POST /login: {type(error).__name__}") from None
        if response.status_code not in expect:
            raise Failure(str(response.status_code), f"POST /login {response.status_code}: {brief(response)}")
        return (time.perf_counter() - start) * 1000, str(response.status_code)

    def relogin(self) -> tuple[float, str, str]:
        took, status = self.login()
        return took, status, "ok"

    def wrong_login(self) -> tuple[float, str, str]:
        name = self.wrong.take()
        if name is None:  # each dedicated account is in use or spent: a good login instead, counted as one
            self.timed("login", self.relogin)
            raise Recorded("302", "")
        try:
            took, status = self.login(requests.Session(), name, "Wrong-2025-pass", expect=(401, 429))
        finally:
            self.wrong.give_back(name)
        return took, status, "domain"

    def overview_filter(self) -> tuple[float, str, str]:
        cards = self.dependency("ov-cards.children")
        if self.account.city_id is None:
            values = {"ov-city.value": [self.rng.choice(self.plan.city_ids)]}
            changed = ["ov-city.value"]
        else:
            values = {"ov-status.value": ["in_implementation"]}
            changed = ["ov-status.value"]
        _answer, took = self.callback(cards, {}, changed, values)
        return took, "200", "ok"

    def api_read(self) -> tuple[float, str, str]:
        if not self.pilots or self.rng.random() < 0.3:
            _response, took = self.send("GET", "/api/v1/pilots", headers=self.api)
        else:
            _response, took = self.send(
                "GET", f"/api/v1/pilots/{self.rng.choice(self.pilots)}", headers=self.api
            )
        return took, "200", "ok"

    def save_api(self) -> tuple[float, str, str]:
        pilot, period = self.account.write_pilot, self.plan.period
        address = f"/api/v1/pilots/{pilot}/updates/{period}"
        current, took = self.send("GET", address, expect=(200, 404), headers=self.api)
        self.recorder.add("api read", took, str(current.status_code), "ok")
        version = current.json()["version"] if current.status_code == 200 else None
        self.saves += 1
        body = {"version": version, "work_done": f"负载测试第{self.saves}次保存（接口）", "submit": False,
                "tasks": [{"task_id": t, "percent": round(self.rng.uniform(5, 95), 1)} for t in self.tasks]}  # fmt: skip
        response, took = self.send("PUT", address, expect=(200, 409), headers=self.api, json=body)
        return took, str(response.status_code), "domain" if response.status_code == 409 else "ok"

    def save_form(self) -> tuple[float, str, str]:
        props = self.page(
            "form page", "/update-form", f"?pilot={self.account.write_pilot}&period={self.plan.period}"
        )
        if "uform-save" not in props:
            raise Failure("200", "the update form did not render its save button")
        self.saves += 1
        rows = [
            dict(row, percent=round(self.rng.uniform(5, 95), 1))
            for row in props["uform-tasks"].get("rowData") or []
        ]
        values = {"uform-save.n_clicks": 1, "uform-tasks.rowData": rows,
                  "uform-work-done.value": f"负载测试第{self.saves}次保存（表单）"}  # fmt: skip
        answer, took = self.callback(self.dependency("uform-version.data", "uform-save"), props,
                                     ["uform-save.n_clicks"], values, conflict=(409,))  # fmt: skip
        if answer == 409:  # two saves of one update at once: the second is refused, nothing overwritten
            return took, "409", "domain"
        saved = isinstance(answer, dict) and "uform-version" in answer.get("response", {})
        return took, "200", "ok" if saved else "domain"  # refused by the form (changed in between, or locked)

    def read_page(self, kind: str) -> None:
        # The menu's links navigate inside the app; a full load is a first visit, a refresh or a typed
        # address. Pilot pages open from the grids' and the overview's links, which load the page.
        full = self.rng.random() < FULL_LOADS
        if kind == "overview":
            self.page("overview", "/", full=full)
        elif kind == "registry":
            self.page("registry", "/pilots", full=full)
        else:
            self.page("pilot page", "/pilot", f"?id={self.rng.choice(self.pilots)}")

    # - the loop -

    def setup(self) -> None:
        """Log in, and learn what this account may see (not measured); each step is retried (at most 10
        tries) should the database be busy, and the retries counted."""
        self.retrying(self.login)
        response = self.retrying(lambda: self.send("GET", "/api/v1/pilots", headers=self.api)[0])
        self.pilots = [row["id"] for row in response.json()]
        if self.account.write_pilot:
            address = f"/api/v1/pilots/{self.account.write_pilot}"
            detail = self.retrying(lambda: self.send("GET", address, headers=self.api)[0])
            self.tasks = [task["id"] for task in detail.json()["tasks"]]

    def retrying(self, step: Any) -> Any:
        for attempt in range(10):
            try:
                return step()
            except Failure:
                if attempt == 9:
                    raise
                self.retries += 1
                time.sleep(self.rng.uniform(0.2, 0.6))
        return None

    def choices(self) -> tuple[list[str], list[int]]:
        kinds = [k for k in WEIGHTS if self.account.write_pilot or not k.startswith("save")]
        if not self.pilots:
            kinds.remove("pilot page")
        return kinds, [WEIGHTS[k] for k in kinds]

    def act(self, kind: str) -> None:
        if kind == "login refused" and not self.wrong.any_left():
            kind = "login"  # the wrong passwords' budget is spent: a good login instead
        try:
            if kind in ("overview", "registry", "pilot page"):
                self.read_page(kind)
            elif kind == "save (form)":
                self.timed(kind, self.save_form)
            else:
                action = {"overview filter": self.overview_filter, "api read": self.api_read,
                          "save (api)": self.save_api, "login": self.relogin, "login refused": self.wrong_login}[kind]  # fmt: skip
                self.timed(kind, action)
        except Recorded:
            pass
        except Failure as failure:
            self.recorder.add(kind, None, failure.status, "error", failure.detail)
        except (KeyError, ValueError, TypeError) as error:  # an answer not shaped as expected
            self.recorder.add(kind, None, "malformed", "error", f"{type(error).__name__}: {error}")

    def warm_up(self) -> None:
        for kind in ("overview", "registry", "pilot page", "api read", "overview filter"):
            if kind != "pilot page" or self.pilots:
                self.act(kind)

    def run(self, deadline: float, think: float, max_actions: int) -> None:
        kinds, weights = self.choices()
        for _ in range(max_actions):
            if time.monotonic() >= deadline:
                return
            self.act(self.rng.choices(kinds, weights)[0])
            pause = self.rng.uniform(0, 2 * think)
            if pause:
                time.sleep(max(0.0, min(pause, deadline - time.monotonic())))


# --- a run ----------------------------------------------------------------------------------------


def run_once(backend: str, args: argparse.Namespace, number: int) -> dict[str, Any]:
    with fresh_database(backend) as url, tempfile.TemporaryDirectory(prefix="cfp-load-") as folder:
        instance = Path(folder)
        start = time.perf_counter()
        plan = build(url, instance, args.sessions)
        built = time.perf_counter() - start
        with server(url, instance, args.workers) as (base, process):
            recorder = Recorder()
            probe = Session(base, plan.accounts[0], plan, [], recorder, WrongPasswords([]), 0)
            probe.login()
            dependencies = probe.send("GET", "/_dash-dependencies")[0].json()
            wrong = WrongPasswords(plan.wrong)
            sessions = [Session(base, account, plan, dependencies, recorder, wrong, seed=1000 * number + i)
                        for i, account in enumerate(plan.accounts)]  # fmt: skip
            for session in sessions:  # one after another: the load starts with the window
                session.setup()
            parallel([s.warm_up for s in sessions], TIMEOUT * 6)
            load_before = os.getloadavg()
            cpu_before, client_before = worker_cpu(process), time.process_time()
            postgres_before, machine_before = postgres_cpu(), machine_cpu()
            recorder.on = True
            begin = time.monotonic()
            deadline = begin + args.seconds
            with profiling(args.profile, process, args.seconds, f"{backend}-run{number}"):
                parallel([lambda s=s: s.run(deadline, args.think, args.max_actions) for s in sessions],
                         args.seconds + TIMEOUT * 4)  # fmt: skip
            elapsed = time.monotonic() - begin
            recorder.on = False
            server_cpu, client_cpu = worker_cpu(process) - cpu_before, time.process_time() - client_before
            database_cpu, busy = used_since(postgres_before, postgres_cpu()), machine_cpu() - machine_before
            log = server_log(instance)
        kinds = summarise(recorder, elapsed)
        # The last line of each traceback, and the busy/conflict warnings of dashboards/errors.py.
        tracebacks = Counter(re.findall(r"^\w+(?:\.\w+)*(?:Error|Exception): .{0,80}", log, flags=re.M))
        tracebacks.update(re.findall(r"(?:database busy|concurrent insert) on \S+ [^\s?]+", log))
        result = {
            "backend": backend, "run": number, "sessions": len(sessions), "seconds": elapsed, "build_s": built,
            "writers": sum(1 for a in plan.accounts if a.write_pilot), "kinds": kinds,
            "setup_retries": sum(s.retries for s in sessions), "requests": recorder.requests,
            "requests_per_s": recorder.requests / elapsed, "postgres_cpu_s": database_cpu,
            # CPU the rest of the machine used meanwhile (other people's work): the noise in the figures.
            "other_cpu_s": max(0.0, busy - server_cpu - client_cpu - database_cpu),
            "cores": os.cpu_count(),
            "server_cpu_s": server_cpu, "client_cpu_s": client_cpu, "load_before": load_before,
            "load_after": os.getloadavg(), "server_errors": dict(tracebacks.most_common(8)),
        }  # fmt: skip
    return result


def worker_pids(process: subprocess.Popen[bytes]) -> list[int]:
    try:
        return [
            int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        ]
    except OSError:
        return []


@contextmanager
def profiling(
    folder: str | None, process: subprocess.Popen[bytes], seconds: float, name: str
) -> Iterator[None]:
    """With --profile: py-spy records every worker for the measured window (collapsed stacks)."""
    spy = Path(sys.executable).with_name("py-spy")
    if not folder or not spy.exists():
        yield
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    recorders = [subprocess.Popen([str(spy), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                                   "--format", "raw", "--nonblocking", "--output", f"{folder}/{name}-worker{pid}.txt"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for pid in worker_pids(process)]  # fmt: skip
    try:
        yield
    finally:
        for recorder in recorders:
            try:
                recorder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait(timeout=10)


def hot_spots(folder: str, name: str, top: int = 25) -> list[tuple[float, float, str]]:
    """(inclusive share, own share, function) of the project's functions and the leaves, from the collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in Path(folder).glob(f"{name}-worker*.txt"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _sep, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
            total += int(count)
            for frame in set(frames):
                inclusive[frame] += int(count)
            own[frames[-1]] += int(count)
    if not total:
        return []
    ours = [
        f
        for f, _n in inclusive.most_common()
        if any(f"({p}/" in f for p in ("tracker", "dashboards", "reports"))
    ]
    leaves = [f for f, _n in own.most_common(top)]
    chosen = list(dict.fromkeys(ours[:top] + leaves))
    return sorted(((inclusive[f] / total, own[f] / total, f) for f in chosen), reverse=True)


def parallel(actions: list[Any], limit: float) -> None:
    """Run each action in its own thread; wait at most ``limit`` seconds in all; the first failure is raised."""
    failures: list[BaseException] = []

    def guarded(action: Any) -> None:
        try:
            action()
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=guarded, args=(action,), daemon=True) for action in actions]
    for thread in threads:
        thread.start()
    end = time.monotonic() + limit
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    if failures:
        raise RuntimeError(f"{len(failures)} session(s) failed: {failures[0]}") from failures[0]
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"sessions still running after {limit:.0f} s")


# --- the report -----------------------------------------------------------------------------------


def median_of(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        present = [run["kinds"][kind] for run in runs if kind in run["kinds"]]
        if not present:
            continue
        statuses: Counter[str] = Counter()
        for item in present:
            statuses.update(item["statuses"])

        def mid(key: str, present: list[dict[str, Any]] = present) -> float | None:
            values = [item[key] for item in present if item[key] is not None]
            return statistics.median(values) if values else None

        merged[kind] = {"count": mid("count"), "per_s": mid("per_s"), "p50": mid("p50"), "p95": mid("p95"),
                        "p99": mid("p99"), "errors": sum(i["errors"] for i in present),
                        "domain": sum(i["domain"] for i in present), "statuses": dict(sorted(statuses.items())),
                        "error_details": sorted({d for i in present for d in i["error_details"]})[:6]}  # fmt: skip
    return merged


def targets(kinds: dict[str, dict[str, Any]], sessions: int) -> list[tuple[str, bool]]:
    checks = [(f"{TARGET_SESSIONS} sessions (ran {sessions})", sessions >= TARGET_SESSIONS),
              (f"0 errors ({sum(k['errors'] for k in kinds.values())})", not any(k["errors"] for k in kinds.values()))]  # fmt: skip
    for kind, limit in [(k, READ_TARGET_MS) for k in READS] + [(k, SAVE_TARGET_MS) for k in SAVES]:
        if kind in kinds and kinds[kind]["p95"] is not None:
            p95 = kinds[kind]["p95"]
            checks.append((f"{kind} p95 {p95:.0f} ms <= {limit:.0f} ms", p95 <= limit))
    return checks


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def table(kinds: dict[str, dict[str, Any]]) -> str:
    lines = [f"  {'kind':16} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} "
             f"{'409/401/429':>11}  status codes"]  # fmt: skip
    for kind, item in kinds.items():
        codes = ", ".join(f"{code}×{n}" for code, n in item["statuses"].items())
        lines.append(f"  {kind:16} {item['count']:7.0f} {item['per_s']:7.1f} {ms(item['p50']):>8} "
                     f"{ms(item['p95']):>8} {ms(item['p99']):>8} {item['errors']:7d} {item['domain']:11d}  {codes}")  # fmt: skip
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, flags=re.M)
    memory = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), flags=re.M)
    postgres = None
    try:
        engine = create_engine("postgresql+psycopg://postgres@127.0.0.1/postgres")
        with engine.connect() as connection:
            postgres = connection.execute(text("SHOW server_version")).scalar()
        engine.dispose()
    except Exception:  # PostgreSQL is optional with --backend sqlite
        postgres = "unavailable"
    return {"nproc": os.cpu_count(), "cpu": model.group(1) if model else platform.machine(),
            "memory_gib": round(int(memory.group(1)) / 1024**2, 1) if memory else None,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "postgresql": postgres,
            "platform": platform.platform()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause between a session's actions, s (0: back to back)")  # fmt: skip
    parser.add_argument("--max-actions", type=int, default=100_000, help="per session and run")
    parser.add_argument("--json", metavar="OUT", help="write every run and the medians as JSON")
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy each worker during the window (needs py-spy in .venv)"
    )
    args = parser.parse_args()
    # Thirty client threads share one interpreter: hand the GIL over sooner than every 5 ms, so a reply
    # is read (and its connection closed, which frees a sync worker) as soon as it arrives.
    sys.setswitchinterval(0.0005)
    if not TRACKER.exists():
        sys.exit(f"{TRACKER} is missing: install the project into .venv first")
    about = machine()
    print(f"{about['nproc']} × {about['cpu']}, {about['memory_gib']} GiB; Python {about['python']}, "
          f"SQLite {about['sqlite']}, PostgreSQL {about['postgresql']}", flush=True)  # fmt: skip
    print(f"{args.sessions} sessions, {args.seconds:.0f} s, {args.workers} workers, think {args.think} s, "
          f"{args.runs} run(s)", flush=True)  # fmt: skip
    report: dict[str, Any] = {"machine": about, "options": vars(args), "backends": {}}
    all_met = True
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        runs = []
        for number in range(1, args.runs + 1):
            result = run_once(backend, args, number)
            runs.append(result)
            load = " ".join(f"{x:.2f}" for x in result["load_before"])
            print(f"\n{backend} run {number}: {result['sessions']} sessions ({result['writers']} writing), "
                  f"{result['seconds']:.1f} s, {result['requests']} requests ({result['requests_per_s']:.0f}/s), "
                  f"server CPU {result['server_cpu_s']:.1f} s "
                  f"({1000 * result['server_cpu_s'] / max(1, result['requests']):.1f} ms a request), "
                  f"bench CPU {result['client_cpu_s']:.1f} s, PostgreSQL (all of it) CPU {result['postgres_cpu_s']:.1f} s, "
                  f"other work on the machine {result['other_cpu_s']:.1f} s "
                  f"({result['other_cpu_s'] / (result['cores'] * result['seconds']):.0%} of its CPU), load average before {load}, "
                  f"setup requests retried {result['setup_retries']}×", flush=True)  # fmt: skip
            print(table(result["kinds"]), flush=True)
            for kind, item in result["kinds"].items():
                for detail in item["error_details"]:
                    print(f"    {kind}: {detail}")
            for line, count in result["server_errors"].items():
                print(f"    server log: {count} × {line}")
            if args.profile:
                print("  profile of the workers (share of samples: inclusive, own):")
                for share, mine, frame in hot_spots(args.profile, f"{backend}-run{number}"):
                    print(f"    {share:6.1%} {mine:6.1%}  {frame[:150]}")
        median = median_of(runs)
        checks = targets(median, args.sessions)
        all_met = all_met and all(ok for _line, ok in checks)
        print(f"\n{backend}: median of {len(runs)} run(s)\n{table(median)}")
        for line, ok in checks:
            print(f"  target {'met   ' if ok else 'MISSED'}  {line}")
        report["backends"][backend] = {"runs": runs, "median": median,
                                       "targets": [{"target": line, "met": ok} for line, ok in checks]}  # fmt: skip
    if args.json:
        Path(args.json).write_text(
            json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
    print(f"\nall targets {'met' if all_met else 'NOT met'}")


if __name__ == "__main__":
    main()
