"""``tracker backup`` and ``tracker restore``: the whole installation (database, uploaded files) in one
checked archive, and back (tracker/ops/)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError

from tracker.core.config import get_settings
from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.ops.backup import create_backup
from tracker.ops.restore import restore_backup
from tracker_cli.common import database_url, fail


@contextmanager
def refusals() -> Iterator[None]:
    """A refusal, or a database that does not answer, ends the command with its message in both languages."""
    try:
        yield
    except TrackerError as error:
        fail(error.message)
    except OperationalError as error:
        detail = str(error.orig or error).strip().splitlines()[0]
        fail(Message("无法连接数据库（TRACKER_DATABASE_URL）：{detail}", detail=detail))  # fmt: skip


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
def backup(out: Path) -> None:
    """备份数据库和上传文件到一个归档（OUT 为文件夹时自动命名）。 / Back up the database and the uploaded
    files into one archive (a dated name when OUT is a folder).

    运行中的服务可不停止：数据库转储是一致的快照。 / The services may keep running: the dump is a
    consistent snapshot.
    """
    url = database_url()
    with refusals():
        report = create_backup(url, get_settings().instance_dir, out)
    manifest = report.manifest
    rows = sum(manifest.row_counts.values())
    click.echo(f"已备份 / backed up: {report.path}")
    click.echo(f"  {manifest.backend} · 结构版本 / schema revision {manifest.schema_revision} · "
               f"{len(manifest.row_counts)} 张表 / tables, {rows} 行 / rows · "
               f"{len(manifest.uploads)} 个上传文件 / uploaded files")  # fmt: skip
    if not report.audited:
        click.echo(f"提示：数据库结构版本 {manifest.schema_revision} 不是本程序的版本，备份未写入其审计日志 / "
                   f"note: the schema revision is not this program's; the backup is not in its audit trail",
                   err=True)  # fmt: skip


@click.command()
@click.argument("archive", type=click.Path(path_type=Path))
def restore(archive: Path) -> None:
    """把备份恢复到空数据库（TRACKER_DATABASE_URL），并升级到最新结构。 / Restore a backup into an empty
    database (TRACKER_DATABASE_URL), then upgrade it to the newest schema.

    归档损坏、来自更新的版本或目标数据库非空时拒绝，不作任何更改。 / A damaged archive, one from a newer
    schema, or a database that is not empty is refused, and nothing is changed.
    """
    url = database_url()
    with refusals():
        report = restore_backup(url, get_settings().instance_dir, archive)
    manifest = report.manifest
    click.echo(f"已恢复 / restored: {archive} ({manifest.created_at}, {manifest.backend})")
    click.echo(f"  {report.rows} 行 / rows · {report.files} 个上传文件 / uploaded files · 结构版本 / schema "
               f"revision {manifest.schema_revision} → {report.revision}")  # fmt: skip
