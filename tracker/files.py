"""Supporting files of an application (附件4 §六): checked by content, stored by checksum, audited.

The bytes live under ``<instance folder>/uploads/<first two hex digits>/<sha256>``; the database row
keeps the name, type, size and SHA-256, and reading a file checks the bytes still match.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from tracker.applications import EDITABLE
from tracker.errors import TrackerError
from tracker.models import Application, ApplicationFile, FileKind, User
from tracker.permissions import Action, Level, require, require_act

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


def check_upload(filename: str, content: bytes) -> str:
    """The content type of an acceptable file, or a clear refusal (type, size, content)."""
    name = Path(filename).name
    extension = Path(name).suffix.lower()
    if extension not in ALLOWED:
        raise TrackerError(f"不支持的文件类型：{extension or '无扩展名'}（可上传 PDF、OFD、Word、Excel、JPG、PNG）",
                           f"File type not accepted: {extension or 'none'}")  # fmt: skip
    if not content:
        raise TrackerError("文件为空", "The file is empty")
    if len(content) > MAX_BYTES:
        raise TrackerError(
            f"文件超过{MAX_BYTES // 1024 // 1024}MB",
            f"The file is larger than {MAX_BYTES // 1024 // 1024} MB",
        )
    content_type, magics = ALLOWED[extension]
    if not content.startswith(magics):
        raise TrackerError(f"文件内容与扩展名{extension}不符", f"The content is not a {extension} file")
    return content_type


def store_file(session: Session, user: User, application: Application, *, kind: FileKind, filename: str,
               content: bytes, instance_dir: Path) -> ApplicationFile:  # fmt: skip
    """Attach a file to an application that can still change (as the city, or the province for direct ones)."""
    require_act(user, Level.CITY, application)
    if application.status not in EDITABLE:
        raise TrackerError("该申报已通过市级初审，不能再添加材料", "The application is locked; no more files")
    content_type = check_upload(filename, content)
    digest = hashlib.sha256(content).hexdigest()
    target = _path(instance_dir, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temporary, target)  # atomic: a reader never sees half a file
    row = ApplicationFile(application=application, kind=kind, filename=Path(filename).name[:200],
                          content_type=content_type, size_bytes=len(content), sha256=digest,
                          uploaded_by_id=user.id)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def read_file(user: User, row: ApplicationFile, instance_dir: Path) -> bytes:
    """The stored bytes, after checking the user may see them and that they are intact."""
    require(user, Action.VIEW, row.application)
    path = _path(instance_dir, row.sha256)
    if not path.exists():
        raise TrackerError("文件已丢失，请联系管理员", "The stored file is missing")
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise TrackerError(
            "文件校验失败（内容已被改动），请联系管理员", "Checksum mismatch: the stored file changed"
        )
    return content
