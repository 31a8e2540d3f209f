"""File downloads as plain routes (a link in a page), each asking the permission module first."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, send_file

from dashboards.access import db_session, request_user_or_none
from tracker import audit
from tracker.errors import TrackerError
from tracker.files import read_file
from tracker.i18n import message_of
from tracker.models import Bulletin, UpdateFile
from tracker.permissions import Action, can, visible_bulletins


def _evidence(file_id: int) -> Any:
    user = request_user_or_none(Action.VIEW)
    with db_session() as session:
        row = session.get(UpdateFile, file_id)
        if user is None or row is None or not can(user, Action.VIEW, row.update.pilot):
            abort(404)  # another city's file looks like no file
        try:
            content = read_file(user, row, Path(current_app.config["TRACKER_SETTINGS"].instance_dir))
        except TrackerError as error:
            abort(410, description=message_of(error))
        audit.record(session, "download", "update_files", row.id, summary=row.filename,
                     city_id=row.update.pilot.city_id)  # fmt: skip
        name, content_type = row.filename, row.content_type
    return send_file(io.BytesIO(content), mimetype=content_type, as_attachment=True, download_name=name)


def _bulletin(bulletin_id: int) -> Any:
    """An archived bulletin file, as it was sent (a cut the user may not read looks like none)."""
    user = request_user_or_none(Action.VIEW)
    with db_session() as session:
        row = session.scalars(visible_bulletins(user).where(Bulletin.id == bulletin_id)).first()
        if user is None or row is None:
            abort(404)
        audit.record(session, "download", "bulletins", row.id, summary=row.file_name, city_id=row.city_id)
        name, content_type, content = row.file_name, row.content_type, row.content
    return send_file(io.BytesIO(content), mimetype=content_type, as_attachment=True, download_name=name)


def install_downloads(server: Flask) -> None:
    server.add_url_rule("/evidence/<int(max=2147483647):file_id>", "evidence", _evidence)
    server.add_url_rule("/bulletins/<int(max=2147483647):bulletin_id>/download", "bulletin", _bulletin)
