"""Scheduled work: one row per job and period, claimed in the database before any work is done."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, code_str, intpk, utcnow
from tracker.models.audited import Audited
from tracker.models.enums import enum_column
from tracker.models.geography import City


class RunState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # retried by the next attempt (scheduled, caught up or by hand)
    SKIPPED = "skipped"  # nothing to do (no recipients, no data), with the reason
    # Not yet time (a bulletin before its period's updates are due), with the reason: the period is
    # not consumed, so the next run (scheduled, caught up or by hand) takes it like a failed one.
    DEFERRED = "deferred"


class Trigger(StrEnum):
    """What started a run; who, when a person did, is ``JobRun.triggered_by``."""

    SCHEDULED = "scheduled"  # the scheduler at the configured time
    CAUGHT_UP = "caught_up"  # the scheduler at its start, for a time it missed
    TAKEOVER = "takeover"  # the scheduler, taking over a run whose process died
    MANUAL = "manual"  # a person: the jobs page (triggered_by: the user) or the CLI (no user)
    FORCED = "forced"  # a person, for a bulletin before its period's updates are due
    DEMO = "demo"  # `tracker demo`, building the demo's bulletin


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
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger, "job_run_trigger"))
    triggered_by: Mapped[str | None] = mapped_column(String(64))  # the user, for a run a person asked for
    worker: Mapped[str] = mapped_column(String(200))  # host and process that holds or held the run
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The holding process says it is alive every ~15 s (tracker.delivery.job_runs.KeepAlive); a run whose
    # heartbeat is older than two minutes lost its process and is taken over by the next scheduler.
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)  # why it was skipped; what it did (Chinese, the record)
    # The same as messages (tracker.core.messages.to_data), shown in the reader's language; a row
    # recorded before 0022 has none and shows ``reason``.
    reason_data: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    error: Mapped[str | None] = mapped_column(Text)  # the last failure's text


class MessageState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a deliverer
    SENT = "sent"
    FAILED = "failed"  # every attempt failed: shown on the jobs page and in the next run's report
    # 状态不明: its deliverer died while it was "sending" (the far side may or may not have it). Never
    # sent again by itself: the provincial administrator resends it (same Message-ID) or marks it delivered.
    UNCERTAIN = "uncertain"


class OutboxMessage(Base):
    """One message to one recipient, written before anything is sent. ``key`` (job, period, what,
    recipient) is unique, so a rerun of a job cannot queue the same message twice; delivery claims a
    message by a conditional update, so two deliverers cannot both send it. ``message_id`` is made
    once, when queued, and goes with every attempt (the e-mail's Message-ID header, the webhook's
    Idempotency-Key), so a receiver can tell a second copy from a new message. The claim (who, when,
    a token) lets only that claim record the outcome; one that expired is ``uncertain``."""

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
    message_id: Mapped[str] = mapped_column(String(200), unique=True)  # <uuid@cfp-pilot-tracker>
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # host:pid of the last claim
    claimed_at: Mapped[dt.datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))  # the claim's; a person's decision clears it


class SchedulerProcess(Base):
    """One start of ``tracker scheduler``: the process writes ``last_beat`` every ~15 s, so the jobs
    page can say whether a scheduler is alive (and which host and process it is). Not ``Audited``:
    it is the process's own record."""

    __tablename__ = "scheduler_processes"

    id: Mapped[intpk]
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_beat: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Audience(StrEnum):
    """Who a recipient stands for: what they are sent follows from it."""

    PROVINCE = "province"  # the provincial bureau: the province-wide bulletin, every new flag
    CITY = "city"  # a city bureau: its city's bulletin, reminders, its city's new flags
    LEADERSHIP = "leadership"  # leaders: the one-page summary


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"  # a WeCom (企业微信) or DingTalk group robot: the summary text only


class Recipient(Base, Audited):
    """One address (or group-robot webhook) that scheduled jobs send to, by audience and city.

    Managed in the dashboard (发送对象); switching one off keeps it, so the trail says who was sent
    what and when."""

    __tablename__ = "recipients"
    __table_args__ = (
        UniqueConstraint("audience", "city_id", "channel", "address"),
        CheckConstraint("(audience = 'city') = (city_id IS NOT NULL)", name="city_audience_has_city"),
        CheckConstraint("locale IN ('zh_CN', 'en')", name="locale_known"),
    )

    id: Mapped[intpk]
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"))
    audience: Mapped[Audience] = mapped_column(enum_column(Audience, "recipient_audience"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "recipient_channel"))
    address: Mapped[str] = mapped_column(String(500))  # e-mail address or webhook URL
    name: Mapped[str] = mapped_column(String(100))  # whom it reaches: 应对气候变化处, 长治市局群
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The language its mails and robot messages are written in (tracker.core.i18n.LOCALES); an
    # attached bulletin stays the Chinese official document.
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN", server_default="zh_CN")

    city: Mapped[City | None] = relationship()


class Bulletin(Base):
    """An archived dispatch bulletin (调度通报): one file per kind, period, cut and correction, kept as
    sent.

    ``cut`` is ``province``, ``leadership`` or ``city:<code>``; ``city_id`` is set for a city's cut,
    so a city user sees its own. All cuts of one period share the issue number (第N期 of the year).
    ``correction`` is 0 for the bulletin as first issued and 1, 2… for its corrections (第N期（更正）,
    （更正2）), each archived beside the original with the administrator's ``reason``; the original
    stays as it was. Not ``Audited``: it is written once by a claimed job run (``run_id``) and never
    changed; downloads are audited."""

    __tablename__ = "bulletins"
    __table_args__ = (UniqueConstraint("kind", "period", "cut", "correction"),)

    id: Mapped[intpk]
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"))
    kind: Mapped[code_str]  # monthly, quarterly
    period: Mapped[code_str]  # 2026-10, 2026Q3
    cut: Mapped[code_str]
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[dt.date]
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    correction: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was corrected (a correction only)

    city: Mapped[City | None] = relationship(viewonly=True)


class JobRequest(Base):
    """A "run now" asked for in the dashboard. The web worker only writes this row; the scheduler
    process takes it (a conditional update on ``taken_at``) and runs the job there, through the same
    claim as a scheduled run, so a request for a period already done does nothing. ``force``: a
    bulletin built before its period's updates are due, confirmed by the administrator; ``reason``:
    why a bulletin is corrected (a correction's request). Not ``Audited`` (the take is a conditional
    bulk update): the request writes its own audit event."""

    __tablename__ = "job_requests"

    id: Mapped[intpk]
    job: Mapped[code_str]
    period: Mapped[code_str]
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    taken_at: Mapped[dt.datetime | None]
    taken_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(Text)
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
