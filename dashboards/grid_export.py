"""导出Excel for every grid: POST /export/grid.xlsx with the rows the user sees (assets/gridTools.js).

The browser sends what its grid shows, after the user's filters, sorting and column choice; the
server only writes it as a workbook (every string stays text) and records the export. It gives out
nothing the user's grid did not already hold. Requests must carry JSON and the X-Requested-With
header (which a cross-site form cannot send), from a logged-in user; anything malformed gets 400
with a message in Chinese and English, and no file.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from dashboards.access import app_settings, db_session, request_user_or_none
from dashboards.downloads import attachment
from reports.excel import write_table
from tracker.access.permissions import Action
from tracker.audit import trail as audit
from tracker.core.clock import local_today
from tracker.core.messages import Message

MAX_ROWS, MAX_COLUMNS, MAX_TEXT = 200_000, 100, 32_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _refuse(status: int, message: Message) -> ResponseReturnValue:
    response = jsonify(error=status, message=message.zh, message_en=message.en)
    response.status_code = status
    return response


def _cell(value: object) -> bool:
    return (
        value is None
        or isinstance(value, bool | int | float)
        or (isinstance(value, str) and len(value) <= MAX_TEXT)
    )


def _table(body: object) -> tuple[str, str, list[str], list[bool], list[list[object]]] | None:
    """The export's grid id, title, headers, date columns and rows, or None if the body is not one."""
    if not isinstance(body, dict):
        return None
    grid, title, columns, rows = body.get("grid"), body.get("title"), body.get("columns"), body.get("rows")
    dates = body.get("dates") or [False] * (len(columns) if isinstance(columns, list) else 0)
    if not (isinstance(grid, str) and len(grid) <= 64 and isinstance(title, str) and len(title) <= 100):
        return None
    if not (isinstance(columns, list) and 0 < len(columns) <= MAX_COLUMNS
            and all(isinstance(c, str) and len(c) <= 200 for c in columns)):  # fmt: skip
        return None
    if not (
        isinstance(dates, list) and len(dates) == len(columns) and all(isinstance(d, bool) for d in dates)
    ):
        return None
    if not (isinstance(rows, list) and len(rows) <= MAX_ROWS and all(
        isinstance(row, list) and len(row) == len(columns) and all(_cell(v) for v in row) for row in rows
    )):  # fmt: skip
        return None
    return grid, title.strip() or "表格", columns, dates, rows


def _export() -> ResponseReturnValue:
    user = request_user_or_none(Action.VIEW)
    if user is None:
        return _refuse(401, Message("请先登录"))
    if request.headers.get("X-Requested-With") != "tracker-grid" or not request.is_json:
        return _refuse(400, Message("请求格式不正确"))
    table = _table(request.get_json(silent=True))
    if table is None:
        return _refuse(400, Message("导出内容格式不正确"))
    grid, title, columns, dates, rows = table
    keys = [f"c{n}" for n in range(len(columns))]
    content = write_table(title, list(zip(keys, columns, strict=True)),
                          [dict(zip(keys, row, strict=True)) for row in rows],
                          date_keys=[k for k, is_date in zip(keys, dates, strict=True) if is_date])  # fmt: skip
    with db_session() as session:
        audit.record(session, "export", "grid", None, summary=f"{title}（{grid}）{len(rows)}行",
                     city_id=user.city_id)  # fmt: skip
    name = f"{title}_{local_today(app_settings().timezone):%Y%m%d}.xlsx"
    response = attachment(content, XLSX, name)
    response.headers["X-Filename"] = quote(name)
    return response


def install_grid_export(server: Flask) -> None:
    server.add_url_rule("/export/grid.xlsx", "grid_export", _export, methods=["POST"])
