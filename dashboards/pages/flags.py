"""风险线索核查 (/flags): the queue of flags — carbon-label claim rules and progress-report checks —
for the city bureau (its own city) or the province (every city) to work through.

Filter the queue, select a flag to see its evidence beside the benchmark and electricity factor
versions it was judged against and every version of the claim, then act on it (tracker.flags.review,
the only way a flag's review changes): a city bureau assigns within its city and proposes a
dismissal or resolution; the province confirms, dismisses, resolves and accepts or rejects a
city's proposal (the status filter 待省级审核 finds those). Each user sees only the buttons of
their level (tracker.access.permissions.may_review_flag). Leaders read and export; they have no buttons and
their write requests are refused. Filters can be given in the address
(?status=open,confirmed&severity=high&rule=UNIT_SLIP&city=3&product=5), and ?id=N opens one flag
(the pilot page links its flags that way)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import (
    CLICKS,
    RAW,
    Call,
    Clicks,
    Counter,
    Raw,
    Refused,
    Rows,
    Text,
    download,
    many,
    page_callback,
)
from dashboards.flag_words import CLAIM_FIELDS, EVIDENCE
from dashboards.grid import data_grid
from dashboards.widgets import (
    ROW_ID,
    alert,
    badge,
    dropdown_labels,
    evidence_list,
    selected_id,
    with_row_ids,
)
from reports.excel import write_table
from tracker.access.permissions import Action, can, may_review_flag, visible_cities
from tracker.audit import trail as audit
from tracker.core.clock import local_today, now_utc
from tracker.core.i18n import N_, _, format_date, format_datetime, label_of, translated
from tracker.core.periods import Period
from tracker.flags.review import FLAG_STEPS, PROPOSAL_ZH, available_steps, review_flag
from tracker.models import (
    Boundary,
    EmissionFactor,
    FlagStatus,
    LabelType,
    Product,
    ProductBenchmark,
    Severity,
    User,
)
from tracker.models.labels import city_label, evidence_shown, label, library_word, rule_name, unit_label
from tracker.monitoring.flag_queue import (
    DEFAULT_STATUSES,
    PROPOSED,
    RULE_IDS,
    FlagDetail,
    FlagFilters,
    LibraryVersion,
    QueueLine,
    flag_assignees,
    flag_count,
    flag_detail,
    flag_queue,
)

PATH = "/flags"
NAME = N_("风险线索")
ORDER = 7
SHOWN = 500  # rows per page the server sends, most severe and latest first
EXPORTED = 200_000  # rows in one Excel export
PAGE, PREVIOUS, NEXT = "flg-page", "flg-previous", "flg-next"
REQUIRED_ACTION = Action.VIEW

GRID, COUNT, MESSAGE, DETAIL, EXPORT, DOWNLOAD = (
    "flg-grid",
    "flg-count",
    "flg-message",
    "flg-detail",
    "flg-export",
    "flg-download",
)
REFRESH, CURRENT, FOCUS, ACTIONS = "flg-refresh", "flg-current", "flg-focus", "flg-actions"
ASSIGNEE, REASON = "flg-assignee", "flg-reason"
BUTTONS = {"assign": ("flg-assign", N_("指派"), "primary"), "confirm": ("flg-confirm", N_("确认"), "danger"),
           "dismiss": ("flg-dismiss", N_("排除"), "secondary"), "resolve": ("flg-resolve", N_("办结"), "success"),
           "propose_dismiss": ("flg-propose-dismiss", N_("建议排除"), "secondary"),
           "propose_resolve": ("flg-propose-resolve", N_("建议办结"), "success"),
           "accept": ("flg-accept", N_("采纳建议"), "success"), "reject": ("flg-reject", N_("驳回建议"), "warning")}  # fmt: skip
DONE = {"assign": N_("已指派"), "confirm": N_("已确认"), "dismiss": N_("已排除"), "resolve": N_("已办结"),
        "propose_dismiss": N_("已提交排除建议，待省级审核"), "propose_resolve": N_("已提交办结建议，待省级审核"),
        "accept": N_("已采纳市级建议"), "reject": N_("已驳回市级建议")}  # fmt: skip
# Filter key (FlagFilters field) → component id, caption, address parameter.
FILTERS = {"severities": ("flg-severity", N_("严重程度"), "severity"), "rule_ids": ("flg-rule", N_("规则"), "rule"),
           "city_ids": ("flg-city", N_("城市"), "city"), "product_ids": ("flg-product", N_("产品"), "product"),
           "statuses": ("flg-status", N_("状态"), "status")}  # fmt: skip
COLUMNS = [("severity", N_("严重程度"), 110), ("rule", N_("规则"), 190), ("city", N_("城市"), 80),
           ("subject", N_("企业/试点"), 240), ("product", N_("产品"), 110), ("claim_key", N_("声明编号/报告期"), 130),
           ("status", N_("状态"), 90), ("proposal", N_("省级审核"), 170), ("first_seen", N_("首次发现"), 150),
           ("last_seen", N_("最近发现"), 150), ("assignee", N_("处理人"), 100)]  # fmt: skip
EXPORT_COLUMNS = [(key, caption) for key, caption, _width in COLUMNS] + [
    ("message", N_("说明")),
    ("rule_id", N_("规则编号")),
]
SEVERITY_COLOURS = {Severity.HIGH: "danger", Severity.MEDIUM: "warning", Severity.LOW: "info"}
FLAG_COLOURS = {FlagStatus.OPEN: "danger", FlagStatus.UNDER_REVIEW: "warning", FlagStatus.CONFIRMED: "primary",
                FlagStatus.DISMISSED: "secondary", FlagStatus.RESOLVED: "success"}  # fmt: skip
LIBRARY_KEYS = ("benchmark_version", "factor_version", "factor_key")  # shown on the library cards
NAMED_KEYS = ("others", "others_more")  # the other claims a cross-claim flag names: listed below the evidence
SOURCES = {"csv": "CSV", "xlsx": "Excel", "pact": "PACT JSON"}


def _tz() -> ZoneInfo:
    return app_settings().timezone


def _chosen(query: dict[str, Any], city_codes: dict[str, int]) -> FlagFilters:
    """The filters given in the address: comma-separated values, a city by id or by code
    (?city=140400, as on the city page); without ?status= the default queue."""

    def listed(param: str, numeric: bool) -> list[Any]:
        items = [v.strip() for v in str(query.get(param) or "").split(",") if v.strip()]
        if param == "city":
            items = [str(city_codes.get(v, v)) for v in items]
        return [int(v) if numeric and v.isdigit() and len(v) < 10 else v for v in items]

    chosen = FlagFilters.from_inputs(**{key: listed(param, key in ("city_ids", "product_ids"))
                                        for key, (_cid, _caption, param) in FILTERS.items()})  # fmt: skip
    return chosen if "status" in query else replace(chosen, statuses=DEFAULT_STATUSES)


def _filter_row(session: Session, user: User, query: dict[str, Any]) -> Component:
    cities = session.scalars(visible_cities(user)).all()
    options: dict[str, list[dict[str, Any]]] = {
        "severities": [{"label": label(s), "value": s.value} for s in Severity],
        "rule_ids": sorted(({"label": rule_name(r), "value": r, "search": f"{rule_name(r)} {r}"} for r in RULE_IDS),
                           key=lambda o: o["value"]),
        "city_ids": [{"label": c.short_zh, "value": c.id} for c in cities],
        "product_ids": [{"label": p.name_zh, "value": p.id} for p in session.scalars(select(Product).order_by(Product.id))],
        "statuses": [{"label": label(s), "value": s.value} for s in FlagStatus] + [{"label": _("待省级审核"), "value": PROPOSED}],
    }  # fmt: skip
    chosen = _chosen(query, {c.code: c.id for c in cities})
    cols = []
    for key, (cid, caption, _param) in FILTERS.items():
        offered = {o["value"] for o in options[key]}  # only what the user may pick
        value = [v for v in getattr(chosen, key) if v in offered] or None
        cols.append(dbc.Col([dbc.Label(_(caption), html_for=cid, className="small mb-0"),
                             dcc.Dropdown(id=cid, options=options[key], value=value, multi=True, placeholder=_("全部"),
                                          labels=dropdown_labels(), maxHeight=320)],
                            md=3 if key == "rule_ids" else 2))  # fmt: skip
    cols.append(dbc.Col(dbc.Button(_("导出Excel"), id=EXPORT, color="success", className="mt-4"), md=1))
    return dbc.Row(cols, className="g-2 mb-2")


def _actions_box(user: User) -> Component:
    """The review buttons of the user's level (a city proposes, the province decides); the box is
    rendered hidden for those who may not review (leaders)."""
    buttons = [dbc.Button(_(caption), id=bid, color=colour, size="sm", disabled=True,
                          className="me-1 mb-1" + ("" if may_review_flag(user, key) else " d-none"))
               for key, (bid, caption, colour) in BUTTONS.items()]  # fmt: skip
    writer = can(user, Action.EDIT)
    return html.Div([
        html.H3(_("核查处理"), className="h6"),
        dbc.Label(_("指派给"), html_for=ASSIGNEE, className="small mb-0"),
        dcc.Dropdown(id=ASSIGNEE, options=[], clearable=False, className="mb-2"),
        dbc.Textarea(id=REASON, placeholder=_("理由（确认、排除、办结、提出建议和驳回建议时必填）"), rows=3, maxLength=1000,
                     className="mb-2"),
        html.Div(buttons),
    ], id=ACTIONS, hidden=not writer)  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, id: Any = None, **query: str) -> Component:
    columns = [{"field": f, "headerName": _(h), "width": w, "tooltipField": "message" if f == "rule" else f}
               for f, h, w in COLUMNS]  # fmt: skip
    for column in columns:
        if column["field"] in ("first_seen", "last_seen"):
            column |= {"filter": "agDateColumnFilter", "valueFormatter": {"function": "zhDate(params.value)"}}
    columns[3] |= {"flex": 1, "minWidth": 200}
    grid = data_grid(GRID, columns, height="45vh")
    grid.dashGridOptions = {
        **grid.dashGridOptions,
        "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
    }
    grid.getRowId = ROW_ID
    focus = int(id) if isinstance(id, str) and id.isdigit() and len(id) < 10 else None
    with db_session(read_only=True) as session:
        filters = _filter_row(session, user, query)
    return html.Div([
        html.H2(_("风险线索核查"), className="h4"),
        html.P(_("碳足迹声明核查规则和调度报送一致性核查发现的风险线索：逐条核查。市级在本市内指派，并提出排除或办结建议；省级确认、排除、办结，审核市级建议。除指派和采纳外均须填写理由。"),
               className="text-muted small"),
        filters,
        html.Div([
            html.Span(id=COUNT, className="small text-muted me-2"),
            dbc.Button(_("上一页"), id=PREVIOUS, size="sm", color="link", className="p-0 me-2", disabled=True),
            dbc.Button(_("下一页"), id=NEXT, size="sm", color="link", className="p-0", disabled=True),
        ], className="mb-1"),
        html.Div(id=MESSAGE),
        grid,
        dbc.Row([dbc.Col(html.Div(id=DETAIL, className="mt-3"), lg=9),
                 dbc.Col(_actions_box(user), lg=3, className="mt-3")]),
        dcc.Store(id=REFRESH, data=0), dcc.Store(id=CURRENT), dcc.Store(id=FOCUS, data=focus),
        dcc.Store(id=PAGE, data=0),
        dcc.Download(id=DOWNLOAD),
    ])  # fmt: skip


def _row(line: QueueLine) -> dict[str, Any]:
    tz = _tz()
    return {
        "id": line.id, "severity": label(line.severity), "rule": rule_name(line.rule_id), "rule_id": line.rule_id,
        "city": line.city, "subject": line.subject, "product": line.product, "claim_key": line.claim_key,
        "status": label(line.status), "first_seen": line.first_seen.astimezone(tz).date().isoformat(),
        "last_seen": line.last_seen.astimezone(tz).date().isoformat(), "assignee": line.assignee,
        "message": line.message, "proposal": _(PROPOSAL_ZH[line.proposal]) if line.proposal in PROPOSAL_ZH else "",
    }  # fmt: skip


def _filters(filter_values: tuple[Any, ...]) -> FlagFilters:
    return FlagFilters.from_inputs(**dict(zip(FILTERS, filter_values, strict=True)))


def _rows_for(user: User, filter_values: tuple[Any, ...], limit: int) -> list[dict[str, Any]]:
    with db_session(read_only=True) as session:
        return [_row(line) for line in flag_queue(session, user, _filters(filter_values), limit)]


def _shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"  # 860.8000 → 860.8
    if isinstance(value, StrEnum):
        return label(value)
    return str(value)


def _facts(rows: list[tuple[str, Any]], table_id: str) -> Component:
    cells = [
        html.Tr(
            [html.Th(k, className="fw-normal text-muted text-nowrap"), html.Td(v, className="text-break")]
        )
        for k, v in rows
    ]
    return dbc.Table(html.Tbody(cells),
                     size="sm", bordered=True, className="small mb-0", id=table_id)  # fmt: skip


def _version_badge(version: LibraryVersion) -> Component:
    if version.is_current:
        return badge(_("现行版本"), "success")
    return badge(_("已被第{n}版取代").format(n=version.current_version), "warning")


def _library_card(
    title: str, version: LibraryVersion | None, rows: list[tuple[str, Any]], card_id: str
) -> Component:
    """A benchmark or factor as recorded in the flag: its version, and whether it is still current."""
    head: list[Component | str]
    body: Component
    if version is None or version.recorded is None:
        head, body = (
            [title],
            html.P(_("核查时未使用（该产品无基准值，或未记录版本）"), className="small text-muted mb-0"),
        )
    elif version.row is None:
        head = [title, _("（第{n}版）").format(n=version.recorded)]
        body = html.P(_("参考数据库中找不到该版本"), className="small text-muted mb-0")
    else:
        head = [title, _("（第{n}版）").format(n=version.recorded), " ", _version_badge(version)]
        body = _facts(rows, f"{card_id}-table")
    return dbc.Card(dbc.CardBody([html.H4(head, className="h6"), body]), id=card_id)


def _benchmark_rows(version: LibraryVersion | None) -> list[tuple[str, Any]]:
    row = version.row if version else None
    if not isinstance(row, ProductBenchmark):
        return []
    return [(_("物理下限"), _shown(row.physical_floor)), (_("合理下限"), _shown(row.plausible_low)),
            (_("典型值"), _shown(row.typical)), (_("合理上限"), _shown(row.plausible_high)),
            (_("单位"), _("千克CO₂e/{unit}").format(unit=unit_label(row.declared_unit))), (_("可信程度"), library_word(row.confidence)),
            (_("依据/来源"), row.basis)]  # fmt: skip


def _factor_rows(version: LibraryVersion | None) -> list[tuple[str, Any]]:
    row = version.row if version else None
    if not isinstance(row, EmissionFactor):
        return []
    return [(_("因子"), f"{library_word(row.scope)} {row.year} · {row.factor_key}"),
            (_("数值"), f"{_shown(row.value)} {row.unit}"), (_("类型"), library_word(row.kind)),
            (_("可信程度"), library_word(row.confidence)), (_("来源"), row.source)]  # fmt: skip


def _evidence_value(key: str, value: object) -> str:
    """An evidence value; stored enum values (a label type, a boundary) in their Chinese words."""
    if key == "problems" and isinstance(value, list):  # message data (INVALID_CREDIT_CODE)
        return str(evidence_shown({key: value})[key].text())  # type: ignore[attr-defined]
    if key.endswith("unit") and isinstance(value, str):
        return unit_label(value)
    kind = {"label_type": LabelType, "boundary": Boundary}.get(key)
    if kind is not None and value in {member.value for member in kind}:
        return label(kind(value))
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":  # dates are kept as ISO text
        try:
            return format_date(dt.date.fromisoformat(value))
        except ValueError:
            pass
    return _shown(value)


def _evidence_rows(detail: FlagDetail) -> list[tuple[str, Any]]:
    evidence = detail.flag.evidence if isinstance(detail.flag.evidence, dict) else {}
    claim = detail.claim
    declared = [] if claim is None else [
        (_("企业"), claim.company_name), (_("产品"), f"{claim.product} {claim.model or ''}".strip()),
        (_("声明碳足迹"), _("{value} 千克CO₂e/{unit}").format(value=_shown(claim.footprint), unit=unit_label(claim.declared_unit))),
        (_("所用电网因子"), _shown(claim.electricity_factor)), (_("声明版本"), claim.version),
    ]  # fmt: skip
    shown = [(translated(EVIDENCE, k), _evidence_value(k, v)) for k, v in evidence.items()
             if k not in LIBRARY_KEYS and k not in NAMED_KEYS]  # fmt: skip
    return declared + shown


def _others(detail: FlagDetail) -> Component | None:
    """The other claims a cross-claim flag names: those of the reader's cities by name, each a link to
    the same rule's flag on it; other cities' only counted."""
    others = detail.others
    if others is None:
        return None
    items: list[Component] = []
    for other in others.named():
        key, words = (
            str(other.get("claim") or ""),
            _("{company}（{city}）").format(
                company=other.get("company") or "", city=city_label(other.get("city")).text()
            ),
        )
        flag_id = detail.links.get(key)
        items.append(html.Li([dcc.Link(words, href=f"/flags?id={flag_id}") if flag_id else words,
                              html.Span(f"　{_('声明编号')}：{key}", className="text-muted")]))  # fmt: skip
    hidden = len(others.others) - len(others.named())
    if hidden:
        items.append(html.Li(_("其他市企业{n}家").format(n=hidden), className="text-muted"))
    if others.more:
        items.append(html.Li(_("另有{n}家企业未列出").format(n=others.more), className="text-muted"))
    return html.Div([html.H4(_("涉及的其他声明"), className="h6 mt-2"),
                     html.Ul(items or [html.Li(_("暂无"))], className="small mb-0", id="flg-others")])  # fmt: skip


def _history(detail: FlagDetail) -> Component:
    tz, rows = _tz(), []
    for item in reversed(detail.history):
        c = item.claim
        changed = "；".join(
            f"{translated(CLAIM_FIELDS, k)}：{_shown(old)} → {_shown(new)}"
            for k, (old, new) in item.changes.items()
        )
        version = [_("第{n}版").format(n=c.version), badge(_("核查所依据"), "warning", className="ms-1") if item.judged else None,
                   badge(_("现行"), "success", className="ms-1") if c.is_current else None]  # fmt: skip
        rows.append(html.Tr([html.Td(version), html.Td(format_datetime(c.imported_at, tz)),
                             html.Td(SOURCES.get(c.source, c.source)), html.Td(_shown(c.footprint)),
                             html.Td(changed or ("—" if c.version > 1 else _("首次导入")))],
                            className="table-warning" if item.judged else None))  # fmt: skip
    head = html.Thead(
        html.Tr(
            [html.Th(h) for h in (_("版本"), _("导入时间"), _("来源"), _("碳足迹"), _("与上一版相比的变化"))]
        )
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", bordered=True, className="small", id="flg-history")


def _steps(detail: FlagDetail) -> Component:
    tz = _tz()
    words = {key: label_of(step) for key, step in FLAG_STEPS.items()}

    def outcome(step: Any) -> str:  # what an accepted proposal did
        shown = step.step == "accept" and step.to_status in {s.value for s in FlagStatus}
        return f"（{label(FlagStatus(step.to_status))}）" if shown else ""

    items = [html.Li(f"{format_datetime(s.at, tz)}　{s.actor_name}　{words.get(s.step, s.step)}{outcome(s)}"
                     + (f"　{_('理由')}：{s.reason}" if s.reason else "")) for s in detail.steps]  # fmt: skip
    return html.Ul(items or [html.Li(_("暂无"))], className="small", id="flg-steps")


def _update_panel(detail: FlagDetail) -> Component:
    update = detail.update
    if update is None:
        return html.P(_("被核查的调度报送已不存在"), className="text-muted small")
    return html.Div([
        html.P([dcc.Link(update.pilot.name, href=f"/pilot?id={update.pilot_id}"), "　",
                label_of(Period(update.period_start, update.period_end))], className="small mb-1"),
        html.P((update.work_done or "—")[:500], className="small text-muted", style={"whiteSpace": "pre-wrap"}),
        html.H5(_("佐证材料"), className="h6"), evidence_list(update),
    ])  # fmt: skip


def _detail(detail: FlagDetail) -> Component:
    flag, tz = detail.flag, _tz()
    head = html.H3([rule_name(flag.rule_id), badge(label(flag.severity), SEVERITY_COLOURS[flag.severity], className="ms-2"),
                    badge(label(flag.status), FLAG_COLOURS[flag.status], className="ms-1")], className="h6")  # fmt: skip
    facts = html.P([_("首次发现 {a}　最近发现 {b}").format(a=format_datetime(flag.first_seen, tz),
                                                   b=format_datetime(flag.last_seen, tz)),
                    f"　{_('处理人')}：{detail.assignee.display_name}" if detail.assignee else "",
                    f"　{_('规则编号')}：{flag.rule_id}"], className="small text-muted")  # fmt: skip
    parts = [head, html.P(detail.message.text(), id="flg-message-text"), facts]
    if flag.reason:
        parts.append(dbc.Alert(f"{_('理由')}：{flag.reason}", color="light", className="py-1 small"))
    if flag.proposal in PROPOSAL_ZH:
        who = detail.proposed_by.display_name if detail.proposed_by else "—"
        when = format_datetime(flag.proposed_at, tz) if flag.proposed_at else "—"
        parts.append(dbc.Alert(f"{_(PROPOSAL_ZH[str(flag.proposal)])}　{who}　{when}　{_('理由')}：{flag.proposal_reason or '—'}",
                               color="warning", className="py-1 small", id="flg-proposal"))  # fmt: skip
    evidence = dbc.Card(
        dbc.CardBody(
            [
                html.H4(_("证据"), className="h6"),
                _facts(_evidence_rows(detail), "flg-evidence"),
                _others(detail),
            ]
        )
    )
    if flag.subject_type == "update":
        parts.append(
            dbc.Row([dbc.Col(evidence, md=5), dbc.Col(_update_panel(detail), md=7)], className="g-2")
        )
    else:
        parts.append(dbc.Row([
            dbc.Col(evidence, md=4),
            dbc.Col(_library_card(_("产品基准"), detail.benchmark, _benchmark_rows(detail.benchmark), "flg-benchmark"), md=4),
            dbc.Col(_library_card(_("电网排放因子"), detail.factor, _factor_rows(detail.factor), "flg-factor"), md=4),
        ], className="g-2"))  # fmt: skip
        if detail.history:
            parts += [html.H4(_("声明版本记录"), className="h6 mt-3"), _history(detail)]
    parts += [html.H4(_("核查记录"), className="h6 mt-3"), _steps(detail)]
    return dbc.Card(dbc.CardBody(parts))


def _flag_id(value: object) -> int | None:
    """A row id sent by the browser, if it can be one (a hand-made POST may send anything)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None


FilterValues = Annotated[tuple[object, ...], many(RAW, len(FILTERS))]  # each cleaned by FlagFilters
ActionClicks = Annotated[tuple[int | None, ...], many(CLICKS, len(BUTTONS))]
MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)


def _moved(page: object, triggered: str | None) -> int:
    """The page to show: a filter change starts again at the first page, the arrows move by a
    page, a review action reloads the page in view."""
    if triggered not in (PREVIOUS, NEXT, REFRESH):  # a filter changed: from the first page
        return 0
    if isinstance(page, int) and not isinstance(page, bool) and 0 <= page < 10**6:
        return page + {PREVIOUS: -1, NEXT: 1}.get(triggered, 0)
    return {NEXT: 1}.get(triggered, 0)  # a malformed page (a hand-made request): the first, then moved


@page_callback(
    Action.VIEW, Output(GRID, "rowData"), Output(COUNT, "children"), Output(PAGE, "data"),
    Output(PREVIOUS, "disabled"), Output(NEXT, "disabled"),
    *[Input(cid, "value") for cid, _caption, _param in FILTERS.values()], Input(REFRESH, "data"),
    Input(PREVIOUS, "n_clicks"), Input(NEXT, "n_clicks"), State(PAGE, "data"), read_only=True,
)  # fmt: skip
def load(
    call: Call, values: FilterValues, _refresh: Raw, _previous: Clicks, _next: Clicks, page_value: Raw
) -> tuple[object, ...]:
    """One page of the queue from the server, most severe and latest first."""
    filters = _filters(values)
    total = flag_count(call.session, call.user, filters)
    pages = max(1, -(-total // SHOWN))
    page = min(max(_moved(page_value, call.triggered), 0), pages - 1)
    rows = [_row(line) for line in flag_queue(call.session, call.user, filters, SHOWN, page * SHOWN)]
    if pages == 1:
        words = _("共 {n} 条风险线索").format(n=total)
    else:
        words = _("共 {n} 条风险线索，第 {page}/{pages} 页（每页 {size} 条，最严重、最近的在前）").format(
            n=total, page=page + 1, pages=pages, size=SHOWN)  # fmt: skip
    return with_row_ids(rows), words, page, page == 0, page >= pages - 1


@page_callback(
    Action.VIEW, Output(DETAIL, "children"), Output(CURRENT, "data"), Output(ASSIGNEE, "options"),
    Output(ASSIGNEE, "value"), *[Output(bid, "disabled") for bid, _caption, _colour in BUTTONS.values()],
    Input(GRID, "selectedRows"), Input(REFRESH, "data"), State(FOCUS, "data"), State(CURRENT, "data"),
    read_only=True,
)  # fmt: skip
def show(call: Call, rows: Rows, _refresh: Raw, focus: Raw, current: Raw) -> tuple[object, ...]:
    user = call.user
    flag_id = selected_id(rows) if call.triggered == GRID else _flag_id(current) or _flag_id(focus)
    detail = flag_detail(call.session, user, flag_id)
    if detail is None:
        raise PreventUpdate  # another city's flag or none: nothing, as for a missing one
    people = [{"label": p.display_name + (_("（本人）") if p.id == user.id else ""), "value": p.id}
              for p in flag_assignees(call.session, user, detail.flag)]  # fmt: skip
    allowed = set(available_steps(user, detail.flag))
    shut = [key not in allowed for key in BUTTONS]
    return _detail(detail), detail.flag.id, people, user.id if people else None, *shut


@page_callback(
    Action.EDIT, MESSAGE_OUT, Output(REFRESH, "data", allow_duplicate=True), Output(REASON, "value"),
    *[Input(bid, "n_clicks") for bid, _caption, _colour in BUTTONS.values()],
    State(CURRENT, "data"), State(REASON, "value"), State(ASSIGNEE, "value"), State(REFRESH, "data"),
    alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def act(
    call: Call, _clicks: ActionClicks, flag_value: Raw, reason: Text, assignee_id: Raw, refresh: Counter
) -> tuple[object, ...]:
    steps = {bid: key for key, (bid, _caption, _colour) in BUTTONS.items()}
    if call.triggered not in steps:
        raise PreventUpdate
    flag_id = _flag_id(flag_value)
    if flag_id is None:
        raise Refused(_("请先在列表中选择一条风险线索"))
    step = steps[call.triggered]
    chosen = _flag_id(assignee_id)
    assignee = call.session.get(User, chosen) if step == "assign" and chosen else None
    flag = review_flag(
        call.session, call.user, flag_id, step, now=now_utc(), reason=reason, assignee=assignee
    )
    return alert(f"{_(DONE[step])}：{rule_name(flag.rule_id)}"), refresh + 1, ""


@page_callback(Action.EXPORT, Output(DOWNLOAD, "data"), Input(EXPORT, "n_clicks"),
               *[State(cid, "value") for cid, _caption, _param in FILTERS.values()], prevent_initial_call=True)  # fmt: skip
def export(call: Call, _clicks: Clicks, values: FilterValues) -> dict[str, object]:
    rows = _rows_for(call.user, values, EXPORTED)
    today = local_today(_tz())
    content = write_table(_("风险线索"), [(k, _(c)) for k, c in EXPORT_COLUMNS], rows, date_keys=("first_seen", "last_seen"),
                          note=_("导出时间：{date}　导出人：{who}　共{n}条").format(
                              date=format_date(today), who=call.user.display_name, n=len(rows)))  # fmt: skip
    audit.record(
        call.session, "export", "flags", summary=f"风险线索 {len(rows)} 条", city_id=call.user.city_id
    )
    return download(content, f"风险线索_{today.isoformat()}.xlsx")
