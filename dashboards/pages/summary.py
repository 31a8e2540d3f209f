"""领导摘要 (/summary): one page leadership can read in a minute and print.

Big numbers, four charts (progress status, the cities' gaps, reporting by city, open flags), the
latest bulletin's highlights and the pilots needing attention, for the current reporting period
and the reader's scope (the province, or a city-bound leader's or city user's city). Read-only.
The same figures download as PDF (Chinese fonts embedded) and Excel from /summary/download.<ext>,
built by the bulletin builders in reports/ from tracker.monitoring.bulletin_data; downloads are audited."""

from __future__ import annotations

from decimal import Decimal

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, dcc, html
from dash.development.base_component import Component
from flask import Flask, Response, abort
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout, request_user_or_none
from dashboards.cache import cached, data_version, scope_key
from dashboards.callbacks import page_clientside
from dashboards.downloads import attachment
from dashboards.pages.bulletins import bulletin_link
from dashboards.pages.home import FONT, GRAPH_CONFIG
from reports.bulletin import bulletin_xlsx, summary_sentence
from reports.bulletin_pdf import leadership_pdf
from tracker.access.permissions import Action, city_scope, visible_bulletins
from tracker.audit import trail as audit
from tracker.catalogue import place_name
from tracker.core.clock import local_today
from tracker.core.errors import TrackerError
from tracker.core.i18n import DEFAULT_LOCALE, N_, _, english, format_date, format_number, label_of, use_locale
from tracker.core.periods import parse_period, reporting_period
from tracker.models import Bulletin, City, Severity, User
from tracker.models.labels import label
from tracker.monitoring.bulletin_data import BulletinData, Cut, CutKind, bulletin_data
from tracker.monitoring.figures import Change, as_of_text, completeness_label, reporting_text
from tracker.monitoring.palette import STATUS_HEX, gap_colour
from tracker.progress.expected import STATUS_LABELS, ProgressStatus

PATH = "/summary"
NAME = N_("领导摘要")
ORDER = 0.5
REQUIRED_ACTION = Action.VIEW
SEVERITY_COLOURS = {Severity.HIGH: "#dc3545", Severity.MEDIUM: "#fd7e14", Severity.LOW: "#0dcaf0"}
KINDS = {"pdf": ("application/pdf", leadership_pdf), "xlsx": (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", bulletin_xlsx)}  # fmt: skip


def summary_data(session: Session, user: User) -> BulletinData:
    """Today's figures of the current reporting period, for the user's scope."""
    settings = app_settings()
    today = local_today(settings.timezone)
    scope = city_scope(user)
    city = session.get(City, scope) if scope is not None else None
    cut = Cut.city(city.code) if city is not None else Cut.leadership()
    return bulletin_data(session, period=reporting_period(today, settings.reporting), cut=cut, on=today, number=0,
                         issued_on=today, settings=settings)  # fmt: skip


def _big(title: str, value: int | str, colour: str = "dark", change: Change | None = None) -> Component:
    return dbc.Col(html.Div([html.Div(title, className="text-muted small"),
                             html.Div(format_number(value) if isinstance(value, int) else str(value), className=f"display-6 fw-bold text-{colour}"),
                             html.Div(change.text(), className="small text-muted") if change else None],
                            className="border rounded p-2 h-100"), xs=6, md=3, xl=True)  # fmt: skip


def _pct(value: Decimal | float | None) -> str:
    return "—" if value is None else f"{float(value):.1f}%"


def _figure(fig: go.Figure, **extra: object) -> go.Figure:
    fig.update_layout(**({"font": FONT, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "height": 260,
                          "paper_bgcolor": "white", "plot_bgcolor": "white", "showlegend": False} | extra))  # fmt: skip
    fig.update_xaxes(automargin=True)  # margins grow to fit the tick labels: nothing clipped
    fig.update_yaxes(automargin=True)
    return fig


def charts(data: BulletinData) -> list[go.Figure]:
    h = data.headline
    statuses = [s for s in ProgressStatus if h.by_progress.get(s)]
    status = go.Figure(go.Pie(labels=[_(STATUS_LABELS[s]) for s in statuses], values=[h.by_progress[s] for s in statuses],
                              marker_colors=[STATUS_HEX[s] for s in statuses], hole=0.5, sort=False,
                              textinfo="label+value"))  # fmt: skip
    cities = sorted((c for c in data.cities if c.gap is not None), key=lambda c: c.gap or 0)
    gaps = go.Figure(go.Bar(x=[float(c.gap or 0) for c in cities], y=[place_name(c.city) for c in cities], orientation="h",
                            marker_color=[gap_colour(c.gap, data.figures.thresholds) for c in cities]))  # fmt: skip
    reporting = go.Figure(go.Bar(x=[place_name(c.city) for c in data.cities],
                                 y=[float(c.completeness) if c.completeness is not None else None for c in data.cities],
                                 marker_color="#0d6efd"))  # fmt: skip
    flags = go.Figure(go.Bar(x=[label(s) for s in Severity], y=[h.open_flags.get(s, 0) for s in Severity],
                             marker_color=[SEVERITY_COLOURS[s] for s in Severity]))  # fmt: skip
    return [_figure(status, title=_("进度状态")), _figure(gaps, title=_("各市进度差距（百分点）")),
            _figure(reporting, title=_("各市报送完整率（%）"), yaxis={"range": [0, 100]}),
            _figure(flags, title=_("未办结风险线索"))]  # fmt: skip


def _latest_bulletin(session: Session, user: User) -> Component:
    latest = session.scalars(visible_bulletins(user).order_by(Bulletin.issued_on.desc(), Bulletin.id)).first()
    if latest is None:
        return html.P(_("暂无调度通报。"), className="text-muted small")
    try:
        end = format_date(parse_period(latest.period).end)
    except TrackerError:  # a period key this version cannot read: say nothing of its day
        end = ""
    return html.Div([
        html.Div(bulletin_link(latest)),
        html.P(_("（通报的数字按其报告期统计，进度截至{day}，与上方今日数字不同）").format(day=end) if end else "",
               className="small text-muted mb-1", id="sum-bulletin-as-of"),
        html.P(latest.summary, className="small mb-0", id="sum-bulletin-text"),
    ])  # fmt: skip


def _title(data: BulletinData) -> str:
    """The page's title in the reader's language (the downloads keep the Chinese document's own)."""
    city = data.scope if data.cut.kind is CutKind.CITY else ""
    place = (" " if english() else "").join(place_name(name) for name in (data.province, city) if name)
    return _("{place}产品碳足迹管理试点进展摘要").format(place=place)


def _subtitle(data: BulletinData) -> str:
    return _("报告期：{period}　进度统计截至：{on}　印发日期：{issued}").format(
        period=label_of(data.period), on=format_date(data.on), issued=format_date(data.issued_on))  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    today = local_today(app_settings().timezone)
    with db_session(read_only=True) as session:
        # Unchanged data, day, scope and language: the same page (dashboards/cache.py), as the overview.
        key = ("summary", data_version(session), today, scope_key(user))
        return cached(key, lambda: _page(session, user))


def _page(session: Session, user: User) -> Component:
    data = summary_data(session, user)
    latest = _latest_bulletin(session, user)
    h = data.headline
    attention = [html.Tr([html.Td(dcc.Link(p.name, href=f"/pilot?id={p.pilot_id}")), html.Td(place_name(p.city)),
                          html.Td(f"{p.expected}%"), html.Td(f"{p.actual}%"), html.Td(f"{p.gap}"),
                          html.Td(_(p.status_zh))]) for p in data.attention]  # fmt: skip
    figures = charts(data)
    page = html.Div([
        html.Div([
            html.H2(_title(data), className="h4 d-inline-block me-3"),
            html.A(_("下载PDF"), href="/summary/download.pdf", download="", className="btn btn-sm btn-outline-primary me-2 no-print",
                   id="sum-pdf"),
            html.A(_("下载Excel"), href="/summary/download.xlsx", download="", className="btn btn-sm btn-outline-success me-2 no-print",
                   id="sum-xlsx"),
            html.Button(_("打印"), id="sum-print", className="btn btn-sm btn-outline-secondary no-print"),
        ]),
        html.P(_subtitle(data), className="text-muted small mb-1"),
        html.P([as_of_text(data.figures), _("；报送："), reporting_text(h.reporting)], className="small fw-semibold",
               id="sum-as-of"),
        html.P(summary_sentence(data), className="lead fs-6", id="sum-sentence"),
        dbc.Row([
            _big(_("纳入调度试点"), h.pilots, "primary", data.changes.get("pilots")),
            _big(_("进度正常"), h.by_progress.get(ProgressStatus.ON_TRACK, 0), "success", data.changes.get("on_track")),
            _big(_("滞后（含严重）"), h.behind, "warning", data.changes.get("behind")),
            _big(_("其中严重滞后"), h.by_progress.get(ProgressStatus.SERIOUSLY_BEHIND, 0), "danger",
                 data.changes.get("serious")),
            _big(_("全部完成/未开始"), f"{h.by_progress[ProgressStatus.FINISHED]}/{h.by_progress[ProgressStatus.NOT_STARTED]}"),
            _big(_("报送完整率"), completeness_label(h.reporting), change=data.changes.get("completeness")),
            _big(_("逾期里程碑"), h.overdue_milestones, "danger" if h.overdue_milestones else "dark",
                 data.changes.get("overdue")),
            _big(_("待核查风险线索"), h.open_flags_total, "danger" if h.open_flags_total else "dark"),
        ], className="g-2 mb-3", id="sum-figures"),
        dbc.Row([dbc.Col(dcc.Graph(figure=fig, config=GRAPH_CONFIG), md=6, xl=3) for fig in figures],
                className="g-2 mb-3"),
        dbc.Row([
            dbc.Col([html.H3(_("需重点关注的试点"), className="h6"),
                     dbc.Table([html.Thead(html.Tr([html.Th(c) for c in (_("试点"), _("城市"), _("序时进度"), _("实际进度"),
                                                                          _("差距"), _("状态"))])),
                                html.Tbody(attention or [html.Tr(html.Td(_("没有滞后的试点"), colSpan=6))])],
                               size="sm", striped=True, id="sum-attention")], lg=7),
            dbc.Col([html.H3(_("最新调度通报要点"), className="h6"), latest], lg=5),
        ]),
    ], className="summary-page")  # fmt: skip
    return page


def _download(kind: str) -> Response:
    user = request_user_or_none(Action.EXPORT)
    if user is None or kind not in KINDS:
        abort(404)
    content_type, build = KINDS[kind]
    with db_session() as session, use_locale(DEFAULT_LOCALE):  # an official document: in Chinese
        data = summary_data(session, user)
        content = build(data)
        audit.record(
            session, "export", "summary", summary=f"领导摘要 {kind.upper()}", city_id=city_scope(user)
        )
    name = f"{data.title}_{data.on.isoformat()}.{kind}"
    return attachment(content, content_type, name)


def install_summary_downloads(server: Flask) -> None:
    server.add_url_rule("/summary/download.<kind>", "summary_download", _download)


# No server callbacks: the page is read per visit. Printing is the browser's own.
page_clientside(
    "function(n) { if (n) { window.print(); } return window.dash_clientside.no_update; }",
    Output("sum-print", "title"),
    Input("sum-print", "n_clicks"),
    prevent_initial_call=True,
)
