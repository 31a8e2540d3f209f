"""发送对象 (/recipients): who the scheduled jobs send bulletins, reminders and flag notices to.

The provincial administrator manages every recipient (provincial office, leadership, each city); a
city bureau's staff manage their own city's. Each is an e-mail address or a WeCom/DingTalk group
robot (the summary text only). Select a row to change it; a recipient is switched off, never
deleted, and every change is audited (tracker.delivery.recipients)."""

from __future__ import annotations

from urllib.parse import urlsplit

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session, joinedload

from dashboards.access import db_session, guarded_layout
from dashboards.callbacks import (
    Call,
    Clicks,
    Counter,
    OptionalInt,
    Raw,
    Rows,
    Text,
    Texts,
    chosen_row,
    page_callback,
)
from dashboards.grid import data_grid
from dashboards.widgets import ROW_ID, alert, has_selection, selected_id, with_row_ids
from tracker.access.permissions import Action, may, visible_cities, visible_recipients
from tracker.core.errors import TrackerError
from tracker.core.i18n import DEFAULT_LOCALE, LOCALES, N_, _, name_of
from tracker.core.json_types import JsonRow
from tracker.core.messages import Message
from tracker.delivery.recipients import RecipientEntry, save_recipient
from tracker.models import Audience, Channel, City, Recipient, User

PATH = "/recipients"
NAME = N_("发送对象")
ORDER = 8.7
REQUIRED_ACTION = Action.MANAGE_RECIPIENTS

GRID, MESSAGE, REFRESH = "rcp-grid", "rcp-message", "rcp-refresh"
AUDIENCE, CITY, CHANNEL, ADDRESS, LABEL, ACTIVE, LANGUAGE = (
    "rcp-audience",
    "rcp-city",
    "rcp-channel",
    "rcp-address",
    "rcp-name",
    "rcp-active",
    "rcp-locale",
)
ADD, SAVE = "rcp-add", "rcp-save"
AUDIENCE_ZH = {Audience.PROVINCE: N_("省级（全省通报、全部新线索）"), Audience.CITY: N_("市级（本市通报、提醒、本市新线索）"),
               Audience.LEADERSHIP: N_("领导（一页摘要）")}  # fmt: skip
AUDIENCE_SHORT = {Audience.PROVINCE: N_("省级"), Audience.CITY: N_("市级"), Audience.LEADERSHIP: N_("领导")}
CHANNEL_ZH = {Channel.EMAIL: N_("电子邮件"), Channel.WEBHOOK: N_("群机器人（企业微信/钉钉）")}


def masked(address: str, channel: Channel) -> str:
    """A webhook's key is its password: the list shows where it goes, not the key."""
    if channel is not Channel.WEBHOOK:
        return address
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")


def recipient_rows(session: Session, user: User) -> list[JsonRow]:
    stmt = visible_recipients(user).options(joinedload(Recipient.city))
    rows = session.scalars(stmt.order_by(Recipient.audience, Recipient.city_id, Recipient.id)).all()
    return with_row_ids([{
        "id": r.id, "audience": _(AUDIENCE_SHORT[r.audience]), "city": name_of(r.city, short=True) if r.city else "",
        "channel": _(CHANNEL_ZH[r.channel]), "address": masked(r.address, r.channel), "name": r.name,
        "active": _("启用") if r.active else _("停用"), "locale": LOCALES.get(r.locale, r.locale),
    } for r in rows])  # fmt: skip


def _audiences(user: User) -> list[Audience]:
    return list(Audience) if may(user, Action.MANAGE_ALL_RECIPIENTS) else [Audience.CITY]


def _form(session: Session, user: User) -> Component:
    cities = session.scalars(visible_cities(user)).all()
    own_city = user.city_id if not may(user, Action.MANAGE_ALL_RECIPIENTS) else None

    def field(caption: str, component_id: str, control: Component, width: int) -> Component:
        return dbc.Col([dbc.Label(caption, html_for=component_id, className="small mb-0"), control], md=width)

    return html.Div([
        dbc.Row([
            field(_("类型"), AUDIENCE, dcc.Dropdown(
                id=AUDIENCE, options=[{"label": _(AUDIENCE_ZH[a]), "value": a.value} for a in _audiences(user)],
                value=Audience.CITY.value, clearable=False), 3),
            field(_("城市"), CITY, dcc.Dropdown(
                id=CITY, options=[{"label": name_of(c, short=True), "value": c.id} for c in cities], value=own_city,
                placeholder=_("市级对象须选择城市"), disabled=own_city is not None), 2),
            field(_("方式"), CHANNEL, dcc.Dropdown(
                id=CHANNEL, options=[{"label": _(CHANNEL_ZH[c]), "value": c.value} for c in Channel],
                value=Channel.EMAIL.value, clearable=False), 3),
            field(_("名称"), LABEL, dbc.Input(id=LABEL, type="text", maxLength=100,
                                              placeholder=_("如 应对气候变化处、长治市局工作群")), 4),
        ], className="g-2 mb-2"),
        dbc.Row([
            field(_("地址（电子邮箱或群机器人网址）"), ADDRESS, dbc.Input(
                id=ADDRESS, type="text", maxLength=500,
                placeholder=_("name@example.gov.cn 或 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…")), 6),
            field(_("消息语言"), LANGUAGE, dcc.Dropdown(
                id=LANGUAGE, options=[{"label": name, "value": code} for code, name in LOCALES.items()],
                value=DEFAULT_LOCALE, clearable=False), 2),
            dbc.Col(dbc.Checklist(id=ACTIVE, options=[{"label": _("启用"), "value": "on"}], value=["on"],
                                  switch=True, className="mt-4"), md=1),
            dbc.Col([dbc.Button(_("新增"), id=ADD, color="primary", className="mt-4 me-2"),
                     dbc.Button(_("保存修改"), id=SAVE, color="secondary", className="mt-4")], md=3),
        ], className="g-2 mb-2"),
    ])  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    with db_session() as session:
        form = _form(session, user)
        rows = recipient_rows(session, user)
    scope = _("全省所有发送对象") if may(user, Action.MANAGE_ALL_RECIPIENTS) else _("本市的发送对象")
    columns = [{"field": "audience", "headerName": _("类型"), "width": 90},
               {"field": "city", "headerName": _("城市"), "width": 90},
               {"field": "channel", "headerName": _("方式"), "width": 190},
               {"field": "name", "headerName": _("名称"), "width": 200},
               {"field": "address", "headerName": _("地址"), "flex": 1, "minWidth": 260},
               {"field": "locale", "headerName": _("消息语言"), "width": 100},
               {"field": "active", "headerName": _("状态"), "width": 90}]  # fmt: skip
    grid = data_grid(GRID, columns, rows, height="50vh")
    grid.getRowId = ROW_ID
    grid.dashGridOptions = {**grid.dashGridOptions,
                            "rowSelection": {"mode": "singleRow", "enableClickSelection": True}}  # fmt: skip
    return html.Div([
        dcc.Store(id=REFRESH, data=0),
        html.H2(_("发送对象"), className="h4"),
        html.P(_("管理{scope}：调度通报、工作日提醒和新风险线索按类型和城市发送。选中一行可修改；"
                 "不再使用的对象请停用（保留记录），所有修改记入审计日志。消息按所选语言撰写，所附通报文件为中文正式文本。").format(scope=scope),
               className="text-muted small"),
        form,
        html.Div(id=MESSAGE),
        grid,
    ])  # fmt: skip


def _entry(session: Session, audience: str | None, city_id: int | None, channel: str | None, address: str | None,
           name: str | None, active: list[str] | None, locale: str | None) -> RecipientEntry:  # fmt: skip
    """The form as an entry; a value no form offers (a hand-made POST) is refused."""
    try:
        audience_value, channel_value = Audience(audience or ""), Channel(channel or "")
    except ValueError:
        raise TrackerError(Message("类型或方式不正确")) from None
    city = None
    if city_id is not None:
        city = session.get(City, city_id)
        if city is None:
            raise TrackerError(Message("没有这个城市"))
    return RecipientEntry(audience_value, city, channel_value, address or "", name or "", "on" in (active or []),
                          locale or DEFAULT_LOCALE)  # fmt: skip


@page_callback(REQUIRED_ACTION, Output(GRID, "rowData"), Input(REFRESH, "data"), prevent_initial_call=True)
def load(call: Call, _refresh: Raw) -> list[dict[str, object]]:
    return recipient_rows(call.session, call.user)


@page_callback(
    REQUIRED_ACTION, Output(AUDIENCE, "value"), Output(CITY, "value"), Output(CHANNEL, "value"),
    Output(ADDRESS, "value"), Output(LABEL, "value"), Output(ACTIVE, "value"), Output(LANGUAGE, "value"),
    Input(GRID, "selectedRows"), prevent_initial_call=True,
)  # fmt: skip
def show(call: Call, rows: Rows) -> tuple[object, ...]:
    if not has_selection(rows):
        raise PreventUpdate
    row = call.session.scalars(visible_recipients(call.user).where(Recipient.id == selected_id(rows))).first()
    if row is None:  # another city's id: nothing, not even whether it exists
        raise PreventUpdate
    return (
        row.audience.value,
        row.city_id,
        row.channel.value,
        row.address,
        row.name,
        ["on"] if row.active else [],
        row.locale,
    )


@page_callback(
    REQUIRED_ACTION, Output(MESSAGE, "children"), Output(REFRESH, "data"),
    Input(ADD, "n_clicks"), Input(SAVE, "n_clicks"),
    State(GRID, "selectedRows"), State(AUDIENCE, "value"), State(CITY, "value"), State(CHANNEL, "value"),
    State(ADDRESS, "value"), State(LABEL, "value"), State(ACTIVE, "value"), State(LANGUAGE, "value"),
    State(REFRESH, "data"),
    alert=Output(MESSAGE, "children"), prevent_initial_call=True,
)  # fmt: skip
def save(call: Call, _add: Clicks, _save: Clicks, rows: Rows, audience: Text, city_id: OptionalInt,
         channel: Text, address: Text, name: Text, active: Texts, locale: Text, refresh: Counter) -> tuple[object, int]:  # fmt: skip
    if call.triggered not in (ADD, SAVE):
        raise PreventUpdate
    recipient_id = chosen_row(rows, _("请先在列表中选择要修改的发送对象")) if call.triggered == SAVE else None
    if Audience.CITY.value != audience:
        city_id = None  # the form keeps the city shown; a provincial or leadership recipient has none
    visible = visible_recipients(call.user).where(Recipient.id == recipient_id)
    if recipient_id is not None and call.session.scalars(visible).first() is None:
        raise TrackerError(Message("没有这个发送对象"))
    entry = _entry(call.session, audience, city_id, channel, address, name, active, locale)
    saved = save_recipient(call.session, call.user, entry, recipient_id)
    done = _("已保存：{name}（{address}）").format(
        name=saved.name, address=masked(saved.address, saved.channel)
    )
    return alert(done), refresh + 1
