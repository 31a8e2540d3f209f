"""在线填报 (/update-form?pilot=N&period=2026-11): one pilot's update for one period, entered on the
web by its city bureau — progress per task, milestones reached with their indicator values, work
done, problems, next steps, and evidence files. Save as draft or submit; the version read travels
with every save, so a second editor cannot overwrite the first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import (
    TEXT,
    Call,
    Clicks,
    LenientInt,
    Mapping,
    Refused,
    Rows,
    Text,
    Upload,
    many,
    page_callback,
    page_clientside,
)
from dashboards.grid import MIN_COLUMN_WIDTH, locale_text
from dashboards.widgets import Cell, alert, decode_upload, evidence_list
from tracker.access.permissions import Action, Level, may_act
from tracker.core.clock import local_today, now_utc
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, format_date, label_of
from tracker.core.json_types import JsonRow
from tracker.core.messages import message_of
from tracker.core.periods import Period, parse_period, reporting_period
from tracker.lifecycle.deadlines import parse_chinese_or_iso_date
from tracker.models import Pilot, ProgressUpdate, UpdateFile, User
from tracker.monitoring.pilot_record import find_visible_pilot
from tracker.progress.expected import expected_task_progress
from tracker.progress.owed import entry_open_until
from tracker.progress.updates import (
    EDITABLE,
    STATUS_ZH,
    MilestoneReport,
    UpdateEntry,
    find_update,
    last_reported,
    news_only,
    parse_number,
    save_update,
    stored_entry,
    submit_update,
)
from tracker.uploads.files import attach_evidence, remove_evidence

PATH = "/update-form"
NAME = N_("在线填报")
ORDER = 41
REQUIRED_ACTION = Action.EDIT
IN_NAV = False  # opened from 调度填报 and 本市工作台 for one pilot and period

FORM = "uform"
KEY, VERSION, TASKS, MILESTONES = f"{FORM}-key", f"{FORM}-version", f"{FORM}-tasks", f"{FORM}-milestones"
TEXTS = {"work_done": f"{FORM}-work-done", "problems": f"{FORM}-problems", "next_steps": f"{FORM}-next-steps"}
SAVE, SUBMIT, MESSAGE, STATE = f"{FORM}-save", f"{FORM}-submit", f"{FORM}-message", f"{FORM}-state"
UPLOAD, TARGET, FILES, REMOVE, REMOVE_WHICH = (f"{FORM}-upload", f"{FORM}-target", f"{FORM}-files",
                                              f"{FORM}-remove", f"{FORM}-remove-which")  # fmt: skip


def _key(session: Session, user: User, value: object) -> tuple[int, Period]:
    """The pilot and period the form is for, from its store. Anything malformed, and a pilot the
    user may not see, stops the callback: a hand-made POST learns nothing."""
    if not isinstance(value, dict) or not isinstance(value.get("period"), str):
        raise PreventUpdate
    pilot = find_visible_pilot(session, user, value.get("pilot"))
    if pilot is None:
        raise PreventUpdate
    try:
        return pilot.id, parse_period(value["period"], app_settings().reporting.frequency)
    except TrackerError:
        raise PreventUpdate from None


def _grid(grid_id: str, columns: list[JsonRow], rows: list[JsonRow], editable: bool) -> Component:
    for column in columns:
        column["editable"] = editable and column.get("editable", False)
    grid = dag.AgGrid(id=grid_id, columnDefs=columns, rowData=rows, className="ag-theme-quartz",
                      defaultColDef={"resizable": True, "wrapText": True, "autoHeight": True, "minWidth": MIN_COLUMN_WIDTH},
                      columnSize="responsiveSizeToFit", style={"height": None},
                      dashGridOptions={"localeText": locale_text(), "singleClickEdit": True, "domLayout": "autoHeight",
                                       "stopEditingWhenCellsLoseFocus": True})  # fmt: skip
    return html.Div(grid, className="no-grid-tools")  # an entry grid: no export or column tools


def _task_rows(pilot: Pilot, entry: UpdateEntry, last: dict[int, Decimal], period: Period) -> list[JsonRow]:
    """Each task with its 序时进度 at the period's end and its last accepted figure; 本期进度 is what
    was entered, else the last figure (as the Excel template starts), to be moved where it changed."""

    def current(task_id: int) -> float | None:
        if task_id in entry.task_percents:
            return float(entry.task_percents[task_id])
        return float(last[task_id]) if task_id in last else None

    return [{"task_id": t.id, "number": t.number, "title": t.title, "weight": float(t.weight),
             "expected": float(expected_task_progress(t.planned_start, t.planned_end, period.end).quantize(Decimal("0.1"))),
             "last": float(last[t.id]) if t.id in last else None, "percent": current(t.id)}
            for t in pilot.tasks]  # fmt: skip


def _milestone_rows(pilot: Pilot, entry: UpdateEntry) -> list[JsonRow]:
    reports = {r.milestone_id: r for r in entry.milestones}
    rows = []
    for m in pilot.milestones:
        report = reports.get(m.id)
        achieved = (report.achieved_on if report else None) or m.achieved_on
        rows.append({"milestone_id": m.id, "title": m.title, "due": format_date(m.due_date),
                     "indicator": m.indicator or "", "target": m.target_value or "",
                     "reached": bool(report and report.reached) or m.achieved_on is not None,
                     "achieved_on": achieved.isoformat() if achieved else "",
                     "value": float(report.indicator_value) if report and report.indicator_value is not None else None,
                     "note": report.note if report else ""})  # fmt: skip
    return rows


def _targets(pilot: Pilot) -> list[dict[str, str]]:
    return ([{"label": _("整体工作"), "value": "update"}]
            + [{"label": _("阶段性目标：") + m.title, "value": f"milestone:{m.id}"} for m in pilot.milestones]
            + [{"label": _("任务：") + t.title, "value": f"task:{t.id}"} for t in pilot.tasks])  # fmt: skip


def _state_line(update: ProgressUpdate | None, open_until: dt.date, today: dt.date) -> Component:
    status = _(STATUS_ZH[update.status]) if update else _("未填报")
    parts: list[Cell] = [dbc.Badge(status, color="info", className="me-2"),
             _("版本 {v}").format(v=update.version) if update else "",
             _("　填报窗口开放至{date}").format(date=format_date(open_until)),
             _("（已关闭，需省厅开放例外）") if today > open_until else ""]  # fmt: skip
    return html.Div(parts, id=STATE, className="small mb-2")


def _columns() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    tasks: list[dict[str, object]] = [{"field": "number", "headerName": _("序号"), "maxWidth": 80}, {"field": "title", "headerName": _("任务")},
             {"field": "weight", "headerName": _("权重"), "maxWidth": 90},
             {"field": "expected", "headerName": _("序时进度%"), "maxWidth": 120},
             {"field": "last", "headerName": _("上期进度%"), "maxWidth": 120},
             {"field": "percent", "headerName": _("本期进度%（0–100）"), "editable": True,
              "cellEditor": "agNumberCellEditor", "cellEditorParams": {"min": 0, "max": 100, "precision": 1},
              "cellClassRules": {"cell-missing": "params.value == null || params.value === ''"}}]  # fmt: skip
    milestones: list[dict[str, object]] = [{"field": "title", "headerName": _("阶段性目标")}, {"field": "due", "headerName": _("到期日"), "maxWidth": 130},
                  {"field": "indicator", "headerName": _("指标")}, {"field": "target", "headerName": _("目标值"), "maxWidth": 100},
                  {"field": "reached", "headerName": _("已达成"), "editable": True, "cellDataType": "boolean", "maxWidth": 90},
                  {"field": "achieved_on", "headerName": _("达成日期（如2026-11-20）"), "editable": True},
                  {"field": "value", "headerName": _("指标实际值"), "editable": True, "cellEditor": "agNumberCellEditor"},
                  {"field": "note", "headerName": _("说明"), "editable": True}]  # fmt: skip
    return tasks, milestones


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, pilot: str | None = None, period: str | None = None, **_query: str) -> Component:
    settings = app_settings()
    today = local_today(settings.timezone)
    try:
        wanted = (
            parse_period(period, settings.reporting.frequency)
            if period
            else reporting_period(today, settings.reporting)
        )
    except TrackerError as error:
        return dbc.Alert(message_of(error), color="warning", className="mt-4")
    with db_session(read_only=True) as session:
        row = find_visible_pilot(session, user, int(pilot) if pilot and pilot.isdigit() else None)
        if row is None:
            return dbc.Alert(_("试点不存在或不在您的权限范围内。"), color="warning", className="mt-4")
        if not may_act(user, Level.CITY, row):
            return dbc.Alert(_("只有试点所在市的生态环境部门可以填报。"), color="warning", className="mt-4")
        update = find_update(session, row.id, wanted)
        entry = stored_entry(update) if update else UpdateEntry()
        editable = update is None or update.status in EDITABLE
        open_until = entry_open_until(session, row.city_id, wanted, settings.reporting)
        task_columns, milestone_columns = _columns()
        texts = {key: dbc.Textarea(id=cid, value=getattr(entry, key), rows=3, maxLength=2000, disabled=not editable)
                 for key, cid in TEXTS.items()}  # fmt: skip
        return html.Div([
            dcc.Link(_("← 返回调度填报"), href="/updates", className="small"),
            html.H2(f"{row.name} · {label_of(wanted)}", className="h4"),
            _state_line(update, open_until, today),
            dbc.Alert(f"{_('退回理由')}：{update.return_reason}", color="warning", className="py-1")
            if update and update.return_reason else None,
            html.H3(_("任务进度"), className="h6"),
            _grid(TASKS, task_columns, _task_rows(row, entry, last_reported(session, row, wanted.start), wanted),
                  editable),
            html.H3(_("阶段性目标完成情况"), className="h6 mt-3"),
            _grid(MILESTONES, milestone_columns, _milestone_rows(row, entry), editable),
            dbc.Row([dbc.Col([dbc.Label(_("本期工作进展（必填）")), texts["work_done"]], md=4),
                     dbc.Col([dbc.Label(_("存在问题")), texts["problems"]], md=4),
                     dbc.Col([dbc.Label(_("下步计划")), texts["next_steps"]], md=4)], className="mt-3 g-2"),
            dbc.Card(dbc.CardBody([
                html.H3(_("佐证材料"), className="h6"),
                html.Div(evidence_list(update), id=FILES),
                dbc.Row([
                    dbc.Col(dcc.Dropdown(id=TARGET, options=_targets(row), value="update", clearable=False,
                                         searchable=False), md=4),
                    dbc.Col(dcc.Upload(id=UPLOAD, children=html.Div(_("拖入或点击上传（PDF、OFD、Word、Excel、图片，≤20MB）")),
                                       className="upload-box", disabled=not editable), md=5),
                ], className="g-2"),
                dbc.Row([
                    dbc.Col(dcc.Dropdown(id=REMOVE_WHICH, options=[{"label": f.filename, "value": f.id}
                                                                   for f in (update.files if update else [])],
                                         placeholder=_("选择要删除的材料"), searchable=False), md=4),
                    dbc.Col(dbc.Button(_("删除所选材料"), id=REMOVE, color="outline-danger", size="sm",
                                       disabled=not editable), md="auto"),
                ], className="g-2 mt-1"),
            ]), className="my-3"),
            html.Div([dbc.Button(_("保存草稿"), id=SAVE, color="primary", className="me-2", disabled=not editable),
                      dbc.Button(_("保存并提交"), id=SUBMIT, color="success", disabled=not editable)], className="my-3"),
            html.Div(id=MESSAGE),
            dcc.Store(id=KEY, data={"pilot": row.id, "period": wanted.key}),
            dcc.Store(id=VERSION, data=update.version if update else None),
        ])  # fmt: skip


def _entry(task_rows: object, milestone_rows: object, texts: tuple[object, ...]) -> UpdateEntry:
    """The form as entry data; malformed rows (a hand-made POST) are refused by the domain checks."""
    tasks = {}
    for row in task_rows if isinstance(task_rows, list) else []:
        if (
            isinstance(row, dict)
            and isinstance(row.get("task_id"), int)
            and row.get("percent") not in (None, "")
        ):
            tasks[row["task_id"]] = row["percent"]
    milestones = []
    for row in milestone_rows if isinstance(milestone_rows, list) else []:
        if not isinstance(row, dict) or not isinstance(row.get("milestone_id"), int):
            continue
        milestones.append(MilestoneReport(row["milestone_id"], bool(row.get("reached")), _date(row.get("achieved_on")),
                                          _decimal(row.get("value")), str(row.get("note") or "")))  # fmt: skip
    work_done, problems, next_steps = (str(t or "") for t in texts)
    return UpdateEntry(tasks, milestones, work_done, problems, next_steps)


def _date(value: object) -> dt.date | None:
    try:
        return parse_chinese_or_iso_date(str(value)) if value not in (None, "") else None
    except (ValueError, TypeError):
        return None


def _decimal(value: object) -> Decimal | None:
    try:
        return parse_number(value)
    except ValueError:
        return None


TextValues = Annotated[tuple[str | None, ...], many(TEXT, len(TEXTS))]

# A required text left empty is marked on submitting (in the browser only: the server checks again
# and refuses with every problem named).
page_clientside(
    """function(_clicks, text) { return !(text && String(text).trim()); }""",
    Output(TEXTS["work_done"], "invalid"),
    Input(SUBMIT, "n_clicks"),
    State(TEXTS["work_done"], "value"),
    prevent_initial_call=True,
)


@page_callback(
    Action.EDIT, Output(MESSAGE, "children"), Output(VERSION, "data"), Output(STATE, "children"),
    Output(SAVE, "disabled"), Output(SUBMIT, "disabled"),
    Input(SAVE, "n_clicks"), Input(SUBMIT, "n_clicks"),
    State(KEY, "data"), State(VERSION, "data"), State(TASKS, "rowData"), State(MILESTONES, "rowData"),
    *[State(cid, "value") for cid in TEXTS.values()],
    alert=Output(MESSAGE, "children"), prevent_initial_call=True,
)  # fmt: skip
def save(call: Call, _save: Clicks, _submit: Clicks, key: Mapping, version: LenientInt, tasks: Rows,
         milestones: Rows, texts: TextValues) -> tuple[object, ...]:  # fmt: skip
    session, user, settings = call.session, call.user, call.settings
    now = now_utc()
    pilot_id, period = _key(session, user, key)
    pilot = session.get(Pilot, pilot_id)
    if pilot is None:  # _key found it visible a moment ago
        raise PreventUpdate
    entry = news_only(pilot, _entry(tasks, milestones, texts), period)
    update = save_update(session, user, pilot_id, period, entry, reporting=settings.reporting,
                         today=now.astimezone(settings.timezone).date(), version=version)  # fmt: skip
    submitting = call.triggered == SUBMIT
    if submitting:
        update = submit_update(session, user, update.id, version=update.version,
                               reporting=settings.reporting, now=now, tz=settings.timezone)  # fmt: skip
    session.flush()
    session.refresh(update)
    open_until = entry_open_until(session, update.pilot.city_id, period, settings.reporting)
    state = _state_line(update, open_until, now.astimezone(settings.timezone).date()).children
    late = _("（逾期提交）") if update.is_late else ""
    done = _("已提交省厅审核") + late if submitting else _("草稿已保存")
    locked = update.status not in EDITABLE
    return alert(done), update.version, state, locked, locked


def _attach(
    call: Call, update: ProgressUpdate, contents: str | None, filename: str | None, target: str | None
) -> str:
    kind, _sep, ident = (target or "update").partition(":")
    number = int(ident) if ident.isdigit() else None
    try:
        content = decode_upload(contents)
    except ValueError:
        raise Refused(_("上传内容无法读取"), "danger") from None
    row = attach_evidence(call.session, call.user, update, filename=filename or "file", content=content,
                          instance_dir=Path(call.settings.instance_dir),
                          milestone_id=number if kind == "milestone" else None,
                          task_id=number if kind == "task" else None)  # fmt: skip
    return _("已上传：{name}").format(name=row.filename)


@page_callback(
    Action.EDIT, Output(MESSAGE, "children", allow_duplicate=True), Output(VERSION, "data", allow_duplicate=True),
    Output(FILES, "children"), Output(UPLOAD, "contents"), Output(REMOVE_WHICH, "options"),
    Input(UPLOAD, "contents"), Input(REMOVE, "n_clicks"),
    State(UPLOAD, "filename"), State(TARGET, "value"), State(REMOVE_WHICH, "value"), State(KEY, "data"),
    alert=Output(MESSAGE, "children", allow_duplicate=True), on_refusal=((Output(UPLOAD, "contents"), None),),
    prevent_initial_call=True,
)  # fmt: skip
def evidence(call: Call, contents: Upload, _remove: Clicks, filename: Text, target: Text, which: LenientInt,
             key: Mapping) -> tuple[object, ...]:  # fmt: skip
    if call.triggered == UPLOAD and not contents:
        raise PreventUpdate
    pilot_id, period = _key(call.session, call.user, key)
    update = find_update(call.session, pilot_id, period)
    if update is None:
        raise Refused(_("请先保存草稿，再上传佐证材料"))
    if call.triggered == REMOVE:
        row = call.session.get(UpdateFile, which) if which is not None else None
        if row is None or row.update_id != update.id:
            raise PreventUpdate
        remove_evidence(call.session, call.user, row)
        done = _("已删除：{name}").format(name=row.filename)
    else:
        done = _attach(call, update, contents, filename, target)
    call.session.flush()
    call.session.refresh(update)
    options = [{"label": f.filename, "value": f.id} for f in update.files]
    return alert(done), update.version, evidence_list(update), None, options
