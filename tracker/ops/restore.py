"""``tracker restore``: an archive made by ``tracker backup`` put back into an empty database of the
same backend, then migrated to this code's newest schema, and its uploaded files put back into the
instance folder. Every refusal comes before anything is written: a damaged archive (see
``archive``), another backend, a schema newer than this code knows, a database that is not empty.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.core.migrate import head_revision, known_revisions, upgrade_database
from tracker.ops import databases
from tracker.ops.archive import Manifest, read_archive
from tracker.ops.backup import audit_action

LABEL = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    revision: str  # the schema revision the database is at now (head)
    rows: int
    files: int


def check_fits(manifest: Manifest, database_url: str) -> None:
    """Refuse an archive of another backend or of a schema this code does not know."""
    backend = databases.backend_of(database_url)
    if manifest.backend != backend:
        raise TrackerError(
            Message(
                "备份来自 {archive}，不能恢复到 {target} 数据库（不支持跨数据库类型恢复），未作任何更改",
                archive=LABEL[manifest.backend],
                target=LABEL[backend],
            ),
        )
    if manifest.schema_revision not in known_revisions():
        raise TrackerError(
            Message(
                "备份的数据库结构版本 {schema_revision} 比本程序（最新 {head_revision}）新，请安装生成该备份的版本或更新版本后再恢复，未作任何更改",
                schema_revision=manifest.schema_revision,
                head_revision=head_revision(),
            ),
        )


def require_empty(database_url: str) -> None:
    tables = databases.table_names(database_url)
    if tables:
        raise TrackerError(
            Message(
                "目标数据库不是空的（已有{n_tables}张表，如 {first}），未作任何更改；请恢复到新建的空数据库（PostgreSQL：createdb；SQLite：新的文件路径）",
                n_tables=len(tables),
                first=tables[0],
            ),
        )


def restore_backup(database_url: str, instance_dir: Path, archive: Path) -> RestoreReport:
    """Check the archive and the target, load the dump, upgrade it, put the files back, audit it."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tracker-restore-", dir=instance_dir))
    try:
        manifest = read_archive(archive, staging)
        check_fits(manifest, database_url)
        require_empty(database_url)
        databases.load(database_url, staging / manifest.database_member)
        _require_counts(database_url, manifest)
        if manifest.schema_revision != head_revision():
            upgrade_database(database_url)
        _put_files(staging, instance_dir, manifest.uploads)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    audit_action(
        database_url,
        "restore",
        f"{archive.name} · {manifest.created_at} · revision {manifest.schema_revision}",
    )
    return RestoreReport(manifest, head_revision(), sum(manifest.row_counts.values()), len(manifest.uploads))


def _require_counts(database_url: str, manifest: Manifest) -> None:
    loaded = databases.count_rows(database_url)
    if loaded.row_counts != manifest.row_counts or loaded.revision != manifest.schema_revision:
        raise TrackerError(Message("恢复后的行数与备份清单不符，请检查数据库日志后重试"))  # fmt: skip


def _put_files(staging: Path, instance_dir: Path, names: list[str]) -> None:
    for name in names:
        target = instance_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target)
