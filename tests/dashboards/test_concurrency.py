"""Concurrent writers on the embedded default: every save waits for the write lock, none fails.

Write transactions on SQLite begin IMMEDIATE (tracker.core.db): they take the write lock at their start
and wait for it up to the busy timeout. Begun deferred, a transaction that read and then writes
after another writer committed is refused at once with "database is locked" (HTTP 500 before).
The saves here run in separate processes, as gunicorn's workers do, on one SQLite file.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import traceback
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.conftest import BACKEND, fresh_database, initialise
from tests.factories import MONTHLY, Factory
from tests.web import login
from tracker.core.db import (
    ReadOnlyTransactionError,
    is_contention,
    is_unique_violation,
    make_engine,
    make_session_factory,
    transaction,
)
from tracker.core.periods import Frequency, period_of
from tracker.models import Pilot, ProgressUpdate, Role, User

WRITERS = 20
PERIOD = period_of(dt.date(2025, 11, 1), Frequency.MONTHLY)
TODAY = dt.date(2025, 12, 3)  # inside November's entry window


def _save_one(url: str, username: str, pilot_id: int, barrier: Any, results: Any) -> None:
    """One process: wait for the others, then in one transaction read the pilot and save its update."""
    from tracker.progress.updates import UpdateEntry, find_update, save_update

    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        barrier.wait(timeout=60)  # all start at once
        with transaction(factory, actor=username) as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            pilot = session.get(Pilot, pilot_id)
            assert pilot is not None
            find_update(session, pilot_id, PERIOD)  # read first, as a request does, then write
            task = pilot.tasks[0]
            entry = UpdateEntry(task_percents={task.id: 30}, work_done="完成数据采集", problems="",
                                next_steps="核算")  # fmt: skip
            save_update(session, user, pilot_id, PERIOD, entry, reporting=MONTHLY, today=TODAY)
        results.put(("ok", pilot_id))
    except Exception:  # reported to the test, which fails with the traceback
        results.put(("error", traceback.format_exc()))
    finally:
        engine.dispose()


@pytest.mark.skipif(BACKEND != "sqlite", reason="the embedded default's write lock")
def test_twenty_concurrent_saves_from_separate_processes_all_succeed(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        initialise(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            make = Factory(session)
            user = make.user(Role.CITY_STAFF, "长治", username="concurrent")
            pilots = [make.pilot("长治").id for _ in range(WRITERS)]
            username = user.username
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(WRITERS), context.Queue()
        workers = [context.Process(target=_save_one, args=(url, username, pid, barrier, results))
                   for pid in pilots]  # fmt: skip
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        errors = [detail for kind, detail in outcomes if kind == "error"]
        assert not errors, errors[0]
        assert sorted(detail for _kind, detail in outcomes) == sorted(pilots)
        with transaction(factory, read_only=True) as session:
            saved = session.scalar(select(func.count()).select_from(ProgressUpdate))
        assert saved == WRITERS  # every acknowledged save is there
        engine.dispose()


def test_a_read_only_transaction_refuses_to_change_data(session_factory, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治", username="reader")
    with pytest.raises(ReadOnlyTransactionError), transaction(session_factory, read_only=True) as session:
        session.get(User, user.id).display_name = "改名"  # type: ignore[union-attr]
        session.flush()
    with pytest.raises(ReadOnlyTransactionError), transaction(session_factory, read_only=True) as session:
        from sqlalchemy import update

        session.execute(update(User).where(User.id == user.id).values(display_name="改名"))
    with transaction(session_factory, read_only=True) as session:
        assert session.get(User, user.id).display_name == "reader"  # type: ignore[union-attr]


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def test_lock_and_serialization_conflicts_are_told_apart_from_bugs() -> None:
    locked = OperationalError("UPDATE …", {}, sqlite3.OperationalError("database is locked"))
    assert is_contention(locked)
    for sqlstate in ("40001", "40P01", "55P03"):  # serialization failure, deadlock, lock not available
        assert is_contention(OperationalError("UPDATE …", {}, _PgError(sqlstate)))
    assert not is_contention(OperationalError("SELECT …", {}, sqlite3.OperationalError("no such table: x")))
    assert not is_contention(ValueError("database is locked"))
    assert is_unique_violation(IntegrityError("INSERT …", {}, _PgError("23505")))
    assert is_unique_violation(
        IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE constraint failed: t.a"))
    )
    assert not is_unique_violation(IntegrityError("INSERT …", {}, _PgError("23503")))  # a foreign key: a bug


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OperationalError("UPDATE …", {}, sqlite3.OperationalError("database is locked")), 503),
        (OperationalError("UPDATE …", {}, _PgError("40P01")), 503),
        (IntegrityError("INSERT …", {}, _PgError("23505")), 409),
        (OperationalError("SELECT …", {}, sqlite3.OperationalError("no such column: x")), 500),
    ],
)
def test_a_busy_database_answers_503_and_a_concurrent_insert_409_never_a_crash(
    app, factory, error, status
) -> None:  # type: ignore[no-untyped-def]
    server = app.server

    def busy() -> Any:
        raise error

    server.add_url_rule("/_test/busy", "test_busy", busy)
    client = server.test_client()
    factory.user(Role.CITY_STAFF, "长治", username="busyuser")
    assert login(client, "busyuser").status_code == 302
    response = client.get("/_test/busy", headers={"Accept": "application/json"})
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == status
    if status == 503:
        assert response.headers["Retry-After"] == "2"
        assert "稍后重试" in body["message"]
