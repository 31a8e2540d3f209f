"""试点名单与计划: the published list (exportable in the official layout), each pilot's lifecycle steps,
and its plan (task weights and spans, milestones) for the city bureau to refine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards.access import guarded_layout
from dashboards.callbacks import (
    CLICKS,
    Call,
    Clicks,
    Counter,
    OptionalInt,
    Raw,
    Refused,
    Rows,
    Text,
    download,
    many,
    page_callback,
)
from dashboards.grid import data_grid, locale_text
from dashboards.widgets import ROW_ID, alert, selected_id, visible_row, with_row_ids
from reports.forms import pilot_list_xlsx
from tracker.access.permissions import Action, visible_pilots
from tracker.audit import trail as audit
from tracker.core.clock import local_today
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, batch_name, format_date, label_of, name_of
from tracker.core.json_types import JsonRow
from tracker.core.messages import message_of
from tracker.core.validation import ValidationFailed
from tracker.lifecycle.deadlines import parse_chinese_or_iso_date
from tracker.lifecycle.forms import published_list_rows
from tracker.lifecycle.plan import MilestoneEdit, ParticipantEdit, TaskEdit, refine_plan
from tracker.lifecycle.workflow import PILOT_STEPS, advance_pilot, allowed_pilot_steps
from tracker.models import Pilot, Role, User
from tracker.models.labels import label

PATH = "/pilot-list"
NAME = N_("试点名单")
ORDER = 4
REQUIRED_ACTION = Action.VIEW

GRID, DETAIL, MESSAGE, REFRESH = "plist-grid", "plist-detail", "plist-message", "plist-refresh"
EXPORT, DOWNLOAD, SCOPE = "plist-export", "plist-download", "plist-scope"
REASON, DATE = "plist-reason", "plist-date"
STEP_BUTTONS = {key: f"plist-step-{key}" for key in PILOT_STEPS}
TASKS, MILESTONES, SAVE_PLAN, VERSION = "plist-tasks", "plist-milestones", "plist-save-plan", "plist-version"
PARTICIPANTS, ADD_PARTICIPANT = "plist-participants", "plist-add-participant"
ADD_TASK, ADD_MILESTONE = "plist-add-task", "plist-add-milestone"
COLUMNS = [("id", N_("编号")), ("organisation", N_("试点单位")), ("city", N_("所在市")), ("category", N_("试点类别")),
           ("product", N_("试点产品")), ("batch", N_("批次")), ("status", N_("状态")),
           ("published_on", N_("公布日期")), ("start_date", N_("开始日期")), ("end_date", N_("结束日期"))]  # fmt: skip
SCOPES = {"published": N_("已公布名单"), "all": N_("全部入选试点（含待公布）")}
StepClicks = Annotated[tuple[int | None, ...], many(CLICKS, len(STEP_BUTTONS))]
MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)
REFRESH_OUT = Output(REFRESH, "data", allow_duplicate=True)


def _id(value: object) -> int | None:
    """A grid row's id: nothing for a new row; what cannot be an id is refused (TypeError, ValueError)."""
    if not value:
        return None
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError("id")


def _cell(row: dict[str, object], key: str) -> str | None:
    """A text cell of an edited grid (what the browser sent, as text)."""
    value = row.get(key)
    return value if value is None or isinstance(value, str) else str(value)


def _kept(row: object) -> bool:
    """A grid row to save: an existing one, or a new one given a title (blank new rows are dropped)."""
    if not isinstance(row, dict):
        raise TypeError("row")
    return bool(row.get("id")) or bool(str(row.get("title") or "").strip())


def _editable_grid(grid_id: str, columns: list[JsonRow]) -> dag.AgGrid:
    return dag.AgGrid(id=grid_id, columnDefs=columns, rowData=[], className="ag-theme-quartz",
                      defaultColDef={"resizable": True}, style={"height": "260px"},
                      dashGridOptions={"localeText": locale_text(), "singleClickEdit": True,
                                       "stopEditingWhenCellsLoseFocus": True})  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    columns: list[dict[str, object]] = [
        {"field": k, "headerName": _(c), **({"cellRenderer": "PilotLink"} if k == "organisation" else {})}
        for k, c in COLUMNS
    ]
    columns[1] |= {"pinned": "left", "minWidth": 240}
    for column in columns[-3:]:
        column |= {"valueFormatter": {"function": "zhDate(params.value)"}, "filter": "agDateColumnFilter"}
    grid = data_grid(GRID, columns, height="40vh")
    grid.dashGridOptions = {
        **grid.dashGridOptions,
        "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
    }
    grid.getRowId = ROW_ID
    writer = user.role is not Role.LEADER
    editable = writer
    task_columns = [
        {"field": "number", "headerName": _("序号"), "width": 80},
        {
            "field": "title",
            "headerName": _("任务"),
            "minWidth": 220,
            "flex": 1,
            "editable": {"function": "params.data.custom === true"} if editable else False,
        },
        {
            "field": "weight",
            "headerName": _("权重"),
            "width": 90,
            "editable": editable,
            "cellDataType": "number",
        },
        {"field": "planned_start", "headerName": _("计划开始"), "width": 130, "editable": editable},
        {"field": "planned_end", "headerName": _("计划完成"), "width": 130, "editable": editable},
        {"field": "responsible_unit", "headerName": _("责任单位"), "width": 180, "editable": editable},
    ]
    milestone_columns = [
        {"field": "title", "headerName": _("阶段性目标"), "minWidth": 220, "flex": 1,
         "editable": {"function": "params.data.id == null"} if editable else False},
        {"field": "due_date", "headerName": _("到期日"), "width": 130, "editable": editable},
        {"field": "indicator", "headerName": _("指标"), "width": 160, "editable": editable},
        {"field": "target_value", "headerName": _("目标值"), "width": 100, "editable": editable},
        {"field": "evidence_required", "headerName": _("需佐证材料"), "width": 120, "editable": editable,
         "cellDataType": "boolean"},
    ]  # fmt: skip
    return html.Div([
        html.H2(_("试点名单"), className="h4"),
        dbc.Row([
            dbc.Col(dbc.RadioItems(id=SCOPE, options=[{"label": _(v), "value": k} for k, v in SCOPES.items()],
                                   value="published", inline=True), md=8),
            dbc.Col(dbc.Button(_("导出名单（Excel）"), id=EXPORT, color="success", size="sm"), md=4, className="text-end"),
        ], className="mb-2"),
        html.Div(id=MESSAGE),
        grid,
        dcc.Download(id=DOWNLOAD),
        dbc.Row([
            dbc.Col(html.Div(id=DETAIL, className="mt-3"), md=6),
            dbc.Col(html.Div([
                html.H3(_("办理"), className="h6 mt-3"),
                dbc.Row([dbc.Col(dbc.Input(id=DATE, placeholder=_("日期，如 2026-01-01（启动/延期用）")), md=5),
                         dbc.Col(dbc.Input(id=REASON, placeholder=_("理由（延期、退出时必填）")), md=7)], className="g-1"),
                html.Div([dbc.Button(label_of(step), id=button, size="sm", className="me-1 mt-1 d-none",
                                     color="danger" if key == "withdraw" else "primary")
                          for key, step in PILOT_STEPS.items() for button in [STEP_BUTTONS[key]]]),
            ], hidden=not writer), md=6),
        ]),
        html.H3(_("任务清单"), className="h6 mt-3"), _editable_grid(TASKS, task_columns),
        dbc.Button(_("添加自定义任务"), id=ADD_TASK, className="mt-1", size="sm", color="secondary") if writer else None,
        html.H3(_("阶段性目标"), className="h6 mt-3"), _editable_grid(MILESTONES, milestone_columns),
        dbc.Button(_("添加阶段性目标"), id=ADD_MILESTONE, className="mt-1", size="sm", color="secondary")
        if writer else None,
        html.H3(_("参与单位及职责分工"), className="h6 mt-3"),
        html.P(_("清空单位名称即删除该行。"), className="small text-muted mb-1") if writer else None,
        _editable_grid(PARTICIPANTS, [
            {"field": "unit_name", "headerName": _("单位名称"), "minWidth": 220, "editable": editable},
            {"field": "responsibility", "headerName": _("职责分工"), "minWidth": 320, "flex": 1, "editable": editable},
        ]),
        dbc.Button(_("添加参与单位"), id=ADD_PARTICIPANT, className="mt-2 me-2", size="sm", color="secondary")
        if writer else None,
        dbc.Button(_("保存计划调整"), id=SAVE_PLAN, className="mt-2 mb-4", size="sm") if writer else None,
        dcc.Store(id=VERSION), dcc.Store(id=REFRESH, data=0),
    ])  # fmt: skip


def _rows(session: Session, user: User, scope: object) -> list[JsonRow]:
    if scope == "all":
        stmt = visible_pilots(user).where(Pilot.application_id.is_not(None)).order_by(Pilot.id)
        pilots = session.scalars(stmt)
    else:
        ids = [r["pilot_id"] for r in published_list_rows(session, user)]
        pilots = session.scalars(
            select(Pilot).where(Pilot.id.in_(ids)).order_by(Pilot.category, Pilot.city_id, Pilot.id)
        )
    return [{"id": p.id, "organisation": p.organisation.name, "city": name_of(p.city, short=True), "category": label(p.category),
             "product": name_of(p.product) if p.product else "", "batch": batch_name(p.batch), "status": label(p.status),
             "published_on": p.published_on.isoformat() if p.published_on else None,
             "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat()} for p in pilots]  # fmt: skip


def _date(value: object) -> dt.date:
    return parse_chinese_or_iso_date(str(value or ""))


@page_callback(
    Action.VIEW, Output(GRID, "rowData"), Input(SCOPE, "value"), Input(REFRESH, "data"), read_only=True
)
def load_list(call: Call, scope: Raw, _refresh: Raw) -> list[dict[str, object]]:
    return with_row_ids(_rows(call.session, call.user, scope))


def _plan_rows(
    pilot: Pilot,
) -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    tasks: list[dict[str, object]] = [
        {"id": t.id, "number": t.number, "title": t.title, "weight": float(t.weight), "custom": t.template_id is None,
         "planned_start": t.planned_start.isoformat(), "planned_end": t.planned_end.isoformat(),
         "responsible_unit": t.responsible_unit or ""} for t in pilot.tasks]  # fmt: skip
    milestones: list[dict[str, object]] = [
        {"id": m.id, "title": m.title, "due_date": m.due_date.isoformat(), "indicator": m.indicator or "",
         "target_value": m.target_value or "", "evidence_required": m.evidence_required} for m in pilot.milestones]  # fmt: skip
    participants: list[dict[str, object]] = [
        {"id": p.id, "unit_name": p.unit_name, "responsibility": p.responsibility} for p in pilot.participants]  # fmt: skip
    return tasks, milestones, participants


@page_callback(
    Action.VIEW, Output(DETAIL, "children"), Output(TASKS, "rowData"), Output(MILESTONES, "rowData"),
    Output(VERSION, "data"), Output(PARTICIPANTS, "rowData"),
    *[Output(button, "className") for button in STEP_BUTTONS.values()],
    Input(GRID, "selectedRows"), Input(REFRESH, "data"), read_only=True,
)  # fmt: skip
def show_pilot(call: Call, rows: Rows, _refresh: Raw) -> tuple[object, ...]:
    pilot = visible_row(call.session, call.user, Pilot, selected_id(rows))
    allowed = {s.key for s in allowed_pilot_steps(call.user, pilot)}
    tasks, milestones, participants = _plan_rows(pilot)
    units = [html.Li(f"{p.unit_name}：{p.responsibility}") for p in pilot.participants]
    detail = dbc.Card(dbc.CardBody([
        html.H3(pilot.name, className="h6"),
        html.P([dbc.Badge(label(pilot.status), color="info", className="me-2"),
                f"{format_date(pilot.start_date)} — {format_date(pilot.end_date)}"]),
        html.H4(_("参与单位及职责分工"), className="h6"), html.Ul(units or [html.Li(_("暂无"))], className="small"),
    ]))  # fmt: skip
    classes = ["me-1 mt-1" if key in allowed else "me-1 mt-1 d-none" for key in STEP_BUTTONS]
    return (detail, tasks, milestones, pilot.version, participants, *classes)


@page_callback(
    Action.EDIT, MESSAGE_OUT, REFRESH_OUT, *[Input(button, "n_clicks") for button in STEP_BUTTONS.values()],
    State(GRID, "selectedRows"), State(REASON, "value"), State(DATE, "value"), State(REFRESH, "data"),
    alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def perform_step(
    call: Call, _clicks: StepClicks, rows: Rows, reason: Text, date_text: Raw, refresh: Counter
) -> tuple[object, int]:
    step = next((key for key, button in STEP_BUTTONS.items() if button == call.triggered), None)
    if step is None:
        raise PreventUpdate
    pilot_id = selected_id(rows)
    visible_row(call.session, call.user, Pilot, pilot_id)
    new_date = _date(date_text) if date_text else None
    advance_pilot(call.session, call.user, pilot_id, step, today=local_today(call.settings.timezone), reason=reason,
                  new_date=new_date)  # fmt: skip
    return alert(_("已办理：{step}").format(step=label_of(PILOT_STEPS[step]))), refresh + 1


def _plan_edits(
    tasks: list[dict[str, object]] | None,
    milestones: list[dict[str, object]] | None,
    participants: list[dict[str, object]] | None,
) -> tuple[list[TaskEdit], list[MilestoneEdit], list[ParticipantEdit] | None]:
    """The edited grids as edits; a value that is not a number or a date is refused."""
    try:
        task_edits = [TaskEdit(_id(row.get("id")), Decimal(str(row["weight"])), _date(row["planned_start"]),
                               _date(row["planned_end"]), _cell(row, "responsible_unit"), _cell(row, "title"))
                      for row in tasks or [] if _kept(row)]  # fmt: skip
        milestone_edits = [MilestoneEdit(_id(row.get("id")), _date(row["due_date"]), _cell(row, "indicator"),
                                         _cell(row, "target_value"), bool(row.get("evidence_required")),
                                         _cell(row, "title"))
                           for row in milestones or [] if _kept(row)]  # fmt: skip
        participant_edits = None if participants is None else [  # None: not shown, unchanged
            ParticipantEdit(_id(row.get("id")), str(row.get("unit_name") or ""),
                            str(row.get("responsibility") or ""))
            for row in participants if str(row.get("unit_name") or "").strip()
        ]  # fmt: skip
    except TrackerError:
        raise
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise Refused(_("表格中有无法识别的数值或日期"), "danger") from None
    return task_edits, milestone_edits, participant_edits


@page_callback(
    Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Input(SAVE_PLAN, "n_clicks"),
    State(GRID, "selectedRows"), State(TASKS, "rowData"), State(MILESTONES, "rowData"), State(VERSION, "data"),
    State(REFRESH, "data"), State(PARTICIPANTS, "rowData"),
    alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def save_plan(
    call: Call, _clicks: Clicks, rows: Rows, tasks: Rows, milestones: Rows, version: OptionalInt, refresh: Counter,
    participants: Rows,
) -> tuple[object, int]:  # fmt: skip
    pilot_id = selected_id(rows)
    task_edits, milestone_edits, participant_edits = _plan_edits(tasks, milestones, participants)
    visible_row(call.session, call.user, Pilot, pilot_id)
    try:
        refine_plan(call.session, call.user, pilot_id, version=version or 0, tasks=task_edits,
                    milestones=milestone_edits, participants=participant_edits)  # fmt: skip
    except ValidationFailed as error:
        raise Refused("；".join(message_of(p) for p in error.problems), "danger") from None
    return alert(_("计划调整已保存")), refresh + 1


@page_callback(
    Action.EDIT, Output(TASKS, "rowData", allow_duplicate=True), Output(MILESTONES, "rowData", allow_duplicate=True),
    Input(ADD_TASK, "n_clicks"), Input(ADD_MILESTONE, "n_clicks"),
    State(TASKS, "rowData"), State(MILESTONES, "rowData"), State(GRID, "selectedRows"),
    prevent_initial_call=True,
)  # fmt: skip
def add_plan_row(
    call: Call, _task: Clicks, _milestone: Clicks, tasks: Rows, milestones: Rows, rows: Rows
) -> tuple[object, object]:
    selected_id(rows)  # only with a pilot selected
    tasks, milestones = (tasks or [])[:200], (milestones or [])[:200]
    starts = [str(t.get("planned_start")) for t in tasks if t.get("planned_start")]
    ends = [str(t.get("planned_end")) for t in tasks if t.get("planned_end")]
    start, end = (min(starts) if starts else ""), (max(ends) if ends else "")
    if call.triggered == ADD_TASK:
        return [*tasks, {"id": None, "number": "", "title": "", "weight": 1, "custom": True,
                         "planned_start": start, "planned_end": end, "responsible_unit": ""}], no_update  # fmt: skip
    return no_update, [*milestones, {"id": None, "title": "", "due_date": end, "indicator": "",
                                     "target_value": "", "evidence_required": True}]  # fmt: skip


@page_callback(
    Action.EDIT, Output(PARTICIPANTS, "rowData", allow_duplicate=True),
    Input(ADD_PARTICIPANT, "n_clicks"), State(PARTICIPANTS, "rowData"), State(GRID, "selectedRows"),
    prevent_initial_call=True,
)  # fmt: skip
def add_participant(call: Call, _clicks: Clicks, participants: Rows, rows: Rows) -> list[dict[str, object]]:
    selected_id(rows)  # only with a pilot selected
    return [*(participants or [])[:200], {"id": None, "unit_name": "", "responsibility": ""}]


@page_callback(Action.EXPORT, Output(DOWNLOAD, "data"), Input(EXPORT, "n_clicks"), prevent_initial_call=True)
def export_list(call: Call, _clicks: Clicks) -> dict[str, object]:
    rows = published_list_rows(call.session, call.user)
    audit.record(
        call.session, "export", "pilots", summary=f"试点名单 {len(rows)} 个", city_id=call.user.city_id
    )
    today = local_today(call.settings.timezone)
    return download(pilot_list_xlsx(rows), f"试点名单_{today.isoformat()}.xlsx")
