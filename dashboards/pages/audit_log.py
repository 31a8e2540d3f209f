"""审计日志: who changed what and when, every event in the user's scope.

The trail only grows (every action is audited), so the grid asks the server for one block of rows
at a time (AG Grid's infinite row model): the database sorts, filters, counts and returns 100
events per block; nothing is cut off at a fixed number of latest events.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import dash_ag_grid as dag
from dash import Input, Output, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.audit_words import ACTIONS, ENTITIES, action_word, entity_word
from dashboards.callbacks import Call, Raw, page_callback
from dashboards.grid import locale_text
from tracker.access.permissions import Action, visible_audit_events
from tracker.audit.chain import last_verification
from tracker.core.i18n import N_, _, format_datetime
from tracker.core.json_types import JsonRow
from tracker.models import AuditEvent, User

PATH = "/audit"
NAME = N_("审计日志")
ORDER = 8
REQUIRED_ACTION = Action.VIEW_AUDIT
GRID = "audit-grid"
BLOCK = 100  # rows per request to the server
MAX_BLOCK = 1000  # a hand-made request cannot ask for more at once
TEXT_FILTER: dict[str, object] = {
    "filter": "agTextColumnFilter",
    "filterParams": {"filterOptions": ["contains"], "maxNumConditions": 1},
}
# Sorting and filtering happen in the database, so only columns it can sort or search offer them.
COLUMNS: list[tuple[str, str, dict[str, object]]] = [("at", N_("时间"), {"sortable": True, "width": 170}), ("actor", N_("操作人"), TEXT_FILTER),
           ("action", N_("操作"), TEXT_FILTER), ("entity", N_("对象"), TEXT_FILTER),
           ("summary", N_("说明"), TEXT_FILTER | {"flex": 1, "minWidth": 240}),
           ("before", N_("修改前"), {}), ("after", N_("修改后"), {})]  # fmt: skip


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    columns = [{"field": key, "headerName": _(caption), "sortable": False, "filter": False, "resizable": True}
               | options for key, caption, options in COLUMNS]  # fmt: skip
    return html.Div([
        html.H2(_("审计日志"), className="h4"),
        html.P(_("全部记录，最新的在前；审计记录只增不改。按操作人、操作、对象、说明筛选，按时间排序，均在服务器上完成。"),
               className="text-muted small"),
        html.P(_chain_line(user), className="small mb-1", id="audit-chain"),
        html.P(id="audit-count", className="small mb-1"),
        dag.AgGrid(
            id=GRID, columnDefs=columns, rowModelType="infinite", className="ag-theme-quartz",
            style={"height": "70vh"},
            dashGridOptions={"localeText": locale_text(), "cacheBlockSize": BLOCK, "maxBlocksInCache": 20,
                             "pagination": True, "paginationPageSize": BLOCK, "animateRows": False},
        ),
    ])  # fmt: skip


def _chain_line(user: User) -> str:
    """When the province's hash chain was last verified, and what it found (tracker.audit.chain)."""
    tz = app_settings().timezone
    with db_session(read_only=True) as session:
        head = last_verification(session, user.province_id)
        if head is None or head.verified_at is None:
            return _("审计链：尚未校验（每晚自动校验，或运行 tracker audit verify）")
        when = format_datetime(head.verified_at, tz)
        if head.broken_event_id is None:
            return _("审计链：{when}校验完好（{n}条）").format(when=when, n=head.verified_links or 0)
        return _("审计链：{when}校验发现第{event}号记录不符，请核查").format(
            when=when, event=head.broken_event_id
        )


def _word_keys(words: dict[str, str], wanted: str) -> list[str]:
    """Stored keys whose words (in the reader's language) or key contain the text searched for."""
    text = wanted.casefold()
    return [key for key, source in words.items() if text in _(source).casefold() or text in key.casefold()]


def _contains(
    column: ColumnElement[str] | InstrumentedAttribute[str | None], text: str
) -> ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _filtered(stmt: Select[AuditEvent], model: object) -> Select[AuditEvent]:
    """The grid's filter model, as WHERE clauses (text "contains"; anything else is refused)."""
    if not model:
        return stmt
    if not isinstance(model, dict):
        raise PreventUpdate
    for field, spec in model.items():
        text = spec.get("filter") if isinstance(spec, dict) else None
        if not isinstance(text, str) or spec.get("type", "contains") != "contains":
            raise PreventUpdate
        if field == "actor":
            stmt = stmt.where(_contains(AuditEvent.actor_name, text))
        elif field == "summary":
            stmt = stmt.where(_contains(AuditEvent.summary, text))
        elif field == "action":
            stmt = stmt.where(AuditEvent.action.in_(_word_keys(ACTIONS, text)))
        elif field == "entity":
            stmt = stmt.where(AuditEvent.entity_type.in_(_word_keys(ENTITIES, text)))
        else:
            raise PreventUpdate
    return stmt


def page_of_events(user: User, request: object, tz: ZoneInfo) -> JsonRow:
    """One block of the user's audit trail for AG Grid's infinite row model: rows and the total."""
    if not isinstance(request, dict):
        raise PreventUpdate
    start, end = request.get("startRow"), request.get("endRow")
    if (
        not isinstance(start, int)
        or not isinstance(end, int)
        or isinstance(start, bool)
        or isinstance(end, bool)
    ):
        raise PreventUpdate
    if not 0 <= start < 2**31 or not 0 < end - start <= MAX_BLOCK:
        raise PreventUpdate
    sort = request.get("sortModel") or []
    if not isinstance(sort, list) or not all(isinstance(item, dict) for item in sort):
        raise PreventUpdate
    oldest_first = bool(sort) and sort[0].get("sort") == "asc"
    stmt = _filtered(visible_audit_events(user), request.get("filterModel"))
    with db_session(read_only=True) as session:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        order = AuditEvent.id.asc() if oldest_first else AuditEvent.id.desc()
        events = session.scalars(stmt.order_by(order).offset(start).limit(end - start)).all()
        rows = [{
            "at": format_datetime(e.at, tz), "actor": e.actor_name, "action": action_word(e),
            "entity": entity_word(e), "summary": e.summary or "",
            "before": _json(e.before), "after": _json(e.after),
        } for e in events]  # fmt: skip
    return {"rowData": rows, "rowCount": total}


@page_callback(REQUIRED_ACTION, Output(GRID, "getRowsResponse"), Output("audit-count", "children"),
               Input(GRID, "getRowsRequest"))  # fmt: skip
def rows(call: Call, request: Raw) -> tuple[dict[str, object], str]:
    """A block of rows for the grid's request (``page_of_events`` checks every part of it)."""
    block = page_of_events(call.user, request, call.settings.timezone)
    return block, _("共 {n} 条记录").format(n=block["rowCount"])
