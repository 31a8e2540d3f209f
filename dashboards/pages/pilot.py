"""试点详情 (/pilot?id=N): one pilot on one page — header with its progress, the task list with 序时进度
and actual progress, milestones, a timeline with a today line, the expected-vs-actual curve, every
update with what changed, flags and the audit trail. Plan changes since approval show the approved
value struck through. Built per visit from the progress function; it has no callbacks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.audit_words import action_word, entity_word, field_word
from dashboards.widgets import STATUS_COLOURS, UPDATE_COLOURS, Cell, badge, evidence_list, simple_table
from tracker.access.permissions import Action
from tracker.core.clock import local_today
from tracker.core.i18n import (
    N_,
    _,
    colon,
    english,
    format_date,
    format_datetime,
    label_of,
    name_of,
    wide_space,
)
from tracker.core.json_types import JsonRow
from tracker.core.messages import Joined, Listed, Message, message_of
from tracker.core.periods import Period
from tracker.lifecycle.deadlines import parse_chinese_or_iso_date
from tracker.models import AuditEvent, Milestone, Pilot, PilotStatus, Task, UpdateStatus, User
from tracker.models.labels import label, rule_name
from tracker.monitoring.pilot_record import (
    CurvePoint,
    PlanChange,
    PlanChanges,
    UpdateLine,
    find_visible_pilot,
    pilot_audit,
    pilot_flags,
    plan_changes,
    progress_curve,
    update_lines,
)
from tracker.progress.expected import (
    STATUS_LABELS,
    PilotProgress,
    TaskLine,
    load_progress,
    overdue_milestones,
    task_lines,
    thresholds_from,
)
from tracker.progress.updates import STATUS_ZH

PATH = "/pilot"
NAME = N_("试点详情")
ORDER = 40
REQUIRED_ACTION = Action.VIEW
IN_NAV = False  # reached from the lists, with ?id=


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value).normalize():f}"


def _shown(value: object) -> str:
    if isinstance(value, str) and len(value) > 19 and value[10] == "T":  # a stored timestamp (UTC)
        try:
            return format_datetime(dt.datetime.fromisoformat(value), app_settings().timezone)
        except ValueError:
            return value
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return format_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, Decimal):
        return _number(value)
    return "" if value is None else str(value)


def _cell(changes: PlanChanges, entity: str, row_id: int, name: str, value: object) -> Component | str:
    """A plan value; when it changed since approval, the approved value struck through before it."""
    change = changes.of(entity, row_id).get(name)
    if change is None:
        return _shown(value)
    return html.Span([
        html.Del(_shown(change.old) or "—", className="text-muted me-1"),
        html.Span(_shown(value), className="fw-semibold text-primary",
                  title=_("{who}于{when}修改").format(who=change.actor, when=format_date(change.at.date()))),
    ])  # fmt: skip


def _figure_card(title: str, value: str, card_id: str, colour: str = "primary") -> Component:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(title, className="text-muted small"),
        html.Div(value, className=f"fs-3 fw-bold text-{colour}", id=card_id),
    ])), md=2)  # fmt: skip


def _header(pilot: Pilot, progress: PilotProgress, on: dt.date) -> Component:
    product = name_of(pilot.product) if pilot.product else _("专业化服务")
    facts = [
        (_("试点单位"), pilot.organisation.name), (_("所在市"), name_of(pilot.city)),
        (_("类别/产品"), f"{label(pilot.category)} · {product}"), (_("批次"), _("第{n}批").format(n=pilot.batch.number)),
        (_("实施期"), f"{format_date(pilot.start_date)} — {format_date(pilot.end_date)}"),
        (_("状态"), label(pilot.status)),
    ]  # fmt: skip
    colour = STATUS_COLOURS[progress.status]
    return html.Div([
        html.H2([pilot.name, badge(_(STATUS_LABELS[progress.status]), colour, className="ms-2 fs-6", id="pilot-status")],
                className="h4"),
        html.Div([html.Span([html.Span(f"{k}{colon()}", className="text-muted"), v], className="me-4") for k, v in facts],
                 className="small mb-3"),
        dbc.Row([
            _figure_card(_("序时进度"), f"{_number(progress.expected)}%", "pilot-expected"),
            _figure_card(_("实际进度"), f"{_number(progress.actual)}%", "pilot-actual", "success"),
            _figure_card(_("差距（百分点）"), _number(progress.gap), "pilot-gap", colour if colour != "light" else "muted"),
        ], className="g-3 mb-2"),
        html.P(_("数据截至{date}；实际进度取最近一次已采纳的调度报送。").format(date=format_date(on)),
               className="text-muted small"),
    ])  # fmt: skip


def _tasks(session: Session, pilot: Pilot, on: dt.date, changes: PlanChanges) -> Component:
    units = {t.id: t for t in pilot.tasks}
    rows = []
    for line in task_lines(session, pilot.id, on):
        task = units[line.task_id]
        rows.append([
            line.number, _cell(changes, "tasks", task.id, "title", task.title),
            _cell(changes, "tasks", task.id, "weight", task.weight),
            _cell(changes, "tasks", task.id, "planned_start", task.planned_start),
            _cell(changes, "tasks", task.id, "planned_end", task.planned_end),
            _cell(changes, "tasks", task.id, "responsible_unit", task.responsible_unit),
            _number(line.expected), _number(line.actual), _number(line.gap),
        ])  # fmt: skip
    head = [_("序号"), _("任务"), _("权重"), _("计划开始"), _("计划完成"), _("责任单位"), _("序时进度%"),
            _("实际进度%"), _("差距")]  # fmt: skip
    return simple_table(head, rows, "pilot-tasks")


def _milestones(pilot: Pilot, overdue: set[int], changes: PlanChanges) -> Component:
    rows = []
    for m in pilot.milestones:
        state = (dbc.Badge(_("已达成 {d}").format(d=format_date(m.achieved_on)), color="success") if m.achieved_on
                 else dbc.Badge(_("逾期"), color="danger") if m.id in overdue else badge(_("未到期"), "light"))  # fmt: skip
        rows.append([
            _cell(changes, "milestones", m.id, "title", m.title), _cell(changes, "milestones", m.id, "due_date", m.due_date),
            _cell(changes, "milestones", m.id, "indicator", m.indicator),
            _cell(changes, "milestones", m.id, "target_value", m.target_value),
            _cell(changes, "milestones", m.id, "evidence_required", m.evidence_required), state,
        ])  # fmt: skip
    head = [_("阶段性目标"), _("到期日"), _("指标"), _("目标值"), _("需佐证材料"), _("状态")]
    return simple_table(head, rows, "pilot-milestones")


DAY_MS = 86_400_000
MILESTONE_STATES = {  # state → (colour, label): on time, reached late, overdue, not yet due
    "on_time": ("#2e7d32", N_("按期达成")),
    "late": ("#ef6c00", N_("逾期后达成")),
    "overdue": ("#c62828", N_("逾期未达成")),
    "open": ("#78909c", N_("未到期")),
}


def milestone_state(milestone: Milestone, on: dt.date) -> str:
    """on_time, late (reached after its due date), overdue (not reached, due before ``on``) or open."""
    if milestone.achieved_on is not None and milestone.achieved_on <= on:
        return "on_time" if milestone.achieved_on <= milestone.due_date else "late"
    return "overdue" if milestone.due_date < on else "open"


def _span_ms(start: dt.date, end: dt.date) -> int:
    return (end - start).days * DAY_MS + DAY_MS


def _timeline(pilot: Pilot, on: dt.date, lines: list[TaskLine], changes: PlanChanges) -> Component:
    """Plans against reality: each task's current plan as a bar filled to its reported progress,
    a tick at its 序时进度, the approved plan as a thin bar beneath where it was changed; milestones
    labelled and coloured on time / late / overdue / open; a line for ``on``.

    Figures are plain dicts, as on the overview: plotly's figure objects validate every property
    and cost more than the rest of the page."""
    names = [f"{t.number} {t.title}" for t in pilot.tasks]
    by_id = {line.task_id: line for line in lines}
    done = [by_id[t.id].actual if t.id in by_id else Decimal(0) for t in pilot.tasks]
    expected = [by_id[t.id].expected if t.id in by_id else Decimal(0) for t in pilot.tasks]
    spans = [_span_ms(t.planned_start, t.planned_end) for t in pilot.tasks]
    bases = [t.planned_start.isoformat() for t in pilot.tasks]
    data: list[JsonRow] = [{
        "type": "bar", "y": names, "orientation": "h", "name": _("当前计划"), "marker": {"color": "#cfe0f3"},
        "x": spans, "base": bases, "width": 0.55, "offset": -0.35, "customdata": [float(d) for d in done],
        "hovertemplate": "%{y}<br>" + _("{day} 起").format(day="%{base|" + _day_format() + "}")
                         + wide_space() + _("已完成 %{customdata:.0f}%") + "<extra></extra>",
    }, {
        "type": "bar", "y": names, "orientation": "h", "name": _("实际进度"), "marker": {"color": "#1565c0"},
        "x": [round(span * float(d) / 100) for span, d in zip(spans, done, strict=True)], "base": bases,
        "width": 0.55, "offset": -0.35, "hoverinfo": "skip",
    }, {
        "type": "scatter", "y": names, "mode": "markers", "name": _("序时进度"),
        "x": [(t.planned_start + dt.timedelta(days=round((t.planned_end - t.planned_start).days * float(e) / 100))).isoformat()
              for t, e in zip(pilot.tasks, expected, strict=True)],
        "marker": {"symbol": "line-ns-open", "size": 18, "line": {"width": 3, "color": "#263238"}},
        "customdata": [float(e) for e in expected],
        "hovertemplate": "%{y}<br>" + _("序时进度 %{customdata:.0f}%") + "<extra></extra>",
    }]  # fmt: skip
    approved = [(t, changes.of("tasks", t.id)) for t in pilot.tasks]
    moved = [(t, c) for t, c in approved if "planned_start" in c or "planned_end" in c]
    if moved:

        def was(task: Task, change: dict[str, PlanChange], name: str) -> dt.date:
            old = change[name].old if name in change else getattr(task, name)
            return old if isinstance(old, dt.date) else dt.date.fromisoformat(str(old))

        data.append({
            "type": "bar", "y": [f"{t.number} {t.title}" for t, _c in moved], "orientation": "h",
            "name": _("批准的计划"), "marker": {"color": "#90a4ae"}, "width": 0.18, "offset": 0.25,
            "x": [_span_ms(was(t, c, "planned_start"), was(t, c, "planned_end")) for t, c in moved],
            "base": [was(t, c, "planned_start").isoformat() for t, c in moved],
            "hovertemplate": "%{y}<br>" + _("批准的计划：{day} 起").format(day="%{base|" + _day_format() + "}") + "<extra></extra>",
        })  # fmt: skip
    if pilot.milestones:
        states = [milestone_state(m, on) for m in pilot.milestones]
        data.append({
            "type": "scatter", "x": [m.due_date.isoformat() for m in pilot.milestones],
            "y": [_("阶段性目标")] * len(pilot.milestones), "mode": "markers+text", "name": _("阶段性目标"),
            "marker": {"symbol": "diamond", "size": 12, "color": [MILESTONE_STATES[s][0] for s in states]},
            "text": [m.title for m in pilot.milestones], "textposition": "top center", "textfont": {"size": 10},
            "customdata": [_(MILESTONE_STATES[s][1]) for s in states],
            "hovertemplate": "%{text}<br>%{x|" + _day_format() + "}" + wide_space() + "%{customdata}<extra></extra>",
        })  # fmt: skip
    layout = {
        "height": 170 + 34 * (len(names) + 1), "margin": {"l": 10, "r": 10, "t": 24, "b": 30},
        "xaxis": {"type": "date", "tickformat": _month_format(), "automargin": True},
        "yaxis": {"autorange": "reversed", "automargin": True},
        "showlegend": True, "legend": {"orientation": "h", "y": -0.15}, "barmode": "overlay",
        "shapes": [{"type": "line", "x0": on.isoformat(), "x1": on.isoformat(), "y0": 0, "y1": 1, "yref": "paper",
                    "line": {"color": "#c62828", "dash": "dot"}}],
        "annotations": [{"x": on.isoformat(), "y": 1, "yref": "paper", "text": _("今日"), "showarrow": False,
                         "yanchor": "bottom", "font": {"color": "#c62828"}}],
    }  # fmt: skip
    return dcc.Graph(
        figure={"data": data, "layout": layout}, id="pilot-timeline", config={"displaylogo": False}
    )


def _curve(points: list[CurvePoint]) -> Component:
    days = [p.on.isoformat() for p in points]
    data = [
        {"type": "scatter", "x": days, "y": [float(p.expected) for p in points], "name": _("序时进度"),
         "mode": "lines+markers", "line": {"dash": "dash", "color": "#546e7a"}},
        {"type": "scatter", "x": days, "y": [float(p.actual) for p in points], "name": _("实际进度"),
         "mode": "lines+markers", "line": {"color": "#2e7d32", "shape": "hv"}},
    ]  # fmt: skip
    layout = {"height": 300, "margin": {"l": 10, "r": 10, "t": 24, "b": 30},
              "yaxis": {"range": [0, 105], "ticksuffix": "%", "automargin": True},
              "xaxis": {"tickformat": _month_format(), "automargin": True},
              "legend": {"orientation": "h"}}  # fmt: skip
    return dcc.Graph(figure={"data": data, "layout": layout}, id="pilot-curve", config={"displaylogo": False})


def _updates(pilot: Pilot, lines: list[UpdateLine]) -> Component:
    numbers = {t.id: t.number for t in pilot.tasks}
    tz = app_settings().timezone
    rows: list[list[Cell]] = []
    for line in reversed(lines):
        u = line.update
        moves = Joined(Message("任务{number}：{old}→{new}", number=numbers.get(tid, tid),
                               old=_number(old) if old is not None else "—", new=_number(new))
                       for tid, (old, new) in line.moves.items()).text()  # fmt: skip
        reached = Listed(line.milestones_reached).text()
        rows.append([
            label_of(Period(u.period_start, u.period_end)),
            badge(_(STATUS_ZH[u.status]), UPDATE_COLOURS[u.status.value]),
            format_datetime(u.submitted_at, tz) + (_("（逾期）") if u.is_late else ""),
            moves or _("无变化"), reached, (u.work_done or "")[:120], u.return_reason or "",
        ])  # fmt: skip
    head = [
        _("报告期"),
        _("状态"),
        _("首次提交"),
        _("进度变化"),
        _("达成的阶段性目标"),
        _("工作进展"),
        _("退回理由"),
    ]
    return simple_table(head, rows, "pilot-updates")


def _evidence(lines: list[UpdateLine]) -> Component:
    updates = [line.update for line in reversed(lines) if line.update.files]
    if not updates:
        return html.P(_("暂无佐证材料"), className="text-muted small", id="pilot-evidence")
    return html.Div([html.Div([html.Div(label_of(Period(u.period_start, u.period_end)), className="small fw-semibold"),
                               evidence_list(u)]) for u in updates], id="pilot-evidence")  # fmt: skip


def _flags(session: Session, user: User, pilot: Pilot) -> Component:
    rows: list[list[Cell]] = [[rule_name(f.rule_id), label(f.severity), message_of(f), label(f.status), format_date(f.first_seen.date()),
             dcc.Link(_("核查"), href=f"/flags?id={f.id}")] for f in pilot_flags(session, user, pilot)]  # fmt: skip
    return simple_table(
        [_("规则"), _("严重程度"), _("说明"), _("状态"), _("首次发现"), ""], rows, "pilot-flags"
    )


def _day_format() -> str:
    """Plotly's (d3) date format for a day, in the reader's language."""
    return "%b %-d, %Y" if english() else "%Y年%-m月%-d日"


def _month_format() -> str:
    return "%b %Y" if english() else "%Y年%-m月"


STATUS_WORDS: dict[str, PilotStatus | UpdateStatus] = {s.value: s for s in PilotStatus} | {
    s.value: s for s in UpdateStatus
}


def _word(field: str, value: object) -> str:
    """A changed field's value in words; a status in the reader's language (at render, not import)."""
    if field != "status" or not value:
        return _shown(value)
    status = STATUS_WORDS.get(value) if isinstance(value, str) else None
    if status is None:
        return str(value)
    return _(STATUS_ZH[status]) if isinstance(status, UpdateStatus) else label(status)


def _audit_change(event: AuditEvent) -> str:
    """What an event changed, in words: the fields of a change with old → new; for a new or deleted
    row, its summary or name."""
    if event.action == "update":
        before = event.before or {}
        return ("; " if english() else "；").join(f"{field_word(k)}{colon()}{_word(k, before.get(k)) or '—'} → {_word(k, v) or '—'}"
                        for k, v in (event.after or {}).items() if k != "version" and not k.endswith("_id"))[:300]  # fmt: skip
    values = event.after or event.before or {}
    return event.summary or str(values.get("title") or values.get("name") or values.get("unit_name") or "")


def _audit(session: Session, user: User, pilot: Pilot) -> Component:
    tz = app_settings().timezone
    rows = [[format_datetime(e.at, tz), e.actor_name, action_word(e), entity_word(e), _audit_change(e)]
            for e in pilot_audit(session, user, pilot)]  # fmt: skip
    return simple_table([_("时间"), _("操作人"), _("操作"), _("对象"), _("内容")], rows, "pilot-audit")


def _on(value: str | None, today: dt.date) -> dt.date:
    try:
        return parse_chinese_or_iso_date(value) if value else today
    except (ValueError, TypeError):
        return today


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, id: str | None = None, on: str | None = None, **_query: str) -> Component:
    settings = app_settings()
    today = local_today(settings.timezone)
    day = _on(on, today)
    thresholds = thresholds_from(settings)
    with db_session(read_only=True) as session:
        pilot = find_visible_pilot(session, user, int(id) if id and id.isdigit() else None)
        if pilot is None:
            return dbc.Alert(_("试点不存在或不在您的权限范围内。"), color="warning", className="mt-4")
        progress = load_progress(session, [pilot.id], day, thresholds)[pilot.id]
        changes = plan_changes(session, pilot, settings.timezone)
        overdue = {m.id for m in overdue_milestones(session, [pilot.id], day)[pilot.id]}
        since = (_("计划于{date}启动实施时确认；此后的修改以删除线标出原值。").format(date=format_date(changes.since.date()))
                 if changes.since else _("尚未启动实施（或未记录启动时间），计划变更不作标注。"))  # fmt: skip
        lines = update_lines(session, pilot)
        participants = [[p.unit_name, p.responsibility] for p in pilot.participants]
        return html.Div([
            dcc.Link(_("← 返回试点名录"), href="/pilots", className="small"),
            _header(pilot, progress, day),
            html.H3(_("任务清单"), className="h6 mt-3"), html.P(since, className="text-muted small"),
            _tasks(session, pilot, day, changes),
            html.H3(_("阶段性目标"), className="h6 mt-3"), _milestones(pilot, overdue, changes),
            html.H3(_("参与单位及分工"), className="h6 mt-3"), simple_table([_("单位"), _("分工")], participants, "pilot-participants"),
            dbc.Row([
                dbc.Col([html.H3(_("实施计划与实际进度"), className="h6 mt-3"),
                         _timeline(pilot, day, task_lines(session, pilot.id, day), changes)], lg=6),
                dbc.Col([html.H3(_("序时进度与实际进度"), className="h6 mt-3"),
                         _curve(progress_curve(session, pilot, day, thresholds))], lg=6),
            ]),
            html.H3(_("调度报送记录"), className="h6 mt-3"), _updates(pilot, lines),
            html.H3(_("佐证材料"), className="h6 mt-3"), _evidence(lines),
            html.H3(_("风险线索"), className="h6 mt-3"), _flags(session, user, pilot),
            html.H3(_("操作记录"), className="h6 mt-3"), _audit(session, user, pilot),
        ])  # fmt: skip
