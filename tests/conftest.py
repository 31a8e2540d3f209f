"""Test fixtures: a real database per run (SQLite file or PostgreSQL), each test in a rolled-back transaction.

Choose the backend with TRACKER_TEST_DB=sqlite (default) or TRACKER_TEST_DB=postgresql; the PostgreSQL
server is TRACKER_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432). Each run creates its
own database and drops it at the end.

TRACKER_TEST_CLOCK=2027-03-31T10:00+08:00 runs the tests as on that day: tracker.core.clock stands at that
instant in the test process only (processes the tests start keep the wall clock, which a scheduler's
timer needs, unless a test gives them TRACKER_CLOCK_NOW).
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import sessionmaker

import tracker.audit.trail  # noqa: F401  (audit hooks)
from tests.factories import Factory
from tracker.catalogue import load_catalogue
from tracker.core import clock
from tracker.core.config import MailSettings, Settings
from tracker.core.db import TrackerSession, make_engine, transaction
from tracker.core.migrate import upgrade_database

BACKEND = os.environ.get("TRACKER_TEST_DB", "sqlite")
# For what does not depend on the database (the offline bundle, the pages' scripts and styles against
# the content policy, print and phone layout, the plotly bundle): run in the SQLite pass only, which
# keeps the two passes, side by side on two cores, within CI's time.
SQLITE_PASS = pytest.mark.skipif(
    BACKEND == "postgresql", reason="independent of the backend: SQLite pass only"
)
if os.environ.get("TRACKER_TEST_CLOCK"):
    clock.set_now(os.environ["TRACKER_TEST_CLOCK"])
PG_SERVER = os.environ.get("TRACKER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_report_header() -> str:
    pinned = f"; clock set to {clock.now_utc().isoformat()}" if clock.is_set() else ""
    return f"database backend: {BACKEND}{pinned}"


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    """An empty database of the backend under test; dropped afterwards."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_dir / f'{uuid.uuid4().hex}.sqlite3'}"
        return
    name = f"tracker_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def initialise(url: str) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    with transaction(sessionmaker(bind=engine, class_=TrackerSession)) as session:
        load_catalogue(session)
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        initialise(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine) -> Iterator[Connection]:  # type: ignore[no-untyped-def]
    """One connection whose outer transaction is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[TrackerSession]:
    """What the app uses in tests: its commits become savepoints inside the test's transaction."""
    return sessionmaker(bind=connection, class_=TrackerSession, expire_on_commit=False,
                        join_transaction_mode="create_savepoint")  # fmt: skip


@pytest.fixture
def db(session_factory: sessionmaker[TrackerSession]) -> Iterator[TrackerSession]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def factory(db: TrackerSession) -> Factory:
    return Factory(db)


def make_settings(database_url: str, tmp_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=secrets.token_hex(32),
        timezone=ZoneInfo("Asia/Shanghai"),
        instance_dir=tmp_dir,
        cookie_secure=False,
        proxy_hops=0,
        session_hours=8,
        login_max_failures=5,
        login_window_minutes=15,
        mail=MailSettings(None, 25, "none", None, None, "test@localhost"),
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[TrackerSession]):  # type: ignore[no-untyped-def]
    from dashboards.app import create_app

    return create_app(settings, session_factory)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.server.test_client()


@pytest.fixture
def empty_cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty database that the `tracker` command will use (through its settings)."""
    from tracker.core.config import get_settings

    with fresh_database(tmp_path) as url:
        monkeypatch.setenv("TRACKER_DATABASE_URL", url)
        monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(tmp_path))
        get_settings.cache_clear()
        yield url
    get_settings.cache_clear()


@pytest.fixture
def cli_database(empty_cli_database: str) -> str:
    """As ``empty_cli_database``, migrated and with the catalogue loaded."""
    initialise(empty_cli_database)
    return empty_cli_database


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and files for a person to look at, one folder per backend (the passes run side by side)."""
    folder = ARTIFACTS / BACKEND
    folder.mkdir(parents=True, exist_ok=True)
    return folder
