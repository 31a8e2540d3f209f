"""One pilot's record for its page: progress over time, plan changes since approval, updates with
what changed, flags and the audit trail. Plain data; every figure comes from ``tracker.progress.expected``.

The plan counts as approved when implementation starts (the 启动实施 step, or for pilots recorded
without it, their start day): from then on the task
list and milestones are the commitments the pilot is measured against, so a later change to a
weight, a planned span, a due date or a target is shown beside the value it replaced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.access.permissions import visible_audit_events, visible_flags, visible_pilots
from tracker.core.periods import Frequency, periods_between
from tracker.models import AuditEvent, Flag, Pilot, ProgressUpdate, Subject, User, WorkflowStep
from tracker.progress.expected import Thresholds, progress_history
from tracker.progress.owed import STARTED

# Fields of the plan whose changes after approval are shown (struck through) on the pilot page.
PLAN_FIELDS = {
    "tasks": ("title", "weight", "planned_start", "planned_end", "responsible_unit"),
    "milestones": ("title", "due_date", "indicator", "target_value", "evidence_required"),
}


def find_visible_pilot(session: Session, user: User, pilot_id: object) -> Pilot | None:
    """The pilot if it exists and the user may see it (one answer for both, so nothing leaks)."""
    if isinstance(pilot_id, bool) or not isinstance(pilot_id, int) or not 0 < pilot_id < 2**31:
        return None
    return session.scalars(visible_pilots(user).where(Pilot.id == pilot_id)).first()


@dataclass(frozen=True)
class CurvePoint:
    on: dt.date
    expected: Decimal
    actual: Decimal


def progress_curve(session: Session, pilot: Pilot, on: dt.date, thresholds: Thresholds) -> list[CurvePoint]:
    """Expected and actual progress at the start, at each month end and on ``on`` (the progress
    function at each date, so the curve ends exactly at the figures shown in the header)."""
    last = min(on, pilot.end_date)
    if last < pilot.start_date:
        return []
    dates = [pilot.start_date] + [p.end for p in periods_between(pilot.start_date, last, Frequency.MONTHLY)
                                  if p.end < last] + [last]  # fmt: skip
    figures = progress_history(session, pilot.id, sorted(set(dates)), thresholds)
    return [CurvePoint(day, figure.expected, figure.actual) for day, figure in figures.items()]


def approved_at(session: Session, pilot: Pilot, tz: ZoneInfo) -> dt.datetime | None:
    """When the plan was approved: the pilot's 启动实施 step; for a pilot that started before steps
    were recorded (imported rows), the start of its start day. None while it has not started."""
    step = session.scalar(
        select(WorkflowStep.at)
        .where(WorkflowStep.subject_type == Subject.PILOT, WorkflowStep.subject_id == pilot.id,
               WorkflowStep.step == "start")
        .order_by(WorkflowStep.at.desc())
    )  # fmt: skip
    if step is not None or pilot.status not in STARTED:
        return step
    return dt.datetime.combine(pilot.start_date, dt.time(), tzinfo=tz)


@dataclass
class PlanChange:
    """A field of a task or milestone changed since approval: the approved value and the current."""

    old: Any
    new: Any
    at: dt.datetime
    actor: str


@dataclass
class PlanChanges:
    since: dt.datetime | None
    by_row: dict[tuple[str, int], dict[str, PlanChange]] = field(default_factory=dict)

    def of(self, entity: str, row_id: int) -> dict[str, PlanChange]:
        return self.by_row.get((entity, row_id), {})


def plan_changes(session: Session, pilot: Pilot, tz: ZoneInfo) -> PlanChanges:
    """For each task and milestone, the fields that changed after approval: the value before the
    first such change (the approved one) and the latest, with who made the latest change and when.
    A field changed and changed back is not a change."""
    since = approved_at(session, pilot, tz)
    changes = PlanChanges(since)
    if since is None:
        return changes
    ids = {"tasks": [t.id for t in pilot.tasks], "milestones": [m.id for m in pilot.milestones]}
    wanted = [and_(AuditEvent.entity_type == entity, AuditEvent.entity_id.in_([str(i) for i in rows]))
              for entity, rows in ids.items() if rows]  # fmt: skip
    if not wanted:
        return changes
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "update", AuditEvent.at > since, or_(*wanted))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    for event in events:
        row = changes.by_row.setdefault((event.entity_type, int(event.entity_id or 0)), {})
        for name in PLAN_FIELDS[event.entity_type]:
            if name not in (event.after or {}):
                continue
            before = row[name].old if name in row else (event.before or {}).get(name)
            row[name] = PlanChange(before, event.after[name], event.at, event.actor_name)  # type: ignore[index]
    for row in changes.by_row.values():
        for name in [n for n, change in row.items() if change.old == change.new]:
            del row[name]
    changes.by_row = {key: row for key, row in changes.by_row.items() if row}
    return changes


@dataclass(frozen=True)
class UpdateLine:
    """One period's update with what moved since the previous period's."""

    update: ProgressUpdate
    moves: dict[int, tuple[Decimal | None, Decimal]]  # task id → (previous figure, this figure)
    milestones_reached: list[str]


def update_lines(session: Session, pilot: Pilot) -> list[UpdateLine]:
    """Every update of the pilot, oldest first, each compared with the one before it (its evidence
    files loaded with it)."""
    updates = session.scalars(
        select(ProgressUpdate)
        .where(ProgressUpdate.pilot_id == pilot.id)
        .order_by(ProgressUpdate.period_start)
        .options(
            selectinload(ProgressUpdate.task_progress),
            selectinload(ProgressUpdate.milestone_reports),
            selectinload(ProgressUpdate.files),
        )  # the page's evidence list reads them: one query, not one per update
    ).all()
    lines: list[UpdateLine] = []
    previous: dict[int, Decimal] = {}
    for update in updates:
        figures = {row.task_id: row.percent for row in update.task_progress}
        moves = {task_id: (previous.get(task_id), figure) for task_id, figure in figures.items()
                 if previous.get(task_id) is None or Decimal(previous[task_id]) != Decimal(figure)}  # fmt: skip
        reached = [r.milestone.title for r in update.milestone_reports if r.reached]
        lines.append(UpdateLine(update, moves, reached))
        previous = {**previous, **figures}
    return lines


def pilot_flags(session: Session, user: User, pilot: Pilot) -> Sequence[Flag]:
    return session.scalars(
        visible_flags(user).where(Flag.pilot_id == pilot.id).order_by(Flag.first_seen.desc(), Flag.id.desc())
    ).all()


def pilot_audit(session: Session, user: User, pilot: Pilot, limit: int = 200) -> Sequence[AuditEvent]:
    """The pilot's own trail: the pilot row, its tasks, milestones, participants and updates."""
    rows = {
        "pilots": [pilot.id],
        "tasks": [t.id for t in pilot.tasks],
        "milestones": [m.id for m in pilot.milestones],
        "pilot_participants": [p.id for p in pilot.participants],
        "progress_updates": [u.id for u in pilot.updates],
    }
    wanted = [and_(AuditEvent.entity_type == entity, AuditEvent.entity_id.in_([str(i) for i in ids]))
              for entity, ids in rows.items() if ids]  # fmt: skip
    return session.scalars(
        visible_audit_events(user).where(or_(*wanted)).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()  # fmt: skip
