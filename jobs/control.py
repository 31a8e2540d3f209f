"""What the dashboard's jobs page needs: next run times, "run now" requests, and the scheduler's side
of them. A web worker never runs a job: it records a request (audited), and the scheduler process
takes it by a conditional update and runs it through the same claim as a scheduled run, so asking
twice, or for a period already done, sends nothing twice.

Two requests are the provincial administrator's alone, each confirmed after seeing what it would do:
a bulletin before its period's updates are due (``force``: the page first shows the completeness it
would carry), and a correction of an issued bulletin (with a reason; its own run, "2026-11#1").
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from jobs.bulletins import Readiness, correction_key, correction_label, correction_name, readiness
from jobs.runner import run_now
from jobs.schedule import BULLETIN_JOBS, JOB_BY_ID, JOBS, RUNNABLE, JobSpec
from tracker.access.permissions import require_run_jobs
from tracker.audit import trail as audit
from tracker.core.config import Settings
from tracker.core.db import TrackerSession, transaction
from tracker.core.errors import TrackerError
from tracker.core.messages import Day, Label, Message
from tracker.core.periods import Frequency, parse_period
from tracker.delivery.bulletin_archive import issued, issued_note, last_correction
from tracker.delivery.job_runs import DONE, RunReport, worker_name
from tracker.models import JobRequest, JobRun, RunState, Trigger, User

REASON_MAX = 500  # a correction's reason: a sentence or two, shown in the message and the archive

log = logging.getLogger("tracker.scheduler")


@dataclass(frozen=True)
class Planned:
    spec: JobSpec
    cron: str
    next_run: dt.datetime | None  # in the configured time zone
    next_period: str | None  # the period that run will stand for


def next_runs(settings: Settings, now: dt.datetime) -> list[Planned]:
    """Every job with its schedule and the next time it fires."""
    planned = []
    for spec in JOBS:
        fire = spec.trigger(settings).get_next_fire_time(None, now)
        local = fire.astimezone(settings.timezone) if fire is not None else None
        planned.append(Planned(spec, spec.cron(settings), local, spec.period(local) if local else None))
    return planned


class NotDue(TrackerError):
    """A bulletin asked for before its period's updates are due: ask again with ``force`` once the
    administrator has seen (``readiness``) the completeness it would carry."""

    def __init__(self, readiness: Readiness) -> None:
        self.readiness = readiness
        super().__init__(readiness.not_due())


def request_run(session: Session, user: User, job: str, period_text: str, *, now: dt.datetime,
                settings: Settings, force: bool = False) -> JobRequest:  # fmt: skip
    """Ask the scheduler to run ``job`` for a period now (provincial administrator only). A bulletin
    whose period's updates are not due yet is refused (``NotDue``) unless ``force``d; the forced
    request is audited with the completeness it was forced at."""
    require_run_jobs(user)
    spec = RUNNABLE.get(job)
    if spec is None:
        raise TrackerError(Message("没有名为 {job} 的任务", job=job))
    period = spec.normalize_period(period_text)
    run = session.scalars(select(JobRun).where(JobRun.job == spec.id, JobRun.period == period)).first()
    if run is not None and run.state in DONE:
        _refuse_done(session, spec, period, run.state)
    _refuse_waiting(session, spec, period)
    after: dict[str, object] = {"job": spec.id, "period": period}
    summary = Message("手动运行 {job} {period}", job=spec.name_zh, period=period).zh
    frequency = BULLETIN_JOBS.get(spec.id)
    if frequency is not None:
        ready = readiness(session, settings, parse_period(period, frequency), _local_day(now, settings))
        if not ready.is_due and not force:
            raise NotDue(ready)
        if not ready.is_due:
            after |= {"force": True, "due": ready.due.isoformat(), "submitted": ready.submitted,
                      "expected": ready.expected}  # fmt: skip
            summary = Message("强制运行 {job} {period}（更新截止{day}，完整率{completeness}）", job=spec.name_zh,
                              period=period, day=Day(ready.due), completeness=ready.completeness()).zh  # fmt: skip
    request = JobRequest(job=spec.id, period=period, requested_by=user.username, requested_at=now,
                         force=bool(after.get("force")))  # fmt: skip
    session.add(request)
    session.flush()
    audit.record(session, "request_run", "job_requests", request.id, summary=summary, after=after)
    return request


def _local_day(now: dt.datetime, settings: Settings) -> dt.date:
    return now.astimezone(settings.timezone).date()


def _refuse_done(session: Session, spec: JobSpec, period: str, state: RunState) -> None:
    frequency = BULLETIN_JOBS.get(spec.id)
    note = None
    if frequency is not None:
        key = parse_period(period, frequency)
        note = issued_note(session, frequency.value, key.key, key.label)
    if note is not None:
        raise TrackerError(Message("“{name}” {period} 已完成，不会重复运行：{note}", name=_name(spec), period=period, note=note))  # fmt: skip
    raise TrackerError(Message("“{name}” {period} 已{state}，不会重复运行（每期只运行一次）", name=_name(spec), period=period, state=Label("完成" if state is RunState.SUCCEEDED else "跳过", state.value)))  # fmt: skip


def _name(spec: JobSpec) -> Label:
    """A job by its Chinese name; in English by its id (the jobs page and the CLI name it so)."""
    return Label(spec.name_zh, spec.id)


def _refuse_waiting(session: Session, spec: JobSpec, period: str) -> None:
    waiting = session.scalars(select(JobRequest).where(JobRequest.job == spec.id, JobRequest.period == period,
                                                       JobRequest.taken_at.is_(None))).first()  # fmt: skip
    if waiting is not None:
        raise TrackerError(Message("“{name}” {period} 已在等待运行", name=_name(spec), period=period))


# --- corrections -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectionPlan:
    """What a correction would be: its number and run period, the original, the completeness now."""

    spec: JobSpec
    kind: str
    period_key: str
    label_zh: str
    number: int
    correction: int
    run_period: str  # 2026-11#1
    original_title: str
    original_day: dt.date
    readiness: Readiness

    @property
    def message(self) -> Message:
        """What the administrator confirms, in the reader's language."""
        return Message("将印发{period}调度通报第{number}期（{correction}），替代{day}印发的《{title}》（原件保留，仍可下载）；"
                       "按今天的数据重新生成，完整率{completeness}，发送给原通报的发送对象各一次。",
                       period=Label(self.label_zh, self.period_key), number=self.number,
                       correction=correction_name(self.correction), day=Day(self.original_day),
                       title=self.original_title, completeness=self.readiness.completeness())  # fmt: skip


def plan_correction(session: Session, user: User, kind: str, period_text: str, *, now: dt.datetime,
                    settings: Settings) -> CorrectionPlan:  # fmt: skip
    """The correction ``user`` would issue for the period's bulletin, or a clear refusal: only the
    provincial administrator; only an issued bulletin; one correction at a time. A second correction
    is 更正2 (a third 更正3…): each is confirmed with its own reason, and the earlier ones stay."""
    require_run_jobs(user)
    frequency = {f.value: f for f in Frequency}.get(kind)
    if frequency is None:
        raise TrackerError(Message("通报类型应为 monthly 或 quarterly：{kind}", kind=kind))
    period = parse_period(period_text, frequency)
    spec = JOB_BY_ID[f"{kind}_bulletin_correction"]
    originals = issued(session, kind, period.key)
    if not originals:
        raise TrackerError(Message("{label}调度通报尚未印发，没有可更正的通报", label=Label(period.label_zh, period.label_en)))  # fmt: skip
    correction = last_correction(session, kind, period.key) + 1
    prefix = f"{period.key}#"
    for run in session.scalars(select(JobRun).where(JobRun.job == spec.id, JobRun.period.startswith(prefix))):
        if run.state is RunState.RUNNING:
            raise TrackerError(Message("{label}调度通报的更正正在运行，请稍候", label=Label(period.label_zh, period.label_en)))  # fmt: skip
        if run.state not in DONE:  # a correction that failed (or waits) is retried under its number
            correction = min(correction, int(run.period.removeprefix(prefix)))
    waiting = session.scalars(select(JobRequest).where(JobRequest.job == spec.id, JobRequest.period.startswith(prefix),
                                                       JobRequest.taken_at.is_(None))).first()  # fmt: skip
    if waiting is not None:
        raise TrackerError(Message("{label}调度通报的更正已在等待运行", label=Label(period.label_zh, period.label_en)))  # fmt: skip
    first = originals[0]
    ready = readiness(session, settings, period, _local_day(now, settings))
    return CorrectionPlan(spec, kind, period.key, period.label_zh, first.number, correction,
                          correction_key(period.key, correction), first.title, first.issued_on, ready)  # fmt: skip


def request_correction(session: Session, user: User, kind: str, period_text: str, reason: str, *,
                       now: dt.datetime, settings: Settings) -> JobRequest:  # fmt: skip
    """Ask the scheduler to issue a correction (provincial administrator only; the reason is kept in
    the request, the archive, the message and the audit trail)."""
    plan = plan_correction(session, user, kind, period_text, now=now, settings=settings)
    reason = " ".join((reason or "").split())
    if not reason:
        raise TrackerError(Message("请填写更正原因"))
    if len(reason) > REASON_MAX:
        raise TrackerError(Message("更正原因请控制在{reason_max}字以内", reason_max=REASON_MAX))
    request = JobRequest(job=plan.spec.id, period=plan.run_period, requested_by=user.username, requested_at=now,
                         reason=reason)  # fmt: skip
    session.add(request)
    session.flush()
    audit.record(session, "request_correction", "job_requests", request.id,
                 summary=f"更正{plan.label_zh}调度通报第{plan.number}期（{correction_label(plan.correction)}）：{reason}",
                 after={"job": plan.spec.id, "period": plan.run_period, "reason": reason,
                        "submitted": plan.readiness.submitted, "expected": plan.readiness.expected})  # fmt: skip
    return request


def pending_requests(session: Session) -> list[JobRequest]:
    return list(
        session.scalars(select(JobRequest).where(JobRequest.taken_at.is_(None)).order_by(JobRequest.id))
    )


def take_requests(
    factory: sessionmaker[TrackerSession], settings: Settings, *, now: dt.datetime
) -> list[RunReport]:
    """The scheduler's side: take each waiting request (one taker wins) and run it here."""
    with factory() as session:
        waiting = [r.id for r in pending_requests(session)]
    reports = [take_request(factory, settings, request_id, now=now) for request_id in waiting]
    return [report for report in reports if report is not None]


def take_request(factory: sessionmaker[TrackerSession], settings: Settings, request_id: int, *,
                 now: dt.datetime) -> RunReport | None:  # fmt: skip
    """Take one request (None when another taker had it) and run it here, as it asked (forced or not)."""
    with transaction(factory, actor="scheduler") as session:
        taken = session.execute(
            update(JobRequest).where(JobRequest.id == request_id, JobRequest.taken_at.is_(None))
            .values(taken_at=now, taken_by=worker_name())
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    if int(getattr(taken, "rowcount", 0)) != 1:
        return None
    with factory() as session:
        request = session.get(JobRequest, request_id)
        assert request is not None
        job, period, who, force = request.job, request.period, request.requested_by, request.force
    trigger = Trigger.FORCED if force else Trigger.MANUAL
    report = run_now(JOB_BY_ID[job], factory, settings, period, trigger=trigger, by=who, force=force)
    with transaction(factory, actor="scheduler") as session:
        row = session.get(JobRequest, request_id)
        if row is not None:
            row.outcome = report.message_zh[:2000]
    return report
