"""The PostgreSQL client programs (pg_dump, pg_restore): found on PATH or under
/usr/lib/postgresql/N/bin, of the server's major version, run with the connection in the environment
(``PGPASSWORD`` and friends), never on the command line where ``ps`` would show the password.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url

from tracker.core.errors import TrackerError
from tracker.core.messages import Label, Message

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")
_QUERY_ENV = {"host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
              "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "options": "PGOPTIONS"}  # fmt: skip


def server_major(connection: Connection) -> int:
    """The server's major version (15 for 15.20)."""
    number = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    return number // 10000


def program_major(path: Path) -> int | None:
    """The major version a client program reports (``pg_dump (PostgreSQL) 15.20``), None if it does not run."""
    try:
        output = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    found = _VERSION.search(output)
    return int(found.group(1)) if found else None


def candidates(name: str) -> list[Path]:
    """Every ``name`` program on this machine: PATH first, then each installed server's bin folder."""
    found = [Path(p) for p in [shutil.which(name)] if p]
    found += [Path(p) for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)]
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def find_program(name: str, major: int) -> Path:
    """The ``name`` program of the server's major version, or a refusal naming what was found."""
    seen = []
    for path in candidates(name):
        version = program_major(path)
        if version == major:
            return path
        seen.append(f"{path} ({version or '?'})")
    listed = "、".join(seen) or "无 / none"
    raise TrackerError(
        Message(
            "找不到与数据库服务器版本（PostgreSQL {major}）一致的 {name}；已找到：{listed}。请安装 postgresql-client-{major}（其程序在 /usr/lib/postgresql/{major}/bin）",
            major=major,
            name=name,
            listed=listed,
        ),
    )


def client_env(database_url: str) -> dict[str, str]:
    """The process environment with the connection of ``database_url`` in libpq's variables."""
    url: URL = make_url(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    given = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username, "PGPASSWORD": url.password,
             "PGDATABASE": url.database}  # fmt: skip
    env.update({key: str(value) for key, value in given.items() if value is not None})
    for key, variable in _QUERY_ENV.items():
        value = url.query.get(key)
        if isinstance(value, str):
            env[variable] = value
    return env


def run(command: list[str], database_url: str, what_zh: str, what_en: str) -> None:
    """Run a client program; its error output becomes a bilingual refusal."""
    done = subprocess.run(command, env=client_env(database_url), capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise TrackerError(Message("{what}失败：{detail}", what=Label(what_zh, what_en), detail=detail))
