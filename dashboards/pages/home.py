"""概览 (/): the monitoring overview for the user's scope (the province, or a city user's city).

Headline figures (pilots by status; on track, behind, seriously behind; this period's reporting
completeness and timeliness; open flags by severity), the cities ranked by their gap between
expected and actual progress, progress by product and by category, every pilot's expected against
actual progress, milestones due in the next 30 days and the latest bulletins. Under the cards,
需关注的试点 lists the pilots needing attention, most urgent first (the reasons and their order are
tracker.monitoring.attention's, read from the figures the cards count). Filters (batch,
category, product, city, status) come from the address, and the page offers the address of the
current view to share. Each figure links to the list behind it; each pilot to its page.
Figures come from tracker.monitoring.overview, which reads the progress and completeness functions."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html
from dash.development.base_component import Component

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.cache import cached, data_version, scope_key
from dashboards.callbacks import RAW, Call, many, page_callback, page_clientside
from dashboards.filters import PARAMETERS, chosen_in_query, query_string
from dashboards.grid import data_grid
from dashboards.pages.bulletins import bulletin_link
from dashboards.widgets import dropdown_labels
from tracker.access.permissions import Action, visible_cities
from tracker.core.clock import local_today
from tracker.core.i18n import N_, _, format_date, format_number, label_of, name_of, wide_space
from tracker.core.json_types import JsonRow, Option
from tracker.core.messages import Joined, Label, Message
from tracker.core.periods import reporting_period
from tracker.models import City, Severity, User
from tracker.models.labels import label
from tracker.monitoring.attention import AttentionRow, needing_attention
from tracker.monitoring.figures import (
    Change,
    GroupFigures,
    as_of_text,
    completeness_label,
    reporting_text,
    timeliness_label,
)
from tracker.monitoring.overview import Overview, overview
from tracker.monitoring.palette import STATUS_HEX, gap_colour
from tracker.monitoring.registry import RegistryFilters, filter_options
from tracker.progress.expected import STATUS_LABELS, ProgressStatus, Rollup, Thresholds, thresholds_from

PATH = "/"
NAME = N_("概览")
ORDER = 0
REQUIRED_ACTION = Action.VIEW

CARDS, CITIES, PRODUCTS, SCATTER, UPCOMING, BULLETINS, SHARE, GO = (
    "ov-cards", "ov-cities", "ov-products", "ov-scatter", "ov-upcoming", "ov-bulletins", "ov-share", "ov-go")  # fmt: skip
MAP, CATEGORIES, ATTENTION = "ov-map", "ov-categories", "ov-attention"
# City seats (市政府驻地) by GB/T 2260 code, longitude and latitude in degrees: the map is drawn from
# this file alone (no tiles, no boundaries fetched from anywhere). A city not listed is left off it.
SEATS_FILE = Path(__file__).resolve().parent.parent / "city_seats.csv"
# The 11 cities' outlines (GeoJSON, shipped in the package: no map tiles or boundaries fetched).
OUTLINES_FILE = Path(__file__).resolve().parent.parent / "shanxi_cities.json"
FILTERS = {"batch_numbers": ("ov-batch", N_("批次"), "batches"), "categories": ("ov-category", N_("类别"), "categories"),
           "product_ids": ("ov-product", N_("产品"), "products"), "city_ids": ("ov-city", N_("城市"), "cities"),
           "statuses": ("ov-status", N_("试点状态"), "statuses")}  # fmt: skip
PROGRESS_COLOURS = STATUS_HEX  # one palette (tracker.monitoring.palette)
GRAPH_CONFIG: dcc.Graph.Config = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
    "responsive": True,
}
FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif", "size": 12}


def _graph(graph_id: str, figure: object) -> Component:
    return dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG, style={"height": "360px"})


def _filter_row(
    options: dict[str, list[Option]], chosen: dict[str, list[int | str]], share: str
) -> Component:
    cols = [dbc.Col([dbc.Label(_(caption), html_for=cid, className="small mb-0"),
                     dcc.Dropdown(id=cid, options=options[key], value=chosen.get(field), multi=True,
                                  placeholder=_("全部"), labels=dropdown_labels(), maxHeight=320)], md=2)
            for field, (cid, caption, key) in FILTERS.items()]  # fmt: skip
    cols.append(dbc.Col(html.A(_("本视图链接（可分享）"), id=SHARE, href=share, className="small d-inline-block mt-4"),
                        md=2))  # fmt: skip
    return dbc.Row(cols, className="g-2 mb-3")


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **query: str) -> Component:
    with db_session(read_only=True) as session:
        options = filter_options(session, user)
    chosen = chosen_in_query(query, options)
    (cards_now, attention_now, cities_now, map_now, products_now, categories_now, scatter_now, upcoming_now,
     bulletins_now, share_now) = _contents(user, [chosen.get(key) for key in FILTERS])  # fmt: skip
    return html.Div([
        dcc.Location(id=GO, refresh=True),
        html.H2(_("概览"), className="h4"),
        html.P(_("序时进度与最近一次已采纳的调度报送比较；尚未启动实施的试点不评估进度。点击图表或数字可查看明细。"),
               className="text-muted small mb-1"),
        _filter_row(options, chosen, share_now),
        html.Div(cards_now, id=CARDS),
        html.H3(_("需关注的试点"), className="h6"),
        html.P(_("严重滞后、有未办结的高风险线索、里程碑逾期、本期进展被退回或逾期报送的试点；原因越多、越严重越靠前，"
                 "再按与序时进度的差距排列。"), className="text-muted small mb-1"),
        data_grid(ATTENTION, [
            {"field": "pilot", "headerName": _("试点"), "flex": 2, "minWidth": 260, "cellRenderer": "PilotLink"},
            {"field": "city", "headerName": _("城市"), "width": 110},
            {"field": "reasons", "headerName": _("需关注原因"), "flex": 2, "minWidth": 260},
            {"field": "gap", "headerName": _("差距（百分点）"), "width": 140, "type": "numericColumn"},
            {"field": "status", "headerName": _("进度状态"), "width": 130},
        ], attention_now, height="320px"),
        dbc.Row([
            dbc.Col([html.H3(_("各市进度差距（序时进度 − 实际进度，百分点）"), className="h6"),
                     _graph(CITIES, cities_now)], lg=6),
            dbc.Col([html.H3(_("各市进度差距地图（颜色为差距分档，圆点大小为纳入调度的试点数）"), className="h6"),
                     _graph(MAP, map_now)], lg=6),
        ], className="g-3 mb-3"),
        dbc.Row([
            dbc.Col([html.H3(_("按产品的平均进度"), className="h6"), _graph(PRODUCTS, products_now)], lg=8),
            dbc.Col([html.H3(_("按试点类别的平均进度"), className="h6"), _graph(CATEGORIES, categories_now)], lg=4),
        ], className="g-3 mb-3"),
        dbc.Row([
            dbc.Col([html.H3(_("各试点序时进度与实际进度（点击查看试点）"), className="h6"),
                     dcc.Graph(id=SCATTER, figure=scatter_now, config=GRAPH_CONFIG, style={"height": "420px"})], lg=7),
            dbc.Col([html.H3(_("最近的调度通报"), className="h6"), html.Div(bulletins_now, id=BULLETINS)], lg=5),
        ], className="g-3 mb-3"),
        html.H3(_("未来30天到期的阶段性目标"), className="h6"),
        data_grid(UPCOMING, [
            {"field": "due_date", "headerName": _("到期日"), "width": 150},
            {"field": "days_left", "headerName": _("剩余天数"), "width": 110, "type": "numericColumn"},
            {"field": "city", "headerName": _("城市"), "width": 90},
            {"field": "pilot", "headerName": _("试点"), "flex": 1, "minWidth": 260, "cellRenderer": "PilotLink"},
            {"field": "title", "headerName": _("阶段性目标"), "flex": 1, "minWidth": 260},
        ], upcoming_now, height="320px"),
    ])  # fmt: skip


def attention_rows(rows: Sequence[AttentionRow]) -> list[JsonRow]:
    """需关注的试点 as the grid's rows, most urgent first: each links to its pilot's page."""
    return [{"pilot_id": r.pilot.id, "pilot": r.pilot.name, "city": name_of(r.pilot.city, short=True),
             "reasons": Joined(r.reason_messages()).text(), "reason_keys": [reason.name.lower() for reason in r.reasons],
             "gap": float(r.gap),
             "status": _(STATUS_LABELS[r.status])} for r in rows]  # fmt: skip


def _pct(value: Decimal | float | None) -> str:
    return "—" if value is None else f"{float(value):.1f}%"


def _card(
    title: str, value: str, colour: str, href: str, card_id: str, change: Change | None = None
) -> Component:
    return dbc.Col(html.A(dbc.Card(dbc.CardBody([
        html.Div(title, className="text-muted small"),
        html.Div(value, className=f"fs-3 fw-bold text-{colour}", id=card_id),
        html.Div(change.text(), className="small text-muted", id=f"{card_id}-change") if change else None,
    ])), href=href, className="text-decoration-none"), xs=6, md=3, xl=True)  # fmt: skip


def cards(data: Overview, query: str, city_ids: Sequence[int]) -> Component:
    """The headline figures, with the day and the pilots they count; each links to the list behind
    it (``query`` holds the filters; the flags page takes the city filter alone)."""
    pilots = f"/pilots{query}"

    def drill(**more: str) -> str:  # the registry holding exactly the pilots a count counts
        return f"{pilots}{'&' if query else '?'}{urlencode(more, safe=',')}"

    measured = drill(progress=",".join(s.value for s in ProgressStatus))
    flags_city = query_string({"city_ids": list(city_ids)})
    total = data.figures.total
    high, medium, low = (total.open_flags[s] for s in (Severity.HIGH, Severity.MEDIUM, Severity.LOW))
    counts = total.by_status
    return html.Div([
        html.P(as_of_text(data.figures), className="small fw-semibold mb-2", id="ov-as-of"),
        dbc.Row([
            _card(_("试点总数"), format_number(data.pilots), "primary", pilots, "ov-total"),
            _card(_("纳入调度试点"), format_number(total.pilots), "primary", measured, "ov-measured",
                  data.changes.get("pilots")),
            _card(_("进度正常"), format_number(counts[ProgressStatus.ON_TRACK]), "success", drill(progress="on_track"),
                  "ov-on-track", data.changes.get("on_track")),
            _card(_("滞后（含严重）"), format_number(total.behind), "warning", drill(progress="behind,seriously_behind"),
                  "ov-behind", data.changes.get("behind")),
            _card(_("其中严重滞后"), format_number(counts[ProgressStatus.SERIOUSLY_BEHIND]), "danger",
                  drill(progress="seriously_behind"), "ov-serious", data.changes.get("serious")),
            _card(_("全部完成/未开始"), f"{counts[ProgressStatus.FINISHED]}/{counts[ProgressStatus.NOT_STARTED]}",
                  "secondary", drill(progress="finished,not_started"), "ov-finished"),
        ], className="g-3 mb-3"),
        dbc.Row([
            _card(_("{period}应报/已报").format(period=label_of(data.period)),
                  f"{total.reporting.expected}/{total.reporting.submitted}", "secondary", "/updates", "ov-reporting"),
            _card(_("报送完整率"), completeness_label(total.reporting), "secondary", "/updates", "ov-completeness",
                  data.changes.get("completeness")),
            _card(_("报送及时率（按首次报送）"), timeliness_label(total.reporting), "secondary", "/updates", "ov-timeliness"),
            _card(_("未办结风险线索（高/中/低）"), f"{high}/{medium}/{low}", "danger" if high else "secondary",
                  f"/flags{flags_city}", "ov-flags"),
            _card(_("逾期里程碑"), format_number(total.overdue_milestones),
                  "danger" if total.overdue_milestones else "secondary", drill(overdue="yes"), "ov-overdue",
                  data.changes.get("overdue")),
        ], className="g-3 mb-2"),
        html.Div(_("报送：") + reporting_text(total.reporting), className="small text-muted", id="ov-due"),
        html.Div(_("全部试点{n}个，按阶段：").format(n=format_number(data.pilots))
                 + _("，").join(f"{label(s)} {n}" for s, n in data.by_stage.items() if n),
                 className="small text-muted mb-3", id="ov-stages"),
    ])  # fmt: skip


def _figure(traces: Sequence[Mapping[str, object]], **layout: object) -> JsonRow:
    """A figure as the plain dict plotly.js reads: building ``go.Figure`` objects (validation, the
    default template) cost most of the callback's time and a tenth of its reply, for nothing."""
    # Axes grow their margins to fit their tick labels and titles (automargin), so nothing is clipped
    # and a title stands off its ticks; an axis given here keeps those and adds its own settings.
    standoff: JsonRow = {"standoff": 8}
    base: JsonRow = {"font": FONT, "margin": {"l": 12, "r": 12, "t": 12, "b": 12, "pad": 4},
                     "plot_bgcolor": "white", "paper_bgcolor": "white", "showlegend": False}  # fmt: skip
    merged = base | layout
    for name in ("xaxis", "yaxis"):
        given = layout.get(name)
        given = given if isinstance(given, dict) else {}
        title = given.get("title")
        merged[name] = {"gridcolor": "#eee", "automargin": True, **given,
                        "title": standoff | title if isinstance(title, dict) else standoff}  # fmt: skip
    return {"data": traces, "layout": merged}


def city_figure(lines: Sequence[GroupFigures], city_ids: dict[str, int], thresholds: Thresholds) -> JsonRow:
    """Cities ranked by gap (largest first); a bar's customdata is the registry address it opens."""
    ordered = list(reversed(lines))  # horizontal bars: the largest gap on top
    bars = {
        "type": "bar", "x": [float(line.gap or 0) for line in ordered], "y": [line.name() for line in ordered],
        "orientation": "h", "marker": {"color": [gap_colour(line.gap, thresholds) for line in ordered]},
        "customdata": [f"/pilots?city={city_ids.get(line.key, '')}" for line in ordered],
        "hovertemplate": _("%{y}<br>差距 %{x:.1f} 个百分点<br>试点 %{text} 个<extra></extra>"),
        "text": [line.pilots for line in ordered], "textposition": "none",
    }  # fmt: skip
    return _figure([bars], xaxis={"title": {"text": _("百分点")}, "gridcolor": "#eee"},
                   yaxis={"automargin": True})  # fmt: skip


@cache
def city_seats() -> dict[str, tuple[float, float]]:
    """Longitude and latitude of each city's seat, by city code (from ``city_seats.csv``)."""
    with SEATS_FILE.open(encoding="utf-8") as handle:
        return {
            row["code"]: (float(row["longitude"]), float(row["latitude"])) for row in csv.DictReader(handle)
        }


@cache
def city_outlines() -> dict[str, list[list[tuple[float, float]]]]:
    """Each city's outline rings (longitude, latitude) by GB/T 2260 code, from ``shanxi_cities.json``
    (shipped with the package; its source and licence are in the file and in the README)."""
    with OUTLINES_FILE.open(encoding="utf-8") as handle:
        collection = json.load(handle)
    outlines: dict[str, list[list[tuple[float, float]]]] = {}
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        outlines[feature["properties"]["code"]] = [[(float(x), float(y)) for x, y in ring] for polygon in polygons
                                                    for ring in polygon[:1]]  # fmt: skip
    return outlines


def city_areas(
    lines: Sequence[GroupFigures], cities: Mapping[str, City], thresholds: Thresholds
) -> list[JsonRow]:
    """The cities' areas filled by their gap band (a city with no pilot measured in grey), each with
    its figures on hover: a choropleth drawn as filled outlines on the map's plain axes. A city the
    reader may not see is an outline in grey with nothing on hover."""
    by_code = {city.code: (line, city) for line in lines if (city := cities.get(line.key)) is not None}
    visible = {city.code for city in cities.values()}
    areas: list[JsonRow] = []
    for code, rings in city_outlines().items():
        line, city = by_code.get(code, (None, None))
        shown = (
            {"hoverinfo": "skip", "hoveron": "points"}
            if code not in visible
            else {"hoveron": "fills", "hoverinfo": "text"}
        )
        colour = gap_colour(line.gap, thresholds) if line is not None and line.pilots else "#e9ecef"
        words = (Message("{city}：试点 {n} 个，差距 {gap:.1f} 个百分点", city=Label(city.short_zh, city.name_en), n=line.pilots,
                         gap=float(line.gap or 0)).text()
                 if line is not None and city is not None else _("本市暂无纳入调度的试点"))  # fmt: skip
        for ring in rings:
            areas.append({"type": "scatter", "x": [x for x, _y in ring], "y": [y for _x, y in ring], "mode": "lines",
                          "fill": "toself", "fillcolor": colour, "opacity": 0.85, "line": {"color": "white", "width": 1},
                          "text": words, "name": code, **shown})  # fmt: skip
    return areas


def map_figure(lines: Sequence[GroupFigures], cities: Mapping[str, City], thresholds: Thresholds) -> JsonRow:
    """The cities at their seats, on plain axes scaled so a degree of longitude and of latitude keep
    their proportions; a bubble's size is its number of pilots, its colour its gap, and its
    customdata the registry address it opens. ``cities`` maps a city's name to its row."""
    seats = city_seats()
    placed = [
        (line, cities[line.key]) for line in lines if line.key in cities and cities[line.key].code in seats
    ]
    most = max((line.pilots for line, _city in placed), default=1)
    bubbles = {
        "type": "scatter", "x": [seats[city.code][0] for _line, city in placed],
        "y": [seats[city.code][1] for _line, city in placed],
        "mode": "markers+text", "text": [name_of(city, short=True) for _line, city in placed], "textposition": "top center",
        "marker": {"size": [14 + 30 * line.pilots / most for line, _city in placed],
                   "color": [gap_colour(line.gap, thresholds) for line, _city in placed], "opacity": 0.75,
                   "line": {"color": "white", "width": 1}},
        "customdata": [[f"/pilots?city={city.id}", line.pilots, float(line.gap or 0)] for line, city in placed],
        "hovertemplate": "%{text}<br>" + _("试点 %{customdata[1]} 个<br>差距 %{customdata[2]:.1f} 个百分点") + "<extra></extra>",
    }  # fmt: skip
    hidden = {"showgrid": False, "zeroline": False, "showticklabels": False}
    return _figure([*city_areas(lines, cities, thresholds), bubbles], xaxis={**hidden, "range": [110.2, 114.6]},
                   yaxis={**hidden, "range": [34.4, 40.8], "scaleanchor": "x", "scaleratio": 1.26})  # fmt: skip


def product_figure(lines: list[Rollup]) -> JsonRow:
    def bars(name: str, values: list[float], colour: str) -> JsonRow:
        return {"type": "bar", "name": name, "x": [line.name() for line in lines], "y": values,
                "marker": {"color": colour}, "hovertemplate": "%{x}<br>" + name + " %{y:.1f}%<extra></extra>"}  # fmt: skip

    return _figure([bars(_("序时进度"), [float(line.expected) for line in lines], "#adb5bd"),
                    bars(_("实际进度"), [float(line.actual) for line in lines], "#0d6efd")],
                   barmode="group", showlegend=True, yaxis={"title": {"text": "%"}, "gridcolor": "#eee"},
                   legend={"orientation": "h", "y": 1.1})  # fmt: skip


def scatter_figure(data: Overview) -> JsonRow:
    traces = []
    for status in ProgressStatus:
        points = [p for p in data.points if p.status is status]
        if not points:
            continue
        traces.append({
            "type": "scatter",  # SVG (the partial plotly.js bundle has no WebGL traces; a province has hundreds)
            "x": [p.expected for p in points], "y": [p.actual for p in points], "mode": "markers",
            "name": _(STATUS_LABELS[status]), "marker": {"color": PROGRESS_COLOURS[status], "size": 9, "opacity": 0.8},
            "customdata": [[f"/pilot?id={p.pilot_id}", p.name, p.city, p.product, p.gap] for p in points],
            "hovertemplate": ("%{customdata[1]}<br>%{customdata[2]} · %{customdata[3]}<br>" + _("序时进度")
                              + " %{x:.1f}%" + wide_space() + _("实际进度") + " %{y:.1f}%<br>" + _("差距") + " %{customdata[4]:.1f}<extra></extra>"),
        })  # fmt: skip
    diagonal = {
        "type": "line",
        "x0": 0,
        "y0": 0,
        "x1": 100,
        "y1": 100,
        "line": {"color": "#adb5bd", "dash": "dot"},
    }
    return _figure(traces, showlegend=True, legend={"orientation": "h", "y": 1.08}, shapes=[diagonal],
                   xaxis={"title": {"text": _("序时进度（%）")}, "range": [0, 102], "gridcolor": "#eee"},
                   yaxis={"title": {"text": _("实际进度（%）")}, "range": [0, 102], "gridcolor": "#eee"})  # fmt: skip


def bulletin_list(data: Overview) -> Component:
    if not data.bulletins:
        return html.P(_("暂无调度通报。"), className="text-muted small")
    items = [html.Li(bulletin_link(b)) for b in data.bulletins]
    return html.Div(
        [
            html.Ul(items, className="small ps-3"),
            dcc.Link(_("全部调度通报 »"), href="/bulletins", className="small"),
        ]
    )


# What the overview shows for a choice of filters: cards, the pilots needing attention, five figures, the coming milestones, the
# bulletins and the share link (the page's first draw and its callback, in this order).
Contents = tuple[
    Component, list[JsonRow], JsonRow, JsonRow, JsonRow, JsonRow, JsonRow, list[JsonRow], Component, str
]


def _contents(user: User, values: Sequence[object]) -> Contents:
    """Figures, lists and share link for the filters' values (in FILTERS order), in the user's scope."""
    chosen = dict(zip(FILTERS, values, strict=True))
    filters = RegistryFilters.from_inputs(**chosen)
    settings = app_settings()
    today = local_today(settings.timezone)
    query = query_string({key: list(getattr(filters, key)) for key in PARAMETERS})
    with db_session(read_only=True) as session:

        def compute() -> Contents:
            thresholds = thresholds_from(settings)
            data = overview(session, user, filters, on=today, period=reporting_period(today, settings.reporting),
                            thresholds=thresholds, reporting=settings.reporting)  # fmt: skip
            cities = {c.name_zh: c for c in session.scalars(visible_cities(user))}
            city_ids = {name: city.id for name, city in cities.items()}
            upcoming = [{"pilot_id": m.pilot_id, "pilot": m.pilot, "city": m.city, "title": m.title,
                         "due_date": format_date(m.due_date), "days_left": m.days_left} for m in data.upcoming]  # fmt: skip
            return (cards(data, query, filters.city_ids), attention_rows(needing_attention(data.figures)), city_figure(data.cities, city_ids, thresholds),
                    map_figure(data.cities, cities, thresholds), product_figure(data.products), product_figure(data.categories),
                    scatter_figure(data), upcoming, bulletin_list(data), f"/{query}")  # fmt: skip

        # Unchanged data, day, scope, language and filters: the same figures (dashboards/cache.py).
        return cached(("overview", data_version(session), today, scope_key(user), query), compute)


FilterValues = Annotated[tuple[object, ...], many(RAW, len(FILTERS))]  # each cleaned by RegistryFilters


@page_callback(
    REQUIRED_ACTION, Output(CARDS, "children"), Output(ATTENTION, "rowData"), Output(CITIES, "figure"), Output(MAP, "figure"),
    Output(PRODUCTS, "figure"), Output(CATEGORIES, "figure"), Output(SCATTER, "figure"),
    Output(UPCOMING, "rowData"), Output(BULLETINS, "children"), Output(SHARE, "href"),
    *[Input(cid, "value") for cid, _caption, _key in FILTERS.values()],
    prevent_initial_call=True,  # the page arrives with its figures (one round trip less); filters redraw them
)  # fmt: skip
def load(call: Call, values: FilterValues) -> tuple[object, ...]:
    return _contents(call.user, values)


# A click on a city bar or bubble, or a pilot point opens the list or page behind it (in the browser only:
# the address is in the figure the server already scoped).
page_clientside(
    """function(city, seat, pilot) {
        var click = dash_clientside.callback_context.triggered[0];
        var data = click && click.value && click.value.points && click.value.points[0];
        if (!data || !data.customdata) { return dash_clientside.no_update; }
        return Array.isArray(data.customdata) ? data.customdata[0] : data.customdata;
    }""",
    Output(GO, "href"), Input(CITIES, "clickData"), Input(MAP, "clickData"), Input(SCATTER, "clickData"),
    prevent_initial_call=True,
)  # fmt: skip
