"""Small pieces the pages share: feedback alerts, reading a grid's selected row and an upload, and
the city and batch a form is for."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TypeVar

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from tracker.access.permissions import PROVINCIAL_ROLES, Action, Level, can, may_act
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _
from tracker.core.messages import Message, message_of
from tracker.core.validation import ValidationFailed
from tracker.lifecycle.deadlines import batch_for as lifecycle_batch_for
from tracker.models import Batch, City, ProgressUpdate, UpdateFile, User
from tracker.monitoring.palette import STATUS_CONTEXT

T = TypeVar("T")
Cell = str | int | float | Component | None  # what a table cell shows


def alert(text: str, color: str = "success") -> Component:
    return dbc.Alert(text, color=color, dismissable=True, className="py-2")


# dcc.Dropdown's own words for a multi-select (its defaults are English: "3 selected").
_DROPDOWN_LABELS = {
    "select_all": N_("全选"),
    "deselect_all": N_("全部取消"),
    "selected_count": N_("已选 {num_selected} 项"),
    "search": N_("搜索"),
    "clear_search": N_("清除搜索"),
    "clear_selection": N_("清除选择"),
    "no_options_found": N_("无匹配选项"),
}


def dropdown_labels() -> dcc.Dropdown.Labels:
    words = {key: _(text) for key, text in _DROPDOWN_LABELS.items()}
    return {"select_all": words["select_all"], "deselect_all": words["deselect_all"],
            "selected_count": words["selected_count"], "search": words["search"], "clear_search": words["clear_search"],
            "clear_selection": words["clear_selection"], "no_options_found": words["no_options_found"]}  # fmt: skip


def problems_alert(error: ValidationFailed) -> Component:
    """Every problem of a refused input, each with where it is (field, or Excel row and column)."""
    items = [html.Li(f"{p.where()}：{message_of(p)}") for p in error.problems]
    return dbc.Alert([html.Strong(_("发现{n}个问题，未写入任何数据：").format(n=len(error.problems))), html.Ul(items)],
                     color="danger", className="py-2")  # fmt: skip


# AG Grid row ids must be strings and stable across refreshes, or the selection jumps to another
# row. dash-ag-grid evaluates getRowId as a restricted expression (``String(...)`` yields
# "undefined" for every row), so rows carry their id as text in ``row_id``.
ROW_ID = "params.data.row_id"


def with_row_ids(rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    return [{**row, "row_id": str(row["id"])} for row in rows]


def selected_id(rows: object) -> int:
    """The id of the grid's selected row; anything malformed (a hand-made POST) stops the callback."""
    if not rows or not isinstance(rows, list) or not isinstance(rows[0], dict):
        raise PreventUpdate
    try:
        return int(rows[0]["id"])
    except (KeyError, TypeError, ValueError):
        raise PreventUpdate from None


def has_selection(rows: object) -> bool:
    """Whether the grid has a row selected (action buttons say so when it has not)."""
    return bool(rows) and isinstance(rows, list) and isinstance(rows[0], dict)


def visible_row(session: Session, user: User, model: type[T], row_id: int) -> T:
    """The row if the user may see it; another city's id (or a missing one) stops the callback,
    so a hand-made POST learns nothing, not even whether the id exists."""
    row = session.get(model, row_id)
    if row is None or not can(user, Action.VIEW, row):
        raise PreventUpdate
    return row


def decode_upload(contents: object) -> bytes:
    """The bytes of a dcc.Upload's data URL; ValueError when it is not one."""
    if not isinstance(contents, str) or "," not in contents:
        raise ValueError("no upload")
    return base64.b64decode(contents.split(",", 1)[1], validate=True)


def city_for(session: Session, user: User, city_id: object) -> City:
    """The city a form, import or export is for: a city user's own; for the province, the one chosen."""
    if user.city_id is not None and user.role not in PROVINCIAL_ROLES:
        city_id = user.city_id  # whatever the browser sent
    city = session.get(City, city_id) if isinstance(city_id, int) and not isinstance(city_id, bool) else None
    if city is None or not may_act(user, Level.EITHER, city):
        raise TrackerError(Message("请选择城市"))
    return city


def batch_for(session: Session, user: User, number: object, city: City, today: dt.date) -> Batch:
    """``tracker.lifecycle.deadlines.batch_for`` for a value sent by the browser (anything but a number or
    nothing is refused)."""
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise TrackerError(Message("批次不存在"))
    return lifecycle_batch_for(session, city, number, today)


def evidence_list(update: ProgressUpdate | None) -> Component:
    """The evidence files of an update, each a download link (/evidence/ID, permission-checked) with
    what it supports."""
    if update is None or not update.files:
        return html.P(_("暂无佐证材料"), className="text-muted small")
    names = {("milestone", m.id): m.title for m in update.pilot.milestones}
    names |= {("task", t.id): t.title for t in update.pilot.tasks}

    def supports(f: UpdateFile) -> str:
        if f.milestone_id:
            return names.get(("milestone", f.milestone_id), "")
        return names.get(("task", f.task_id), "") if f.task_id else _("整体工作")

    return html.Ul([html.Li([html.A(f.filename, href=f"/evidence/{f.id}"),
                             html.Span(f"　{supports(f)}　{f.size_bytes // 1024 + 1} KB", className="text-muted")])
                    for f in update.files], className="small")  # fmt: skip


def simple_table(head: Sequence[str], rows: Sequence[Sequence[Cell]], table_id: str) -> Component:
    """A small read-only table (a pilot's tasks, a city's dues); 暂无 when there are no rows."""
    if not rows:
        return html.P(_("暂无"), className="text-muted small", id=table_id)
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                      html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
                     bordered=True, hover=True, size="sm", className="small", id=table_id)  # fmt: skip


# Colours of the progress and update states, the same on every page, chart and workbook.
STATUS_COLOURS = STATUS_CONTEXT  # the one palette (tracker.monitoring.palette)
UPDATE_COLOURS = {"draft": "light", "submitted": "info", "returned": "warning", "accepted": "success"}


def badge(text: str, colour: str, **kwargs: object) -> Component:
    """A status badge, with dark text on the pale colours so it stays legible."""
    return dbc.Badge(
        text, color=colour, text_color="dark" if colour in ("light", "warning") else None, **kwargs
    )
