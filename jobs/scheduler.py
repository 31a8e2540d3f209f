"""The scheduler process (``tracker scheduler``): APScheduler 3 in its own process, never in a web
worker. Every trigger carries the configured time zone (Asia/Shanghai by default) whatever the
server clock's zone; jobs have fixed ids; a run missed while the process was down is caught up once
at start (the last due fire time within the grace period), and late fires coalesce into one. The
claim in the database (tracker.delivery.job_runs) makes a second scheduler, a restart or a caught-up run
that already happened do nothing.

The process writes its heartbeat (``scheduler_processes``) and its runs' every 15 seconds. A run
left ``running`` by a process that died (no heartbeat for two minutes) is taken over at start and
by a sweep every 30 seconds; the rerun queues nothing already in the outbox, and a message the dead
process was sending is left ``uncertain`` for a person (tracker.delivery.outbox).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from functools import partial

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import sessionmaker

from jobs.control import take_requests
from jobs.runner import run_now
from jobs.schedule import JOB_BY_ID, JOBS, JobSpec
from tracker.core.clock import now_in, now_utc
from tracker.core.config import Settings
from tracker.core.db import TrackerSession
from tracker.delivery.job_runs import KeepAlive, RunReport, register_scheduler, stale_runs
from tracker.delivery.outbox import deliver, smtp_send, webhook_post
from tracker.models import Trigger

GRACE = dt.timedelta(hours=6)  # a fire missed by less than this still runs (APScheduler's default: 1 s)
log = logging.getLogger("tracker.scheduler")


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


def catch_up(factory: sessionmaker[TrackerSession], settings: Settings, now: dt.datetime,
             specs: Iterable[JobSpec] = JOBS) -> list[RunReport]:  # fmt: skip
    """Run, once, every job whose last fire time passed while no scheduler was running."""
    reports = []
    for spec in specs:
        fire = last_due(spec, settings, now)
        if fire is not None:
            period = spec.period(fire.astimezone(settings.timezone))
            reports.append(run_now(spec, factory, settings, period, trigger=Trigger.CAUGHT_UP))
    return reports


def _fire(spec: JobSpec, factory: sessionmaker[TrackerSession], settings: Settings) -> None:
    period = spec.period(now_in(settings.timezone))
    run_now(spec, factory, settings, period, trigger=Trigger.SCHEDULED)


def register(scheduler: BaseScheduler, factory: sessionmaker[TrackerSession], settings: Settings,
             specs: Iterable[JobSpec] = JOBS) -> None:  # fmt: skip
    for spec in specs:
        scheduler.add_job(_fire, spec.trigger(settings), args=[spec, factory, settings], id=spec.id,
                          name=spec.name_zh, replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=int(GRACE.total_seconds()))  # fmt: skip


DELIVERY_EVERY = dt.timedelta(minutes=1)  # the outbox: due messages and retries
REQUESTS_EVERY = dt.timedelta(seconds=20)  # "run now" requests from the dashboard
TAKEOVER_EVERY = dt.timedelta(seconds=30)  # runs whose process died


def deliver_due(factory: sessionmaker[TrackerSession], settings: Settings) -> None:
    """Send whatever is due in the outbox (first tries of a crashed run, retries after back-off)."""
    result = deliver(factory, now=now_utc(), email=partial(smtp_send, settings.mail), webhook=webhook_post)
    if result.sent or result.retrying or result.failed or result.uncertain:
        log.info("投递 / delivery: sent %d, retrying %d, failed %d, uncertain %d", len(result.sent),
                 len(result.retrying), len(result.failed), len(result.uncertain))  # fmt: skip


def take_over_stale(factory: sessionmaker[TrackerSession], settings: Settings, *,
                    now: dt.datetime | None = None) -> list[RunReport]:  # fmt: skip
    """Run again, here, every run whose process stopped answering. The claim's conditional update
    decides which of two schedulers takes each; the other's ``run_now`` does nothing."""
    with factory() as session:
        found = [(run.job, run.period) for run in stale_runs(session, now=now or now_utc())]
    reports = []
    for job, period in found:
        spec = JOB_BY_ID.get(job)
        if spec is None:  # a job that no longer exists
            continue
        log.info("接管无响应的运行 / taking over a run whose process died: %s %s", job, period)
        reports.append(run_now(spec, factory, settings, period, trigger=Trigger.TAKEOVER))
    return reports


def take_over(factory: sessionmaker[TrackerSession], settings: Settings) -> None:
    take_over_stale(factory, settings)


def take_requested(factory: sessionmaker[TrackerSession], settings: Settings) -> None:
    take_requests(factory, settings, now=now_utc())


def register_housekeeping(
    scheduler: BaseScheduler, factory: sessionmaker[TrackerSession], settings: Settings
) -> None:
    """The outbox's delivery loop and the dashboard's run-now requests, on short intervals."""
    for func, every, job_id, name in ((deliver_due, DELIVERY_EVERY, "outbox", "消息投递"),
                                      (take_requested, REQUESTS_EVERY, "run_requests", "手动运行请求"),
                                      (take_over, TAKEOVER_EVERY, "takeover", "接管中断的运行")):  # fmt: skip
        scheduler.add_job(func, IntervalTrigger(seconds=int(every.total_seconds()), timezone=settings.timezone),
                          args=[factory, settings], id=job_id, name=name, replace_existing=True, coalesce=True,
                          max_instances=1, misfire_grace_time=int(every.total_seconds()))  # fmt: skip


def serve(factory: sessionmaker[TrackerSession], settings: Settings) -> None:
    """Say it is alive; catch up, take over runs whose process died, send what is due; then run on
    schedule until stopped (Ctrl-C or SIGTERM)."""
    process_id = register_scheduler(factory, now=now_utc())
    with KeepAlive(factory, process_id=process_id):
        catch_up(factory, settings, now_utc())
        take_over_stale(factory, settings)
        deliver_due(factory, settings)
        scheduler = BlockingScheduler(timezone=settings.timezone)
        register(scheduler, factory, settings)
        register_housekeeping(scheduler, factory, settings)
        for job in scheduler.get_jobs():
            log.info("已排程 / scheduled: %s (%s)", job.id, job.trigger)
        scheduler.start()
