"""调度填报: the period's updates. A city bureau downloads the Excel template for its pilots, uploads
it filled (optionally submitting), and sees each pilot's status; the province reviews submitted
updates (accept or return with a reason) and sees completeness and timeliness per city."""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from dashboards.access import app_settings, guarded_layout
from dashboards.callbacks import (
    Call,
    Clicks,
    Counter,
    Mapping,
    Raw,
    Refused,
    Rows,
    Text,
    Texts,
    Upload,
    chosen_row,
    download,
    page_callback,
    read_upload,
)
from dashboards.grid import data_grid
from dashboards.shell import nav_count_badge, nav_count_id
from dashboards.widgets import (
    ROW_ID,
    alert,
    evidence_list,
    selected_id,
    visible_row,
    with_row_ids,
)
from reports.update_template import update_template_xlsx
from tracker.access.permissions import Action, Level, city_scope, may_act, may_review_updates
from tracker.audit import trail as audit
from tracker.catalogue import place_name
from tracker.core.clock import local_today, now_utc
from tracker.core.errors import TrackerError
from tracker.core.i18n import (
    N_,
    _,
    format_date,
    format_datetime,
    label_of,
    name_of,
    translated,
)
from tracker.core.json_types import JsonRow
from tracker.core.periods import Period, parse_period, periods_between, reporting_period
from tracker.models import Pilot, ProgressUpdate, Role, UpdateStatus, User
from tracker.monitoring.figures import (
    Figures,
    as_of_text,
    completeness_label,
    reporting_text,
    scope_figures,
    timeliness_label,
)
from tracker.progress.consistency import checks_from
from tracker.progress.expected import thresholds_from
from tracker.progress.review_context import (
    ReviewContext,
    days_waiting,
    review_context,
    waiting_count,
    waiting_queue,
)
from tracker.progress.sheets import import_update_sheet, template_data
from tracker.progress.updates import (
    STATUS_ZH,
    STEP_ZH,
    review_update,
    update_history,
    updates_for,
)

PATH = "/updates"
NAME = N_("调度填报")
ORDER = 5
REQUIRED_ACTION = Action.VIEW
NAV_ACTION = Action.EDIT  # in the menu of those who enter or review; leaders read it from links
NAV_COUNT = waiting_count  # the reviewer's 待审核 count beside the page's name in the menu

PERIOD, GRID, MESSAGE, REFRESH = "upd-period", "upd-grid", "upd-message", "upd-refresh"
TEMPLATE, DOWNLOAD, UPLOAD, SUBMIT = "upd-template", "upd-download", "upd-upload", "upd-submit"
COMPLETENESS, DETAIL, REASON, ACCEPT, RETURN = (
    "upd-completeness",
    "upd-detail",
    "upd-reason",
    "upd-accept",
    "upd-return",
)
VIEW, QUEUE_NOTE, REVIEW_MESSAGE, CURRENT = "upd-view", "upd-queue-note", "upd-review-message", "upd-current"
PREV, NEXT, POSITION = "upd-prev", "upd-next", "upd-position"
WARNINGS, ACK_BOX, ACK, KEYS = "upd-warnings", "upd-ack-box", "upd-ack", "upd-warning-keys"
QUEUE, ALL = "queue", "all"
COLUMNS = [("city", N_("所在市")), ("pilot", N_("试点")), ("status", N_("填报状态")), ("late", N_("逾期")),
           ("submitted", N_("提交时间")), ("waiting", N_("等待审核")), ("expected", N_("序时进度%")),
           ("actual", N_("实际进度%")), ("gap", N_("滞后（百分点）"))]  # fmt: skip
QUEUE_COLUMNS = [("city", N_("所在市")), ("pilot", N_("试点")), ("period", N_("报告期")), ("submitted", N_("提交时间")),
                 ("waiting", N_("等待审核")), ("late", N_("逾期"))]  # fmt: skip


def _today() -> dt.date:
    return local_today(app_settings().timezone)


def _period(value: object) -> Period:
    settings = app_settings()
    if isinstance(value, str) and value:
        try:
            return parse_period(value, settings.reporting.frequency)
        except TrackerError:
            pass
    return reporting_period(_today(), settings.reporting)


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    settings = app_settings()
    today = _today()
    current = reporting_period(today, settings.reporting)
    options = [{"label": label_of(p), "value": p.key}
               for p in reversed(periods_between(today.replace(year=today.year - 2), today, settings.reporting.frequency))]  # fmt: skip
    writer = user.role is Role.CITY_STAFF
    reviewer = may_review_updates(user)
    grid = data_grid(GRID, _columns(QUEUE if reviewer else ALL), height="45vh")
    grid.dashGridOptions = {
        **grid.dashGridOptions,
        "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
    }
    grid.getRowId = ROW_ID
    entry = dbc.Card(dbc.CardBody([
        html.H3(_("Excel 批量填报"), className="h6"),
        dbc.Row([
            dbc.Col(dbc.Button(_("下载本期填报模板"), id=TEMPLATE, color="success", size="sm"), md="auto"),
            dbc.Col(dbc.Checklist(id=SUBMIT, options=[{"label": _("导入后直接提交省厅"), "value": "submit"}], value=[]),
                    md="auto"),
            dbc.Col(dcc.Upload(id=UPLOAD, children=html.Div(_("拖入或点击选择填好的模板（.xlsx）")), className="upload-box",
                               accept=".xlsx", max_size=10 * 1024 * 1024), md=5),
        ], className="g-2 align-items-center"),
        dcc.Download(id=DOWNLOAD),
    ]), className="mb-3")  # fmt: skip
    review = html.Div([
        html.Div([
            html.H3(_("审核"), className="h6 mb-0 me-auto"),
            dbc.Button(_("上一条"), id=PREV, color="secondary", outline=True, size="sm", className="me-1"),
            html.Span(id=POSITION, className="small text-muted me-1"),
            dbc.Button(_("下一条"), id=NEXT, color="secondary", outline=True, size="sm"),
        ], className="d-flex align-items-center mt-3 mb-2"),
        html.Div(id=WARNINGS),
        html.Div(dbc.Checklist(id=ACK, options=[{"label": _("我已核实以上提示"), "value": "ack"}], value=[]),
                 id=ACK_BOX, hidden=True, className="mb-2"),
        dcc.Store(id=KEYS, data=[]),
        dbc.Textarea(id=REASON, placeholder=_("退回理由（退回时必填）"), rows=2, maxLength=2000, className="mb-1"),
        dbc.Button(_("采纳"), id=ACCEPT, color="success", size="sm", className="me-1"),
        dbc.Button(_("退回"), id=RETURN, color="danger", size="sm"),
        html.Div(id=REVIEW_MESSAGE, className="mt-2"),  # the decision's outcome, beside its buttons
    ], hidden=not reviewer, id="upd-review", style={"position": "sticky", "top": "0.5rem"})  # fmt: skip
    view = dbc.RadioItems(id=VIEW, options=[{"label": _("待审核队列"), "value": QUEUE}, {"label": _("本期全部"), "value": ALL}],
                          value=QUEUE if reviewer else ALL, inline=True, className="small")  # fmt: skip
    return html.Div([
        html.H2(_("调度填报"), className="h4"),
        html.P(_("每月调度：市局按试点填报各项任务进度、阶段性目标完成情况和工作进展，省厅审核采纳后计入实际进度。"),
               className="text-muted small"),
        dbc.Row([dbc.Col(dcc.Dropdown(id=PERIOD, options=options, value=current.key, clearable=False, searchable=False), md=3),
                 dbc.Col(html.Div(view, hidden=not reviewer), md="auto"),
                 dbc.Col(html.Div(id=QUEUE_NOTE, className="small text-muted"), md="auto")],
                className="mb-2 g-2 align-items-center"),
        entry if writer else html.Div([dbc.Button(id=TEMPLATE), dcc.Upload(id=UPLOAD), dcc.Download(id=DOWNLOAD),
                                       dcc.Checklist(id=SUBMIT)], hidden=True),
        html.Div(id=MESSAGE),
        html.Div(id=COMPLETENESS, className="mb-2"),
        grid,
        dbc.Row([dbc.Col(html.Div(id=DETAIL, className="mt-3"), md=8), dbc.Col(review, md=4)]),
        dcc.Store(id=REFRESH, data=0),
        dcc.Store(id=CURRENT, data=None),
    ])  # fmt: skip


def _columns(view: str) -> list[dict[str, object]]:
    columns: list[dict[str, object]] = [
        {"field": key, "headerName": _(caption), "flex": 1, "minWidth": 90,  # fit the page: nothing hidden to the right
         **({"cellRenderer": "PilotLink", "minWidth": 260, "flex": 3} if key == "pilot" else {})}
        for key, caption in (QUEUE_COLUMNS if view == QUEUE else COLUMNS)
    ]  # fmt: skip
    return columns


def _figures(session: Session, user: User, period: Period) -> Figures:
    """The period's figures (tracker.monitoring.figures): the period cities are reporting on, today, as every
    other page shows it; a past period at its last day."""
    settings, today = app_settings(), _today()
    on = today if period == reporting_period(today, settings.reporting) else min(period.end, today)
    return scope_figures(session, user, on=on, period=period, reporting=settings.reporting,
                         thresholds=thresholds_from(settings))  # fmt: skip


def _waiting(update: ProgressUpdate | None) -> tuple[int | None, str]:
    """Days the update has waited for review, and the words (已等待 5 天); nothing unless waiting."""
    days = days_waiting(update, _today(), app_settings().timezone) if update else None
    if days is None:
        return None, ""
    return days, (_("今日提交") if days == 0 else _("已等待 {days} 天").format(days=days))


def _rows(session: Session, figures: Figures) -> list[JsonRow]:
    """The period's pilots, the updates waiting for review first (the longest waiting first)."""
    updates = updates_for(session, [p.id for p in figures.pilots], figures.period)
    rows: list[tuple[tuple[int, int], JsonRow]] = []
    for position, pilot in enumerate(figures.pilots):
        update = updates.get(pilot.id)
        progress = figures.progress[pilot.id]
        days, waiting = _waiting(update)
        rows.append(((0, -days) if days is not None else (1, position), {
            "id": update.id if update else -pilot.id, "version": update.version if update else None,
            "city": name_of(pilot.city), "pilot": pilot.name, "pilot_id": pilot.id,
            "status": _(STATUS_ZH[update.status]) if update else _("未填报"),
            "late": _("是") if update and update.is_late else "",
            "submitted": format_datetime(update.submitted_at, app_settings().timezone)
            if update and update.submitted_at else "", "waiting": waiting,
            "expected": float(progress.expected), "actual": float(progress.actual), "gap": float(progress.gap),
        }))  # fmt: skip
    return [row for _key, row in sorted(rows, key=lambda pair: pair[0])]


def _queue_rows(session: Session, user: User) -> list[JsonRow]:
    """The updates waiting for the user's review, of any period, the longest waiting first."""
    tz = app_settings().timezone
    return [{"id": u.id, "version": u.version, "city": name_of(u.pilot.city), "pilot": u.pilot.name,
             "pilot_id": u.pilot_id, "period": label_of(Period(u.period_start, u.period_end)),
             "submitted": format_datetime(u.last_submitted_at or u.submitted_at, tz), "waiting": _waiting(u)[1],
             "late": _("是") if u.is_late else ""} for u in waiting_queue(session, user)]  # fmt: skip


def _completeness_table(user: User, figures: Figures) -> Component:
    period = figures.period
    as_of = html.P([as_of_text(figures), _("；报送："), reporting_text(figures.total.reporting)],
                   className="small fw-semibold mb-1", id="updates-as-of")  # fmt: skip
    lines = [c for c in figures.cities if c.reporting.applicable]
    if city_scope(user) is None and lines:
        lines.append(figures.total)
    if not lines:
        return html.Div([as_of, dbc.Alert(_("{period}没有应报的试点").format(period=label_of(period)), color="light",
                                          className="py-1")])  # fmt: skip
    body = []
    for line in lines:
        r = line.reporting
        name = _("全省") if line.city_id is None else place_name(line.key)
        body.append(html.Tr([html.Td(name), html.Td(r.expected), html.Td(r.submitted), html.Td(r.on_time),
                             html.Td(r.accepted), html.Td(completeness_label(r)), html.Td(timeliness_label(r))],
                            className="fw-bold" if line.city_id is None else None))  # fmt: skip
    head = html.Thead(html.Tr([html.Th(c) for c in (_("城市"), _("应报"), _("已报"), _("按时（首次报送）"), _("已采纳"),
                                                    _("完整率"), _("及时率"))]))  # fmt: skip
    return html.Div([as_of, html.Details([
        html.Summary(_("{period}报送完整率与及时率").format(period=label_of(period))),
        html.Table([head, html.Tbody(body)], className="table table-sm small w-auto")], open=True)])  # fmt: skip


def _form_link(user: User, pilot: Pilot, period: Period) -> Component | None:
    """The way to the web entry form, for the pilot's own city bureau."""
    if not may_act(user, Level.CITY, pilot):
        return None
    return dbc.Button(_("在线填报"), href=f"/update-form?pilot={pilot.id}&period={period.key}", color="primary",
                      size="sm", className="ms-2 mb-2")  # fmt: skip


def _percent(value: object) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _task_table(context: ReviewContext) -> Component:
    """Each task: its figure last accepted, this period's, and 序时进度 at the period's end."""
    head = html.Thead(html.Tr([html.Th(c) for c in (_("任务"), _("上次采纳"), _("本期"), _("序时进度"))]))
    body = [html.Tr([html.Td(f"{t.number} {t.title}"), html.Td(_percent(t.previous)), html.Td(_percent(t.current),
                     className="fw-semibold"), html.Td(_percent(t.expected))]) for t in context.tasks]  # fmt: skip
    if not body:
        return html.P(_("暂无"), className="small text-muted", id="upd-task-table")
    return html.Table([head, html.Tbody(body)], className="table table-sm small w-auto", id="upd-task-table")


def _detail(session: Session, update: ProgressUpdate, context: ReviewContext) -> Component:
    tz = app_settings().timezone
    milestones = [html.Li(r.milestone.title + "：" + (_("已完成") if r.reached else _("未完成"))
                          + (f"（{format_date(r.achieved_on)}）" if r.achieved_on else "")
                          + ("　" + _("指标值") + f" {r.indicator_value.normalize()}" if r.indicator_value is not None else ""))
                  for r in update.milestone_reports]  # fmt: skip
    steps = [html.Li(f"{format_datetime(s.at, tz)}　{s.actor_name}　{translated(STEP_ZH, s.step)}"
                     + (f"　{_('理由')}：{s.reason}" if s.reason else "")) for s in update_history(session, update)]  # fmt: skip
    return dbc.Card(dbc.CardBody([
        html.H3(f"{update.pilot.name} · {label_of(Period(update.period_start, update.period_end))}", className="h6"),
        html.P([dbc.Badge(_(STATUS_ZH[update.status]), color="info", className="me-2"),
                _("版本") + f" {update.version}", f"　{_('逾期提交')}" if update.is_late else "",
                f"　{_waiting(update)[1]}" if _waiting(update)[1] else ""]),
        dbc.Alert(f"{_('退回理由')}：{update.return_reason}", color="warning", className="py-1") if update.return_reason else None,
        html.H4(_("任务进度"), className="h6"), _task_table(context),
        html.H4(_("阶段性目标"), className="h6"), html.Ul(milestones or [html.Li(_("暂无"))], className="small"),
        html.H4(_("本期工作进展"), className="h6"), html.P(update.work_done or "—", className="small", style={"whiteSpace": "pre-wrap"}),
        html.H4(_("存在问题"), className="h6"), html.P(update.problems or "—", className="small", style={"whiteSpace": "pre-wrap"}),
        html.H4(_("下步计划"), className="h6"), html.P(update.next_steps or "—", className="small", style={"whiteSpace": "pre-wrap"}),
        html.H4(_("佐证材料"), className="h6"), evidence_list(update),
        html.H4(_("办理记录"), className="h6"), html.Ul(steps or [html.Li(_("暂无"))], className="small"),
    ]))  # fmt: skip


MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)
REFRESH_OUT = Output(REFRESH, "data", allow_duplicate=True)


REVIEW_OUT = Output(REVIEW_MESSAGE, "children", allow_duplicate=True)


@page_callback(Action.VIEW, Output(GRID, "rowData"), Output(GRID, "columnDefs"), Output(COMPLETENESS, "children"),
               Output(QUEUE_NOTE, "children"), Input(PERIOD, "value"), Input(REFRESH, "data"), Input(VIEW, "value"),
               read_only=True)  # fmt: skip
def load(call: Call, period_value: Text, _refresh: Raw, view: Text) -> tuple[object, ...]:
    """The period's pilots, or (a reviewer's 待审核队列) the updates waiting for review, of any period."""
    figures = _figures(call.session, call.user, _period(period_value))
    completeness = _completeness_table(call.user, figures)
    if view == QUEUE and may_review_updates(call.user):
        rows = _queue_rows(call.session, call.user)
        note = (_("待审核 {count} 份，等待最久的在前").format(count=len(rows)) if rows
                else _("没有待审核的更新"))  # fmt: skip
        return with_row_ids(rows), _columns(QUEUE), completeness, note
    return with_row_ids(_rows(call.session, figures)), _columns(ALL), completeness, ""


def _order(virtual: Rows, rows: Rows) -> list[dict[str, object]]:
    """The rows as the grid shows them (sorted or filtered by the user), else as sent."""
    return virtual if virtual else (rows or [])


def _index(rows: list[dict[str, object]], update_id: int) -> int | None:
    return next((i for i, row in enumerate(rows) if row.get("id") == update_id), None)


def _warnings(context: ReviewContext) -> Component | None:
    if not context.warnings:
        return None
    return dbc.Alert([html.Div(_("审核提示：采纳前请逐条核实"), className="fw-semibold"),
                      html.Ul([html.Li(w.message.text()) for w in context.warnings], className="mb-0 small")],
                     color="warning", className="py-2 mb-2", id="upd-warning-list")  # fmt: skip


@page_callback(Action.VIEW, Output(DETAIL, "children"), Output(WARNINGS, "children"), Output(ACK_BOX, "hidden"),
               Output(ACK, "value"), Output(KEYS, "data"), Output(CURRENT, "data"), Output(POSITION, "children"),
               Output(REVIEW_MESSAGE, "children"),
               Input(GRID, "selectedRows"), Input(REFRESH, "data"), State(PERIOD, "value"),
               State(GRID, "virtualRowData"), State(GRID, "rowData"), read_only=True)  # fmt: skip
def show(
    call: Call, rows: Rows, _refresh: Raw, period_value: Text, virtual: Rows, all_rows: Rows
) -> tuple[object, ...]:
    """The chosen update in full: each task against its last accepted figure and 序时进度, the
    evidence, the history; for a reviewer, the warnings to acknowledge before accepting. After a
    decision (the refresh), the outcome shown beside the buttons stays."""
    update_id = selected_id(rows)
    message = no_update if call.triggered == REFRESH else None
    order = _order(virtual, all_rows)
    index = _index(order, update_id)
    position = _("第 {n}/{total} 条").format(n=index + 1, total=len(order)) if index is not None else ""
    current = {"id": update_id, "index": index} if index is not None else no_update
    if update_id < 0:
        pilot = visible_row(call.session, call.user, Pilot, -update_id)
        notice = dbc.Alert(
            [_("该试点本期尚未填报。"), _form_link(call.user, pilot, _period(period_value))], color="light"
        )
        return notice, None, True, [], [], current, position, message
    update = visible_row(call.session, call.user, ProgressUpdate, update_id)
    context = review_context(call.session, update, checks_from(call.settings))
    detail = [_form_link(call.user, update.pilot, Period(update.period_start, update.period_end)),
              _detail(call.session, update, context)]  # fmt: skip
    if update.status is not UpdateStatus.SUBMITTED or not may_review_updates(call.user, update):
        return detail, None, True, [], [], current, position, message
    keys = [w.key for w in context.warnings]
    return detail, _warnings(context), not keys, [], keys, current, position, message


@page_callback(Action.EDIT, Output(GRID, "selectedRows"), REVIEW_OUT, Input(PREV, "n_clicks"), Input(NEXT, "n_clicks"),
               State(GRID, "virtualRowData"), State(GRID, "rowData"), State(CURRENT, "data"), may=may_review_updates,
               alert=REVIEW_OUT, read_only=True, prevent_initial_call=True)  # fmt: skip
def step(
    call: Call, _prev: Clicks, _next: Clicks, virtual: Rows, all_rows: Rows, current: Mapping
) -> tuple[object, ...]:
    """上一条 / 下一条: the neighbour of the update shown, in the grid's order. One decided and gone
    from the queue leaves its place to the next (下一条 opens the one now there)."""
    if call.triggered not in (PREV, NEXT):
        raise PreventUpdate
    order = _order(virtual, all_rows)
    if not order:
        raise Refused(_("列表中没有更新"))
    update_id = current.get("id") if current else None
    former = current.get("index") if current else None
    here = _index(order, update_id) if isinstance(update_id, int) else None
    if here is not None:
        wanted = here - 1 if call.triggered == PREV else here + 1
    elif isinstance(former, int) and not isinstance(former, bool):
        wanted = former - 1 if call.triggered == PREV else former  # its place was taken by the next
    else:
        wanted = 0
    if not 0 <= wanted < len(order):
        raise Refused(_("已是第一条") if call.triggered == PREV else _("已是最后一条"), "info")
    return [order[wanted]], None


@page_callback(Action.EDIT, Output(DOWNLOAD, "data"), MESSAGE_OUT, Input(TEMPLATE, "n_clicks"), State(PERIOD, "value"),
               alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def download_template(call: Call, _clicks: Clicks, period_value: Text) -> tuple[object, object]:
    if call.user.role is not Role.CITY_STAFF:
        raise PreventUpdate
    period = _period(period_value)
    template = template_data(call.session, call.user, period)
    if not template.pilots:
        raise Refused(_("{period}本市没有应报的试点").format(period=label_of(period)))
    content = update_template_xlsx(template)
    audit.record(call.session, "export", "progress_updates", summary=f"调度填报模板 {period.label_zh}",
                 city_id=call.user.city_id)  # fmt: skip
    return download(content, f"调度填报_{template.city}_{period.key}.xlsx"), no_update


@page_callback(
    Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Output(UPLOAD, "contents"),
    Input(UPLOAD, "contents"), State(UPLOAD, "filename"), State(SUBMIT, "value"), State(REFRESH, "data"),
    alert=MESSAGE_OUT, on_refusal=((Output(UPLOAD, "contents"), None),), prevent_initial_call=True,
)  # fmt: skip
def upload(
    call: Call, contents: Upload, filename: Text, submit: Texts, refresh: Counter
) -> tuple[object, ...]:
    """The upload box is emptied each time, so the same file can be uploaded again (Dash fires
    only when the contents change)."""
    if contents is None:
        raise PreventUpdate
    content = read_upload(contents)
    settings = call.settings
    result = import_update_sheet(call.session, call.user, content, reporting=settings.reporting, now=now_utc(),
                                 tz=settings.timezone, submit="submit" in (submit or []))  # fmt: skip
    return alert(f"{filename}：{result.summary.text()}"), refresh + 1, None


@page_callback(
    Action.EDIT, REVIEW_OUT, REFRESH_OUT, Output(REASON, "value"), Output(ACK, "value", allow_duplicate=True),
    Output(nav_count_id(PATH), "children", allow_duplicate=True),
    Input(ACCEPT, "n_clicks"), Input(RETURN, "n_clicks"),
    State(GRID, "selectedRows"), State(REASON, "value"), State(REFRESH, "data"), State(ACK, "value"), State(KEYS, "data"),
    alert=REVIEW_OUT, prevent_initial_call=True,
)  # fmt: skip
def decide(
    call: Call,
    _accept: Clicks,
    _return: Clicks,
    rows: Rows,
    reason: Text,
    refresh: Counter,
    ack: Texts,
    keys: Texts,
) -> tuple[object, ...]:
    """Accept (every warning shown acknowledged, or review_update refuses) or return with a reason;
    the outcome is shown beside the buttons."""
    if call.triggered not in (ACCEPT, RETURN):
        raise PreventUpdate
    if chosen_row(rows, _("请先在列表中选择一份已提交的更新")) < 0:
        raise Refused(_("请先在列表中选择一份已提交的更新"))
    version = rows[0].get("version") if rows else None
    update = visible_row(call.session, call.user, ProgressUpdate, selected_id(rows))
    accept = call.triggered == ACCEPT
    review_update(call.session, call.user, update.id, accept=accept,
                  version=version if isinstance(version, int) and not isinstance(version, bool) else None,
                  now=now_utc(), reason=reason, acknowledged=(keys or []) if "ack" in (ack or []) else (),
                  checks=checks_from(call.settings))  # fmt: skip
    done = _("已采纳") if accept else _("已退回")
    count = nav_count_badge(waiting_count(call.session, call.user))  # the menu's 待审核, one fewer
    return alert(f"{done}：{update.pilot.name}"), refresh + 1, "", [], count  # the reason is not carried on


@page_callback(
    Action.VIEW, Output(nav_count_id(PATH), "children", allow_duplicate=True), Input("_pages_location", "pathname"),
    may=may_review_updates, read_only=True, prevent_initial_call=True,
)  # fmt: skip
def refresh_waiting_count(call: Call, _path: Text) -> object:
    """The menu's 待审核 follows what the city bureaus submit meanwhile: counted again (one COUNT) each
    time the reviewer moves to another page of the app, not only when the whole page is loaded. Those
    who review nothing (city bureaus) get no answer (204) and cost no query."""
    return nav_count_badge(waiting_count(call.session, call.user))
