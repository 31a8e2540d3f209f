"""Engine, sessions and the column types shared by every model."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Numeric,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import (
    DeclarativeBase,
    InstrumentedAttribute,
    ORMExecuteState,
    Session,
    UOWTransaction,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from tracker.core import clock

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored in UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware values only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        # SQLite keeps no offset; everything written was UTC.
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), Decimal: Numeric(12, 4)}


intpk = Annotated[int, mapped_column(primary_key=True)]
name_str = Annotated[str, mapped_column(String(200))]
short_str = Annotated[str, mapped_column(String(64))]
code_str = Annotated[str, mapped_column(String(32))]
percent = Annotated[Decimal, mapped_column(Numeric(5, 2))]


def utcnow() -> dt.datetime:
    """Now, timezone-aware in UTC (the only form datetimes are stored in), from tracker.core.clock."""
    return clock.now_utc()


SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 5


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself
    # (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # INSERT OR REPLACE deletes the old row; with this, that delete fires the delete triggers
        # (the audit trail's append-only triggers among them).
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # A writer waits this long for the write lock before the request is answered 503 (busy, try
        # again). Writers hold the lock for milliseconds; the margin is for a machine under load.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes the write lock at its start and waits for it up to the busy
        # timeout. Begun deferred, a transaction that has read and then writes must upgrade its lock;
        # when another writer committed in between, SQLite refuses the upgrade at once ("database is
        # locked") without waiting. Read-only transactions stay deferred: in WAL mode they never wait
        # for writers, nor block them.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "tracker_read_only"  # execution option and session.info key of a read-only transaction


class ReadOnlyTransactionError(RuntimeError):
    """Code that declared its transaction read-only tried to change data (a programming error)."""


def make_engine(url: str, **kwargs: Any) -> Engine:  # Any: create_engine's own keyword options
    """Create an engine; SQLite files get their folder, foreign keys and working savepoints."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # A server that does not answer (a host gone, packets dropped) fails a connection in seconds,
    # not after the system's TCP timeout of minutes: requests and /healthz answer instead of hanging.
    kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S, **kwargs.get("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, **kwargs)


class TrackerSession(Session):
    """The session class every part of the application uses (audit hooks attach to it)."""


def make_session_factory(bind: Engine) -> sessionmaker[TrackerSession]:
    return sessionmaker(bind=bind, class_=TrackerSession, expire_on_commit=False)


@event.listens_for(TrackerSession, "before_flush")
def _refuse_writes_when_read_only(
    session: Session, _context: UOWTransaction, _instances: Sequence[object] | None
) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyTransactionError("a read-only transaction tried to change data")


@event.listens_for(TrackerSession, "do_orm_execute")
def _refuse_statements_when_read_only(state: ORMExecuteState) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyTransactionError("a read-only transaction tried to change data")


@contextmanager
def transaction(
    factory: sessionmaker[TrackerSession], actor: object = None, *, read_only: bool = False
) -> Iterator[TrackerSession]:
    """Open a session at an edge (request, callback, command, job): commit on success, else roll back.

    ``actor`` is the user the audit trail names for every change made in this session. A write
    transaction (the default) takes SQLite's write lock when it begins, so concurrent writers queue
    up to the busy timeout instead of failing. ``read_only=True`` is for requests that only read
    (page loads, lists, figures): on SQLite they begin deferred and run beside the writers; any
    change they attempt is refused (``ReadOnlyTransactionError``) on every backend.
    """
    session = factory(execution_options={READ_ONLY: True}) if read_only else factory()
    session.info["actor"] = actor
    session.info[READ_ONLY] = read_only
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# SQLSTATEs of PostgreSQL's lock and serialization conflicts: serialization_failure, deadlock_detected,
# lock_not_available. Trying again later succeeds; they are the server being busy, not bad input.
_CONTENTION_SQLSTATES = {"40001", "40P01", "55P03"}


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


def is_contention(error: BaseException) -> bool:
    """A lock or serialization conflict (SQLite busy past its timeout, a PostgreSQL deadlock…)."""
    if not isinstance(error, OperationalError | DBAPIError):
        return False
    if _sqlstate(error) in _CONTENTION_SQLSTATES:
        return True
    text = str(error.orig).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def is_unique_violation(error: BaseException) -> bool:
    """Two requests inserted the same key at once (PostgreSQL 23505, SQLite's UNIQUE constraint)."""
    if not isinstance(error, IntegrityError):
        return False
    return _sqlstate(error) == "23505" or "unique constraint failed" in str(error.orig).lower()


T = TypeVar("T")  # the type of a column and of the values it is compared with


def one_of(
    dialect: str, column: ColumnElement[T] | InstrumentedAttribute[T], values: list[T]
) -> ColumnElement[bool]:
    """``column IN values`` with the values as one parameter however many there are (``= ANY(array)``
    on PostgreSQL, ``json_each`` on SQLite): a list of thousands of bound values costs the
    driver and SQLAlchemy more to compile than the database to answer."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type), expanding=False))
    return column.in_(select(literal_column("value")).select_from(func.json_each(json.dumps(values))))
