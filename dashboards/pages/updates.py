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
from dashboards.widgets import (
    ROW_ID,
    alert,
    evidence_list,
    selected_id,
    visible_row,
    with_row_ids,
)
from reports.update_template import update_template_xlsx
from tracker.access.permissions import PROVINCIAL_ROLES, Action, Level, city_scope, may_act
from tracker.audit import trail as audit
from tracker.core.clock import local_today, now_utc
from tracker.core.errors import TrackerError
from tracker.core.i18n import (
    N_,
    _,
    format_date,
    format_datetime,
    label_of,
    translated,
)
from tracker.core.json_types import JsonRow
from tracker.core.periods import Period, parse_period, periods_between, reporting_period
from tracker.models import Pilot, ProgressUpdate, Role, User
from tracker.monitoring.figures import (
    Figures,
    as_of_text,
    completeness_label,
    reporting_text,
    scope_figures,
    timeliness_label,
)
from tracker.progress.expected import thresholds_from
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

PERIOD, GRID, MESSAGE, REFRESH = "upd-period", "upd-grid", "upd-message", "upd-refresh"
TEMPLATE, DOWNLOAD, UPLOAD, SUBMIT = "upd-template", "upd-download", "upd-upload", "upd-submit"
COMPLETENESS, DETAIL, REASON, ACCEPT, RETURN = (
    "upd-completeness",
    "upd-detail",
    "upd-reason",
    "upd-accept",
    "upd-return",
)
COLUMNS = [("city", N_("所在市")), ("pilot", N_("试点")), ("status", N_("填报状态")), ("late", N_("逾期")),
           ("submitted", N_("提交时间")), ("expected", N_("序时进度%")), ("actual", N_("实际进度%")),
           ("gap", N_("滞后（百分点）"))]  # fmt: skip


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
    provincial = user.role in PROVINCIAL_ROLES
    columns: list[dict[str, object]] = [
        {"field": key, "headerName": _(caption), **({"cellRenderer": "PilotLink"} if key == "pilot" else {})}
        for key, caption in COLUMNS
    ]
    for column in columns:
        column |= {"flex": 1, "minWidth": 90}  # fit the page: no column hidden to the right
    columns[1] |= {"minWidth": 260, "flex": 3}
    grid = data_grid(GRID, columns, height="45vh")
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
        html.H3(_("审核"), className="h6 mt-3"),
        dbc.Textarea(id=REASON, placeholder=_("退回理由（退回时必填）"), rows=2, maxLength=2000, className="mb-1"),
        dbc.Button(_("采纳"), id=ACCEPT, color="success", size="sm", className="me-1"),
        dbc.Button(_("退回"), id=RETURN, color="danger", size="sm"),
    ], hidden=not provincial)  # fmt: skip
    return html.Div([
        html.H2(_("调度填报"), className="h4"),
        html.P(_("每月调度：市局按试点填报各项任务进度、阶段性目标完成情况和工作进展，省厅审核采纳后计入实际进度。"),
               className="text-muted small"),
        dbc.Row([dbc.Col(dcc.Dropdown(id=PERIOD, options=options, value=current.key, clearable=False, searchable=False), md=3)],
                className="mb-2"),
        entry if writer else html.Div([dbc.Button(id=TEMPLATE), dcc.Upload(id=UPLOAD), dcc.Download(id=DOWNLOAD),
                                       dcc.Checklist(id=SUBMIT)], hidden=True),
        html.Div(id=MESSAGE),
        html.Div(id=COMPLETENESS, className="mb-2"),
        grid,
        dbc.Row([dbc.Col(html.Div(id=DETAIL, className="mt-3"), md=8), dbc.Col(review, md=4)]),
        dcc.Store(id=REFRESH, data=0),
    ])  # fmt: skip


def _figures(session: Session, user: User, period: Period) -> Figures:
    """The period's figures (tracker.monitoring.figures): the period cities are reporting on, today, as every
    other page shows it; a past period at its last day."""
    settings, today = app_settings(), _today()
    on = today if period == reporting_period(today, settings.reporting) else min(period.end, today)
    return scope_figures(session, user, on=on, period=period, reporting=settings.reporting,
                         thresholds=thresholds_from(settings))  # fmt: skip


def _rows(session: Session, figures: Figures) -> list[JsonRow]:
    updates = updates_for(session, [p.id for p in figures.pilots], figures.period)
    rows: list[JsonRow] = []
    for pilot in figures.pilots:
        update = updates.get(pilot.id)
        progress = figures.progress[pilot.id]
        rows.append({
            "id": update.id if update else -pilot.id, "version": update.version if update else None,
            "city": pilot.city.name_zh, "pilot": pilot.name, "pilot_id": pilot.id,
            "status": _(STATUS_ZH[update.status]) if update else _("未填报"),
            "late": _("是") if update and update.is_late else "",
            "submitted": format_datetime(update.submitted_at, app_settings().timezone)
            if update and update.submitted_at else "",
            "expected": float(progress.expected), "actual": float(progress.actual), "gap": float(progress.gap),
        })  # fmt: skip
    return rows


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
        name = _("全省") if line.city_id is None else line.key
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


def _detail(session: Session, update: ProgressUpdate) -> Component:
    tz = app_settings().timezone
    tasks = {t.id: t for t in update.pilot.tasks}
    lines = [html.Li(f"{tasks[r.task_id].number} {tasks[r.task_id].title}：{r.percent:.1f}%") for r in update.task_progress
             if r.task_id in tasks]  # fmt: skip
    milestones = [html.Li(r.milestone.title + "：" + (_("已完成") if r.reached else _("未完成"))
                          + (f"（{format_date(r.achieved_on)}）" if r.achieved_on else "")
                          + ("　" + _("指标值") + f" {r.indicator_value.normalize()}" if r.indicator_value is not None else ""))
                  for r in update.milestone_reports]  # fmt: skip
    steps = [html.Li(f"{format_datetime(s.at, tz)}　{s.actor_name}　{translated(STEP_ZH, s.step)}"
                     + (f"　{_('理由')}：{s.reason}" if s.reason else "")) for s in update_history(session, update)]  # fmt: skip
    return dbc.Card(dbc.CardBody([
        html.H3(f"{update.pilot.name} · {label_of(Period(update.period_start, update.period_end))}", className="h6"),
        html.P([dbc.Badge(_(STATUS_ZH[update.status]), color="info", className="me-2"),
                _("版本") + f" {update.version}", f"　{_('逾期提交')}" if update.is_late else ""]),
        dbc.Alert(f"{_('退回理由')}：{update.return_reason}", color="warning", className="py-1") if update.return_reason else None,
        html.H4(_("任务进度"), className="h6"), html.Ul(lines or [html.Li(_("暂无"))], className="small"),
        html.H4(_("阶段性目标"), className="h6"), html.Ul(milestones or [html.Li(_("暂无"))], className="small"),
        html.H4(_("本期工作进展"), className="h6"), html.P(update.work_done or "—", className="small", style={"whiteSpace": "pre-wrap"}),
        html.H4(_("存在问题"), className="h6"), html.P(update.problems or "—", className="small", style={"whiteSpace": "pre-wrap"}),
        html.H4(_("下步计划"), className="h6"), html.P(update.next_steps or "—", className="small", style={"whiteSpace": "pre-wrap"}),
        html.H4(_("佐证材料"), className="h6"), evidence_list(update),
        html.H4(_("办理记录"), className="h6"), html.Ul(steps or [html.Li(_("暂无"))], className="small"),
    ]))  # fmt: skip


MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)
REFRESH_OUT = Output(REFRESH, "data", allow_duplicate=True)


@page_callback(Action.VIEW, Output(GRID, "rowData"), Output(COMPLETENESS, "children"),
               Input(PERIOD, "value"), Input(REFRESH, "data"), read_only=True)  # fmt: skip
def load(call: Call, period_value: Text, _refresh: Raw) -> tuple[object, object]:
    figures = _figures(call.session, call.user, _period(period_value))
    return with_row_ids(_rows(call.session, figures)), _completeness_table(call.user, figures)


@page_callback(Action.VIEW, Output(DETAIL, "children"), Input(GRID, "selectedRows"), Input(REFRESH, "data"),
               State(PERIOD, "value"), read_only=True)  # fmt: skip
def show(call: Call, rows: Rows, _refresh: Raw, period_value: Text) -> object:
    update_id = selected_id(rows)
    if update_id < 0:
        pilot = visible_row(call.session, call.user, Pilot, -update_id)
        return dbc.Alert(
            [_("该试点本期尚未填报。"), _form_link(call.user, pilot, _period(period_value))], color="light"
        )
    update = visible_row(call.session, call.user, ProgressUpdate, update_id)
    return [_form_link(call.user, update.pilot, Period(update.period_start, update.period_end)),
            _detail(call.session, update)]  # fmt: skip


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
    Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Output(REASON, "value"),
    Input(ACCEPT, "n_clicks"), Input(RETURN, "n_clicks"),
    State(GRID, "selectedRows"), State(REASON, "value"), State(REFRESH, "data"),
    alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def decide(
    call: Call, _accept: Clicks, _return: Clicks, rows: Rows, reason: Text, refresh: Counter
) -> tuple[object, ...]:
    if call.triggered not in (ACCEPT, RETURN):
        raise PreventUpdate
    if chosen_row(rows, _("请先在列表中选择一份已提交的更新")) < 0:
        raise Refused(_("请先在列表中选择一份已提交的更新"))
    version = rows[0].get("version") if rows else None
    update = visible_row(call.session, call.user, ProgressUpdate, selected_id(rows))
    review_update(call.session, call.user, update.id, accept=call.triggered == ACCEPT,
                  version=version if isinstance(version, int) and not isinstance(version, bool) else None,
                  now=now_utc(), reason=reason)  # fmt: skip
    done = _("已采纳") if call.triggered == ACCEPT else _("已退回")
    return alert(f"{done}：{update.pilot.name}"), refresh + 1, ""  # the reason is not carried to the next one
