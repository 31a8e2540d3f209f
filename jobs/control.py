"""What the dashboard's jobs page needs: next run times, "run now" requests, and the scheduler's side
of them. A web worker never runs a job: it records a request (audited), and the scheduler process
takes it by a conditional update and runs it through the same claim as a scheduled run, so asking
twice, or for a period already done, sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from jobs.schedule import JOB_BY_ID, JOBS, JobSpec
from jobs.scheduler import run_now
from tracker import audit
from tracker.config import Settings
from tracker.errors import TrackerError
from tracker.job_runs import DONE, RunReport, worker_name
from tracker.models import JobRequest, JobRun, RunState, User
from tracker.permissions import require_run_jobs

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


def request_run(session: Session, user: User, job: str, period_text: str, *, now: dt.datetime) -> JobRequest:
    """Ask the scheduler to run ``job`` for a period now (provincial administrator only)."""
    require_run_jobs(user)
    spec = JOB_BY_ID.get(job)
    if spec is None:
        raise TrackerError(f"没有名为 {job} 的任务", f"No job named {job}")
    period = spec.normalize_period(period_text)
    run = session.scalars(select(JobRun).where(JobRun.job == spec.id, JobRun.period == period)).first()
    if run is not None and run.state in DONE:
        raise TrackerError(f"“{spec.name_zh}” {period} 已{'完成' if run.state is RunState.SUCCEEDED else '跳过'}，"
                           "不会重复运行（每期只运行一次）",
                           f"{spec.id} {period} is {run.state.value} already; a period runs once")  # fmt: skip
    waiting = session.scalars(select(JobRequest).where(JobRequest.job == spec.id, JobRequest.period == period,
                                                       JobRequest.taken_at.is_(None))).first()  # fmt: skip
    if waiting is not None:
        raise TrackerError(
            f"“{spec.name_zh}” {period} 已在等待运行", f"{spec.id} {period} is waiting to run already"
        )
    request = JobRequest(job=spec.id, period=period, requested_by=user.username, requested_at=now)
    session.add(request)
    session.flush()
    audit.record(session, "request_run", "job_requests", request.id, summary=f"手动运行 {spec.name_zh} {period}",
                 after={"job": spec.id, "period": period})  # fmt: skip
    return request


def pending_requests(session: Session) -> list[JobRequest]:
    return list(
        session.scalars(select(JobRequest).where(JobRequest.taken_at.is_(None)).order_by(JobRequest.id))
    )


def take_requests(factory: sessionmaker[Session], settings: Settings, *, now: dt.datetime) -> list[RunReport]:
    """The scheduler's side: take each waiting request (one taker wins) and run it here."""
    from tracker.db import transaction

    reports = []
    with factory() as session:
        waiting = [(r.id, r.job, r.period, r.requested_by) for r in pending_requests(session)]
    for request_id, job, period, who in waiting:
        with transaction(factory, actor="scheduler") as session:
            taken = session.execute(
                update(JobRequest).where(JobRequest.id == request_id, JobRequest.taken_at.is_(None))
                .values(taken_at=now, taken_by=worker_name())
                .execution_options(synchronize_session=False)
            )  # fmt: skip
        if int(getattr(taken, "rowcount", 0)) != 1:
            continue
        report = run_now(JOB_BY_ID[job], factory, settings, period, trigger=f"manual:{who}")
        with transaction(factory, actor="scheduler") as session:
            row = session.get(JobRequest, request_id)
            if row is not None:
                row.outcome = report.message_zh[:2000]
        reports.append(report)
    return reports
