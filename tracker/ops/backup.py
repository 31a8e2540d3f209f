"""``tracker backup``: one archive of the database (a consistent dump), the uploaded files and the
manifest, written next to its destination and moved into place whole; audited in the database
backed up. The bulletin archive is the ``bulletins`` table (each file's bytes are a column), so it
is in the dump, counted in the manifest's ``row_counts``.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tracker
from tracker.audit import trail as audit
from tracker.core import clock
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.core.migrate import head_revision
from tracker.ops import databases
from tracker.ops.archive import DATABASE_MEMBERS, Manifest, describe, write_archive

_UPLOAD = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}")
DUMP_FORMATS = {"postgresql": "pg_dump --format=custom", "sqlite": "sqlite3 online backup (database file)"}


@dataclass(frozen=True)
class BackupReport:
    path: Path
    manifest: Manifest
    audited: (
        bool  # False: the database is at another schema than this code's, whose audit trail it leaves alone
    )


def default_name() -> str:
    """``tracker-backup-20261202T093000Z.tar.gz``: sortable, one per second."""
    return f"tracker-backup-{clock.now_utc().strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def destination(out: Path) -> Path:
    """The archive's path: ``out`` itself, or a dated name inside ``out`` when it is a folder."""
    path = out / default_name() if out.is_dir() else out
    if path.exists():
        raise TrackerError(Message("目标文件已存在，未覆盖：{path}", path=path))
    if not path.parent.is_dir():
        raise TrackerError(Message("目标文件夹不存在：{parent}", parent=path.parent))
    return path


def upload_files(instance_dir: Path) -> dict[str, Path]:
    """The stored uploads (``uploads/ab/<sha256>``), by their name in the archive; stray files left out."""
    root = instance_dir / "uploads"
    if not root.is_dir():
        return {}
    found = (path for path in root.glob("*/*") if path.is_file())
    return {
        f"uploads/{p.relative_to(root).as_posix()}": p
        for p in found
        if _UPLOAD.fullmatch(p.relative_to(root).as_posix())
    }


def create_backup(database_url: str, instance_dir: Path, out: Path) -> BackupReport:
    """Write the archive; the backup is recorded in the audit trail of the database backed up when that
    database is at this code's schema (an older one is backed up as it is, before ``tracker init``)."""
    backend = databases.backend_of(database_url)
    path = destination(out)
    with tempfile.TemporaryDirectory(prefix=".tracker-backup-", dir=path.parent) as work:
        dumped = Path(work) / "dump"
        held = databases.dump(database_url, dumped)
        files = {DATABASE_MEMBERS[backend]: dumped, **upload_files(instance_dir)}
        manifest = Manifest(backend=backend, schema_revision=held.revision, created_at=clock.now_utc().isoformat(),
                            app_version=tracker.__version__, database_format=DUMP_FORMATS[backend],
                            row_counts=held.row_counts, members=describe(files))  # fmt: skip
        write_archive(path, manifest, files)
    audited = manifest.schema_revision == head_revision()
    if audited:
        audit_action(database_url, "backup", f"{path} · {len(manifest.uploads)} files")
    return BackupReport(path, manifest, audited)


def audit_action(database_url: str, action: str, summary: str) -> None:
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine), actor=f"tracker {action}") as session:
            audit.record(session, action, "database", summary=summary)
    finally:
        engine.dispose()
