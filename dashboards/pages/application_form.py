"""填写申报: create or change one application field by field (附件3 申报表, 附件1/2 汇总表 texts, 附件4
实施方案 outline, milestones and participating units), then save it as a draft or save and submit.

The form is for the city bureau that receives the unit's application (and, for service pilots filed
directly with the province, the provincial bureau). Everything is checked again on the server by
``tracker.lifecycle.applications.save_application``; the character counters are only a convenience.
"""

from __future__ import annotations

from typing import Annotated

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import (
    LONG_TEXT,
    Call,
    Clicks,
    LenientInt,
    Raw,
    Text,
    Texts,
    many,
    page_callback,
    page_clientside,
)
from dashboards.grid import locale_text
from dashboards.widgets import batch_for, city_for, problems_alert, visible_row
from tracker.access.permissions import (
    PROVINCIAL_ROLES,
    Action,
    Level,
    PermissionDenied,
    may_act,
    visible_cities,
)
from tracker.core.clock import local_today, now_utc
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, batch_name, label_of, name_of
from tracker.core.json_types import JsonRow
from tracker.core.messages import Label, message_of
from tracker.core.validation import ValidationFailed
from tracker.lifecycle.applications import (
    CATEGORY_NAME,
    EDITABLE,
    FIELDS,
    FLAG_KEYS,
    FLAG_LABELS,
    TEXT_CAP,
    ApplicationData,
    FieldSpec,
    data_from_application,
    plan_from_rows,
    save_application,
)
from tracker.lifecycle.workflow import advance_application
from tracker.models import Application, ApplicationStatus, Batch, PilotCategory, Product, User
from tracker.models.labels import label

PATH = "/application-form"
NAME = N_("填写申报")
ORDER = 3
REQUIRED_ACTION = Action.EDIT

PREFIX = "appform"
ID, MESSAGE = f"{PREFIX}-id", f"{PREFIX}-message"
BATCH, CITY, CATEGORY, PRODUCT, DIRECT, FLAGS = (
    f"{PREFIX}-batch", f"{PREFIX}-city", f"{PREFIX}-category", f"{PREFIX}-product", f"{PREFIX}-direct",
    f"{PREFIX}-flags")  # fmt: skip
MILESTONES, PARTICIPANTS = f"{PREFIX}-milestones", f"{PREFIX}-participants"
MS_ADD, MS_DELETE, PART_ADD, PART_DELETE = (
    f"{PREFIX}-ms-add", f"{PREFIX}-ms-delete", f"{PREFIX}-part-add", f"{PREFIX}-part-delete")  # fmt: skip
SAVE, SUBMIT = f"{PREFIX}-save", f"{PREFIX}-submit"
# The product is chosen from the catalogue, not typed; every other field is a text box.
TEXT_FIELDS = tuple(spec for spec in FIELDS if spec.key != "product_text")
GROUPS = (
    (N_("申报单位"), ("organisation_name", "credit_code", "leader_name", "leader_title", "leader_phone",
                     "leader_email", "contact_name", "contact_title", "contact_phone", "contact_email")),
    (N_("申报表（附件3）"), ("overall_goal", "tasks_summary", "unit_intro", "eligibility", "advantages",
                           "future_plan")),
    (N_("汇总表（附件1/2）"), ("summary_advantages", "summary_plan")),
    (N_("实施方案（附件4）"), ("plan_basis", "plan_indicators", "plan_main_tasks", "plan_schedule")),
    (N_("保障措施（附件4）"), ("safeguard_organisation", "safeguard_mechanism", "safeguard_funding",
                             "safeguard_technical", "safeguard_publicity")),
)  # fmt: skip
SHORT = 200  # fields up to this many characters are one-line inputs


def field_id(key: str) -> str:
    return f"{PREFIX}-f-{key}"


def count_id(key: str) -> str:
    return f"{PREFIX}-n-{key}"


def _application_id(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _field(spec: FieldSpec, value: str) -> Component:
    caption = label_of(spec) + (" *" if spec.required else "")
    limited = spec.limit < TEXT_CAP
    if spec.limit <= SHORT:
        box = dbc.Input(id=field_id(spec.key), value=value, type="text")
        return dbc.Col([dbc.Label(caption, html_for=field_id(spec.key), className="small mb-0"), box], md=4)
    # No maxLength: a browser would cut pasted text silently; the counter and the server say so instead.
    box = dbc.Textarea(id=field_id(spec.key), value=value, rows=4 if spec.limit <= 1000 else 6)
    counter = html.Div(f"{len(value)} / {spec.limit}" if limited else "", id=count_id(spec.key),
                       className="form-text text-end")  # fmt: skip
    note = _("（不超过{n}字）").format(n=spec.limit) if limited else ""
    return dbc.Col([dbc.Label(caption + note, html_for=field_id(spec.key), className="small mb-0"), box, counter],
                   md=12)  # fmt: skip


def _plan_grid(grid_id: str, columns: list[JsonRow], rows: list[JsonRow]) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id, columnDefs=[{"field": "key", "hide": True}, *columns],
        rowData=rows, className="ag-theme-quartz", style={"height": "220px"},
        defaultColDef={"editable": True, "resizable": True, "wrapText": True, "autoHeight": True},
        getRowId="params.data.key",
        dashGridOptions={"localeText": locale_text(), "singleClickEdit": True, "stopEditingWhenCellsLoseFocus": True,
                         "rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": False,
                                          "enableClickSelection": False}},
    )  # fmt: skip


def _keyed(rows: list[JsonRow]) -> list[JsonRow]:
    return [{**row, "key": str(i)} for i, row in enumerate(rows, start=1)]


def _state(application: Application | None, user: User) -> tuple[bool, str | None]:
    """Whether the form can be saved, and if not why (shown above the form)."""
    if application is None:
        return True, None
    if application.status not in EDITABLE:
        return False, _("该申报当前状态为“{status}”，已通过市级初审，内容不能再修改。").format(
            status=label(application.status)
        )
    if not may_act(user, Level.CITY, application):
        return False, _("此申报由{city}生态环境局受理，您只能查看。").format(city=name_of(application.city))
    return True, None


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, id: str | None = None, **_query: str) -> Component:  # id: the address's ?id=
    provincial = user.role in PROVINCIAL_ROLES
    with db_session() as session:
        application = None
        wanted = _application_id(id)
        if wanted is not None:
            try:
                application = visible_row(session, user, Application, wanted)
            except PreventUpdate:
                return dbc.Alert(_("没有找到该申报，或您无权查看。"), color="warning", className="mt-4")
        data = data_from_application(application) if application else ApplicationData()
        batches = [{"label": batch_name(b), "value": b.number}
                   for b in session.scalars(select(Batch).where(Batch.province_id == user.province_id)
                                            .order_by(Batch.number))]  # fmt: skip
        cities = [{"label": name_of(c), "value": c.id} for c in session.scalars(visible_cities(user))]
        products = [
            {"label": name_of(p), "value": p.name_zh}
            for p in session.scalars(select(Product).order_by(Product.id))
        ]
        editable, why = _state(application, user)
        heading = (
            _("修改申报：{name}").format(name=application.organisation.name) if application else _("新建申报")
        )
        status = (
            f"{label(application.status)} · {name_of(application.city)} · {batch_name(application.batch)}"
            if application
            else _("保存后为草稿，提交后进入市级初审（专业化服务试点可由省厅直接受理）。")
        )
        category = application.category.value if application else PilotCategory.PRODUCT.value
        product = data.texts.get("product_text") or None
        city_value = application.city_id if application else user.city_id
        batch_value = application.batch.number if application else None
        direct = application.direct_to_province if application else False
    groups = []
    for title, keys in GROUPS:
        specs = [spec for spec in TEXT_FIELDS if spec.key in keys]
        groups.append(dbc.Card(dbc.CardBody([
            html.H3(_(title), className="h6"),
            dbc.Row([_field(spec, data.texts.get(spec.key, "")) for spec in specs], className="g-2"),
        ]), className="mb-3"))  # fmt: skip
    milestone_rows = _keyed([{"title": m.title, "month": m.month, "indicator": m.indicator,
                              "target_value": m.target_value} for m in data.milestones or []])  # fmt: skip
    participant_rows = _keyed([{"unit_name": p.unit_name, "responsibility": p.responsibility}
                               for p in data.participants or []])  # fmt: skip
    milestone_columns = [
        {"field": "title", "headerName": _("阶段性目标"), "flex": 2, "minWidth": 200},
        {"field": "month", "headerName": _("开始后第几个月完成（1–36）"), "width": 190,
         "cellEditor": "agNumberCellEditor", "cellEditorParams": {"min": 1, "max": 36, "precision": 0}},
        {"field": "indicator", "headerName": _("指标"), "flex": 1},
        {"field": "target_value", "headerName": _("目标值"), "flex": 1},
    ]  # fmt: skip
    participant_columns = [
        {"field": "unit_name", "headerName": _("参与单位"), "flex": 1},
        {"field": "responsibility", "headerName": _("职责分工"), "flex": 2},
    ]
    flags = [{"label": Label(*FLAG_LABELS[key]).text(), "value": key} for key in FLAG_KEYS]
    return html.Div([
        html.H2(heading, className="h4"),
        html.P(status, className="text-muted small"),
        dbc.Alert(why, color="warning") if why else None,
        dcc.Store(id=ID, data=application.id if application else None),
        dbc.Card(dbc.CardBody([
            html.H3(_("批次与类别"), className="h6"),
            dbc.Row([
                dbc.Col([dbc.Label(_("批次"), className="small mb-0"),
                         dcc.Dropdown(id=BATCH, options=batches, value=batch_value,
                                      placeholder=_("当前申报批次"))], md=3),
                dbc.Col([dbc.Label(_("所在市"), className="small mb-0"),
                         dcc.Dropdown(id=CITY, options=cities, value=city_value, clearable=False,
                                      disabled=application is not None or not provincial)], md=3),
                dbc.Col([dbc.Label(_("试点类别"), className="small mb-0"),
                         dbc.RadioItems(id=CATEGORY, value=category, inline=True,
                                        options=[{"label": _(CATEGORY_NAME[c]), "value": c.value} for c in PilotCategory])],
                        md=6),
                dbc.Col([dbc.Label(_("试点产品（产品碳足迹管理试点必填）"), className="small mb-0"),
                         dcc.Dropdown(id=PRODUCT, options=products, value=product, placeholder=_("从试点产品目录中选择"))],
                        md=4),
                dbc.Col([dbc.Label(_("优先支持情形"), className="small mb-0"),
                         dbc.Checklist(id=FLAGS, options=flags, inline=True,
                                       value=[k for k in FLAG_KEYS if data.flags.get(k)])], md=5),
                dbc.Col(dbc.Checklist(id=DIRECT, value=["direct"] if direct else [],
                                      options=[{"label": _("专业化服务试点直接向省厅申报"), "value": "direct",
                                                "disabled": application is not None}]),
                        md=3, className="pt-3", style=None if provincial else {"display": "none"}),
            ], className="g-2"),
        ]), className="mb-3"),
        *groups,
        dbc.Card(dbc.CardBody([
            html.H3(_("阶段性目标（附件4）"), className="h6"),
            _plan_grid(MILESTONES, milestone_columns, milestone_rows),
            dbc.Button(_("增加一行"), id=MS_ADD, size="sm", color="secondary", className="me-1 mt-1"),
            dbc.Button(_("删除勾选的行"), id=MS_DELETE, size="sm", color="secondary", outline=True, className="mt-1"),
            html.H3(_("参与单位与职责分工（附件4）"), className="h6 mt-3"),
            _plan_grid(PARTICIPANTS, participant_columns, participant_rows),
            dbc.Button(_("增加一行"), id=PART_ADD, size="sm", color="secondary", className="me-1 mt-1"),
            dbc.Button(_("删除勾选的行"), id=PART_DELETE, size="sm", color="secondary", outline=True, className="mt-1"),
        ]), className="mb-3"),
        html.Div(id=MESSAGE),
        html.Div([
            dbc.Button(_("保存草稿"), id=SAVE, color="primary", className="me-2", disabled=not editable),
            dbc.Button(_("保存并提交"), id=SUBMIT, color="success", className="me-2", disabled=not editable),
            dcc.Link(_("返回申报与遴选"), href="/applications", className="btn btn-link"),
        ], className="mb-4"),
    ])  # fmt: skip


def _rows(value: object) -> list[JsonRow]:
    """Grid rows as sent by the browser; anything else (a hand-made POST) counts as none."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _edit_rows(rows: object, selected: object, adding: bool) -> list[JsonRow]:
    current = _rows(rows)
    if adding:
        keys = [int(key) for row in current if (key := str(row.get("key", ""))).isdigit()]
        return [*current, {"key": str(max(keys, default=0) + 1)}]
    gone = {row.get("key") for row in _rows(selected)}
    return [row for row in current if row.get("key") not in gone]


LIMITED = [spec for spec in TEXT_FIELDS if SHORT < spec.limit < TEXT_CAP]
# Character counters run in the browser (nothing is read or written on the server); the limits
# are enforced by save_application.
page_clientside(
    """function(...values) {
        const limits = %s;
        return values.map((v, i) => {
            const n = Array.from((v || "").trim()).length;
            return n + " / " + limits[i] + (n > limits[i] ? "　超出" + (n - limits[i]) + "字" : "");
        });
    }"""
    % [spec.limit for spec in LIMITED],
    *[Output(count_id(spec.key), "children") for spec in LIMITED],
    *[Input(field_id(spec.key), "value") for spec in LIMITED],
)


@page_callback(Action.EDIT, Output(MILESTONES, "rowData"), Input(MS_ADD, "n_clicks"), Input(MS_DELETE, "n_clicks"),
               State(MILESTONES, "rowData"), State(MILESTONES, "selectedRows"), prevent_initial_call=True)  # fmt: skip
def edit_milestones(call: Call, _add: Clicks, _delete: Clicks, rows: Raw, selected: Raw) -> list[JsonRow]:
    return _edit_rows(rows, selected, call.triggered == MS_ADD)


@page_callback(Action.EDIT, Output(PARTICIPANTS, "rowData"), Input(PART_ADD, "n_clicks"),
               Input(PART_DELETE, "n_clicks"), State(PARTICIPANTS, "rowData"), State(PARTICIPANTS, "selectedRows"),
               prevent_initial_call=True)  # fmt: skip
def edit_participants(call: Call, _add: Clicks, _delete: Clicks, rows: Raw, selected: Raw) -> list[JsonRow]:
    return _edit_rows(rows, selected, call.triggered == PART_ADD)


FieldTexts = Annotated[tuple[str | None, ...], many(LONG_TEXT, len(TEXT_FIELDS))]


def _data(category: object, product: str | None, flags: list[str] | None, milestones: object, participants: object,
          texts: tuple[str | None, ...]) -> ApplicationData:  # fmt: skip
    """The form as application data; what no form sends counts as empty."""
    plan_milestones, plan_participants = plan_from_rows(_rows(milestones), _rows(participants))
    category_value = category if category in {c.value for c in PilotCategory} else ""
    product_text = product if product and category_value == PilotCategory.PRODUCT.value else ""
    return ApplicationData(
        category_text=CATEGORY_NAME[PilotCategory(category_value)] if category_value else "",
        texts={spec.key: value or "" for spec, value in zip(TEXT_FIELDS, texts, strict=True)}
        | {"product_text": product_text},
        flags={key: key in (flags or []) for key in FLAG_KEYS},
        milestones=plan_milestones,
        participants=plan_participants,
    )  # fmt: skip


def _submit(user: User, saved_id: int, name: str, link: object) -> tuple[object, int]:
    """Submit the saved draft in a transaction of its own: refused, the draft stays saved."""
    try:
        with db_session() as session:
            current = session.get(Application, saved_id)
            if current is not None and current.status not in (
                ApplicationStatus.DRAFT,
                ApplicationStatus.RETURNED,
            ):
                return dbc.Alert([_("已保存：{name}（该申报已提交，无需再次提交）").format(name=name), link],
                                 color="success"), saved_id  # fmt: skip
            advance_application(session, user, saved_id, "submit", now=now_utc(), tz=app_settings().timezone)
    except ValidationFailed as error:
        return problems_alert(error), saved_id
    except (TrackerError, PermissionDenied) as error:
        why = message_of(error)
        return dbc.Alert(_("已保存为草稿，但未能提交：{why}").format(why=why), color="warning"), saved_id
    return dbc.Alert([_("已保存并提交：{name}").format(name=name), link], color="success"), saved_id


@page_callback(
    Action.EDIT, Output(MESSAGE, "children"), Output(ID, "data"),
    Input(SAVE, "n_clicks"), Input(SUBMIT, "n_clicks"),
    State(ID, "data"), State(BATCH, "value"), State(CITY, "value"), State(CATEGORY, "value"),
    State(PRODUCT, "value"), State(DIRECT, "value"), State(FLAGS, "value"),
    State(MILESTONES, "rowData"), State(PARTICIPANTS, "rowData"),
    *[State(field_id(spec.key), "value") for spec in TEXT_FIELDS],
    alert=Output(MESSAGE, "children"), prevent_initial_call=True,
)  # fmt: skip
def save(call: Call, _save: Clicks, _submit_clicks: Clicks, application_id: LenientInt, batch: Raw, city_id: Raw,
         category: Raw, product: Text, direct: Texts, flags: Texts, milestones: Raw, participants: Raw,
         texts: FieldTexts) -> tuple[object, object]:  # fmt: skip
    if call.triggered not in (SAVE, SUBMIT):
        raise PreventUpdate
    user, data = call.user, _data(category, product, flags, milestones, participants, texts)
    with db_session() as session:  # its own transaction: a refused submit below keeps the draft
        application = (
            visible_row(session, user, Application, application_id) if application_id is not None else None
        )
        city = application.city if application else city_for(session, user, city_id)
        batch_row = batch_for(session, user, batch, city, local_today(call.settings.timezone))
        saved = save_application(session, user, data, city=city, batch=batch_row, application=application,
                                 direct_to_province=user.role in PROVINCIAL_ROLES and "direct" in (direct or []))  # fmt: skip
        saved_id, name = saved.id, saved.organisation.name
    link = dcc.Link(_("到申报与遴选查看"), href="/applications", className="alert-link ms-2")
    if call.triggered == SAVE:
        return dbc.Alert([_("已保存：{name}").format(name=name), link], color="success"), saved_id
    return _submit(user, saved_id, name, link)
