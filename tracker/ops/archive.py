"""The backup archive: a gzip-compressed tar holding ``manifest.json`` first, then the database dump
under ``database/`` and the uploaded files under ``uploads/`` as they lie in the instance folder.

The manifest names the format, the backend, the schema revision, when it was made
(``tracker.core.clock``), the app version, each table's row count and the SHA-256 and size of every
other member. Reading an archive unpacks it into a staging folder and refuses, before anything else
is touched, anything that is not such an archive: not a tar, a member changed (checksum), missing,
unlisted, or named outside the two folders (no links, no ``..``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from tracker.core import clock
from tracker.core.errors import TrackerError
from tracker.core.messages import Label, Message

FORMAT = "cfp-tracker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"postgresql": "database/tracker.pgdump", "sqlite": "database/tracker.sqlite3"}
_MEMBER_NAME = re.compile(r"database/tracker\.(pgdump|sqlite3)|uploads/[0-9a-f]{2}/[0-9a-f]{64}")
_CHUNK = 1024 * 1024
MANIFEST_LIMIT = 256 * 1024 * 1024  # about a million uploads listed; anything larger is not ours


@dataclass(frozen=True)
class Member:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    backend: str
    schema_revision: str
    created_at: str
    app_version: str
    database_format: str
    row_counts: dict[str, int]
    members: dict[str, Member]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def database_member(self) -> str:
        return DATABASE_MEMBERS[self.backend]

    @property
    def uploads(self) -> list[str]:
        return sorted(name for name in self.members if name.startswith("uploads/"))

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True).encode()


def damaged(detail_zh: str, detail_en: str) -> TrackerError:
    return TrackerError(Message("备份归档已损坏或不完整，未作任何更改：{detail}", detail=Label(detail_zh, detail_en)))  # fmt: skip


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe(files: dict[str, Path]) -> dict[str, Member]:
    """Each member's checksum and size, by its name in the archive."""
    return {name: Member(sha256_of(path), path.stat().st_size) for name, path in sorted(files.items())}


def write_archive(out: Path, manifest: Manifest, files: dict[str, Path]) -> None:
    """Write the archive beside ``out`` and move it into place whole (never half an archive under its name)."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        # Owner-only from the first byte: the archive holds the whole database (password hashes too).
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw, \
                tarfile.open(fileobj=raw, mode="w:gz") as tar:  # fmt: skip
            content = manifest.to_json()
            tar.addfile(_plain(tarfile.TarInfo(MANIFEST), len(content)), io.BytesIO(content))
            for name in sorted(files):
                info = _plain(tar.gettarinfo(files[name], arcname=name), files[name].stat().st_size)
                with files[name].open("rb") as handle:
                    tar.addfile(info, handle)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def _plain(info: tarfile.TarInfo, size: int) -> tarfile.TarInfo:
    """A member without this machine's owner names and ids, readable by its owner only."""
    info.size, info.mode, info.mtime = size, 0o600, int(clock.now_utc().timestamp())
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def read_archive(path: Path, staging: Path) -> Manifest:
    """Unpack ``path`` into ``staging`` and return its manifest once every member is checked."""
    if not path.is_file():
        raise TrackerError(Message("备份归档不存在：{path}", path=path))
    try:
        with tarfile.open(path, "r:*") as tar:
            raw, found = _unpack(tar, staging)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise TrackerError(Message("不是有效的备份归档（{name}）：{error}", name=path.name, error=error)) from None  # fmt: skip
    if raw is None:
        raise damaged(f"缺少 {MANIFEST}", f"{MANIFEST} is missing")
    manifest = parse_manifest(raw)
    _check_members(manifest, found)
    return manifest


def _unpack(tar: tarfile.TarFile, staging: Path) -> tuple[bytes | None, dict[str, Member]]:
    """The manifest's bytes and every other member written under ``staging`` with its checksum."""
    raw: bytes | None = None
    found: dict[str, Member] = {}
    for info in tar:
        if info.name == MANIFEST and info.isfile() and raw is None and info.size <= MANIFEST_LIMIT:
            raw = _read(tar, info).read()
            continue
        if not info.isfile() or not _MEMBER_NAME.fullmatch(info.name) or info.name in found:
            raise damaged(f"含有不应有的成员 {info.name!r}", f"unexpected member {info.name!r}")
        found[info.name] = _extract(_read(tar, info), staging / info.name)
    return raw, found


def _read(tar: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    handle = tar.extractfile(info)
    if handle is None:
        raise damaged(f"无法读取成员 {info.name}", f"cannot read member {info.name}")
    return handle


def _extract(source: IO[bytes], target: Path) -> Member:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as handle:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            handle.write(chunk)
    return Member(digest.hexdigest(), size)


def parse_manifest(raw: bytes) -> Manifest:
    """The manifest, or a refusal when it is not this program's (or not JSON)."""
    try:
        data = json.loads(raw)
        members = {
            name: Member(str(m["sha256"]), int(m["size"])) for name, m in dict(data["members"]).items()
        }
        manifest = Manifest(
            backend=str(data["backend"]), schema_revision=str(data["schema_revision"]),
            created_at=str(data["created_at"]), app_version=str(data["app_version"]),
            database_format=str(data["database_format"]),
            row_counts={str(k): int(v) for k, v in dict(data["row_counts"]).items()},
            members=members, format=str(data["format"]), format_version=int(data["format_version"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise damaged(f"{MANIFEST} 无法解析（{error}）", f"{MANIFEST} cannot be read ({error})") from None
    if (
        manifest.format != FORMAT
        or manifest.format_version > FORMAT_VERSION
        or manifest.backend not in DATABASE_MEMBERS
    ):
        raise damaged(
            "不是本系统的备份格式或格式版本更新", "not this program's backup format, or a newer version of it"
        )
    return manifest


def _check_members(manifest: Manifest, found: dict[str, Member]) -> None:
    if manifest.database_member not in manifest.members:
        raise damaged("清单中没有数据库转储", "the manifest lists no database dump")
    for name, expected in manifest.members.items():
        actual = found.get(name)
        if actual is None:
            raise damaged(f"缺少成员 {name}", f"member {name} is missing")
        if actual != expected:
            raise damaged(
                f"成员 {name} 的校验和不符（SHA-256）", f"member {name} does not match its SHA-256 checksum"
            )
    unlisted = sorted(set(found) - set(manifest.members))
    if unlisted:
        raise damaged(f"成员 {unlisted[0]} 不在清单中", f"member {unlisted[0]} is not in the manifest")
