"""Scheduled work: one row per job and period, claimed in the database before any work is done."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Integer, LargeBinary, String, Text, UniqueConstraint
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


class MessageState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a deliverer
    SENT = "sent"
    FAILED = "failed"  # every attempt failed: shown on the jobs page and in the next run's report


class OutboxMessage(Base):
    """One message to one recipient, written before anything is sent. ``key`` (job, period, what,
    recipient) is unique, so a rerun of a job cannot queue the same message twice; delivery claims a
    message by a conditional update, so two deliverers cannot both send it."""

    __tablename__ = "outbox"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(300), unique=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[code_str]  # email, webhook
    recipient: Mapped[str] = mapped_column(String(500))  # an address, or a webhook URL
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[MessageState] = mapped_column(enum_column(MessageState, "outbox_state"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
