"""申报与遴选: the city's applications and review queue, the province's forwarded applications, expert
scores and the selection board with quotas. Every button is checked again on the server."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import (
    CLICKS,
    Call,
    Clicks,
    Counter,
    LenientInt,
    Raw,
    Refused,
    Rows,
    Text,
    Texts,
    Upload,
    chosen_row,
    download,
    many,
    page_callback,
    page_clientside,
    read_upload,
)
from dashboards.grid import data_grid
from dashboards.widgets import (
    ROW_ID,
    alert,
    batch_for,
    city_for,
    selected_id,
    visible_row,
    with_row_ids,
)
from reports.forms import application_form_xlsx, summary_table_xlsx
from tracker.access.permissions import (
    PROVINCIAL_ROLES,
    Action,
    Level,
    may_act,
    visible_cities,
)
from tracker.audit import trail as audit
from tracker.core.clock import local_today, now_utc
from tracker.core.i18n import N_, _, batch_name, format_date, format_datetime, label_of, name_of
from tracker.core.json_types import JsonRow
from tracker.core.messages import Label, Listed, Message
from tracker.lifecycle.applications import EDITABLE, FIELDS, FLAG_KEYS, FLAG_LABELS
from tracker.lifecycle.deadlines import grant_exception, parse_chinese_or_iso_date
from tracker.lifecycle.forms import form_values, import_applications, summary_table_rows
from tracker.lifecycle.quotas import quota_board
from tracker.lifecycle.workflow import (
    APPLICATION_STEPS,
    advance_application,
    allowed_application_steps,
    application_rows,
    average_score,
    history,
    publish_batch,
    record_score,
)
from tracker.models import Application, ApplicationFile, ApplicationStatus, Batch, FileKind, Role, User
from tracker.models.labels import label
from tracker.uploads.files import read_file, store_file

PATH = "/applications"
NAME = N_("申报与遴选")
ORDER = 2
REQUIRED_ACTION = Action.VIEW
NAV_ACTION = Action.EDIT  # in the menu of those who enter or review; leaders read it from links

GRID, DETAIL, MESSAGE, REFRESH = "apps-grid", "apps-detail", "apps-message", "apps-refresh"
BATCH, STATUS = "apps-batch", "apps-status"
REASON = "apps-reason"
STEP_BUTTONS = {key: f"apps-step-{key}" for key in APPLICATION_STEPS}
SCORE_EXPERT, SCORE_VALUE, SCORE_COMMENT, SCORE_SAVE = (
    "apps-expert",
    "apps-score",
    "apps-comment",
    "apps-score-save",
)
FILE_KIND, FILE_UPLOAD, FILE_PICK, FILE_GET, FILE_DOWNLOAD = (
    "apps-file-kind", "apps-file-upload", "apps-file-pick", "apps-file-get", "apps-file-download")  # fmt: skip
FORM_GET, FORM_DOWNLOAD = "apps-form-get", "apps-form-download"
IMPORT_UPLOAD, IMPORT_BATCH, IMPORT_CITY, IMPORT_DRY, IMPORT_RESULT = (
    "apps-import-upload", "apps-import-batch", "apps-import-city", "apps-import-dry", "apps-import-result")  # fmt: skip
EXPORT_GO, EXPORT_DOWNLOAD = "apps-export", "apps-export-download"
QUOTA_GRID = "apps-quota-grid"
GRANT_BATCH, GRANT_CITY, GRANT_UNTIL, GRANT_REASON, GRANT_GO = (
    "apps-grant-batch", "apps-grant-city", "apps-grant-until", "apps-grant-reason", "apps-grant-go")  # fmt: skip
PUBLISH_BATCH, PUBLISH_GO = "apps-publish-batch", "apps-publish-go"
FILE_KINDS = {
    FileKind.BUSINESS: N_("企业生产经营相关文件"),
    FileKind.CARBON_MANAGEMENT: N_("碳排放管理职能部门设置文件和规章制度"),
    FileKind.OTHER_PILOT: N_("获批其他国家级或省级相关试点文件"),
    FileKind.OTHER: N_("其他相关材料"),
}
StepClicks = Annotated[tuple[int | None, ...], many(CLICKS, len(STEP_BUTTONS))]
COLUMNS = [("id", N_("编号")), ("organisation", N_("申报单位")), ("city", N_("所在市")), ("batch", N_("批次")),
           ("category", N_("试点类别")), ("product", N_("试点产品")), ("status", N_("状态")),
           ("score", N_("专家平均分")), ("experts", N_("评分专家数")), ("direct", N_("直报省厅")),
           ("last_by", N_("最近操作人")), ("last_at", N_("最近操作时间"))]  # fmt: skip


def _batch_options(session: Session, user: User) -> list[JsonRow]:
    batches = session.scalars(
        select(Batch).where(Batch.province_id == user.province_id).order_by(Batch.number)
    )
    return [{"label": batch_name(b), "value": b.number} for b in batches]


def _city_options(session: Session, user: User) -> list[JsonRow]:
    return [{"label": name_of(c), "value": c.id} for c in session.scalars(visible_cities(user))]


def _import_card(user: User, batches: list[JsonRow], cities: list[JsonRow]) -> Component:
    return dbc.Card(dbc.CardBody([
        html.H3(_("导入汇总表（附件1/2）或申报表（附件3）"), className="h6"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id=IMPORT_BATCH, options=batches, placeholder=_("批次（默认当前批次）")), md=3),
            dbc.Col(dcc.Dropdown(id=IMPORT_CITY, options=cities, value=user.city_id, placeholder=_("选择城市"),
                                 disabled=user.city_id is not None, clearable=False), md=3),
            dbc.Col(dbc.Checklist(id=IMPORT_DRY, options=[{"label": _("仅检查不写入"), "value": "dry"}], value=[]), md=2),
            dbc.Col(dcc.Upload(id=IMPORT_UPLOAD, children=html.Div(_("拖入或点击选择 .xlsx 文件")),
                               className="upload-box", accept=".xlsx", max_size=10 * 1024 * 1024), md=4),
        ], className="g-2"),
        html.Div(id=IMPORT_RESULT, className="mt-2"),
        dbc.Row([
            dbc.Col(dbc.Button(_("导出该市该批次汇总表（附件1）") if user.city_id is None else _("导出本市该批次汇总表（附件1）"), id=EXPORT_GO, color="success", size="sm"), md="auto"),
        ], className="mt-2"),
        dcc.Download(id=EXPORT_DOWNLOAD),
    ]), className="mb-3")  # fmt: skip


def _province_card(batches: list[JsonRow], cities: list[JsonRow]) -> Component:
    quota_columns = [{"field": "product", "headerName": _("试点产品/类别"), "minWidth": 160},
                     {"field": "quota", "headerName": _("名额"), "width": 90},
                     {"field": "taken", "headerName": _("已入选"), "width": 100},
                     {"field": "remaining", "headerName": _("剩余名额"), "width": 110,
                      "cellClassRules": {"progress-serious": "params.value == 0"}},
                     {"field": "candidates", "headerName": _("评审中"), "width": 100}]  # fmt: skip
    return dbc.Row([
        dbc.Col(dbc.Card(dbc.CardBody([
            html.H3(_("遴选名额（每类产品不超过3个，专业化服务试点不超过2个，全省各批次合计）"), className="h6"),
            data_grid(QUOTA_GRID, quota_columns, height="260px"),
        ])), md=7),
        dbc.Col(dbc.Card(dbc.CardBody([
            html.H3(_("开放逾期申报"), className="h6"),
            dbc.Row([dbc.Col(dcc.Dropdown(id=GRANT_BATCH, options=batches, placeholder=_("批次")), md=4),
                     dbc.Col(dcc.Dropdown(id=GRANT_CITY, options=cities, placeholder=_("城市")), md=4),
                     dbc.Col(dbc.Input(id=GRANT_UNTIL, placeholder="2026-12-31"), md=4)], className="g-1"),
            dbc.Input(id=GRANT_REASON, placeholder=_("理由"), className="mt-1"),
            dbc.Button(_("开放"), id=GRANT_GO, size="sm", className="mt-1"),
            html.Hr(),
            html.H3(_("公布名单"), className="h6"),
            dbc.Row([dbc.Col(dcc.Dropdown(id=PUBLISH_BATCH, options=batches, placeholder=_("批次")), md=6),
                     dbc.Col(dbc.Button(_("公布该批次入选名单"), id=PUBLISH_GO, size="sm", color="warning"), md=6)]),
        ])), md=5),
    ], className="g-2 mb-3")  # fmt: skip


def _actions_block(provincial: bool) -> Component:
    buttons = [dbc.Button(label_of(step), id=STEP_BUTTONS[key], size="sm", className="me-1 mb-1 d-none",
                          color="danger" if key in ("return", "reject") else "primary")
               for key, step in APPLICATION_STEPS.items()]  # fmt: skip
    return html.Div([
        html.H3(_("办理"), className="h6 mt-3"),
        dbc.Textarea(id=REASON, placeholder=_("理由（退回、未入选时必填）"), rows=2, maxLength=2000, className="mb-1"),
        html.Div(buttons),
        html.Div([html.H3(_("专家评分"), className="h6 mt-3"),
        dbc.Row([dbc.Col(dbc.Input(id=SCORE_EXPERT, placeholder=_("专家姓名"), maxLength=64), md=3),
                 dbc.Col(dbc.Input(id=SCORE_VALUE, placeholder=_("评分 0–100"), type="number", min=0, max=100), md=2),
                 dbc.Col(dbc.Input(id=SCORE_COMMENT, placeholder=_("评审意见")), md=5),
                 dbc.Col(dbc.Button(_("记录评分"), id=SCORE_SAVE, size="sm"), md=2)], className="g-1")],
                 hidden=not provincial),
        html.H3(_("相关材料（附件4 第六部分）"), className="h6 mt-3"),
        dbc.Row([dbc.Col(dcc.Dropdown(id=FILE_KIND, options=[{"label": _(v), "value": k.value} for k, v in FILE_KINDS.items()],
                                      value=FileKind.BUSINESS.value, clearable=False), md=5),
                 dbc.Col(dcc.Upload(id=FILE_UPLOAD, children=html.Div(_("上传材料（PDF、OFD、Word、Excel、图片，≤20MB）")),
                                    className="upload-box", max_size=20 * 1024 * 1024), md=7)], className="g-1"),
        dbc.Row([dbc.Col(dcc.Dropdown(id=FILE_PICK, placeholder=_("选择要下载的材料")), md=8),
                 dbc.Col(dbc.Button(_("下载材料"), id=FILE_GET, size="sm", color="secondary"), md=4)],
                className="g-1 mt-1"),
        dbc.Button(_("导出申报表（附件3）"), id=FORM_GET, size="sm", color="success", className="mt-2"),
        dcc.Download(id=FILE_DOWNLOAD), dcc.Download(id=FORM_DOWNLOAD),
    ], id="apps-actions")  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    with db_session() as session:
        batches = _batch_options(session, user)
        cities = _city_options(session, user)
    statuses = [{"label": label(s), "value": s.value} for s in ApplicationStatus]
    writer = user.role is not Role.LEADER
    provincial = user.role in PROVINCIAL_ROLES
    columns: list[dict[str, object]] = [{"field": k, "headerName": _(c)} for k, c in COLUMNS]
    columns[1] |= {"pinned": "left", "minWidth": 240}
    columns[-1] |= {"valueFormatter": {"function": "zhDate(params.value)"}}
    grid = data_grid(GRID, columns, height="45vh")
    grid.dashGridOptions = {
        **grid.dashGridOptions,
        "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
    }
    grid.getRowId = ROW_ID
    return html.Div([
        html.H2(_("申报与遴选"), className="h4"),
        html.P(_("市级：受理、初审、退回、报送省厅；省级：专家评审、评分、在名额内确定入选、公布名单。每一步都记录操作人和时间。"),
               className="text-muted small"),
        html.Div(dcc.Link(_("新建申报（逐项填写）"), href="/application-form", className="btn btn-primary btn-sm"),
                 className="mb-2") if writer else None,
        _import_card(user, batches, cities) if writer else None,
        _province_card(batches, cities) if provincial else None,
        html.Div(id=MESSAGE),
        dbc.Row([dbc.Col(dcc.Dropdown(id=BATCH, options=batches, placeholder=_("全部批次")), md=3),
                 dbc.Col(dcc.Dropdown(id=STATUS, options=statuses, multi=True, placeholder=_("全部状态")), md=5)],
                className="g-2 mb-2"),
        grid,
        dbc.Row([dbc.Col(html.Div(id=DETAIL, className="mt-3"), md=7),
                 dbc.Col(_actions_block(provincial) if writer else html.Div(_actions_block(False), hidden=True), md=5)]),
        dcc.Store(id=REFRESH, data=0),
    ])  # fmt: skip


def _detail(session: Session, user: User, application: Application) -> Component:
    tz = app_settings().timezone
    values = form_values(application)
    fields = [html.Tr([html.Th(label_of(spec), className="w-25"), html.Td(values.get(spec.key) or "—",
                                                                         style={"whiteSpace": "pre-wrap"})])
              for spec in FIELDS if values.get(spec.key)]  # fmt: skip
    flags = [Label(*FLAG_LABELS[key]) for key in FLAG_KEYS if getattr(application, key)]
    steps = [html.Li(Message("{at}　{actor}　{step}（{before} → {after}）{reason}", at=format_datetime(s.at, tz), actor=s.actor_name,
                             step=label_of(APPLICATION_STEPS[s.step]) if s.step in APPLICATION_STEPS else s.step,
                             before=label_status(s.from_status), after=label_status(s.to_status),
                             reason=Message("　理由：{reason}", reason=s.reason) if s.reason else "").text())
             for s in history(session, application)]  # fmt: skip
    scores = [html.Li(Message("{expert}：{score}　{comment}", expert=s.expert_name, score=s.score, comment=s.comment or "").text())
              for s in application.scores]  # fmt: skip
    files = [html.Li(Message("{kind}：{name}（{kb} KB，SHA-256 {sha}…）", kind=Message(FILE_KINDS[f.kind]), name=f.filename,
                             kb=f.size_bytes // 1024 + 1, sha=f.sha256[:12]).text())
             for f in application.files]  # fmt: skip
    city = Label(application.city.name_zh, application.city.name_en)
    average = average_score(application)
    return dbc.Card(dbc.CardBody([
        html.H3(f"{application.organisation.name}", className="h5"),
        html.P([dbc.Badge(label(application.status), color="info", className="me-2"),
                Message("{city} · {batch} · {category}", city=city, batch=batch_name(application.batch),
                        category=label(application.category)).text(),
                Message(" · 优先支持：{flags}", flags=Listed(flags)).text() if flags else ""]),
        dbc.Alert(Message("退回理由：{reason}", reason=application.return_reason).text(), color="warning", className="py-1")
        if application.return_reason and application.status.value == "returned" else None,
        dcc.Link(_("修改申报内容"), href=f"/application-form?id={application.id}", className="btn btn-outline-primary btn-sm mb-2")
        if application.status in EDITABLE and may_act(user, Level.CITY, application) else None,
        html.Table(html.Tbody(fields), className="table table-sm small"),
        html.H4(_("办理记录"), className="h6"), html.Ul(steps or [html.Li(_("暂无"))], className="small"),
        html.H4(Message("专家评分（平均 {average}）", average=average).text() if average is not None else _("专家评分"),
                className="h6"),
        html.Ul(scores or [html.Li(_("暂无"))], className="small"),
        html.H4(_("相关材料"), className="h6"), html.Ul(files or [html.Li(_("暂无"))], className="small"),
    ]))  # fmt: skip


def label_status(value: str | None) -> str:
    if value is None:
        return "—"
    try:
        return label(ApplicationStatus(value))
    except ValueError:
        return value


CHOOSE_FIRST = N_("请先在列表中选择一条申报")
MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)
REFRESH_OUT = Output(REFRESH, "data", allow_duplicate=True)


@page_callback(Action.VIEW, Output(GRID, "rowData"), Input(BATCH, "value"), Input(STATUS, "value"),
               Input(REFRESH, "data"))  # fmt: skip
def load_applications(
    call: Call, batch: LenientInt, statuses: Texts, _refresh: Raw
) -> list[dict[str, object]]:
    rows = application_rows(call.session, call.user, batch_number=batch, statuses=statuses)
    return with_row_ids(rows)


@page_callback(Action.VIEW, Output(DETAIL, "children"),
               *[Output(button, "className") for button in STEP_BUTTONS.values()], Output(FILE_PICK, "options"),
               Input(GRID, "selectedRows"), Input(REFRESH, "data"))  # fmt: skip
def show_application(call: Call, rows: Rows, _refresh: Raw) -> tuple[object, ...]:
    application = visible_row(call.session, call.user, Application, selected_id(rows))
    allowed = {s.key for s in allowed_application_steps(call.user, application)}
    classes = ["me-1 mb-1" if key in allowed else "me-1 mb-1 d-none" for key in STEP_BUTTONS]
    files = [{"label": f.filename, "value": f.id} for f in application.files]
    return (_detail(call.session, call.user, application), *classes, files)


@page_callback(Action.EDIT, MESSAGE_OUT, REFRESH_OUT, *[Input(button, "n_clicks") for button in STEP_BUTTONS.values()],
               State(GRID, "selectedRows"), State(REASON, "value"), State(REFRESH, "data"),
               alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def perform_step(
    call: Call, _clicks: StepClicks, rows: Rows, reason: Text, refresh: Counter
) -> tuple[object, int]:
    step = next((key for key, button in STEP_BUTTONS.items() if button == call.triggered), None)
    if step is None:
        raise PreventUpdate
    application_id = chosen_row(rows, _(CHOOSE_FIRST))
    visible_row(call.session, call.user, Application, application_id)
    advance_application(call.session, call.user, application_id, step, now=now_utc(), tz=call.settings.timezone,
                        reason=reason)  # fmt: skip
    return alert(_("已办理：{step}").format(step=label_of(APPLICATION_STEPS[step]))), refresh + 1


@page_callback(Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Input(SCORE_SAVE, "n_clicks"), State(GRID, "selectedRows"),
               State(SCORE_EXPERT, "value"), State(SCORE_VALUE, "value"), State(SCORE_COMMENT, "value"),
               State(REFRESH, "data"), alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def save_score(
    call: Call, _clicks: Clicks, rows: Rows, expert: Text, score: Raw, comment: Text, refresh: Counter
) -> tuple[object, int]:
    application_id = chosen_row(rows, _(CHOOSE_FIRST))
    try:
        value = Decimal(str(score))
    except (InvalidOperation, ValueError):
        raise Refused(_("请填写0–100之间的评分"), "danger") from None
    visible_row(call.session, call.user, Application, application_id)
    record_score(
        call.session, call.user, application_id, expert=expert or "", score=value, comment=comment or None
    )
    return alert(_("评分已记录")), refresh + 1


@page_callback(Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Input(FILE_UPLOAD, "contents"), State(FILE_UPLOAD, "filename"),
               State(FILE_KIND, "value"), State(GRID, "selectedRows"), State(REFRESH, "data"),
               alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def upload_file(
    call: Call, contents: Upload, filename: Text, kind: Text, rows: Rows, refresh: Counter
) -> tuple[object, int]:
    if contents is None:
        raise PreventUpdate  # the box was emptied after the last upload (see below)
    application_id = chosen_row(rows, _(CHOOSE_FIRST))
    content = read_upload(contents)
    file_kind = next((k for k in FileKind if k.value == kind), None)
    if file_kind is None:
        raise Refused(_("无法读取上传的文件"), "danger")
    application = visible_row(call.session, call.user, Application, application_id)
    store_file(call.session, call.user, application, kind=file_kind, filename=filename or "file", content=content,
               instance_dir=call.settings.instance_dir)  # fmt: skip
    return alert(_("材料已上传：{name}").format(name=filename)), refresh + 1


@page_callback(Action.VIEW, Output(FILE_DOWNLOAD, "data"), Input(FILE_GET, "n_clicks"), State(FILE_PICK, "value"),
               State(GRID, "selectedRows"), prevent_initial_call=True)  # fmt: skip
def download_file(call: Call, _clicks: Clicks, file_id: LenientInt, rows: Rows) -> object:
    application = visible_row(call.session, call.user, Application, selected_id(rows))
    row = call.session.get(ApplicationFile, file_id) if file_id is not None else None
    if row is None or row.application_id != application.id:
        raise PreventUpdate
    content = read_file(call.user, row, call.settings.instance_dir)  # a refusal: nothing (no alert here)
    audit.record(call.session, "download", "application_files", row.id, summary=row.filename,
                 city_id=application.city_id)  # fmt: skip
    return download(content, row.filename)


@page_callback(Action.EXPORT, Output(FORM_DOWNLOAD, "data"), MESSAGE_OUT, Input(FORM_GET, "n_clicks"),
               State(GRID, "selectedRows"), alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def download_form(call: Call, _clicks: Clicks, rows: Rows) -> tuple[object, object]:
    application = visible_row(call.session, call.user, Application, chosen_row(rows, _(CHOOSE_FIRST)))
    content = application_form_xlsx(form_values(application))
    audit.record(call.session, "export", "application", application.id, summary="申报表（附件3）",
                 city_id=application.city_id)  # fmt: skip
    return download(content, f"申报表_{application.organisation.name}.xlsx"), no_update


IMPORT_OUT = Output(IMPORT_RESULT, "children")


@page_callback(Action.EDIT, IMPORT_OUT, REFRESH_OUT, Input(IMPORT_UPLOAD, "contents"), State(IMPORT_UPLOAD, "filename"),
               State(IMPORT_BATCH, "value"), State(IMPORT_CITY, "value"), State(IMPORT_DRY, "value"),
               State(REFRESH, "data"), alert=IMPORT_OUT, prevent_initial_call=True)  # fmt: skip
def import_file(
    call: Call, contents: Upload, filename: Text, batch: Raw, city_id: Raw, dry: Raw, refresh: Counter
) -> tuple[object, int]:
    if contents is None:
        raise PreventUpdate  # the box was emptied after the last upload (see below)
    tz = call.settings.timezone
    content = read_upload(contents)
    city = city_for(call.session, call.user, city_id)
    batch_row = batch_for(call.session, call.user, batch, city, local_today(tz))
    result = import_applications(call.session, call.user, content, city=city, batch=batch_row, now=now_utc(), tz=tz,
                                 dry_run=bool(dry))  # fmt: skip
    notes = [html.Li(w.text()) for w in result.warnings]
    kind = _("申报表") if result.kind == "form" else _("汇总表")
    body = [
        html.Strong(
            Message(
                "{file}（{kind}，{batch}）：{summary}",
                file=filename,
                kind=kind,
                batch=batch_name(batch_row),
                summary=result.summary,
            ).text()
        ),
        html.Ul(notes) if notes else None,
    ]
    return dbc.Alert(body, color="info" if result.dry_run else "success", className="py-2"), refresh + 1


@page_callback(Action.EXPORT, Output(EXPORT_DOWNLOAD, "data"), MESSAGE_OUT, Input(EXPORT_GO, "n_clicks"),
               State(IMPORT_BATCH, "value"), State(IMPORT_CITY, "value"), alert=MESSAGE_OUT,
               prevent_initial_call=True)  # fmt: skip
def export_summary(call: Call, _clicks: Clicks, batch: Raw, city_id: Raw) -> tuple[object, object]:
    city = city_for(call.session, call.user, city_id)
    if not isinstance(batch, int) or isinstance(batch, bool):
        raise Refused(_("请先选择批次"))
    batch_row = batch_for(call.session, call.user, batch, city, local_today(call.settings.timezone))
    rows = summary_table_rows(call.session, call.user, city, batch_row)
    content = summary_table_xlsx(f"{city.name_zh}生态环境局", rows)
    audit.record(call.session, "export", "applications", summary=f"汇总表 {city.short_zh} {batch_row.name_zh} {len(rows)} 行",
                 city_id=city.id)  # fmt: skip
    return download(content, f"汇总表_{city.short_zh}_{batch_row.name_zh}.xlsx"), no_update


# Dash fires an upload only when its contents change: once the answer is shown, the boxes are
# emptied in the browser so the same file can be uploaded again (after a fix, or to re-check).
for _box, _answer in ((IMPORT_UPLOAD, IMPORT_RESULT), (FILE_UPLOAD, MESSAGE)):
    page_clientside("function(_answer) { return null; }", Output(_box, "contents", allow_duplicate=True),
                    Input(_answer, "children"), prevent_initial_call=True)  # fmt: skip


@page_callback(Action.VIEW, Output(QUOTA_GRID, "rowData"), Input(REFRESH, "data"))
def load_quotas(call: Call, _refresh: Raw) -> list[dict[str, object]]:
    if call.user.role not in PROVINCIAL_ROLES:
        raise PreventUpdate
    return [{"product": line.product_name, "quota": line.quota, "taken": line.taken,
             "remaining": line.remaining, "candidates": line.candidates}
            for line in quota_board(call.session, call.user.province_id)]  # fmt: skip


@page_callback(Action.EDIT, MESSAGE_OUT, Input(GRANT_GO, "n_clicks"), State(GRANT_BATCH, "value"),
               State(GRANT_CITY, "value"), State(GRANT_UNTIL, "value"), State(GRANT_REASON, "value"),
               alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def grant(call: Call, _clicks: Clicks, batch: Raw, city_id: Raw, until: Text, reason: Text) -> object:
    city = city_for(call.session, call.user, city_id)
    batch_row = batch_for(call.session, call.user, batch, city, local_today(call.settings.timezone))
    row = grant_exception(call.session, call.user, batch=batch_row, city=city,
                          until=parse_chinese_or_iso_date(until or ""), reason=reason or "")  # fmt: skip
    return alert(_("已为{city}开放{batch}申报，截至{date}").format(
        city=name_of(city), batch=batch_name(batch_row), date=format_date(row.until)))  # fmt: skip


@page_callback(Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Input(PUBLISH_GO, "n_clicks"), State(PUBLISH_BATCH, "value"),
               State(REFRESH, "data"), alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def publish(call: Call, _clicks: Clicks, batch: LenientInt, refresh: Counter) -> tuple[object, object]:
    query = select(Batch).where(Batch.province_id == call.user.province_id, Batch.number == batch)
    batch_row = call.session.scalars(query).first() if batch is not None else None
    if batch_row is None:
        raise Refused(_("请先选择批次"))
    pilots = publish_batch(call.session, call.user, batch_row, today=local_today(call.settings.timezone))
    if not pilots:
        return alert(
            _("{batch}没有待公布的入选试点（可能已经公布）").format(batch=batch_name(batch_row)), "warning"
        ), no_update
    return alert(
        _("已公布{batch}名单，共{n}个试点").format(batch=batch_name(batch_row), n=len(pilots))
    ), refresh + 1
