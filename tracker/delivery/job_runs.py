"""Running a job exactly once per period: the run is claimed in the database before any work.

Claiming inserts the (job, period) row in state ``running`` and commits at once, so a second
scheduler process, a restarted one or a hand-started run finds it and does nothing. While it runs,
its process's ``KeepAlive`` thread renews the run's ``heartbeat_at`` every 15 seconds (and, in the
scheduler, the process's own row in ``scheduler_processes``). A run that failed, or that is still
``running`` with no heartbeat for two minutes (its process died), is taken over by a conditional
update on its attempt number: of two takers only one matches; a scheduler looks for such runs when
it starts and every 30 seconds. The result is written under the same condition, so a stalled worker
that wakes up after being replaced cannot overwrite its successor's outcome. What a job sends must
itself be keyed by job and period (the outbox does that), so a retried run does not send twice what
its failed attempt sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracker.core.clock import now_utc
from tracker.core.db import TrackerSession
from tracker.core.messages import CarriesMessage, Label, Lines, Message, Shown, stored_message, to_data
from tracker.models import JobRun, RunState, SchedulerProcess, Trigger

BEAT_EVERY = dt.timedelta(seconds=15)  # how often a process says it (and its runs) are alive
STALE_AFTER = dt.timedelta(minutes=2)  # no heartbeat for this long: the worker is gone
PROCESS_STALE = dt.timedelta(minutes=1)  # a scheduler silent this long has stopped (the jobs page)
KEEP_PROCESSES = dt.timedelta(days=30)  # how long a stopped scheduler's row is kept
DONE = (RunState.SUCCEEDED, RunState.SKIPPED)
log = logging.getLogger("tracker.scheduler")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


@dataclass(frozen=True)
class Claim:
    run_id: int
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """What a job did: succeeded with a summary, or skipped with the reason (no data, no recipients),
    as a message: the run's record keeps it and shows it in the reader's language."""

    state: RunState
    reason: Message


def claim_run(factory: sessionmaker[TrackerSession], job: str, period: str, *, now: dt.datetime, trigger: Trigger,
              by: str | None = None, stale_after: dt.timedelta = STALE_AFTER,
              worker: str | None = None) -> Claim | None:  # fmt: skip
    """The right to run ``job`` for ``period`` now, or None when it is done or held by a live worker."""
    worker = worker or worker_name()
    with factory() as session:
        try:
            run = JobRun(job=job, period=period, state=RunState.RUNNING, attempt=1, trigger=trigger, triggered_by=by, worker=worker,
                         started_at=now, heartbeat_at=now)  # fmt: skip
            session.add(run)
            session.commit()
            return Claim(run.id, 1)
        except IntegrityError:
            session.rollback()
        run = session.scalars(select(JobRun).where(JobRun.job == job, JobRun.period == period)).one()
        if run.state in DONE or (run.state is RunState.RUNNING and run.heartbeat_at > now - stale_after):
            return None
        run_id, attempt, error = run.id, run.attempt, run.error
        if run.state is RunState.RUNNING:  # its worker stopped answering: that attempt failed
            error = (
                f"第{run.attempt}次运行（{run.worker}）超时无响应，已重试 / attempt {run.attempt} timed out"
            )
        taken = session.execute(
            update(JobRun)
            .where(JobRun.id == run_id, JobRun.attempt == attempt, JobRun.state == run.state)
            .values(state=RunState.RUNNING, attempt=attempt + 1, trigger=trigger, triggered_by=by, worker=worker,
                    started_at=now, heartbeat_at=now, finished_at=None, error=error)
        )  # fmt: skip
        session.commit()
        return Claim(run_id, attempt + 1) if _rows(taken) == 1 else None


def heartbeat(factory: sessionmaker[TrackerSession], claim: Claim, *, now: dt.datetime) -> bool:
    """Say the run is alive; False when it was taken over (the caller should stop)."""
    with factory() as session:
        done = session.execute(
            update(JobRun).where(JobRun.id == claim.run_id, JobRun.attempt == claim.attempt,
                                 JobRun.state == RunState.RUNNING).values(heartbeat_at=now)
        )  # fmt: skip
        session.commit()
        return _rows(done) == 1


def finish_run(factory: sessionmaker[TrackerSession], claim: Claim, state: RunState, *, now: dt.datetime,
               reason: Message | None = None, error: str | None = None) -> bool:  # fmt: skip
    """Record the outcome of this attempt (its reason as Chinese text, the record, and as a message);
    False when the run had been taken over meanwhile."""
    values: dict[str, object] = {"state": state, "finished_at": now, "reason": reason.zh if reason else None,
                                 "reason_data": [to_data(reason)] if reason else None}  # fmt: skip
    if error is not None:
        values["error"] = error[-8000:]
    with factory() as session:
        done = session.execute(
            update(JobRun).where(JobRun.id == claim.run_id, JobRun.attempt == claim.attempt,
                                 JobRun.state == RunState.RUNNING).values(**values)
        )  # fmt: skip
        session.commit()
        return _rows(done) == 1


def _rows(result: object) -> int:
    """How many rows an UPDATE changed."""
    return int(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class RunReport(CarriesMessage):
    job: str
    period: str
    ran: bool  # False: done before, or held by another worker
    state: RunState | None
    message: Message


def run_job(factory: sessionmaker[TrackerSession], job: str, period: str, work: Callable[[Claim], Outcome], *,
            now: Callable[[], dt.datetime], trigger: Trigger, by: str | None = None,
            stale_after: dt.timedelta = STALE_AFTER) -> RunReport:  # fmt: skip
    """Claim the run, do the work, record what happened; an exception is a failed run with its text."""
    claim = claim_run(factory, job, period, now=now(), trigger=trigger, by=by, stale_after=stale_after)
    if claim is None:
        with factory() as session:
            run = session.scalars(select(JobRun).where(JobRun.job == job, JobRun.period == period)).one()
            state, worker, beat = run.state, run.worker, run.heartbeat_at
        if state is RunState.RUNNING:  # another process holds it and said so lately
            silent = max(0, int((now() - beat).total_seconds()))
            return RunReport(job, period, False, state,
                             Message("{job} {period} 正由 {worker} 运行（{silent}秒前有心跳），未重复运行；若其{stale}秒无心跳，将被接管", job=job, period=period, worker=worker, silent=silent, stale=int(stale_after.total_seconds())))  # fmt: skip
        return RunReport(job, period, False, state, Message("{job} {period} 已{state}，未重复运行", job=job, period=period, state=Label(_STATE_ZH[state], state.value)))  # fmt: skip
    try:
        outcome = work(claim)
    except Exception:  # the run's record must say what went wrong, whatever it was
        finish_run(factory, claim, RunState.FAILED, now=now(), error=traceback.format_exc())
        return RunReport(job, period, True, RunState.FAILED, Message("{job} {period} 运行失败，已记录错误", job=job, period=period))  # fmt: skip
    finish_run(factory, claim, outcome.state, now=now(), reason=outcome.reason)
    return RunReport(job, period, True, outcome.state, Message("{job} {period} {state}：{reason}", job=job, period=period,
                     state=Label(_STATE_ZH[outcome.state], outcome.state.value), reason=outcome.reason))  # fmt: skip


_STATE_ZH = {RunState.RUNNING: "在运行", RunState.SUCCEEDED: "完成", RunState.FAILED: "失败",
             RunState.SKIPPED: "跳过", RunState.DEFERRED: "未到期，暂不运行"}  # fmt: skip


def add_note(factory: sessionmaker[TrackerSession], job: str, period: str, note: Message) -> None:
    """Add a line to a finished run's record (what a later run found), once: a scheduled run that
    finds the period done says so where people look, instead of skipping silently."""
    with factory() as session:
        run = session.scalars(select(JobRun).where(JobRun.job == job, JobRun.period == period)).first()
        if run is None or run.state not in DONE or note.zh in (run.reason or ""):
            return
        earlier = run.reason_data if run.reason_data is not None else [run.reason] if run.reason else []
        run.reason_data = [*earlier, to_data(note)]
        run.reason = f"{run.reason}\n{note.zh}" if run.reason else note.zh
        session.commit()


def run_record(run: JobRun) -> Shown:
    """What the run did, line by line, shown in the reader's language. A line stored as text (a run
    recorded before its reason was kept as messages) is shown as it is."""
    if run.reason_data is None:
        return Label(run.reason or "", run.reason or "")
    lines: list[Shown | str] = []
    for item in run.reason_data:
        message = stored_message(item)
        lines.append(message if message is not None else str(item))
    return Lines(*lines)


def run_reason(run: JobRun, locale: str | None = None) -> str:
    """What the run did, in the reader's language (``locale``, or the current one)."""
    return run_record(run).text(locale)


def stale_runs(
    session: Session, *, now: dt.datetime, stale_after: dt.timedelta = STALE_AFTER
) -> list[JobRun]:
    """Runs still ``running`` whose process stopped answering: to be taken over."""
    return list(session.scalars(select(JobRun).where(JobRun.state == RunState.RUNNING,
                                                     JobRun.heartbeat_at <= now - stale_after)
                                .order_by(JobRun.id)))  # fmt: skip


# --- heartbeats ------------------------------------------------------------------------------------


def beat_runs(factory: sessionmaker[TrackerSession], *, now: dt.datetime, worker: str | None = None) -> int:
    """Renew the heartbeat of every run this process (``worker``) holds; how many it holds."""
    with factory() as session:
        done = session.execute(
            update(JobRun).where(JobRun.worker == (worker or worker_name()), JobRun.state == RunState.RUNNING)
            .values(heartbeat_at=now).execution_options(synchronize_session=False)
        )  # fmt: skip
        session.commit()
        return _rows(done)


def register_scheduler(factory: sessionmaker[TrackerSession], *, now: dt.datetime) -> int:
    """A scheduler process starts: its row (host, pid, when) for the jobs page. Rows of processes
    silent for over ``KEEP_PROCESSES`` are dropped."""
    with factory() as session:
        session.execute(delete(SchedulerProcess).where(SchedulerProcess.last_beat < now - KEEP_PROCESSES))
        row = SchedulerProcess(
            host=socket.gethostname()[:200], pid=os.getpid(), started_at=now, last_beat=now
        )
        session.add(row)
        session.commit()
        return row.id


def beat_scheduler(factory: sessionmaker[TrackerSession], process_id: int, *, now: dt.datetime) -> None:
    with factory() as session:
        session.execute(
            update(SchedulerProcess).where(SchedulerProcess.id == process_id).values(last_beat=now)
        )
        session.commit()


def schedulers_seen(session: Session, *, limit: int = 5) -> list[SchedulerProcess]:
    """The scheduler processes heard from most recently, latest first."""
    return list(session.scalars(select(SchedulerProcess).order_by(SchedulerProcess.last_beat.desc(),
                                                                  SchedulerProcess.id.desc()).limit(limit)))  # fmt: skip


def is_alive(process: SchedulerProcess, now: dt.datetime) -> bool:
    return process.last_beat > now - PROCESS_STALE


class KeepAlive:
    """A background thread that renews, every ``every``, the heartbeat of the runs this process holds
    and (for a scheduler, ``process_id``) the process's own row. Errors are logged and the next beat
    tries again: a database away for a moment must not stop the jobs. Use as a context manager.
    Times come from tracker.core.clock: with the clock set to stand still (TRACKER_CLOCK_NOW, a demo),
    heartbeats do not age, so a stopped process is not noticed there."""

    def __init__(self, factory: sessionmaker[TrackerSession], *, process_id: int | None = None,
                 every: dt.timedelta = BEAT_EVERY, clock: Callable[[], dt.datetime] = now_utc) -> None:  # fmt: skip
        self.factory, self.process_id, self.every, self.clock = factory, process_id, every, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-heartbeat", daemon=True)

    def beat(self) -> None:
        now = self.clock()
        if self.process_id is not None:
            beat_scheduler(self.factory, self.process_id, now=now)
        beat_runs(self.factory, now=now)

    def _run(self) -> None:
        while not self._stop.wait(self.every.total_seconds()):
            try:
                self.beat()
            except Exception:  # the next beat tries again
                log.exception("心跳写入失败 / heartbeat failed")

    def start(self) -> KeepAlive:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def __enter__(self) -> KeepAlive:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def run_history(session: Session, job: str | None = None, limit: int = 100) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list(session.scalars(query))
