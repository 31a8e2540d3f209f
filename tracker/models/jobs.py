"""Scheduled work: one row per job and period, claimed in the database before any work is done."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, code_str, intpk, utcnow
from tracker.models.enums import enum_column


class RunState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # retried by the next attempt (scheduled, caught up or by hand)
    SKIPPED = "skipped"  # nothing to do (no recipients, no data), with the reason


class JobRun(Base):
    """One job for one period (a month "2026-10", a quarter "2026-Q4", a day "2026-11-24").

    The unique (job, period) key is the claim: whoever inserts the row does the work, whoever
    finds it done or still running does nothing. A failed run, or one stuck in ``running`` past the
    timeout, is taken over by a conditional update on its ``attempt``, so of two takers one wins.
    Not ``Audited``: every run is itself the record (who, when, what happened, the error text).
    """

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[intpk]
    job: Mapped[code_str]
    period: Mapped[code_str]
    state: Mapped[RunState] = mapped_column(enum_column(RunState, "job_run_state"))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    trigger: Mapped[code_str]  # scheduled, manual
    worker: Mapped[str] = mapped_column(String(200))  # host and process that holds or held the run
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # a long run says it is alive
    finished_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)  # why it was skipped; what it did
    error: Mapped[str | None] = mapped_column(Text)  # the last failure's text
