"""File downloads as plain routes (a link in a page), each asking the permission module first."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, abort, send_file
from flask.typing import ResponseReturnValue

from dashboards.access import app_settings, db_session, request_user_or_none
from tracker.access.permissions import Action, can, visible_bulletins
from tracker.audit import trail as audit
from tracker.core.errors import TrackerError
from tracker.core.messages import message_of
from tracker.models import Bulletin, UpdateFile
from tracker.uploads.files import clean_filename, read_file


def attachment(content: bytes, mimetype: str, name: str) -> Response:
    """A file download under ``name`` (cleaned as uploads are: no control characters, no path), with
    an RFC 6266 Content-Disposition: an ASCII ``filename`` for old clients and the real name as
    ``filename*`` (UTF-8, percent-encoded), so a Chinese name arrives intact and no stored name can
    break the header."""
    shown = clean_filename(name)
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in shown)
    response = send_file(io.BytesIO(content), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(shown, safe='')}"
    )
    return response


def _evidence(file_id: int) -> ResponseReturnValue:
    user = request_user_or_none(Action.VIEW)
    with db_session() as session:
        row = session.get(UpdateFile, file_id)
        if user is None or row is None or not can(user, Action.VIEW, row.update.pilot):
            abort(404)  # another city's file looks like no file
        try:
            content = read_file(user, row, Path(app_settings().instance_dir))
        except TrackerError as error:
            abort(410, description=message_of(error))
        audit.record(session, "download", "update_files", row.id, summary=row.filename,
                     city_id=row.update.pilot.city_id)  # fmt: skip
        name, content_type = row.filename, row.content_type
    return attachment(content, content_type, name)


def _bulletin(bulletin_id: int) -> ResponseReturnValue:
    """An archived bulletin file, as it was sent (a cut the user may not read looks like none)."""
    user = request_user_or_none(Action.VIEW)
    with db_session() as session:
        row = session.scalars(visible_bulletins(user).where(Bulletin.id == bulletin_id)).first()
        if user is None or row is None:
            abort(404)
        audit.record(session, "download", "bulletins", row.id, summary=row.file_name, city_id=row.city_id)
        name, content_type, content = row.file_name, row.content_type, row.content
    return attachment(content, content_type, name)


def install_downloads(server: Flask) -> None:
    server.add_url_rule("/evidence/<int(max=2147483647):file_id>", "evidence", _evidence)
    server.add_url_rule("/bulletins/<int(max=2147483647):bulletin_id>/download", "bulletin", _bulletin)
