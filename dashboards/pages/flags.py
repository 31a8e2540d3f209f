"""风险线索核查 (/flags): the queue of flags — carbon-label claim rules and progress-report checks —
for the city bureau (its own city) or the province (every city) to work through.

Filter the queue, select a flag to see its evidence beside the benchmark and electricity factor
versions it was judged against and every version of the claim, then act on it (tracker.flags.review,
the only way a flag's review changes): a city bureau assigns within its city and proposes a
dismissal or resolution; the province confirms, dismisses, resolves and accepts or rejects a
city's proposal (the status filter 待省级审核 finds those). Each user sees only the buttons of
their level (tracker.access.permissions.may_review_flag). Leaders read and export; they have no buttons and
their write requests are refused. Filters can be given in the address
(?status=open,confirmed&severity=high&rule=UNIT_SLIP&city=3&product=5&view=flat), and ?id=N opens one
flag (the pilot page links its flags that way).

The queue opens grouped (分组; 逐条 lists every flag): the same rule on the same subject — one pilot's
reports, one claim id's versions — in one city is one row with its count (×N) and the periods it was
found for, grouped by the database over the whole filtered queue (tracker.monitoring.flag_queue).
Selecting a group lists every member flag; a review step taken on a group is taken on each member
the user may take it on, one by one through tracker.flags.review (each checked and audited as a
single step), the group found again on the server from one of its flag ids. The rule filter
shows how many flags each rule has under the other filters, in the user's scope; a line above the
queue counts the claims no benchmark could judge (无法比对, rule UNIT_NOT_COMPARABLE) and links to
them. The Excel export stays one row per flag, whichever view is shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import (
    CLICKS,
    RAW,
    Call,
    Check,
    Clicks,
    Counter,
    Malformed,
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
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, format_date, format_datetime, label_of, name_of, translated
from tracker.core.json_types import JsonRow
from tracker.core.messages import Message
from tracker.core.periods import Period
from tracker.flags.review import FLAG_STEPS, PROPOSAL_ZH, available_steps, review_flag
from tracker.flags.store import AUTO_CLOSED
from tracker.models import (
    Boundary,
    Closure,
    EmissionFactor,
    Flag,
    FlagStatus,
    LabelType,
    Product,
    ProductBenchmark,
    Severity,
    Subject,
    User,
    WorkflowStep,
)
from tracker.models.labels import city_label, evidence_shown, label, library_word, rule_name, unit_label
from tracker.monitoring.flag_queue import (
    DEFAULT_STATUSES,
    GROUP_LIMIT,
    PROPOSED,
    RULE_IDS,
    UNCOMPARABLE,
    FlagDetail,
    FlagFilters,
    LibraryVersion,
    QueueGroup,
    QueueLine,
    flag_assignees,
    flag_count,
    flag_detail,
    flag_groups,
    flag_lines,
    flag_queue,
    group_count,
    group_members,
    rule_counts,
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
VIEW, GROUP, UNCOMPARABLE_LINE = "flg-view", "flg-group", "flg-uncomparable"
GROUPED, FLAT = "grouped", "flat"
VIEWS = {GROUPED: N_("分组"), FLAT: N_("逐条")}
GROUP_PREFIX = "g"  # a group row's id: g and the group's lowest flag id
PERIODS_SHOWN = 6  # a group's periods listed in full up to this many
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
# The grouped view adds how many flags a row stands for and the periods they were found for.
GROUP_COLUMNS = [("count", N_("条数"), 80), ("periods", N_("期间"), 260)]
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


def _chosen(query: Mapping[str, str], city_codes: dict[str, int]) -> FlagFilters:
    """The filters given in the address: comma-separated values, a city by id or by code
    (?city=140400, as on the city page); without ?status= the default queue."""

    def listed(param: str, numeric: bool) -> list[int | str]:
        items = [v.strip() for v in str(query.get(param) or "").split(",") if v.strip()]
        if param == "city":
            items = [str(city_codes.get(v, v)) for v in items]
        return [int(v) if numeric and v.isdigit() and len(v) < 10 else v for v in items]

    chosen = FlagFilters.from_inputs(**{key: listed(param, key in ("city_ids", "product_ids"))
                                        for key, (_cid, _caption, param) in FILTERS.items()})  # fmt: skip
    return chosen if "status" in query else replace(chosen, statuses=DEFAULT_STATUSES)


def _filter_row(session: Session, user: User, query: Mapping[str, str]) -> Component:
    cities = session.scalars(visible_cities(user)).all()
    options: dict[str, list[JsonRow]] = {
        "severities": [{"label": label(s), "value": s.value} for s in Severity],
        "rule_ids": [{"label": rule_name(r), "value": r, "search": f"{rule_name(r)} {r}"} for r in sorted(RULE_IDS)],
        "city_ids": [{"label": name_of(c, short=True), "value": c.id} for c in cities],
        "product_ids": [{"label": name_of(p), "value": p.id} for p in session.scalars(select(Product).order_by(Product.id))],
        "statuses": [{"label": words, "value": value}
                     for words, value in [*((label(s), s.value) for s in FlagStatus), (_("待省级审核"), PROPOSED)]],
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
    cols.append(dbc.Col(dbc.Button(_("导出Excel"), id=EXPORT, color="success", className="mt-4",
                                   title=_("导出为逐条明细：每行一条风险线索（分组视图也是如此）")), md=1))  # fmt: skip
    return dbc.Row(cols, className="g-2 mb-2")


def _view_choice(query: Mapping[str, str]) -> Component:
    """分组 (one row per rule and subject, the default) or 逐条 (one row per flag); ?view=flat."""
    chosen = FLAT if query.get("view") == FLAT else GROUPED
    return dbc.RadioItems(id=VIEW, options=[{"label": _(caption), "value": key} for key, caption in VIEWS.items()],
                          value=chosen, inline=True, className="small d-inline-block me-3")  # fmt: skip


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


def _columns(view: str) -> list[JsonRow]:
    """The grid's columns in the reader's language; the grouped view adds 条数 and 期间."""
    shown = list(COLUMNS)
    if view == GROUPED:
        shown[2:2] = GROUP_COLUMNS[:1]
        shown[7:7] = GROUP_COLUMNS[1:]
    columns: list[JsonRow] = [{"field": f, "headerName": _(h), "width": w, "tooltipField": "message" if f == "rule" else f}
               for f, h, w in shown]  # fmt: skip
    for column in columns:
        if column["field"] in ("first_seen", "last_seen"):
            column |= {"filter": "agDateColumnFilter", "valueFormatter": {"function": "zhDate(params.value)"}}
        if column["field"] == "subject":
            column |= {"flex": 1, "minWidth": 200}
    return columns


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, id: str | None = None, **query: str) -> Component:
    grid = data_grid(GRID, _columns(FLAT if query.get("view") == FLAT else GROUPED), height="45vh")
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
        html.Div(id=UNCOMPARABLE_LINE, className="small mb-1"),
        html.Div([
            _view_choice(query),
            html.Span(id=COUNT, className="small text-muted me-2"),
            dbc.Button(_("上一页"), id=PREVIOUS, size="sm", color="link", className="p-0 me-2", disabled=True),
            dbc.Button(_("下一页"), id=NEXT, size="sm", color="link", className="p-0", disabled=True),
            html.Span(_("导出Excel为逐条明细（每行一条风险线索）"), className="small text-muted ms-2"),
        ], className="mb-1"),
        html.Div(id=MESSAGE),
        grid,
        dbc.Row([dbc.Col(html.Div(id=DETAIL, className="mt-3"), lg=9),
                 dbc.Col(_actions_box(user), lg=3, className="mt-3")]),
        dcc.Store(id=REFRESH, data=0), dcc.Store(id=CURRENT), dcc.Store(id=FOCUS, data=focus), dcc.Store(id=GROUP),
        dcc.Store(id=PAGE, data=0),
        dcc.Download(id=DOWNLOAD),
    ])  # fmt: skip


def _period(start: dt.date, end: dt.date) -> str:
    """A report's or a claim's period for the reader: a month, a quarter, a calendar year, or its dates."""
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 1 or (months == 3 and start.month % 3 == 1):
            return label_of(Period(start, end))
        if months == 12 and start.month == 1:
            return _("{year}年").format(year=start.year)
    return f"{format_date(start)}–{format_date(end)}"


def _periods(periods: tuple[tuple[dt.date, dt.date], ...]) -> str:
    """A group's periods, oldest first; a long run shortened to its first and last ones and how many."""
    words = [_period(start, end) for start, end in periods]
    joiner = _("、")
    if len(words) <= PERIODS_SHOWN:
        return joiner.join(words)
    return _("{first} … {last}（共{n}期）").format(first=joiner.join(words[:3]), last=joiner.join(words[-2:]),
                                                 n=len(words))  # fmt: skip


def _key_of(line: QueueLine) -> str:
    """The claim's id, or a progress report's period (in the reader's language)."""
    if line.subject_type != Subject.CLAIM and line.period_start and line.period_end:
        return label_of(Period(line.period_start, line.period_end))
    return line.claim_key


def _row(line: QueueLine) -> JsonRow:
    tz = _tz()
    periods = ((line.period_start, line.period_end),) if line.period_start and line.period_end else ()
    return {
        "id": line.id, "severity": label(line.severity), "rule": rule_name(line.rule_id), "rule_id": line.rule_id,
        "city": line.city, "subject": line.subject, "product": line.product, "claim_key": _key_of(line),
        "count": 1, "periods": _periods(periods),
        "status": label(line.status), "first_seen": line.first_seen.astimezone(tz).date().isoformat(),
        "last_seen": line.last_seen.astimezone(tz).date().isoformat(), "assignee": line.assignee,
        "message": line.message, "proposal": _(PROPOSAL_ZH[line.proposal]) if line.proposal in PROPOSAL_ZH else "",
    }  # fmt: skip


def _filters(filter_values: tuple[object, ...]) -> FlagFilters:
    return FlagFilters.from_inputs(**dict(zip(FILTERS, filter_values, strict=True)))


def _rows_for(user: User, filter_values: tuple[object, ...], limit: int) -> list[JsonRow]:
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


Fact = tuple[str, str | int | None]  # a caption and what it shows, a row of a facts table


def _facts(rows: list[Fact], table_id: str) -> Component:
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


def _library_card(title: str, version: LibraryVersion | None, rows: list[Fact], card_id: str) -> Component:
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


def _benchmark_rows(version: LibraryVersion | None) -> list[Fact]:
    row = version.row if version else None
    if not isinstance(row, ProductBenchmark):
        return []
    return [(_("物理下限"), _shown(row.physical_floor)), (_("合理下限"), _shown(row.plausible_low)),
            (_("典型值"), _shown(row.typical)), (_("合理上限"), _shown(row.plausible_high)),
            (_("单位"), _("千克CO₂e/{unit}").format(unit=unit_label(row.declared_unit))), (_("可信程度"), library_word(row.confidence)),
            (_("依据/来源"), row.basis)]  # fmt: skip


def _factor_rows(version: LibraryVersion | None) -> list[Fact]:
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


def _evidence_rows(detail: FlagDetail) -> list[Fact]:
    evidence = detail.flag.evidence if isinstance(detail.flag.evidence, dict) else {}
    claim = detail.claim
    declared: list[Fact] = [] if claim is None else [
        (_("企业"), claim.company_name), (_("产品"), f"{claim.product} {claim.model or ''}".strip()),
        (_("声明碳足迹"), _("{value} 千克CO₂e/{unit}").format(value=_shown(claim.footprint), unit=unit_label(claim.declared_unit))),
        (_("所用电网因子"), _shown(claim.electricity_factor)), (_("声明版本"), claim.version),
    ]  # fmt: skip
    shown: list[Fact] = [(translated(EVIDENCE, k), _evidence_value(k, v)) for k, v in evidence.items()
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

    def outcome(step: WorkflowStep) -> str:  # what an accepted proposal did
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
    reason = AUTO_CLOSED.text() if flag.closed_by is Closure.SCAN else flag.reason  # the scan's own words
    if reason:
        parts.append(dbc.Alert(f"{_('理由')}：{reason}", color="light", className="py-1 small"))
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


def _group_ref(value: object) -> int | None:
    """A group's id as the page sends it (g and one of its flag ids), or nothing; anything else is
    no id a page sends: refused with 400. The group itself is found again on the server."""
    if value is None:
        return None
    text = value if isinstance(value, str) else ""
    digits = text.removeprefix(GROUP_PREFIX)
    if text.startswith(GROUP_PREFIX) and digits.isascii() and digits.isdigit() and len(digits) < 10:
        flag_id = _flag_id(int(digits))
        if flag_id is not None:
            return flag_id
    raise Malformed("a group id: g and a flag id")


def _selected(rows: list[dict[str, object]] | None) -> tuple[int | None, int | None]:
    """The selected row: (flag id, None) for a flag, (None, a flag id of the group) for a group."""
    if rows and isinstance(rows[0].get("id"), str):
        try:
            return None, _group_ref(rows[0]["id"])
        except Malformed:
            raise BadRequest(_("请求格式不正确")) from None
    return selected_id(rows), None


FilterValues = Annotated[tuple[object, ...], many(RAW, len(FILTERS))]  # each cleaned by FlagFilters
ActionClicks = Annotated[tuple[int | None, ...], many(CLICKS, len(BUTTONS))]
GroupRef = Annotated[int | None, Check(_group_ref, "group id")]
MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)


def _view(value: object) -> str:
    return FLAT if value == FLAT else GROUPED  # the grouped view unless 逐条 is chosen


def _status_words(statuses: dict[FlagStatus, int]) -> str:
    if len(statuses) == 1:
        return label(next(iter(statuses)))
    ordered = [s for s in FlagStatus if s in statuses]
    return _("、").join(_("{status} {n}").format(status=label(s), n=statuses[s]) for s in ordered)


def _group_row(group: QueueGroup, single: QueueLine | None) -> JsonRow:
    """A row of the grouped view: a group of one is its flag's own row (selecting it opens the flag)."""
    if group.count == 1 and single is not None:
        return _row(single) | {"periods": _periods(group.periods)}
    tz = _tz()
    return {
        "id": f"{GROUP_PREFIX}{group.first}", "group": True, "severity": label(group.severity),
        "rule": f"{rule_name(group.rule_id)} ×{group.count}", "rule_id": group.rule_id, "count": group.count,
        "city": group.city, "subject": group.subject, "product": group.product, "claim_key": group.claim_key,
        "periods": _periods(group.periods), "status": _status_words(group.statuses),
        "proposal": _("{n} 条待省级审核").format(n=group.proposals) if group.proposals else "",
        "first_seen": group.first_seen.astimezone(tz).date().isoformat(),
        "last_seen": group.last_seen.astimezone(tz).date().isoformat(), "assignee": group.assignee,
        "message": _("同一规则、同一对象的 {n} 条风险线索：{periods}").format(n=group.count, periods=_periods(group.periods)),
    }  # fmt: skip


def _rule_options(session: Session, user: User, filters: FlagFilters) -> list[JsonRow]:
    """Each rule with how many of the user's flags it has under the other filters: 规则名（N）."""
    counts = rule_counts(session, user, filters)
    return [{"label": _("{name}（{n}）").format(name=rule_name(r), n=counts.get(r, 0)), "value": r,
             "search": f"{rule_name(r)} {r}"} for r in sorted(RULE_IDS)]  # fmt: skip


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
    Output(PREVIOUS, "disabled"), Output(NEXT, "disabled"), Output(GRID, "columnDefs"),
    Output(FILTERS["rule_ids"][0], "options"),
    *[Input(cid, "value") for cid, _caption, _param in FILTERS.values()], Input(REFRESH, "data"),
    Input(PREVIOUS, "n_clicks"), Input(NEXT, "n_clicks"), Input(VIEW, "value"), State(PAGE, "data"),
    read_only=True,
)  # fmt: skip
def load(
    call: Call,
    values: FilterValues,
    _refresh: Raw,
    _previous: Clicks,
    _next: Clicks,
    view_value: Raw,
    page_value: Raw,
) -> tuple[object, ...]:
    """One page of the queue from the server, most severe and latest first: groups (the default)
    or single flags; and the rule filter's counts."""
    filters, view, session, user = _filters(values), _view(view_value), call.session, call.user
    total = flag_count(session, user, filters)
    shown = group_count(session, user, filters) if view == GROUPED else total
    pages = max(1, -(-shown // SHOWN))
    page = min(max(_moved(page_value, call.triggered), 0), pages - 1)
    if view == GROUPED:
        groups = flag_groups(session, user, filters, SHOWN, page * SHOWN)
        singles = {g.first for g in groups if g.count == 1}
        lines = {line.id: line for line in flag_lines(session, user, singles)}
        rows = [_group_row(g, lines.get(g.first)) for g in groups]
        if pages == 1:
            words = _("共 {n} 条风险线索，合为 {groups} 组（同一规则、同一对象的多期线索为一组）").format(
                n=total, groups=shown
            )
        else:
            words = _(
                "共 {n} 条风险线索，合为 {groups} 组，第 {page}/{pages} 页（每页 {size} 组，最严重、最近的在前）"
            ).format(n=total, groups=shown, page=page + 1, pages=pages, size=SHOWN)
    else:
        rows = [_row(line) for line in flag_queue(session, user, filters, SHOWN, page * SHOWN)]
        if pages == 1:
            words = _("共 {n} 条风险线索").format(n=total)
        else:
            words = _("共 {n} 条风险线索，第 {page}/{pages} 页（每页 {size} 条，最严重、最近的在前）").format(
                n=total, page=page + 1, pages=pages, size=SHOWN
            )
    options = _rule_options(session, user, filters)
    return with_row_ids(rows), words, page, page == 0, page >= pages - 1, _columns(view), options  # fmt: skip


@page_callback(Action.VIEW, Output(UNCOMPARABLE_LINE, "children"), Input(REFRESH, "data"), read_only=True)
def uncomparable(call: Call, _refresh: Raw) -> Component:
    """How many claims no benchmark could judge (their unit does not convert to the benchmark's),
    still to be looked at, in the user's scope: the queue the link opens counts the same."""
    n = flag_count(call.session, call.user, FlagFilters(rule_ids=(UNCOMPARABLE,)))
    return html.Span([
        _("无法比对："),
        dcc.Link([_("{n} 条声明的单位无法换算为产品基准的单位，未能与基准比对").format(n=n),
                  badge(str(n), "warning" if n else "secondary", className="ms-1")],
                 href=f"{PATH}?rule={UNCOMPARABLE}", id="flg-uncomparable-link"),
    ], className="text-muted")  # fmt: skip


def _group_panel(group: list[QueueLine]) -> Component:
    """Every member flag of a selected group, each with its period and a link to open it alone."""
    tz = _tz()
    if not group:
        return dbc.Alert(_("当前筛选条件下，该组已没有风险线索"), color="light", className="small")
    head = group[0]
    claim_key = head.claim_key if head.subject_type == Subject.CLAIM else ""  # one claim id: the group's
    periods = sorted({(m.period_start, m.period_end) for m in group if m.period_start and m.period_end})
    rows = [html.Tr([
        html.Td(_period(m.period_start, m.period_end) if m.period_start and m.period_end else "—"),
        html.Td(badge(label(m.severity), SEVERITY_COLOURS[m.severity])),
        html.Td(badge(label(m.status), FLAG_COLOURS[m.status])),
        html.Td(_(PROPOSAL_ZH[m.proposal]) if m.proposal in PROPOSAL_ZH else ""),
        html.Td(format_datetime(m.last_seen, tz)), html.Td(m.message, className="text-break"),
        html.Td(dcc.Link(_("单独查看"), href=f"{PATH}?id={m.id}&view={FLAT}")),
    ]) for m in group]  # fmt: skip
    table_head = html.Thead(html.Tr([html.Th(h) for h in (
        _("期间"), _("严重程度"), _("状态"), _("省级审核"), _("最近发现"), _("说明"), "")]))  # fmt: skip
    limited = len(group) > GROUP_LIMIT
    return dbc.Card(dbc.CardBody([
        html.H3([rule_name(head.rule_id), f" ×{min(len(group), GROUP_LIMIT)}{'+' if limited else ''}"], className="h6"),
        html.P(" · ".join(w for w in (head.city, head.subject, head.product, claim_key) if w), className="small mb-1"),
        html.P(_("期间：{periods}").format(periods=_periods(tuple(periods)) or "—"), className="small text-muted mb-1"),
        html.P(_("在右侧执行的核查操作逐条应用于本组中您有权执行该操作的每条风险线索，每条单独记录、留痕；其余不变。"),
               className="small text-muted"),
        dbc.Table([table_head, html.Tbody(rows[:GROUP_LIMIT])], size="sm", bordered=True, className="small",
                  id="flg-group-members"),
    ]))  # fmt: skip


def _group_flags(call: Call, members: list[QueueLine]) -> list[Flag]:
    flags = [call.session.get(Flag, m.id) for m in members[:GROUP_LIMIT]]
    return [f for f in flags if f is not None]


def _people(user: User, people: list[User]) -> list[dict[str, object]]:
    """The 指派给 choices: who may be assigned, the user themself marked."""
    return [
        {"label": p.display_name + (_("（本人）") if p.id == user.id else ""), "value": p.id} for p in people
    ]


@page_callback(
    Action.VIEW, Output(DETAIL, "children"), Output(CURRENT, "data"), Output(GROUP, "data"),
    Output(ASSIGNEE, "options"), Output(ASSIGNEE, "value"),
    *[Output(bid, "disabled") for bid, _caption, _colour in BUTTONS.values()],
    Input(GRID, "selectedRows"), Input(REFRESH, "data"), State(FOCUS, "data"), State(CURRENT, "data"),
    State(GROUP, "data"), *[State(cid, "value") for cid, _caption, _param in FILTERS.values()], read_only=True,
)  # fmt: skip
def show(
    call: Call, rows: Rows, _refresh: Raw, focus: Raw, current: Raw, group: GroupRef, values: FilterValues
) -> tuple[object, ...]:
    user = call.user
    if call.triggered == GRID:
        flag_id, group_id = _selected(rows)
    else:
        flag_id, group_id = (
            (None, group) if group is not None else (_flag_id(current) or _flag_id(focus), None)
        )
    if group_id is not None:
        members = group_members(call.session, user, group_id, _filters(values))
        if members is None:
            raise PreventUpdate  # another city's flag or none: nothing, as for a missing one
        flags = _group_flags(call, members)
        allowed = {key for flag in flags for key in available_steps(user, flag)}
        options = _people(user, flag_assignees(call.session, user, flags[0]) if flags else [])
        return (_group_panel(members), None, f"{GROUP_PREFIX}{group_id}", options, user.id if options else None,
                *[key not in allowed for key in BUTTONS])  # fmt: skip
    detail = flag_detail(call.session, user, flag_id)
    if detail is None:
        raise PreventUpdate  # another city's flag or none: nothing, as for a missing one
    people = _people(user, flag_assignees(call.session, user, detail.flag))
    allowed = set(available_steps(user, detail.flag))
    shut = [key not in allowed for key in BUTTONS]
    return _detail(detail), detail.flag.id, None, people, user.id if people else None, *shut


@page_callback(
    Action.EDIT, MESSAGE_OUT, Output(REFRESH, "data", allow_duplicate=True), Output(REASON, "value"),
    *[Input(bid, "n_clicks") for bid, _caption, _colour in BUTTONS.values()],
    State(CURRENT, "data"), State(REASON, "value"), State(ASSIGNEE, "value"), State(REFRESH, "data"),
    State(GROUP, "data"), *[State(cid, "value") for cid, _caption, _param in FILTERS.values()],
    alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def act(
    call: Call,
    _clicks: ActionClicks,
    flag_value: Raw,
    reason: Text,
    assignee_id: Raw,
    refresh: Counter,
    group: GroupRef,
    values: FilterValues,
) -> tuple[object, ...]:
    steps = {bid: key for key, (bid, _caption, _colour) in BUTTONS.items()}
    if call.triggered not in steps:
        raise PreventUpdate
    step = steps[call.triggered]
    chosen = _flag_id(assignee_id)
    assignee = call.session.get(User, chosen) if step == "assign" and chosen else None
    if group is not None:
        return _act_on_group(call, group, _filters(values), step, reason, assignee), refresh + 1, ""
    flag_id = _flag_id(flag_value)
    if flag_id is None:
        raise Refused(_("请先在列表中选择一条风险线索"))
    flag = review_flag(
        call.session, call.user, flag_id, step, now=now_utc(), reason=reason, assignee=assignee
    )
    return alert(f"{_(DONE[step])}：{rule_name(flag.rule_id)}"), refresh + 1, ""


def _act_on_group(call: Call, group: int, filters: FlagFilters, step: str, reason: str | None,
                  assignee: User | None) -> Component:  # fmt: skip
    """The step on every member of the group the user may take it on now, one review step each
    (checked again and audited by tracker.flags.review); the others are left as they are."""
    members = group_members(call.session, call.user, group, filters)
    if members is None:
        raise TrackerError(Message("风险线索不存在"))  # as for a single flag out of scope
    if len(members) > GROUP_LIMIT:
        raise Refused(_("该组超过 {n} 条风险线索，请先缩小筛选范围").format(n=GROUP_LIMIT))
    flags = _group_flags(call, members)
    if not flags:
        raise Refused(_("当前筛选条件下，该组已没有风险线索"))
    now, user = now_utc(), call.user
    chosen = [flag for flag in flags if step in available_steps(user, flag)]
    if not chosen:  # none may take it: the first one's refusal says why
        review_flag(call.session, user, flags[0].id, step, now=now, reason=reason, assignee=assignee)
        chosen = flags[:1]  # (never reached while available_steps and review_flag agree)
    else:
        for flag in chosen:
            review_flag(call.session, user, flag.id, step, now=now, reason=reason, assignee=assignee)
    skipped = len(flags) - len(chosen)
    words = _("{done}：{rule}，共 {n} 条").format(
        done=_(DONE[step]), rule=rule_name(flags[0].rule_id), n=len(chosen)
    )
    if skipped:
        words += _("；另有 {n} 条不适用此操作，未改动").format(n=skipped)
    return alert(words)


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
