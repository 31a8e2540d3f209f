"""What ``/healthz`` and ``/metrics`` read from the database: whether it answers (``SELECT 1`` within
a short statement timeout), the scheduler's last heartbeat (the ``scheduler_processes`` row that
``tracker scheduler`` renews every 15 seconds), and how many job runs, outbox messages and flags
stand in each state.

The scheduler counts as down when no process has beaten for ``SCHEDULER_DOWN_AFTER`` (one minute,
four missed beats: what the jobs page calls stopped), and when none ever started.

May import: every package above except ``demo`` (``tests/core/test_layers.py`` holds the rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import func, select

from tracker.delivery.job_runs import PROCESS_STALE, is_alive, schedulers_seen
from tracker.models import Flag, FlagStatus, JobRun, MessageState, OutboxMessage, RunState, Severity

SCHEDULER_DOWN_AFTER = PROCESS_STALE
PING_TIMEOUT_MS = 2000  # the longest the health check's queries may take on PostgreSQL
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class SchedulerBeat:
    """The most recent scheduler heartbeat (None: no scheduler ever started here)."""

    last: dt.datetime | None
    age_seconds: int | None
    alive: bool


@dataclass(frozen=True)
class StateCounts:
    """Rows per state, every state present (0 when none), for the metrics' gauges."""

    job_runs: dict[str, int]
    outbox: dict[str, int]
    flags: dict[tuple[str, str], int]  # (severity, status)


def ping(session: Session, *, timeout_ms: int = PING_TIMEOUT_MS) -> None:
    """``SELECT 1``; on PostgreSQL this transaction's statements give up after ``timeout_ms``."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
    session.execute(text("SELECT 1"))


def scheduler_beat(session: Session, now: dt.datetime) -> SchedulerBeat:
    """The latest heartbeat of any scheduler process, its age and whether it still counts as alive."""
    seen = schedulers_seen(session, limit=1)
    if not seen:
        return SchedulerBeat(None, None, False)
    process = seen[0]
    age = max(0, int((now - process.last_beat).total_seconds()))
    return SchedulerBeat(process.last_beat, age, is_alive(process, now))


def _count_by(session: Session, column: InstrumentedAttribute[E], states: type[E]) -> dict[str, int]:
    counts = {state.value: 0 for state in states}
    for state, count in session.execute(select(column, func.count()).group_by(column)):
        counts[states(state).value] = int(count)
    return counts


def _flag_counts(session: Session) -> dict[tuple[str, str], int]:
    counts = {(severity.value, status.value): 0 for severity in Severity for status in FlagStatus}
    query = select(Flag.severity, Flag.status, func.count()).group_by(Flag.severity, Flag.status)
    for severity, status, count in session.execute(query):
        counts[(Severity(severity).value, FlagStatus(status).value)] = int(count)
    return counts


def state_counts(session: Session) -> StateCounts:
    """Job runs by state, outbox messages by state, flags by severity and status."""
    return StateCounts(
        job_runs=_count_by(session, JobRun.state, RunState),
        outbox=_count_by(session, OutboxMessage.state, MessageState),
        flags=_flag_counts(session),
    )
