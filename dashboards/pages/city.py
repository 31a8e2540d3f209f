"""本市工作台 (/city): for a city bureau, what it owes this period (pilot by pilot, with 序时进度 and
actual progress), its drafts and returned updates, completeness, its rank among the province's cities,
overdue milestones and open flags. Provincial
users pick a city (?city=140400). Built per visit; it has no callbacks."""

from __future__ import annotations

from decimal import Decimal

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.widgets import STATUS_COLOURS, UPDATE_COLOURS, Cell, badge, simple_table
from tracker.access.permissions import Action, visible_cities
from tracker.core.clock import local_today
from tracker.core.i18n import N_, _, format_date, label_of, name_of
from tracker.core.messages import message_of
from tracker.core.periods import Period, reporting_period
from tracker.models import Flag, Role, User
from tracker.models.labels import label, rule_name
from tracker.monitoring.city_workspace import (
    Due,
    Standing,
    city_open_flags,
    city_overdue_milestones,
    city_standing,
    dues,
    open_updates,
    workspace_city,
)
from tracker.monitoring.figures import as_of_text, completeness_label, reporting_text, timeliness_label
from tracker.progress.expected import thresholds_from
from tracker.progress.updates import STATUS_ZH

PATH = "/city"
NAME = N_("本市工作台")
ORDER = 1.5  # after the registry: a city bureau's everyday page
REQUIRED_ACTION = Action.VIEW
FLAGS_SHOWN = 20  # the rest are one click away on the flags page


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value).normalize():f}%"


def _pilot_link(pilot_id: int, name: str) -> Component:
    return dcc.Link(name, href=f"/pilot?id={pilot_id}")


def _city_choice(session: Session, user: User) -> Component:
    links = [dbc.Button(name_of(c, short=True), href=f"/city?city={c.code}", color="outline-primary", size="sm",
                        className="me-1 mb-1") for c in session.scalars(visible_cities(user))]  # fmt: skip
    return html.Div([html.P(_("请选择城市：")), html.Div(links, id="city-choice")])


def _due_rows(due: Due, writer: bool) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for row in due.rows:
        colour = UPDATE_COLOURS.get(row["update_status"] or "", "danger")  # not entered: red
        rows.append([
            _pilot_link(row["pilot_id"], row["pilot"]),
            badge(row["update"], colour),
            _("是") if row["late"] else "", _pct(row["expected"]), _pct(row["actual"]),
            f"{Decimal(row['gap']).normalize():f}",
            badge(row["status_zh"], STATUS_COLOURS[row["status"]]),
            row["return_reason"] or "",
            dcc.Link(_("填报"), href=f"/update-form?pilot={row['pilot_id']}&period={due.period.key}")
            if writer else "",
        ])  # fmt: skip
    return rows


def _summary(due: Due) -> Component:
    line = due.line
    facts = [
        (_("报告期"), label_of(due.period)), (_("截止日期"), format_date(due.due)),
        (_("填报窗口关闭"), format_date(due.open_until)),
        (_("应报"), str(line.expected)), (_("已报"), str(line.submitted)),
        (_("完整率"), completeness_label(line)), (_("及时率（按首次报送）"), timeliness_label(line)),
    ]  # fmt: skip
    return html.Div([
        dbc.Row([dbc.Col(dbc.Card(dbc.CardBody([html.Div(k, className="text-muted small"),
                                                html.Div(v, className="fw-bold")])), md=True)
                 for k, v in facts], className="g-2 mb-1", id="city-summary"),
        html.Div(reporting_text(line), className="small text-muted mb-3", id="city-due"),
    ])  # fmt: skip


def _rank(rank: int | None, of: int, own: object) -> str:
    """ "第2名 / 10个市"; 不适用 when the city has nothing to rank; 不排名 when a rank would say nothing
    (every city level, or fewer than two)."""
    if own is None:
        return _("不适用")
    return _("不排名（各市持平）") if rank is None else _("第{rank}名 / {of}个市").format(rank=rank, of=of)


def _standing(standing: Standing) -> Component:
    """The city's ranks among the province's cities, with the province-wide means beside its own."""
    facts = [
        (_("进度差距排名（差距越小越靠前）"), _rank(standing.gap_rank, standing.cities, standing.gap),
         _("本市差距 {own} 个百分点，全省平均 {province}").format(
             own=_number(standing.gap), province=_number(standing.province_gap))),
        (_("本期完整率排名"), _rank(standing.completeness_rank, standing.completeness_ranked, standing.completeness),
         _("本市 {own}，全省 {province}").format(
             own=_pct(standing.completeness), province=_pct(standing.province_completeness))),
    ]  # fmt: skip
    return dbc.Row([dbc.Col(dbc.Card(dbc.CardBody([html.Div(k, className="text-muted small"),
                                                   html.Div(v, className="fw-bold fs-5"),
                                                   html.Div(note, className="small text-muted")])), md=6)
                    for k, v, note in facts], className="g-2 mb-3", id="city-standing")  # fmt: skip


def _number(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value).normalize():f}"


def _flag_rows(flags: list[Flag]) -> list[list[Cell]]:
    colours = {"high": "danger", "medium": "warning", "low": "secondary"}
    return [[badge(label(f.severity), colours[f.severity.value]), rule_name(f.rule_id),
             dcc.Link(f.pilot.name, href=f"/pilot?id={f.pilot_id}") if f.pilot else _("碳标识声明"),
             message_of(f), label(f.status), dcc.Link(_("核查"), href=f"/flags?id={f.id}")]
            for f in flags]  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, city: str | None = None, **_query: str) -> Component:  # city: the address's ?city=
    settings = app_settings()
    today = local_today(settings.timezone)
    period: Period = reporting_period(today, settings.reporting)
    with db_session(read_only=True) as session:
        chosen = workspace_city(session, user, city)
        if chosen is None:
            return html.Div([html.H2(_(NAME), className="h4"), _city_choice(session, user)])
        due = dues(session, user, chosen, period, reporting=settings.reporting, on=today,
                   thresholds=thresholds_from(settings))  # fmt: skip
        drafts: list[list[Cell]] = [[_pilot_link(u.pilot_id, u.pilot.name), label_of(Period(u.period_start, u.period_end)),
                   _(STATUS_ZH[u.status]), u.return_reason or ""] for u in open_updates(session, user, chosen)]  # fmt: skip
        overdue: list[list[Cell]] = [[_pilot_link(m.pilot_id, m.pilot.name), m.title, format_date(m.due_date),
                    _("{n}天").format(n=(today - m.due_date).days)]
                   for m in city_overdue_milestones(due.figures)]  # fmt: skip
        standing = city_standing(session, chosen, on=today, period=period, thresholds=thresholds_from(settings),
                                 reporting=settings.reporting)  # fmt: skip
        flags = city_open_flags(session, user, chosen)
        head = [
            _("试点"),
            _("本期填报"),
            _("逾期"),
            _("序时进度"),
            _("实际进度"),
            _("差距"),
            _("进度状态"),
            _("退回理由"),
        ]
        return html.Div([
            html.H2(f"{name_of(chosen)} · {_(NAME)}", className="h4", id="city-title"),
            html.P(as_of_text(due.figures), className="small fw-semibold mb-1", id="city-as-of"),
            html.P(_("序时进度与实际进度与概览、试点详情页、领导摘要、API 一致。"), className="text-muted small"),
            _summary(due),
            _standing(standing),
            html.H3(_("本期应报试点"), className="h6"), simple_table(head, _due_rows(due, user.role is Role.CITY_STAFF), "city-dues"),
            dbc.Button(_("去填报（调度填报）"), href="/updates", color="primary", size="sm", className="mb-3")
            if user.role is Role.CITY_STAFF else None,
            html.H3(_("草稿与被退回的更新"), className="h6"),
            simple_table([_("试点"), _("报告期"), _("状态"), _("退回理由")], drafts, "city-open-updates"),
            html.H3(_("逾期未完成的阶段性目标"), className="h6 mt-3"),
            simple_table([_("试点"), _("阶段性目标"), _("到期日"), _("已逾期")], overdue, "city-overdue"),
            html.H3([_("本市未办结的风险线索"), " ",
                     dcc.Link(_("（共{n}条，去核查）").format(n=len(flags)), href=f"/flags?city={chosen.code}")],
                    className="h6 mt-3"),
            simple_table([_("严重程度"), _("规则"), _("对象"), _("说明"), _("状态"), ""], _flag_rows(flags[:FLAGS_SHOWN]),
                         "city-flags"),
        ])  # fmt: skip
