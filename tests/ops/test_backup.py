"""Backup and restore (issue 23 point 3): ``tracker backup`` of the demo province with uploaded files
and archived bulletins, restored into a fresh empty database and instance folder of the same backend,
holds every row and every file; damaged, foreign, newer or misdirected archives are refused with
nothing changed.

The source is built and backed up once per module (the demo: about 7 s); each test restores into
its own database (``tests.conftest.fresh_database``: PostgreSQL databases are created and dropped).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, Table, create_engine, select

from tests.conftest import BACKEND, fresh_database, initialise
from tests.factories import TZ, Factory
from tracker.audit.chain import combined, verify_all
from tracker.core import clock
from tracker.core.config import get_settings
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.errors import TrackerError
from tracker.core.migrate import head_revision
from tracker.delivery.bulletin_archive import archive_bulletin
from tracker.demo.province import build_demo
from tracker.models import AuditEvent, Bulletin, FileKind, Province, Role
from tracker.ops import pgtools
from tracker.ops.databases import count_rows, table_names
from tracker.uploads.files import store_file
from tracker_cli.main import cli

AUDIT_TABLES = {"audit_events", "audit_chain", "audit_chain_head"}  # the restore itself is audited
PDF = b"%PDF-1.4\n% supporting file\n"
OTHER = "sqlite" if BACKEND == "postgresql" else "postgresql"


@dataclass(frozen=True)
class Source:
    url: str
    instance: Path
    archive: Path
    counts: dict[str, int]
    rows: dict[str, list[tuple[object, ...]]]
    files: dict[str, str]


def run_cli(args: list[str], url: str, instance: Path) -> Result:
    """``tracker ARGS`` with this database and instance folder as its settings."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKER_DATABASE_URL", url)
        patch.setenv("TRACKER_INSTANCE_DIR", str(instance))
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli, args)
        finally:
            get_settings.cache_clear()


def file_sums(instance: Path) -> dict[str, str]:
    root = instance / "uploads"
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def table_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {name: [tuple(row) for row in connection.execute(select(t).order_by(*_order(t)))]
                    for name, t in metadata.tables.items()}  # fmt: skip
    finally:
        engine.dispose()


def _order(table: Table) -> list[object]:
    return list(table.primary_key.columns) or list(table.columns)


def _populate(url: str, instance: Path) -> None:
    """The demo province, two supporting files of an application and a bulletin with its corrections."""
    engine = make_engine(url)
    with transaction(make_session_factory(engine), actor="test") as session:
        build_demo(session, today=clock.local_today(TZ))
        factory = Factory(session)
        user, application = factory.user(Role.CITY_STAFF, "长治"), factory.application("长治")
        for n in range(2):
            store_file(session, user, application, kind=FileKind.BUSINESS, filename=f"证明{n}.pdf",
                       content=PDF + bytes([n]) * 1000, instance_dir=instance)  # fmt: skip
        province = session.scalars(select(Province)).first()
        assert province is not None
        for correction in (0, 1):
            archive_bulletin(session, province_id=province.id, kind="monthly", period="2020-01", cut="province",
                             city_id=None, number=1, issued_on=clock.local_today(TZ),
                             title="第1期", summary="摘要", file_name="通报.xlsx", content_type="application/x",
                             content=bytes(range(256)) * (correction + 3), run_id=None, now=clock.now_utc(),
                             correction=correction, reason="更正" if correction else None)  # fmt: skip
    engine.dispose()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    base = tmp_path_factory.mktemp("backup-source")
    with fresh_database(base) as url:
        initialise(url)
        instance = base / "instance"
        _populate(url, instance)
        counts, rows, files = count_rows(url).row_counts, table_rows(url), file_sums(instance)
        result = run_cli(["backup", str(base)], url, instance)
        assert result.exit_code == 0, result.output
        (archive,) = base.glob("tracker-backup-*.tar.gz")
        yield Source(url, instance, archive, counts, rows, files)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with fresh_database(tmp_path) as url:
        yield url, tmp_path / "restored-instance"


def test_the_archive_holds_the_dump_the_files_and_a_manifest(source: Source) -> None:
    with tarfile.open(source.archive) as tar:
        names = tar.getnames()
        manifest = json.loads(_member(tar, "manifest.json"))
        assert names[0] == "manifest.json"
        for name, member in manifest["members"].items():
            assert hashlib.sha256(_member(tar, name)).hexdigest() == member["sha256"]
    assert manifest["backend"] == BACKEND
    assert manifest["schema_revision"] == head_revision()
    assert manifest["app_version"] == "0.1.0"
    assert clock.parse_instant(manifest["created_at"]) <= clock.now_utc()
    assert manifest["row_counts"] == source.counts
    assert sorted(n for n in manifest["members"] if n.startswith("uploads/")) == [
        f"uploads/{n}" for n in source.files
    ]
    assert source.counts["bulletins"] == 2 and source.counts["pilots"] > 10 and len(source.files) == 2


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    handle = tar.extractfile(name)
    assert handle is not None
    return handle.read()


def test_a_round_trip_keeps_every_row_and_every_file(source: Source, target: tuple[str, Path]) -> None:
    url, instance = target
    result = run_cli(["restore", str(source.archive)], url, instance)
    assert result.exit_code == 0, result.output
    assert "已恢复 / restored" in result.output
    restored = count_rows(url)
    assert restored.revision == head_revision()
    expected = {name: count + (1 if name in {"audit_events", "audit_chain"} else 0)
                for name, count in source.counts.items()}  # fmt: skip
    assert restored.row_counts == expected
    rows = table_rows(url)
    for name, before in source.rows.items():
        if name not in AUDIT_TABLES:
            assert rows[name] == before, name
    assert rows["audit_events"][: len(source.rows["audit_events"])] == source.rows["audit_events"]
    assert file_sums(instance) == source.files
    _check_restored_state(url)


def _check_restored_state(url: str) -> None:
    """The chain verifies, the restore is its last event, the bulletins' bytes came back."""
    engine = make_engine(url)
    with transaction(make_session_factory(engine), actor="test") as session:
        assert combined(verify_all(session)).whole
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None and (last.action, last.actor_name) == ("restore", "tracker restore")
        contents = session.scalars(select(Bulletin.content).order_by(Bulletin.correction)).all()
        assert [len(c) for c in contents] == [768, 1024]
    engine.dispose()


def test_the_backup_is_audited_in_the_database_backed_up(source: Source) -> None:
    engine = make_engine(source.url)
    with transaction(make_session_factory(engine), actor="test") as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "backup")).one()
        assert event.actor_name == "tracker backup" and source.archive.name in (event.summary or "")
    engine.dispose()


def test_an_existing_file_is_not_overwritten(source: Source) -> None:
    before = source.archive.read_bytes()
    result = run_cli(["backup", str(source.archive)], source.url, source.instance)
    assert result.exit_code != 0
    assert "目标文件已存在" in result.output and "already exists" in result.output
    assert source.archive.read_bytes() == before


Edit = Callable[[dict[str, object], dict[str, bytes]], None]


def rewrite(archive: Path, out: Path, edit: Edit) -> Path:
    """A copy of ``archive`` with its manifest and members changed by ``edit`` (checksums not updated)."""
    with tarfile.open(archive) as tar:
        members = {name: _member(tar, name) for name in tar.getnames()}
    manifest = json.loads(members.pop("manifest.json"))
    edit(manifest, members)
    with tarfile.open(out, "w:gz") as tar:
        for name, content in [("manifest.json", json.dumps(manifest).encode()), *members.items()]:
            if name == "manifest.json" and "drop-manifest" in manifest:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return out


def _tamper(manifest: dict[str, object], members: dict[str, bytes]) -> None:
    name = next(n for n in members if n.startswith("uploads/"))
    members[name] = members[name][:-1] + b"X"


def _drop_manifest(manifest: dict[str, object], members: dict[str, bytes]) -> None:
    manifest["drop-manifest"] = True


def _drop_upload(manifest: dict[str, object], members: dict[str, bytes]) -> None:
    del members[next(n for n in members if n.startswith("uploads/"))]


def _newer(manifest: dict[str, object], members: dict[str, bytes]) -> None:
    manifest["schema_revision"] = "9999"


def _other_backend(manifest: dict[str, object], members: dict[str, bytes]) -> None:
    """The same archive claiming the other backend, its dump under that backend's name."""
    names = {"postgresql": "database/tracker.pgdump", "sqlite": "database/tracker.sqlite3"}
    listed = manifest["members"]
    assert isinstance(listed, dict)
    listed[names[OTHER]] = listed.pop(names[BACKEND])
    members[names[OTHER]] = members.pop(names[BACKEND])
    manifest["backend"] = OTHER


REFUSALS: dict[str, tuple[Edit, str, str]] = {
    "tampered member": (_tamper, "校验和不符", "does not match its SHA-256"),
    "missing manifest": (_drop_manifest, "缺少 manifest.json", "manifest.json is missing"),
    "missing member": (_drop_upload, "缺少成员", "is missing"),
    "newer schema": (_newer, "比本程序（最新", "newer than this program knows"),
    "other backend": (_other_backend, "不支持跨数据库类型恢复", "restoring across backends is not supported"),
}


def _nothing_changed(url: str, instance: Path) -> None:
    assert table_names(url) == []
    assert not (instance / "uploads").exists() or file_sums(instance) == {}
    assert not [p for p in instance.glob(".tracker-restore-*")]  # staging removed


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_archive_is_refused_and_nothing_changes(
    case: str, source: Source, target: tuple[str, Path], tmp_path: Path
) -> None:
    edit, zh, en = REFUSALS[case]
    bad = rewrite(source.archive, tmp_path / "bad.tar.gz", edit)
    url, instance = target
    result = run_cli(["restore", str(bad)], url, instance)
    assert result.exit_code != 0
    assert zh in result.output and en in result.output, result.output
    assert "未作任何更改" in result.output and "nothing was changed" in result.output
    _nothing_changed(url, instance)


def test_a_file_that_is_not_an_archive_is_refused(target: tuple[str, Path], tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup at all" * 100)
    url, instance = target
    result = run_cli(["restore", str(junk)], url, instance)
    assert result.exit_code != 0
    assert "不是有效的备份归档" in result.output and "Not a valid backup archive" in result.output
    _nothing_changed(url, instance)


def test_a_truncated_archive_is_refused(source: Source, target: tuple[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(source.archive.read_bytes()[: source.archive.stat().st_size // 2])
    url, instance = target
    result = run_cli(["restore", str(cut)], url, instance)
    assert result.exit_code != 0 and "Not a valid backup archive" in result.output
    _nothing_changed(url, instance)


def test_a_database_that_is_not_empty_is_refused(source: Source, target: tuple[str, Path]) -> None:
    url, instance = target
    initialise(url)
    before = table_rows(url)
    result = run_cli(["restore", str(source.archive)], url, instance)
    assert result.exit_code != 0
    assert "目标数据库不是空的" in result.output and "The target database is not empty" in result.output
    assert table_rows(url) == before
    assert not (instance / "uploads").exists()


def test_a_client_program_of_another_major_version_is_refused_by_name() -> None:
    with pytest.raises(TrackerError) as refused:
        pgtools.find_program("pg_dump", 99)
    assert "postgresql-client-99" in refused.value.message_zh
    assert "No pg_dump of the server's major version (PostgreSQL 99)" in refused.value.message_en


def test_the_password_goes_to_the_client_programs_in_the_environment() -> None:
    env = pgtools.client_env("postgresql+psycopg://cfp:p%40ss@db.example:5433/cfp?sslmode=require")
    assert (env["PGUSER"], env["PGPASSWORD"], env["PGHOST"], env["PGPORT"]) == (
        "cfp",
        "p@ss",
        "db.example",
        "5433",
    )
    assert (env["PGDATABASE"], env["PGSSLMODE"]) == ("cfp", "require")
