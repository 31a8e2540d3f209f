"""Uploaded files — supporting files of an application (附件4 §六) and evidence attached to a
periodic update (a milestone reached, a task completed): checked by content, stored by checksum,
audited.

The bytes live under ``<instance folder>/uploads/<first two hex digits>/<sha256>``; the database row
keeps the name, type, size and SHA-256, and reading a file checks the bytes still match.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from pathlib import Path

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from tracker.access.permissions import Action, Level, require, require_act
from tracker.core.errors import TrackerError
from tracker.core.messages import Label, Message
from tracker.lifecycle.applications import EDITABLE
from tracker.models import Application, ApplicationFile, FileKind, ProgressUpdate, UpdateFile, User
from tracker.progress.updates import EDITABLE as UPDATE_EDITABLE

MAX_BYTES = 20 * 1024 * 1024
# extension → (content type, how the file starts)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".ofd": ("application/ofd", (b"PK\x03\x04",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}


def _path(instance_dir: Path, sha256: str) -> Path:
    return instance_dir / "uploads" / sha256[:2] / sha256


# Bidirectional overrides and isolates make "gpj.exe" display as "exe.jpg"; never in a file name.
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}
NAME_LENGTH = 200


def clean_filename(filename: str) -> str:
    """The name an upload is kept and downloaded under: its last path part (either slash), without
    control characters or bidirectional overrides, trimmed, at most 200 characters with its
    extension kept; "未命名" (unnamed) before the extension when nothing is left."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) != "Cc" and c not in _BIDI).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension[:16]
    stem = stem.strip() or "未命名"
    room = NAME_LENGTH - (len(extension) + 1 if extension else 0)
    return f"{stem[:room]}.{extension}" if extension else stem[:NAME_LENGTH]


def check_upload(filename: str, content: bytes) -> str:
    """The content type of an acceptable file, or a clear refusal (type, size, content)."""
    name = clean_filename(filename)
    extension = Path(name).suffix.lower()
    if extension not in ALLOWED:
        raise TrackerError(Message("不支持的文件类型：{value}（可上传 PDF、OFD、Word、Excel、JPG、PNG）", value=extension or Label('无扩展名', 'none')))  # fmt: skip
    if not content:
        raise TrackerError(Message("文件为空"))
    if len(content) > MAX_BYTES:
        raise TrackerError(
            Message("文件超过{value}MB", value=MAX_BYTES // 1024 // 1024),
        )
    content_type, magics = ALLOWED[extension]
    if not content.startswith(magics):
        raise TrackerError(Message("文件内容与扩展名{extension}不符", extension=extension))
    return content_type


def _write(content: bytes, instance_dir: Path) -> str:
    """Store the bytes under their SHA-256 (once; the same file twice is one copy) and return it."""
    digest = hashlib.sha256(content).hexdigest()
    target = _path(instance_dir, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temporary, target)  # atomic: a reader never sees half a file
    return digest


def store_file(session: Session, user: User, application: Application, *, kind: FileKind, filename: str,
               content: bytes, instance_dir: Path) -> ApplicationFile:  # fmt: skip
    """Attach a file to an application that can still change (as the city, or the province for direct ones)."""
    require_act(user, Level.CITY, application)
    if application.status not in EDITABLE:
        raise TrackerError(Message("该申报已通过市级初审，不能再添加材料"))
    content_type = check_upload(filename, content)
    digest = _write(content, instance_dir)
    row = ApplicationFile(application=application, kind=kind, filename=clean_filename(filename),
                          content_type=content_type, size_bytes=len(content), sha256=digest,
                          uploaded_by_id=user.id)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def attach_evidence(session: Session, user: User, update: ProgressUpdate, *, filename: str, content: bytes,
                    instance_dir: Path, milestone_id: int | None = None, task_id: int | None = None,
                    ) -> UpdateFile:  # fmt: skip
    """Attach evidence to an update the city can still change, for one of its pilot's milestones or
    tasks (or the update as a whole). The update's version moves, so an editor holding the old
    version is told that something changed."""
    require_act(user, Level.CITY, update.pilot)
    if update.status not in UPDATE_EDITABLE:
        raise TrackerError(Message("该更新已提交或已采纳，不能再添加佐证材料"))  # fmt: skip
    if milestone_id is not None and milestone_id not in {m.id for m in update.pilot.milestones}:
        raise TrackerError(Message("阶段性目标不属于该试点"))
    if task_id is not None and task_id not in {t.id for t in update.pilot.tasks}:
        raise TrackerError(Message("任务不属于该试点"))
    content_type = check_upload(filename, content)
    row = UpdateFile(update=update, milestone_id=milestone_id, task_id=task_id, filename=clean_filename(filename),
                     content_type=content_type, size_bytes=len(content), sha256=_write(content, instance_dir),
                     uploaded_by_id=user.id)  # fmt: skip
    session.add(row)
    flag_modified(update, "entered_by_id")  # the version moves with the evidence
    session.flush()
    return row


def remove_evidence(session: Session, user: User, row: UpdateFile) -> None:
    """Take evidence off an update that can still change (the bytes stay: the audit trail names them)."""
    require_act(user, Level.CITY, row.update.pilot)
    if row.update.status not in UPDATE_EDITABLE:
        raise TrackerError(Message("该更新已提交或已采纳，佐证材料不能删除"))
    flag_modified(row.update, "entered_by_id")
    session.delete(row)
    session.flush()


def read_file(user: User, row: ApplicationFile | UpdateFile, instance_dir: Path) -> bytes:
    """The stored bytes, after checking the user may see them and that they are intact."""
    owner = row.application if isinstance(row, ApplicationFile) else row.update.pilot
    require(user, Action.VIEW, owner)
    path = _path(instance_dir, row.sha256)
    if not path.exists():
        raise TrackerError(Message("文件已丢失，请联系管理员"))
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise TrackerError(Message("文件校验失败（内容已被改动），请联系管理员"))
    return content
