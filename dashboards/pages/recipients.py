"""发送对象 (/recipients): who the scheduled jobs send bulletins, reminders and flag notices to.

The provincial administrator manages every recipient (provincial office, leadership, each city); a
city bureau's staff manage their own city's. Each is an e-mail address or a WeCom/DingTalk group
robot (the summary text only). Select a row to change it; a recipient is switched off, never
deleted, and every change is audited (tracker.delivery.recipients)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import joinedload

from dashboards.access import db_session, guarded_layout, request_user
from dashboards.grid import data_grid
from dashboards.widgets import ROW_ID, alert, has_selection, selected_id, with_row_ids
from tracker.access.permissions import Action, PermissionDenied, may, visible_cities, visible_recipients
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, message_of
from tracker.delivery.recipients import RecipientEntry, save_recipient
from tracker.models import Audience, Channel, City, Recipient, User

PATH = "/recipients"
NAME = N_("发送对象")
ORDER = 8.7
REQUIRED_ACTION = Action.MANAGE_RECIPIENTS

GRID, MESSAGE, REFRESH = "rcp-grid", "rcp-message", "rcp-refresh"
AUDIENCE, CITY, CHANNEL, ADDRESS, LABEL, ACTIVE = (
    "rcp-audience",
    "rcp-city",
    "rcp-channel",
    "rcp-address",
    "rcp-name",
    "rcp-active",
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


def recipient_rows(session: Any, user: User) -> list[dict[str, Any]]:
    stmt = visible_recipients(user).options(joinedload(Recipient.city))
    rows = session.scalars(stmt.order_by(Recipient.audience, Recipient.city_id, Recipient.id)).all()
    return with_row_ids([{
        "id": r.id, "audience": _(AUDIENCE_SHORT[r.audience]), "city": r.city.short_zh if r.city else "",
        "channel": _(CHANNEL_ZH[r.channel]), "address": masked(r.address, r.channel), "name": r.name,
        "active": _("启用") if r.active else _("停用"),
    } for r in rows])  # fmt: skip


def _audiences(user: User) -> list[Audience]:
    return list(Audience) if may(user, Action.MANAGE_ALL_RECIPIENTS) else [Audience.CITY]


def _form(session: Any, user: User) -> Any:
    cities = session.scalars(visible_cities(user)).all()
    own_city = user.city_id if not may(user, Action.MANAGE_ALL_RECIPIENTS) else None

    def field(caption: str, component_id: str, control: Any, width: int) -> Any:
        return dbc.Col([dbc.Label(caption, html_for=component_id, className="small mb-0"), control], md=width)

    return html.Div([
        dbc.Row([
            field(_("类型"), AUDIENCE, dcc.Dropdown(
                id=AUDIENCE, options=[{"label": _(AUDIENCE_ZH[a]), "value": a.value} for a in _audiences(user)],
                value=Audience.CITY.value, clearable=False), 3),
            field(_("城市"), CITY, dcc.Dropdown(
                id=CITY, options=[{"label": c.short_zh, "value": c.id} for c in cities], value=own_city,
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
                placeholder=_("name@example.gov.cn 或 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…")), 8),
            dbc.Col(dbc.Checklist(id=ACTIVE, options=[{"label": _("启用"), "value": "on"}], value=["on"],
                                  switch=True, className="mt-4"), md=1),
            dbc.Col([dbc.Button(_("新增"), id=ADD, color="primary", className="mt-4 me-2"),
                     dbc.Button(_("保存修改"), id=SAVE, color="secondary", className="mt-4")], md=3),
        ], className="g-2 mb-2"),
    ])  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: Any) -> Any:
    with db_session() as session:
        form = _form(session, user)
        rows = recipient_rows(session, user)
    scope = _("全省所有发送对象") if may(user, Action.MANAGE_ALL_RECIPIENTS) else _("本市的发送对象")
    columns = [{"field": "audience", "headerName": _("类型"), "width": 90},
               {"field": "city", "headerName": _("城市"), "width": 90},
               {"field": "channel", "headerName": _("方式"), "width": 190},
               {"field": "name", "headerName": _("名称"), "width": 200},
               {"field": "address", "headerName": _("地址"), "flex": 1, "minWidth": 260},
               {"field": "active", "headerName": _("状态"), "width": 90}]  # fmt: skip
    grid = data_grid(GRID, columns, rows, height="50vh")
    grid.getRowId = ROW_ID
    grid.dashGridOptions = {**grid.dashGridOptions,
                            "rowSelection": {"mode": "singleRow", "enableClickSelection": True}}  # fmt: skip
    return html.Div([
        dcc.Store(id=REFRESH, data=0),
        html.H2(_("发送对象"), className="h4"),
        html.P(_("管理{scope}：调度通报、工作日提醒和新风险线索按类型和城市发送。选中一行可修改；"
                 "不再使用的对象请停用（保留记录），所有修改记入审计日志。").format(scope=scope),
               className="text-muted small"),
        form,
        html.Div(id=MESSAGE),
        grid,
    ])  # fmt: skip


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _entry(session: Any, audience: Any, city_id: Any, channel: Any, address: Any, name: Any,
           active: Any) -> RecipientEntry:  # fmt: skip
    """The form as an entry; a value no form offers (a hand-made POST) is refused."""
    try:
        audience_value, channel_value = Audience(audience), Channel(channel)
    except ValueError:
        raise TrackerError("类型或方式不正确", "Unknown audience or channel") from None
    city = None
    if city_id is not None:
        city = session.get(City, city_id) if type(city_id) is int else None
        if city is None:
            raise TrackerError("没有这个城市", "No such city")
    return RecipientEntry(audience_value, city, channel_value, _text(address), _text(name),
                          isinstance(active, list) and "on" in active)  # fmt: skip


def register_callbacks(app: Dash) -> None:
    @app.callback(Output(GRID, "rowData"), Input(REFRESH, "data"), prevent_initial_call=True)
    def load(_refresh: Any) -> Any:
        user = request_user(REQUIRED_ACTION)
        with db_session() as session:
            return recipient_rows(session, user)

    @app.callback(
        Output(AUDIENCE, "value"), Output(CITY, "value"), Output(CHANNEL, "value"), Output(ADDRESS, "value"),
        Output(LABEL, "value"), Output(ACTIVE, "value"),
        Input(GRID, "selectedRows"), prevent_initial_call=True,
    )  # fmt: skip
    def show(rows: Any) -> tuple[Any, ...]:
        user = request_user(REQUIRED_ACTION)
        if not has_selection(rows):
            raise PreventUpdate
        with db_session() as session:
            row = session.scalars(visible_recipients(user).where(Recipient.id == selected_id(rows))).first()
            if row is None:  # another city's id: nothing, not even whether it exists
                raise PreventUpdate
            return (row.audience.value, row.city_id, row.channel.value, row.address, row.name,
                    ["on"] if row.active else [])  # fmt: skip

    @app.callback(
        Output(MESSAGE, "children"), Output(REFRESH, "data"),
        Input(ADD, "n_clicks"), Input(SAVE, "n_clicks"),
        State(GRID, "selectedRows"), State(AUDIENCE, "value"), State(CITY, "value"), State(CHANNEL, "value"),
        State(ADDRESS, "value"), State(LABEL, "value"), State(ACTIVE, "value"), State(REFRESH, "data"),
        prevent_initial_call=True,
    )  # fmt: skip
    def save(_add: Any, _save: Any, rows: Any, audience: Any, city_id: Any, channel: Any, address: Any, name: Any,
             active: Any, refresh: Any) -> tuple[Any, Any]:  # fmt: skip
        user = request_user(REQUIRED_ACTION)
        if ctx.triggered_id not in (ADD, SAVE):
            raise PreventUpdate
        recipient_id = None
        if ctx.triggered_id == SAVE:
            if not has_selection(rows):
                return alert(_("请先在列表中选择要修改的发送对象"), "warning"), no_update
            recipient_id = selected_id(rows)
        if Audience.CITY.value != audience:
            city_id = None  # the form keeps the city shown; a provincial or leadership recipient has none
        try:
            with db_session() as session:
                if (
                    recipient_id is not None
                    and session.scalars(visible_recipients(user).where(Recipient.id == recipient_id)).first()
                    is None
                ):
                    raise TrackerError("没有这个发送对象", "No such recipient")
                saved = save_recipient(session, user, _entry(session, audience, city_id, channel, address, name,
                                                             active), recipient_id)  # fmt: skip
                done = _("已保存：{name}（{address}）").format(name=saved.name, address=masked(saved.address,
                                                                                          saved.channel))  # fmt: skip
        except (TrackerError, PermissionDenied) as error:
            return alert(message_of(error), "danger"), no_update
        return alert(done), (refresh or 0) + 1
