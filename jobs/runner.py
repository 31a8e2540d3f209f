"""Running one job for one period now, through its claim (tracker.delivery.job_runs): what the
scheduler's triggers, catch-up and takeover, the dashboard's requests (jobs.control) and the CLI all
call. A run of a period already done does nothing again; for a bulletin it says what was issued.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.orm import sessionmaker

from jobs.context import JobContext
from jobs.schedule import BULLETIN_JOBS, JobSpec
from tracker.core.clock import now_utc
from tracker.core.config import Settings
from tracker.core.db import TrackerSession
from tracker.core.messages import Day, Message, both
from tracker.core.periods import parse_period
from tracker.delivery.bulletin_archive import issued_note
from tracker.delivery.job_runs import DONE, Claim, Outcome, RunReport, add_note, run_job
from tracker.models import Trigger

log = logging.getLogger("tracker.scheduler")


def run_now(spec: JobSpec, factory: sessionmaker[TrackerSession], settings: Settings, period: str, *,
            trigger: Trigger, by: str | None = None, now: Callable[[], dt.datetime] | None = None,
            force: bool = False) -> RunReport:  # fmt: skip
    """Run ``spec`` for ``period`` through its claim. ``force``: a bulletin before its period's
    updates are due (the administrator confirmed it; see jobs.bulletins)."""
    clock = now or now_utc

    def work(claim: Claim) -> Outcome:
        return spec.work(JobContext(factory, settings, period, claim=claim, now=clock(), force=force))

    report = run_job(factory, spec.id, period, work, now=clock, trigger=trigger, by=by)
    if not report.ran and report.state in DONE:
        report = _what_exists(spec, factory, settings, period, report, trigger, clock())
    log.info("%s", both(report.message))
    return report


def _what_exists(spec: JobSpec, factory: sessionmaker[TrackerSession], settings: Settings, period: str,
                 report: RunReport, trigger: Trigger, now: dt.datetime) -> RunReport:  # fmt: skip
    """A bulletin run for a period already issued says what was issued and how to correct it; a
    scheduled (or caught-up) one adds that to the period's record on the jobs page."""
    frequency = BULLETIN_JOBS.get(spec.id)
    if frequency is None:
        return report
    key = parse_period(period, frequency)
    with factory() as session:
        note = issued_note(session, frequency.value, key.key, key.label)
    if note is None:
        return report
    if trigger in (Trigger.SCHEDULED, Trigger.CAUGHT_UP):
        how = Message("定时运行") if trigger is Trigger.SCHEDULED else Message("补跑")
        day = Day(now.astimezone(settings.timezone).date())
        add_note(factory, spec.id, period, Message("{day}{how}：{note}", day=day, how=how, note=note))
    return dataclasses.replace(report, message=Message("{report}：{note}", report=report.message, note=note))
