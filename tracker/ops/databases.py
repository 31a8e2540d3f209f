"""A consistent copy of the database and its loading into an empty one, per backend.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the file page by page under a
read transaction, so the copy is consistent while the web server and the scheduler keep writing.
PostgreSQL: ``pg_dump --format=custom`` inside an exported snapshot (``pg_export_snapshot``), so the
row counts and schema revision written to the manifest are those of the very data dumped; restored
with ``pg_restore --single-transaction --exit-on-error --no-owner --no-acl``: all or nothing, owned
by the account that restores.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.core.migrate import current_revision
from tracker.ops import pgtools

BACKENDS = ("postgresql", "sqlite")


@dataclass(frozen=True)
class Inventory:
    """What a database holds: its schema revision and every table's row count."""

    revision: str
    row_counts: dict[str, int]


def backend_of(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend not in BACKENDS:
        raise TrackerError(Message("不支持的数据库类型：{backend}", backend=backend))
    return backend


def sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise TrackerError(
            Message("内存中的 SQLite 数据库无法备份或恢复"),
        )
    return Path(name)


@contextlib.contextmanager
def _engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def inventory(connection: Connection) -> Inventory:
    revision = current_revision(connection)
    if revision is None:
        raise TrackerError(Message("数据库尚未初始化（没有迁移版本），请先运行 tracker init"))  # fmt: skip
    names = sorted(inspect(connection).get_table_names())
    counts = {name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
              for name in names}  # fmt: skip
    return Inventory(revision, counts)


def count_rows(database_url: str) -> Inventory:
    with _engine(database_url) as engine, engine.connect() as connection:
        return inventory(connection)


def dump(database_url: str, target: Path) -> Inventory:
    """Write a consistent copy of the database to ``target``; what it holds."""
    if backend_of(database_url) == "sqlite":
        return _dump_sqlite(sqlite_path(database_url), target)
    return _dump_postgresql(database_url, target)


def _dump_sqlite(source: Path, target: Path) -> Inventory:
    if not source.is_file():
        raise TrackerError(Message("数据库文件不存在：{source}", source=source))
    with contextlib.closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as live, \
            contextlib.closing(sqlite3.connect(target)) as copy:  # fmt: skip
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    return count_rows(f"sqlite:///{target}")


def _dump_postgresql(database_url: str, target: Path) -> Inventory:
    with _engine(database_url) as engine, engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            held = inventory(connection)
            program = pgtools.find_program("pg_dump", pgtools.server_major(connection))
            pgtools.run([str(program), "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
                        database_url, "pg_dump 导出", "pg_dump")  # fmt: skip
    return held


def table_names(database_url: str) -> list[str]:
    """The tables of the target database (none: it is empty); a missing SQLite file is empty."""
    if backend_of(database_url) == "sqlite" and not sqlite_path(database_url).exists():
        return []
    with _engine(database_url) as engine, engine.connect() as connection:
        return sorted(inspect(connection).get_table_names())


def load(database_url: str, dumped: Path) -> None:
    """Load a dump made by ``dump`` into the (empty) database."""
    if backend_of(database_url) == "sqlite":
        target = sqlite_path(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(dumped)) as source, \
                contextlib.closing(sqlite3.connect(target)) as live:  # fmt: skip
            source.backup(live)
        return
    with _engine(database_url) as engine, engine.connect() as connection:
        program = pgtools.find_program("pg_restore", pgtools.server_major(connection))
    name = make_url(database_url).database or ""
    pgtools.run([str(program), "--single-transaction", "--exit-on-error", "--no-owner", "--no-acl",
                 f"--dbname={name}", str(dumped)], database_url, "pg_restore 恢复", "pg_restore")  # fmt: skip
