"""定时任务 (/jobs): the scheduled jobs as the provincial bureau watches them.

Every job with its schedule and next run (in the configured time zone), the history of runs (state,
attempt, what it did or why it was skipped, the error text), "run now" requests waiting for the
scheduler, messages that failed for good and messages whose sending was interrupted (状态不明), and
whether the scheduler process is alive (its last heartbeat, host and process). Provincial staff
read; only the provincial administrator asks for a run, sends failed messages again, and resends
or marks delivered an interrupted one. A web worker never runs a job: "run now" writes a request
that the scheduler process takes (jobs.control), through the same claim as a scheduled run, so a
period already done is refused (saying what was issued) and nothing is sent twice.

Two of the administrator's requests are confirmed first, after the page shows what they would do: a
bulletin before its period's updates are due (强制运行: the completeness it would carry), and a
correction of an issued bulletin (更正通报: its number, the original, the completeness now, with a
reason). The server checks the role again on confirmation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import Call, Clicks, Counter, Raw, Refused, Rows, Text, page_callback
from dashboards.grid import data_grid
from dashboards.widgets import ROW_ID, alert
from jobs.control import NotDue, next_runs, pending_requests, plan_correction, request_correction, request_run
from jobs.schedule import JOB_BY_ID, JOBS, RUNNABLE
from tracker.access.permissions import Action, may_run_jobs, require_run_jobs
from tracker.core.clock import now_utc
from tracker.core.i18n import N_, _, format_datetime, translated
from tracker.core.json_types import JsonRow
from tracker.core.messages import message_of
from tracker.core.secrets import redact
from tracker.delivery.job_runs import is_alive, run_history, run_reason, schedulers_seen
from tracker.delivery.outbox import (
    failed_messages,
    mark_delivered,
    requeue_failed,
    resend_uncertain,
    uncertain_messages,
)
from tracker.models import JobRequest, JobRun, RunState, Trigger, User

PATH = "/jobs"
NAME = N_("定时任务")
ORDER = 8.5
REQUIRED_ACTION = Action.VIEW_JOBS
HISTORY_LIMIT = 200

SCHEDULE, HISTORY, PENDING, FAILED = "jobs-schedule", "jobs-history", "jobs-pending", "jobs-failed"
JOB, PERIOD, RUN, REQUEUE, MESSAGE = "jobs-job", "jobs-period", "jobs-run", "jobs-requeue", "jobs-message"
REFRESH, TICK, RELOAD = "jobs-refresh", "jobs-tick", "jobs-reload"
UNCERTAIN, RESEND, DELIVERED, STATUS = "jobs-uncertain", "jobs-resend", "jobs-delivered", "jobs-scheduler"
CONFIRM, CONFIRM_TEXT, CONFIRM_DATA = "jobs-confirm", "jobs-confirm-text", "jobs-confirm-data"
CONFIRM_YES, CONFIRM_NO = "jobs-confirm-yes", "jobs-confirm-no"
FIX_KIND, FIX_PERIOD, FIX_REASON, FIX = "jobs-fix-kind", "jobs-fix-period", "jobs-fix-reason", "jobs-fix"
REQUEST_LATE = dt.timedelta(minutes=1)  # a "run now" request waiting longer: is the scheduler running?
STATE_ZH = {RunState.RUNNING: N_("运行中"), RunState.SUCCEEDED: N_("完成"), RunState.FAILED: N_("失败（将重试）"),
            RunState.SKIPPED: N_("跳过"), RunState.DEFERRED: N_("未到期（待运行）")}  # fmt: skip
CHANNEL_ZH = {"email": N_("电子邮件"), "webhook": N_("群机器人")}
PERIOD_HINT = {
    "day": N_("日期，如 2026-11-24"),
    "month": N_("月份，如 2026-10"),
    "quarter": N_("季度，如 2026Q3"),
}


TRIGGER_WORDS = {Trigger.SCHEDULED: N_("定时"), Trigger.MANUAL: N_("手动"), Trigger.CAUGHT_UP: N_("补跑"),
                 Trigger.TAKEOVER: N_("接管"), Trigger.FORCED: N_("强制"), Trigger.DEMO: N_("演示")}  # fmt: skip


def _trigger_zh(trigger: Trigger, by: str | None) -> str:
    """scheduled → 定时; manual by admin → 手动（admin）; manual from the command line → 手动（命令行）."""
    word = translated(TRIGGER_WORDS, trigger)
    if trigger in (Trigger.MANUAL, Trigger.FORCED):
        who = by or _("命令行")
        return f"{word}（{who}）"
    return word


def _last_line(text: str | None) -> str:
    """The gist of an error (a traceback's last line); the whole text is in the tooltip."""
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _name(job: str) -> str:
    spec = JOB_BY_ID.get(job)
    return _(spec.name_zh) if spec else job


def schedule_rows() -> list[JsonRow]:
    settings = app_settings()
    return [{
        "id": p.spec.id, "name": _(p.spec.name_zh), "cron": p.cron,
        "next_run": format_datetime(p.next_run, settings.timezone), "next_period": p.next_period or "",
    } for p in next_runs(settings, now_utc())]  # fmt: skip


def _duration(run: JobRun) -> str:
    if run.finished_at is None or run.started_at is None:
        return ""
    seconds = max(0, int((run.finished_at - run.started_at).total_seconds()))
    return (
        _("{m}分{s}秒").format(m=seconds // 60, s=seconds % 60)
        if seconds >= 60
        else _("{s}秒").format(s=seconds)
    )


def history_rows(session: Session) -> list[JsonRow]:
    tz = app_settings().timezone
    return [{
        "id": r.id, "name": _name(r.job), "period": r.period, "state": translated(STATE_ZH, r.state, r.state.value),
        "attempt": r.attempt, "trigger": _trigger_zh(r.trigger, r.triggered_by), "started": format_datetime(r.started_at, tz),
        "finished": format_datetime(r.finished_at, tz), "duration": _duration(r), "reason": run_reason(r),
        "error": redact(_last_line(r.error)), "error_text": redact(r.error or ""), "worker": r.worker,
    } for r in run_history(session, limit=HISTORY_LIMIT)]  # fmt: skip


def pending_rows(session: Session) -> list[JsonRow]:
    tz = app_settings().timezone
    return [{"id": r.id, "name": _name(r.job), "period": r.period, "by": r.requested_by,
             "at": format_datetime(r.requested_at, tz)} for r in pending_requests(session)]  # fmt: skip


def failed_rows(session: Session) -> list[JsonRow]:
    tz = app_settings().timezone
    return [{
        "id": m.id, "row_id": str(m.id), "recipient": redact(m.recipient), "channel": translated(CHANNEL_ZH, m.channel),
        "subject": m.subject, "attempts": m.attempts, "last_try": format_datetime(m.next_attempt_at, tz),
        "error": redact(m.last_error or ""),
    } for m in failed_messages(session)]  # fmt: skip


def uncertain_rows(session: Session) -> list[JsonRow]:
    tz = app_settings().timezone
    return [{
        "id": m.id, "row_id": str(m.id), "recipient": redact(m.recipient), "channel": translated(CHANNEL_ZH, m.channel),
        "subject": m.subject, "started": format_datetime(m.claimed_at, tz), "worker": m.claimed_by or "",
        "message_id": m.message_id,
    } for m in uncertain_messages(session)]  # fmt: skip


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return _("{n}秒前").format(n=seconds)
    if seconds < 7200:
        return _("{n}分钟前").format(n=seconds // 60)
    return _("{n}小时前").format(n=seconds // 3600)


def scheduler_status(session: Session, now: dt.datetime) -> list[Component]:
    """Whether a scheduler process is alive (from its heartbeat), and a warning for requests that
    have waited over a minute."""
    tz = app_settings().timezone
    seen = schedulers_seen(session)
    alive = [p for p in seen if is_alive(p, now)]
    parts: list[Any] = []
    if alive:
        parts += [alert(_("调度进程运行中：{host}，进程 {pid}，{started}启动，最后心跳 {beat}（{ago}）").format(
            host=p.host, pid=p.pid, started=format_datetime(p.started_at, tz), beat=format_datetime(p.last_beat, tz),
            ago=_ago((now - p.last_beat).total_seconds())), "success") for p in alive]  # fmt: skip
    elif seen:
        last = seen[0]
        parts.append(alert(_("调度进程已停止：最后心跳 {beat}（{ago}），{host}，进程 {pid}。定时任务、手动运行和"
                             "消息投递都不会执行，请启动 tracker scheduler。").format(
            beat=format_datetime(last.last_beat, tz), ago=_ago((now - last.last_beat).total_seconds()),
            host=last.host, pid=last.pid), "danger"))  # fmt: skip
    else:
        parts.append(alert(_("调度进程未运行：从未收到 tracker scheduler 的心跳。定时任务、手动运行和消息投递都不会执行。"),
                           "danger"))  # fmt: skip
    late = [r for r in pending_requests(session) if r.requested_at <= now - REQUEST_LATE]
    if late:
        parts.append(alert(_("有 {n} 个手动运行请求已等待超过1分钟（最早：{name} {period}），调度进程可能未运行或正忙。")
                           .format(n=len(late), name=_name(late[0].job), period=late[0].period), "warning"))  # fmt: skip
    return parts


def _columns(spec: list[tuple[str, str, int | None]]) -> list[JsonRow]:
    return [{"field": key, "headerName": caption} | ({"width": width} if width else {"flex": 1, "minWidth": 220})
            for key, caption, width in spec]  # fmt: skip


def _run_box(admin: bool) -> Component:
    """The administrator's "run now" form (others see that only the administrator may)."""
    if not admin:
        return html.P(_("手动运行任务、重发失败消息仅限省级管理员。"), className="text-muted small")
    options = [{"label": f"{_(spec.name_zh)} ({spec.id})", "value": spec.id} for spec in JOBS]
    return dbc.Row([
        dbc.Col([dbc.Label(_("任务"), html_for=JOB, className="small mb-0"),
                 dcc.Dropdown(id=JOB, options=options, value=None, placeholder=_("选择任务"), clearable=False)], md=4),
        dbc.Col([dbc.Label(_("期别"), html_for=PERIOD, className="small mb-0"),
                 dbc.Input(id=PERIOD, type="text", placeholder=_("如 2026-10、2026Q3 或 2026-11-24"), maxLength=20)],
                md=3),
        dbc.Col(dbc.Button(_("立即运行"), id=RUN, color="primary", className="mt-4"), md=2),
        dbc.Col(html.P(_("请求由调度进程在约20秒内执行；每个任务每期只运行一次，已完成的期别不会重复发送。"
                         "调度通报在本期更新截止日之后才生成，提前生成需确认。"),
                       className="text-muted small mt-4"), md=3),
    ], className="g-2 mb-2")  # fmt: skip


def _fix_box() -> Component:
    """The administrator's "correct a bulletin" form: which one, and why."""
    kinds = [
        {"label": _("月度调度通报"), "value": "monthly"},
        {"label": _("季度调度通报"), "value": "quarterly"},
    ]
    return dbc.Row([
        dbc.Col([dbc.Label(_("通报"), html_for=FIX_KIND, className="small mb-0"),
                 dcc.Dropdown(id=FIX_KIND, options=kinds, value="monthly", clearable=False)], md=2),
        dbc.Col([dbc.Label(_("期别"), html_for=FIX_PERIOD, className="small mb-0"),
                 dbc.Input(id=FIX_PERIOD, type="text", placeholder=_("如 2026-10 或 2026Q3"), maxLength=20)], md=2),
        dbc.Col([dbc.Label(_("更正原因"), html_for=FIX_REASON, className="small mb-0"),
                 dbc.Textarea(id=FIX_REASON, maxLength=500, rows=1)], md=4),
        dbc.Col(dbc.Button(_("更正通报…"), id=FIX, color="warning", className="mt-4"), md=2),
        dbc.Col(html.P(_("按今天的数据重新生成，期号不变，标题为“第N期（更正）”，与原件一并存档；"
                         "发送给原通报的发送对象各一次。"), className="text-muted small mt-3"), md=2),
    ], className="g-2 mb-2")  # fmt: skip


def _confirm_box() -> Component:
    """Where a forced run or a correction is shown before it is asked for."""
    return html.Div([
        dcc.Store(id=CONFIRM_DATA, data=None),
        dbc.Alert([html.Div(id=CONFIRM_TEXT, className="mb-2"),
                   dbc.Button(_("确认"), id=CONFIRM_YES, color="danger", size="sm", className="me-2"),
                   dbc.Button(_("取消"), id=CONFIRM_NO, color="secondary", size="sm")], color="warning"),
    ], id=CONFIRM, hidden=True)  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    admin = may_run_jobs(user)
    tz_name = str(app_settings().timezone)
    schedule_columns = _columns([("name", _("任务"), 160), ("id", _("编号"), 170), ("cron", _("计划（cron）"), 160),
                                 ("next_run", _("下次运行"), 190), ("next_period", _("对应期别"), None)])  # fmt: skip
    history_columns = _columns([("started", _("开始"), 170), ("name", _("任务"), 140), ("period", _("期别"), 110),
                                ("state", _("状态"), 120), ("attempt", _("第几次"), 90), ("trigger", _("方式"), 130),
                                ("duration", _("用时"), 90), ("reason", _("结果/跳过原因"), None),
                                ("error", _("错误"), 260)])  # fmt: skip
    history_columns[-1] |= {"tooltipField": "error_text"}
    pending_columns = _columns([("name", _("任务"), 160), ("period", _("期别"), 120), ("by", _("申请人"), 120),
                                ("at", _("申请时间"), None)])  # fmt: skip
    failed_columns = _columns([("recipient", _("收件人"), 240), ("channel", _("方式"), 100), ("subject", _("主题"), None),
                               ("attempts", _("已尝试"), 90), ("last_try", _("最后尝试"), 170),
                               ("error", _("错误"), 300)])  # fmt: skip
    failed_grid = data_grid(FAILED, failed_columns, [], height="30vh")
    uncertain_columns = _columns([("recipient", _("收件人"), 240), ("channel", _("方式"), 100),
                                  ("subject", _("主题"), None), ("started", _("发送开始"), 170),
                                  ("worker", _("投递进程"), 170), ("message_id", "Message-ID", 300)])  # fmt: skip
    uncertain_grid = data_grid(UNCERTAIN, uncertain_columns, [], height="25vh")
    for grid in (failed_grid, uncertain_grid):
        grid.getRowId = ROW_ID
        if admin:  # only the administrator picks messages to send again
            grid.dashGridOptions = {**grid.dashGridOptions, "rowSelection": {
                "mode": "multiRow", "checkboxes": True, "headerCheckbox": True, "enableClickSelection": False}}  # fmt: skip
    hidden = None if admin else {"display": "none"}
    return html.Div([
        dcc.Store(id=REFRESH, data=0),
        dcc.Interval(id=TICK, interval=30_000),
        html.Div([
            html.H2(_("定时任务"), className="h4 d-inline-block me-3"),
            dbc.Button(_("刷新"), id=RELOAD, color="link", size="sm", className="align-baseline"),
        ]),
        html.P(_("调度进程（tracker scheduler）独立于网页运行；时间均为 {tz}。每个任务每期只运行一次；"
                 "失败或中断的运行会自动重试。").format(tz=tz_name), className="text-muted small"),
        html.Div(id=STATUS),
        html.H3(_("计划"), className="h6 mt-3"),
        data_grid(SCHEDULE, schedule_columns, schedule_rows(), height="auto"),
        html.H3(_("手动运行"), className="h6 mt-3"),
        _run_box(admin),
        *([html.H3(_("更正通报"), className="h6 mt-3"), _fix_box(), _confirm_box()] if admin else []),
        html.Div(id=MESSAGE),
        html.H3(_("等待执行的手动运行请求"), className="h6 mt-3"),
        data_grid(PENDING, pending_columns, [], height="auto"),
        html.H3(_("发送失败的消息"), className="h6 mt-3"),
        html.P(_("多次重试仍未送达的消息保留在此，并在下一期通报中报告；修复邮件服务器或地址后可重新发送。"),
               className="text-muted small mb-1"),
        failed_grid,
        dbc.Button(_("重新发送所选"), id=REQUEUE, color="warning", size="sm", className="mt-2", disabled=not admin,
                   style=hidden),
        html.H3(_("状态不明的消息"), className="h6 mt-3"),
        html.P(_("发送过程中投递进程意外终止，无法确定对方是否已收到。这些消息不会自动重发：请向收件人核实后，"
                 "选择“重新发送”（沿用原 Message-ID，邮件服务器和收件人可据此识别重复）或“标记为已送达”。"),
               className="text-muted small mb-1"),
        uncertain_grid,
        html.Div([
            dbc.Button(_("重新发送"), id=RESEND, color="warning", size="sm", className="me-2", disabled=not admin),
            dbc.Button(_("标记为已送达"), id=DELIVERED, color="secondary", size="sm", disabled=not admin),
        ], className="mt-2", style=hidden),
        html.H3(_("运行记录（最近 {n} 次）").format(n=HISTORY_LIMIT), className="h6 mt-3"),
        data_grid(HISTORY, history_columns, [], height="45vh"),
    ])  # fmt: skip


MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)
REFRESH_OUT = Output(REFRESH, "data", allow_duplicate=True)
HIDDEN_OUT = Output(CONFIRM, "hidden", allow_duplicate=True)
TEXT_OUT = Output(CONFIRM_TEXT, "children", allow_duplicate=True)
DATA_OUT = Output(CONFIRM_DATA, "data", allow_duplicate=True)


def _asked(request: JobRequest) -> str:
    return _("已提交运行请求：{name} {period}（调度进程将在约20秒内执行，结果见运行记录）").format(
        name=_name(request.job), period=request.period
    )


@page_callback(
    REQUIRED_ACTION, Output(HISTORY, "rowData"), Output(PENDING, "rowData"), Output(FAILED, "rowData"),
    Output(SCHEDULE, "rowData"), Output(UNCERTAIN, "rowData"), Output(STATUS, "children"),
    Input(REFRESH, "data"), Input(TICK, "n_intervals"), Input(RELOAD, "n_clicks"),
)  # fmt: skip
def load(call: Call, _refresh: Raw, _tick: Clicks, _reload: Clicks) -> tuple[object, ...]:
    session = call.session
    return (history_rows(session), pending_rows(session), failed_rows(session), schedule_rows(),
            uncertain_rows(session), scheduler_status(session, now_utc()))  # fmt: skip


@page_callback(
    REQUIRED_ACTION, MESSAGE_OUT, REFRESH_OUT, HIDDEN_OUT, TEXT_OUT, DATA_OUT,
    Input(RUN, "n_clicks"), State(JOB, "value"), State(PERIOD, "value"), State(REFRESH, "data"),
    alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def run(call: Call, _clicks: Clicks, job: Text, period: Text, refresh: Counter) -> tuple[object, ...]:
    if call.triggered != RUN:
        raise PreventUpdate
    if job is None or job not in RUNNABLE:
        raise Refused(_("请选择要运行的任务"))
    if period is None or not period.strip():
        raise Refused(_("请填写期别：{hint}").format(hint=_(PERIOD_HINT[RUNNABLE[job].kind])))
    try:
        with db_session() as session:  # its own transaction: an early period is rolled back, then offered
            request = request_run(
                session, call.user, job, period.strip(), now=now_utc(), settings=call.settings
            )
    except NotDue as early:  # shown, with the completeness it would carry, before it may be forced
        text = _("{message}。确认现在强制生成吗？强制运行将记入审计日志。").format(message=message_of(early))
        return no_update, no_update, False, text, {"action": "force", "job": job, "period": period.strip()}
    return alert(_asked(request)), refresh + 1, True, "", None


@page_callback(
    REQUIRED_ACTION, MESSAGE_OUT, HIDDEN_OUT, TEXT_OUT, DATA_OUT,
    Input(FIX, "n_clicks"), State(FIX_KIND, "value"), State(FIX_PERIOD, "value"), State(FIX_REASON, "value"),
    alert=MESSAGE_OUT, read_only=True, prevent_initial_call=True,
)  # fmt: skip
def correct(call: Call, _clicks: Clicks, kind: Raw, period: Text, reason: Text) -> tuple[object, ...]:
    """Show what the correction would be; it is asked for only on confirmation."""
    if call.triggered != FIX:
        raise PreventUpdate
    if period is None or not period.strip():
        raise Refused(_("请填写要更正的期别"))
    if reason is None or not reason.strip():
        raise Refused(_("请填写更正原因"))
    plan = plan_correction(
        call.session, call.user, str(kind), period.strip(), now=now_utc(), settings=call.settings
    )
    text = _("{plan}更正原因：{reason}。确认发布更正吗？").format(
        plan=message_of(plan), reason=reason.strip()
    )
    return no_update, False, text, {"action": "correct", "kind": plan.kind, "period": plan.period_key,
                                    "reason": reason.strip()}  # fmt: skip


@page_callback(
    REQUIRED_ACTION, MESSAGE_OUT, REFRESH_OUT, HIDDEN_OUT, DATA_OUT,
    Input(CONFIRM_YES, "n_clicks"), Input(CONFIRM_NO, "n_clicks"), State(CONFIRM_DATA, "data"),
    State(REFRESH, "data"), alert=MESSAGE_OUT, on_refusal=((HIDDEN_OUT, True), (DATA_OUT, None)),
    prevent_initial_call=True,
)  # fmt: skip
def confirm(call: Call, _yes: Clicks, _no: Clicks, data: Raw, refresh: Counter) -> tuple[object, ...]:
    """The confirmed forced run or correction; everything is checked again here, on the server
    (the role, the period, whether it is still early or still issued)."""
    if call.triggered not in (CONFIRM_YES, CONFIRM_NO):
        raise PreventUpdate
    if call.triggered == CONFIRM_NO or not isinstance(data, dict):
        return alert(_("已取消，未做更改"), "secondary"), no_update, True, None
    require_run_jobs(call.user)
    if data.get("action") == "force":
        request = request_run(call.session, call.user, str(data.get("job")), str(data.get("period")), now=now_utc(),
                              settings=call.settings, force=True)  # fmt: skip
    elif data.get("action") == "correct":
        request = request_correction(call.session, call.user, str(data.get("kind")), str(data.get("period")),
                                     str(data.get("reason") or ""), now=now_utc(), settings=call.settings)  # fmt: skip
    else:
        raise PreventUpdate
    return alert(_asked(request)), refresh + 1, True, None


def _ticked(rows: list[dict[str, object]] | None) -> list[int]:
    """The ids of the ticked rows (what is not an id is left out)."""
    return [row["id"] for row in rows or [] if type(row.get("id")) is int]  # type: ignore[misc]


@page_callback(
    REQUIRED_ACTION, MESSAGE_OUT, REFRESH_OUT, Input(REQUEUE, "n_clicks"), State(FAILED, "selectedRows"),
    State(REFRESH, "data"), alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def requeue(call: Call, _clicks: Clicks, rows: Rows, refresh: Counter) -> tuple[object, int]:
    if call.triggered != REQUEUE:
        raise PreventUpdate
    ids = _ticked(rows)
    if not ids:
        raise Refused(_("请先勾选要重新发送的消息"))
    requeued = requeue_failed(call.session, call.user, ids, now=now_utc())
    if not requeued:
        return alert(_("所选消息已不在失败列表中，未做更改"), "warning"), refresh + 1
    return alert(_("已将 {n} 条消息重新排队，调度进程将在1分钟内发送").format(n=len(requeued))), refresh + 1


@page_callback(
    REQUIRED_ACTION, MESSAGE_OUT, REFRESH_OUT, Input(RESEND, "n_clicks"), Input(DELIVERED, "n_clicks"),
    State(UNCERTAIN, "selectedRows"), State(REFRESH, "data"), alert=MESSAGE_OUT, prevent_initial_call=True,
)  # fmt: skip
def decide(
    call: Call, _resend: Clicks, _delivered: Clicks, rows: Rows, refresh: Counter
) -> tuple[object, int]:
    """The administrator's decision on interrupted messages: send again, or record as delivered."""
    if call.triggered not in (RESEND, DELIVERED):
        raise PreventUpdate
    ids = _ticked(rows)
    if not ids:
        raise Refused(_("请先勾选状态不明的消息"))
    decide_on = resend_uncertain if call.triggered == RESEND else mark_delivered
    done = decide_on(call.session, call.user, ids, now=now_utc())
    if not done:
        return alert(_("所选消息已不在状态不明列表中，未做更改"), "warning"), refresh + 1
    if call.triggered == RESEND:
        resent = _("已将 {n} 条消息重新排队（沿用原 Message-ID），调度进程将在1分钟内发送").format(
            n=len(done)
        )
        return alert(resent), refresh + 1
    return alert(_("已将 {n} 条消息记为已送达").format(n=len(done))), refresh + 1
