"""What a job's work is handed: the session factory, the settings, the period the run stands for and
its claim. The job modules (flag scan, flag notices, reminders, bulletins, audit check) import this,
never the registry (jobs.schedule), which imports them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from tracker.core.clock import now_utc
from tracker.core.config import Settings
from tracker.core.db import TrackerSession
from tracker.delivery.job_runs import Claim

SCHEDULER_ACTOR = "scheduler"


@dataclass(frozen=True)
class JobContext:
    factory: sessionmaker[TrackerSession]
    settings: Settings
    period: str
    dry_run: bool = False
    claim: Claim | None = None  # None for a dry run
    now: dt.datetime | None = None  # when the run started (UTC); None: the clock's now
    force: bool = False  # a bulletin built before its period's updates are due (the administrator confirmed)

    def started(self) -> dt.datetime:
        return self.now or now_utc()

    def today(self) -> dt.date:
        """The local date of the run (the configured time zone, whatever the server's)."""
        return self.started().astimezone(self.settings.timezone).date()

    @property
    def run_id(self) -> int | None:
        """The claimed run's id (None for a dry run), recorded on what the run archives and queues."""
        return self.claim.run_id if self.claim else None
