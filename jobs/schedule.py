"""Every scheduled job, declared in one place: its id, Chinese name, default schedule (cron, in the
configured time zone; ``TRACKER_SCHEDULE_<ID>`` replaces it), which period a run stands for, and the
work. A run is claimed per job and period (tracker.job_runs), so nothing is done twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import SCHEDULE_PREFIX, Settings, SettingsError
from tracker.db import transaction
from tracker.job_runs import Claim, Outcome
from tracker.models import RunState

SCHEDULER_ACTOR = "scheduler"


@dataclass(frozen=True)
class JobContext:
    factory: sessionmaker[Session]
    settings: Settings
    period: str
    dry_run: bool = False
    claim: Claim | None = None  # None for a dry run


@dataclass(frozen=True)
class JobSpec:
    id: str
    name_zh: str
    default_cron: str
    period: Callable[[dt.datetime], str]  # the period a run at this local time stands for
    work: Callable[[JobContext], Outcome]

    def cron(self, settings: Settings) -> str:
        return settings.schedules.get(self.id, self.default_cron)

    def trigger(self, settings: Settings) -> CronTrigger:
        try:
            return CronTrigger.from_crontab(self.cron(settings), timezone=settings.timezone)
        except ValueError as error:
            name = f"{SCHEDULE_PREFIX}{self.id.upper()}"
            raise SettingsError(
                f"{name} 不是有效的 cron 表达式 / is not a valid cron line: {error}"
            ) from None


def day_period(local: dt.datetime) -> str:
    return local.date().isoformat()


def flag_scan(context: JobContext) -> Outcome:
    """Nightly: every claim rule and every progress check; new findings become flags (once)."""
    from tracker.claim_scan import scan_claims
    from tracker.consistency import scan_progress

    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        now = dt.datetime.now(dt.UTC)
        claims, progress = scan_claims(session, now=now), scan_progress(session, now=now)
        summary = (f"声明核查：{claims.summary_zh()}；进度核查：新发现{len(progress.new)}条，"
                   f"再次发现{progress.seen_again}条，自动关闭{progress.closed}条")  # fmt: skip
        if context.dry_run:
            session.rollback()
    return Outcome(RunState.SUCCEEDED, summary)


JOBS = (JobSpec("flag_scan", "夜间风险核查", "30 1 * * *", day_period, flag_scan),)
JOB_BY_ID = {job.id: job for job in JOBS}
