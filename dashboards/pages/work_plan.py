"""省级工作方案: the 12 key tasks of 晋环发〔2024〕31号 by reporting department, for one period.

Provincial staff select a task and department and enter its progress, work done, problems and next
steps (save a draft, or submit); the provincial admin accepts or returns it with a reason; leaders
read. City users never see the page (tracker.access.permissions: the work plan is province-level)."""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from dashboards.access import app_settings, forbidden_page, guarded_layout
from dashboards.callbacks import (
    Call,
    Clicks,
    Counter,
    LenientInt,
    Raw,
    Refused,
    Rows,
    Text,
    page_callback,
    require_selection,
)
from dashboards.grid import data_grid
from dashboards.widgets import ROW_ID, alert, with_row_ids
from tracker.access.permissions import (
    Action,
    PermissionDenied,
    may_enter_work_plan,
    may_read_work_plan,
    may_review_work_plan,
)
from tracker.core.clock import local_today, now_utc
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, english, format_date, format_datetime, label_of, name_of, translated
from tracker.core.json_types import JsonRow
from tracker.core.periods import Period, due_date, parse_period, reporting_period
from tracker.models import UpdateStatus, User, WorkPlanTask, WorkPlanUpdate
from tracker.progress.updates import EDITABLE, NARRATIVE_LIMIT, STATUS_ZH, STEP_ZH
from tracker.progress.workplan import (
    WorkPlanEntry,
    WorkPlanLine,
    assignment_for,
    find_work_plan_update,
    programme_periods,
    review_work_plan_update,
    save_work_plan_update,
    submit_work_plan_update,
    work_plan_completeness,
    work_plan_history,
    work_plan_lines,
)

PATH = "/work-plan"
NAME = N_("省级工作方案")
ORDER = 6
REQUIRED_ACTION = Action.VIEW_WORK_PLAN

PERIOD, GRID, COMPLETENESS, MESSAGE, REFRESH = (
    "wp-period",
    "wp-grid",
    "wp-completeness",
    "wp-message",
    "wp-refresh",
)
DETAIL, HISTORY, FORM, VERSION = "wp-detail", "wp-history", "wp-form", "wp-version"
PROGRESS, WORK_DONE, PROBLEMS, NEXT_STEPS = "wp-progress", "wp-work-done", "wp-problems", "wp-next-steps"
SAVE, SUBMIT, REASON, ACCEPT, RETURN = "wp-save", "wp-submit", "wp-reason", "wp-accept", "wp-return"
ENTRY_BOX, REVIEW_BOX = "wp-entry-box", "wp-review-box"
TEXTS = ((WORK_DONE, "work_done", N_("本期工作进展")), (PROBLEMS, "problems", N_("存在问题")),
         (NEXT_STEPS, "next_steps", N_("下步计划")))  # fmt: skip
COLUMNS = [("group", N_("组别"), 160), ("task", N_("重点任务"), 240), ("department", N_("部门"), 130),
           ("duty", N_("职责"), 140), ("status", N_("填报状态"), 120), ("progress", N_("完成进度%"), 110),
           ("late", N_("逾期"), 80), ("submitted", N_("首次提交"), 160)]  # fmt: skip
GROUP_NUMERALS = "一二三四五六七八九十"


def _today() -> dt.date:
    return local_today(app_settings().timezone)


def _period(value: object) -> Period:
    reporting = app_settings().reporting
    if isinstance(value, str) and value:
        try:
            return parse_period(value, reporting.frequency)
        except TrackerError:
            pass
    return reporting_period(_today(), reporting)


def _pair(rows: list[dict[str, object]] | None) -> tuple[int, int]:
    """(task id, department id) of the grid's selected row; anything malformed stops the callback."""
    if not rows:
        raise PreventUpdate
    task_id, department_id = rows[0].get("task_id"), rows[0].get("department_id")
    if not isinstance(task_id, int) or isinstance(task_id, bool):
        raise PreventUpdate
    if not isinstance(department_id, int) or isinstance(department_id, bool):
        raise PreventUpdate
    return task_id, department_id


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    if not may_read_work_plan(user):  # a leader bound to one city
        return forbidden_page()
    today = _today()
    frequency = app_settings().reporting.frequency
    options = [{"label": label_of(p), "value": p.key} for p in reversed(programme_periods(today, frequency))]
    columns = [{"field": f, "headerName": _(h), "width": w, "tooltipField": f} for f, h, w in COLUMNS]
    columns[1] |= {"flex": 1, "minWidth": 240}
    grid = data_grid(GRID, columns, height="45vh")
    # One period is a few dozen lines: all on one page, no paging.
    grid.dashGridOptions = {**grid.dashGridOptions, "pagination": False,
                            "rowSelection": {"mode": "singleRow", "enableClickSelection": True}}  # fmt: skip
    grid.getRowId = ROW_ID
    writer, reviewer = may_enter_work_plan(user), may_review_work_plan(user)
    texts = [dbc.Col([dbc.Label(_(caption), html_for=box), dbc.Textarea(id=box, rows=4, maxLength=NARRATIVE_LIMIT,
                                                                    disabled=not writer)], md=4)
             for box, _key, caption in TEXTS]  # fmt: skip
    form = html.Div([
        html.Div(id=DETAIL),
        dbc.Row([dbc.Col([dbc.Label(_("完成进度（%）"), html_for=PROGRESS),
                          dbc.Input(id=PROGRESS, type="number", min=0, max=100, step=0.1, disabled=not writer)], md=2)],
                className="mb-2"),
        dbc.Row(texts, className="mb-2 g-2"),
        html.Div([dbc.Button(_("保存草稿"), id=SAVE, color="secondary", size="sm", className="me-1"),
                  dbc.Button(_("提交"), id=SUBMIT, color="primary", size="sm")], id=ENTRY_BOX, hidden=not writer, className="mb-2"),
        html.Div([dbc.Textarea(id=REASON, placeholder=_("退回理由（退回时必填）"), rows=2, maxLength=2000, className="mb-1"),
                  dbc.Button(_("采纳"), id=ACCEPT, color="success", size="sm", className="me-1"),
                  dbc.Button(_("退回"), id=RETURN, color="danger", size="sm")], id=REVIEW_BOX, hidden=not reviewer, className="mb-2"),
        html.H3(_("办理记录"), className="h6 mt-2"), html.Div(id=HISTORY),
    ], id=FORM, hidden=True, className="mt-3")  # fmt: skip
    return html.Div([
        html.H2(_("省级工作方案"), className="h4"),
        html.P(_("《碳足迹管理体系建设工作方案》（晋环发〔2024〕31号）12项重点任务，按牵头（或按职责分工负责）部门定期调度："
                 "省厅业务人员代各部门填报进展，省级管理员审核采纳。"), className="text-muted small"),
        dbc.Row([dbc.Col(dcc.Dropdown(id=PERIOD, options=options, value=reporting_period(today, app_settings().reporting).key,
                                      clearable=False, searchable=False), md=3)], className="mb-2"),
        html.Div(id=COMPLETENESS, className="mb-2 small"),
        html.Div(id=MESSAGE),
        grid,
        form,
        dcc.Store(id=VERSION), dcc.Store(id=REFRESH, data=0),
    ])  # fmt: skip


def _task_name(task: WorkPlanTask) -> str:
    """A task as the reader reads it: its number and title, in English where the catalogue has one."""
    return f"{task.number}. {task.title_en if english() and task.title_en else task.title_zh}"


def _group_name(task: WorkPlanTask) -> str:
    """The plan's section a task is in: 一、… in Chinese, "Part 1: …" in English."""
    if english() and task.group_title_en:
        return _("第{n}部分：{title}").format(n=task.group_number, title=task.group_title_en)
    return f"{GROUP_NUMERALS[task.group_number - 1]}、{task.group_title_zh}"


def _row(line: WorkPlanLine) -> JsonRow:
    task, department, update = line.assignment.task, line.assignment.department, line.update
    submitted = update.submitted_at if update else None
    return {
        "id": f"{task.id}-{department.id}", "task_id": task.id, "department_id": department.id,
        "group": _group_name(task),
        "task": _task_name(task), "department": name_of(department, short=True), "duty": _(line.assignment.duty_zh),
        "status": _(STATUS_ZH[update.status]) if update else _("未填报"),
        "progress": float(update.progress) if update and update.progress is not None else None,
        "late": _("是") if update and update.is_late else "",
        "submitted": format_datetime(submitted, app_settings().timezone) if submitted else "",
    }  # fmt: skip


def _completeness_line(session: Session, user: User, period: Period) -> str:
    line = work_plan_completeness(session, user, period)
    if line.expected == 0:
        return _("{period}早于工作方案印发，无需调度").format(period=label_of(period))
    shares = [f"{v}%" if v is not None else "—" for v in (line.completeness, line.timeliness)]
    return _("{period}（{due}前报送）：应报{expected}项，已报{submitted}项，按时{on_time}项，已采纳{accepted}项；"
             "完整率{completeness}，及时率{timeliness}").format(
        period=label_of(period), due=format_date(due_date(period, app_settings().reporting)), expected=line.expected,
        submitted=line.submitted, on_time=line.on_time, accepted=line.accepted, completeness=shares[0],
        timeliness=shares[1])  # fmt: skip


def _detail(line_title: str, update: WorkPlanUpdate | None) -> Component:
    if update is None:
        return html.H3(
            [line_title, dbc.Badge(_("未填报"), color="light", text_color="dark", className="ms-2")],
            className="h6",
        )
    return html.Div([
        html.H3([line_title, dbc.Badge(_(STATUS_ZH[update.status]), color="info", className="ms-2")], className="h6"),
        html.P([_("版本") + f" {update.version}", "　" + _("逾期提交") if update.is_late else ""], className="small"),
        dbc.Alert(f"{_('退回理由')}：{update.return_reason}", color="warning", className="py-1") if update.return_reason else None,
    ])  # fmt: skip


def _history(session: Session, user: User, update: WorkPlanUpdate | None) -> Component:
    steps = work_plan_history(session, user, update) if update else []
    tz = app_settings().timezone
    items = [html.Li(f"{format_datetime(s.at, tz)}　{s.actor_name}　{translated(STEP_ZH, s.step)}"
                     + (f"　{_('理由')}：{s.reason}" if s.reason else "")) for s in steps]  # fmt: skip
    return html.Ul(items or [html.Li(_("暂无"))], className="small")


MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)
REFRESH_OUT = Output(REFRESH, "data", allow_duplicate=True)


@page_callback(REQUIRED_ACTION, Output(GRID, "rowData"), Output(COMPLETENESS, "children"), Input(PERIOD, "value"),
               Input(REFRESH, "data"), may=may_read_work_plan)  # fmt: skip
def load(call: Call, period_value: Text, _refresh: Raw) -> tuple[object, object]:
    period = _period(period_value)
    rows = [_row(line) for line in work_plan_lines(call.session, call.user, period)]
    return with_row_ids(rows), _completeness_line(call.session, call.user, period)


@page_callback(
    REQUIRED_ACTION, Output(FORM, "hidden"), Output(DETAIL, "children"), Output(HISTORY, "children"),
    Output(PROGRESS, "value"), Output(WORK_DONE, "value"), Output(PROBLEMS, "value"), Output(NEXT_STEPS, "value"),
    Output(VERSION, "data"), Output(SAVE, "disabled"), Output(SUBMIT, "disabled"), Output(ACCEPT, "disabled"),
    Output(RETURN, "disabled"),
    Input(GRID, "selectedRows"), Input(REFRESH, "data"), State(PERIOD, "value"), may=may_read_work_plan,
)  # fmt: skip
def show(call: Call, rows: Rows, _refresh: Raw, period_value: Text) -> tuple[object, ...]:
    task_id, department_id = _pair(rows)
    period = _period(period_value)
    try:
        assignment = assignment_for(call.session, call.user, task_id, department_id, period)
    except (TrackerError, PermissionDenied):
        raise PreventUpdate from None
    update = find_work_plan_update(call.session, call.user, task_id, department_id, period)
    task, department = assignment.task, assignment.department
    title = f"{_task_name(task)} · {name_of(department, short=True)} · {label_of(period)}"
    editable = update is None or update.status in EDITABLE
    reviewable = update is not None and update.status is UpdateStatus.SUBMITTED
    progress = float(update.progress) if update and update.progress is not None else None
    texts = [getattr(update, key) or "" if update else "" for _box, key, _caption in TEXTS]
    return (False, _detail(title, update), _history(call.session, call.user, update), progress, *texts,
            update.version if update else None, not editable, not editable, not reviewable, not reviewable)  # fmt: skip


@page_callback(
    Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Input(SAVE, "n_clicks"), Input(SUBMIT, "n_clicks"),
    State(GRID, "selectedRows"), State(PERIOD, "value"), State(PROGRESS, "value"), State(WORK_DONE, "value"),
    State(PROBLEMS, "value"), State(NEXT_STEPS, "value"), State(VERSION, "data"), State(REFRESH, "data"),
    alert=MESSAGE_OUT, may=may_read_work_plan, prevent_initial_call=True,
)  # fmt: skip
def enter(call: Call, _save: Clicks, _submit: Clicks, rows: Rows, period_value: Text, progress: Raw,
          work_done: Text, problems: Text, next_steps: Text, version: LenientInt, refresh: Counter) -> tuple[object, int]:  # fmt: skip
    if call.triggered not in (SAVE, SUBMIT):
        raise PreventUpdate
    require_selection(rows, _("请先在列表中选择一项任务和部门"))
    task_id, department_id = _pair(rows)
    period, settings = _period(period_value), call.settings
    entry = WorkPlanEntry(progress if isinstance(progress, int | float | str) else None, work_done or "",
                          problems or "", next_steps or "")  # fmt: skip
    update = save_work_plan_update(call.session, call.user, task_id, department_id, period, entry, today=_today(),
                                   version=version)  # fmt: skip
    if call.triggered == SUBMIT:
        submit_work_plan_update(call.session, call.user, update.id, version=update.version,
                                reporting=settings.reporting, now=now_utc(), tz=settings.timezone)  # fmt: skip
    done = _("已提交") if call.triggered == SUBMIT else _("已保存草稿")
    return alert(f"{done}：{_task_name(update.task)} · {name_of(update.department, short=True)}"), refresh + 1


@page_callback(
    Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Output(REASON, "value"), Input(ACCEPT, "n_clicks"),
    Input(RETURN, "n_clicks"), State(GRID, "selectedRows"), State(PERIOD, "value"), State(VERSION, "data"),
    State(REASON, "value"), State(REFRESH, "data"),
    alert=MESSAGE_OUT, may=may_read_work_plan, prevent_initial_call=True,
)  # fmt: skip
def decide(call: Call, _accept: Clicks, _return: Clicks, rows: Rows, period_value: Text, version: LenientInt,
           reason: Text, refresh: Counter) -> tuple[object, ...]:  # fmt: skip
    if call.triggered not in (ACCEPT, RETURN):
        raise PreventUpdate
    require_selection(rows, _("请先在列表中选择一项已提交的进展"))
    task_id, department_id = _pair(rows)
    update = find_work_plan_update(call.session, call.user, task_id, department_id, _period(period_value))
    if update is None:
        raise Refused(_("该部门本期尚未填报"))
    review_work_plan_update(call.session, call.user, update.id, accept=call.triggered == ACCEPT, version=version,
                            now=now_utc(), reason=reason or "")  # fmt: skip
    done = _("已采纳") if call.triggered == ACCEPT else _("已退回")
    name = f"{_task_name(update.task)} · {name_of(update.department, short=True)}"
    return alert(f"{done}：{name}"), refresh + 1, ""  # the reason is not carried to the next one
