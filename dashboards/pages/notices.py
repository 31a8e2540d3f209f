"""通知 (/notices): the user's own notices, newest first (what is unread is summed up under the menu
bar, dashboards.shell, on this page as on every other).

Every account has one (tracker.delivery.notices): a returned update for a city bureau, a city's flag
proposal for the province, the province's decision for the city, a new bulletin for whoever receives
it. Each links to its object; the user marks one, several or all as read. Only the user's own are
listed or marked (tracker.access.permissions.visible_notices and require_mark_notice, asked on the server),
whatever a hand-made request names.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import Call, Clicks, Rows, page_callback
from dashboards.grid import data_grid
from dashboards.shell import BADGE, LINE, badge_content, notice_line
from dashboards.widgets import alert
from tracker.access.permissions import Action
from tracker.core.clock import now_utc
from tracker.core.i18n import N_, _, format_datetime
from tracker.core.json_types import JsonRow
from tracker.delivery.notices import mark_read, my_notices, notice_text, summary_lines, unread_by_kind
from tracker.models import User

PATH = "/notices"
NAME = N_("通知")
ORDER = 8.9
REQUIRED_ACTION = Action.VIEW
IN_NAV = False  # reached from the count in the menu bar
GRID = "ntc-grid"
READ, READ_ALL = "ntc-read", "ntc-read-all"
MAX_SELECTED = 500
COLUMNS = [("at", N_("时间"), 170), ("state", N_("状态"), 80), ("text", N_("内容"), 0), ("reason", N_("理由"), 260),
           ("open", N_("对象"), 90)]  # fmt: skip


def rows(session: Session, user: User) -> list[JsonRow]:
    tz = app_settings().timezone
    return [{"id": n.id, "at": format_datetime(n.created_at, tz), "state": _("已读") if n.read_at else _("未读"),
             "text": notice_text(n), "reason": str(n.params.get("reason") or ""), "link": n.link, "open": _("查看")}
            for n in my_notices(session, user)]  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    columns = [{"field": key, "headerName": _(caption)} | ({"width": width} if width else {"flex": 1, "minWidth": 280})
               for key, caption, width in COLUMNS]  # fmt: skip
    columns[-1] |= {"cellRenderer": "NoticeLink", "filter": False, "sortable": False}
    with db_session(read_only=True) as session:
        listed = rows(session, user)
    grid = data_grid(GRID, columns, listed, height="60vh")
    grid.dashGridOptions = {**grid.dashGridOptions,
                            "rowSelection": {"mode": "multiRow", "enableClickSelection": False}}  # fmt: skip
    grid.getRowId = "params.data.id"
    return html.Div([
        html.H2(_("通知"), className="h4"),
        html.P(_("与您有关的事项：被退回的更新、风险线索的建议与决定、新的调度通报；每件事只通知一次，同时按“发送对象”发送邮件。"),
               className="text-muted small"),
        html.P(_("没有通知。"), className="text-muted small", id="ntc-none") if not listed else None,
        html.Div([
            dbc.Button(_("标为已读"), id=READ, size="sm", color="primary", className="me-2"),
            dbc.Button(_("全部标为已读"), id=READ_ALL, size="sm", color="secondary", outline=True),
        ], className="mb-2"),
        html.Div(id="ntc-message"),
        grid,
    ])  # fmt: skip


def chosen_ids(selected: list[dict[str, object]] | None) -> list[int]:
    """The ids of the selected rows; anything malformed (a hand-made POST) stops the callback."""
    if not selected or len(selected) > MAX_SELECTED:
        raise PreventUpdate
    try:
        return sorted({int(row["id"]) for row in selected})  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        raise PreventUpdate from None


MESSAGE_OUT = Output("ntc-message", "children")


@page_callback(
    REQUIRED_ACTION, Output(GRID, "rowData"), MESSAGE_OUT, Output(BADGE, "children"), Output(LINE, "children"),
    Input(READ, "n_clicks"), Input(READ_ALL, "n_clicks"), State(GRID, "selectedRows"),
    alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def mark(call: Call, _one: Clicks, _all: Clicks, selected: Rows) -> tuple[object, ...]:
    if call.triggered == READ:
        ids: list[int] | None = chosen_ids(selected)
    elif call.triggered == READ_ALL:
        ids = None
    else:
        raise PreventUpdate
    changed = mark_read(call.session, call.user, ids, now=now_utc())
    listed, kinds = rows(call.session, call.user), unread_by_kind(call.session, call.user)
    done = alert(_("已标为已读：{n}条").format(n=changed))
    return listed, done, badge_content(sum(kinds.values())), notice_line(summary_lines(kinds))
