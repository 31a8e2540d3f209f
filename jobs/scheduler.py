"""The scheduler process (``tracker scheduler``): APScheduler 3 in its own process, never in a web
worker. Every trigger carries the configured time zone (Asia/Shanghai by default) whatever the
server clock's zone; jobs have fixed ids; a run missed while the process was down is caught up once
at start (the last due fire time within the grace period), and late fires coalesce into one. The
claim in the database (tracker.job_runs) makes a second scheduler, a restart or a caught-up run
that already happened do nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from jobs.schedule import JOBS, JobContext, JobSpec
from tracker.config import Settings
from tracker.job_runs import RunReport, run_job

GRACE = dt.timedelta(hours=6)  # a fire missed by less than this still runs (APScheduler's default: 1 s)
log = logging.getLogger("tracker.scheduler")


def run_now(spec: JobSpec, factory: sessionmaker[Session], settings: Settings, period: str, *,
            trigger: str, now: Callable[[], dt.datetime] | None = None) -> RunReport:  # fmt: skip
    clock = now or (lambda: dt.datetime.now(dt.UTC))

    def work(claim):  # type: ignore[no-untyped-def]
        return spec.work(JobContext(factory, settings, period, claim=claim))

    report = run_job(factory, spec.id, period, work, now=clock, trigger=trigger)
    log.info("%s / %s", report.message_zh, report.message_en)
    return report


def last_due(
    spec: JobSpec, settings: Settings, now: dt.datetime, grace: dt.timedelta = GRACE
) -> dt.datetime | None:
    """The latest fire time of the job in (now − grace, now], if any."""
    trigger, latest = spec.trigger(settings), None
    fire = trigger.get_next_fire_time(None, now - grace)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return latest


def catch_up(factory: sessionmaker[Session], settings: Settings, now: dt.datetime,
             specs: Iterable[JobSpec] = JOBS) -> list[RunReport]:  # fmt: skip
    """Run, once, every job whose last fire time passed while no scheduler was running."""
    reports = []
    for spec in specs:
        fire = last_due(spec, settings, now)
        if fire is not None:
            period = spec.period(fire.astimezone(settings.timezone))
            reports.append(run_now(spec, factory, settings, period, trigger="caught_up"))
    return reports


def _fire(spec: JobSpec, factory: sessionmaker[Session], settings: Settings) -> None:
    period = spec.period(dt.datetime.now(settings.timezone))
    run_now(spec, factory, settings, period, trigger="scheduled")


def register(scheduler: BaseScheduler, factory: sessionmaker[Session], settings: Settings,
             specs: Iterable[JobSpec] = JOBS) -> None:  # fmt: skip
    for spec in specs:
        scheduler.add_job(_fire, spec.trigger(settings), args=[spec, factory, settings], id=spec.id,
                          name=spec.name_zh, replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=int(GRACE.total_seconds()))  # fmt: skip


def serve(factory: sessionmaker[Session], settings: Settings) -> None:
    """Catch up, then run on schedule until stopped (Ctrl-C or SIGTERM)."""
    catch_up(factory, settings, dt.datetime.now(dt.UTC))
    scheduler = BlockingScheduler(timezone=settings.timezone)
    register(scheduler, factory, settings)
    for job in scheduler.get_jobs():
        log.info("已排程 / scheduled: %s (%s)", job.id, job.trigger)
    scheduler.start()
