"""What the province sees before deciding on a submitted update (审核): the queue of updates waiting,
longest first; for one update, each task's figure last accepted, this period's figure and its 序时进度;
and the warnings (审核提示) a reviewer must acknowledge before accepting it:

- a milestone reported reached with no evidence on file for it (or for its task);
- a task rising more than the configured points (``Checks.jump_points``, TRACKER_JUMP_POINTS, the
  threshold of the JUMP_WITHOUT_MILESTONE flag) over its figure last accepted;
- 本期工作进展 that repeats the previous report's (the TEXT_COPIED_FROM_PREVIOUS rule's measure).

The warnings are computed here, once: the page shows them and ``review_update`` refuses to accept
while one is not acknowledged, so a hand-made request cannot skip them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.access.permissions import may_review_updates, visible_updates
from tracker.core.errors import TrackerError
from tracker.core.messages import Joined, Label, Message
from tracker.core.periods import Period
from tracker.models import ProgressUpdate, UpdateFile, UpdateStatus, User
from tracker.progress.consistency import DEFAULT_CHECKS, REPORTED, Checks, copied_ratio
from tracker.progress.expected import accepted_figures, expected_task_progress


@dataclass(frozen=True)
class TaskContext:
    """One task of the update: its figure last accepted before the period, this period's, and the
    序时进度 at the period's end (percent)."""

    task_id: int
    number: str
    title: str
    previous: Decimal | None
    current: Decimal | None
    expected: Decimal


@dataclass(frozen=True)
class ReviewWarning:
    """A reason to look twice before accepting; ``key`` names it (the reviewer acknowledges keys)."""

    key: str
    message: Message


@dataclass(frozen=True)
class ReviewContext:
    tasks: list[TaskContext]
    warnings: list[ReviewWarning]


def _percent(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def previous_report(session: Session, update: ProgressUpdate) -> ProgressUpdate | None:
    """The pilot's latest submitted or accepted update of an earlier period."""
    return session.scalars(
        select(ProgressUpdate)
        .where(ProgressUpdate.pilot_id == update.pilot_id, ProgressUpdate.period_start < update.period_start,
               ProgressUpdate.status.in_(REPORTED))
        .order_by(ProgressUpdate.period_start.desc())
        .limit(1)
    ).first()  # fmt: skip


def _evidenced(session: Session, update: ProgressUpdate) -> set[tuple[str, int]]:
    """What the pilot's updates hold evidence for: ("milestone", id) and ("task", id)."""
    found: set[tuple[str, int]] = set()
    for milestone_id, task_id in session.execute(
        select(UpdateFile.milestone_id, UpdateFile.task_id)
        .join(UpdateFile.update)
        .where(ProgressUpdate.pilot_id == update.pilot_id)
    ):
        if milestone_id is not None:
            found.add(("milestone", milestone_id))
        if task_id is not None:
            found.add(("task", task_id))
    return found


def review_context(
    session: Session, update: ProgressUpdate, checks: Checks = DEFAULT_CHECKS
) -> ReviewContext:
    """The update's tasks against their last accepted figures and 序时进度, and its warnings."""
    before = update.period_start - dt.timedelta(days=1)
    accepted = accepted_figures(session, [update.pilot_id], before)[update.pilot_id]
    current = {row.task_id: row.percent for row in update.task_progress}
    tasks = [
        TaskContext(t.id, t.number, t.title,
                    _percent(accepted[t.id]) if t.id in accepted else None,
                    _percent(current[t.id]) if t.id in current else None,
                    _percent(expected_task_progress(t.planned_start, t.planned_end, update.period_end)))
        for t in sorted(update.pilot.tasks, key=lambda t: t.position)
    ]  # fmt: skip
    warnings: list[ReviewWarning] = []
    files = _evidenced(session, update)
    for report in update.milestone_reports:
        milestone = report.milestone
        if (
            report.reached
            and ("milestone", milestone.id) not in files
            and (milestone.task_id is None or ("task", milestone.task_id) not in files)
        ):
            key = "evidence:" + str(milestone.id)
            warnings.append(ReviewWarning(key, Message(
                "阶段性目标“{milestone}”报告已完成，但没有佐证材料", milestone=milestone.title)))  # fmt: skip
    for task in tasks:
        if task.current is None:
            continue
        start = task.previous if task.previous is not None else Decimal(0)
        if task.current - start > checks.jump_points:
            name, key = task.number + " " + task.title, "jump:" + str(task.task_id)
            message = (
                Message("任务“{task}”进度从上次采纳的{previous}%升至{current}%，一期内增加超过{threshold}个百分点",
                        task=name, previous=start, current=task.current, threshold=checks.jump_points)
                if task.previous is not None
                else Message("任务“{task}”此前没有采纳的进度，本期即报{current}%，超过{threshold}个百分点",
                             task=name, current=task.current, threshold=checks.jump_points)
            )  # fmt: skip
            warnings.append(ReviewWarning(key, message))
    previous = previous_report(session, update)
    if previous is not None:
        ratio = copied_ratio(update.work_done, previous.work_done, checks)
        if ratio is not None:
            period = Period(previous.period_start, previous.period_end)
            similarity = format(ratio, ".2f")
            warnings.append(ReviewWarning("copied", Message(
                "本期工作进展与上期（{previous_period}）几乎相同（相似度{similarity}）",
                previous_period=Label(period.label_zh, period.label_en), similarity=similarity)))  # fmt: skip
    return ReviewContext(tasks, warnings)


def review_warnings(
    session: Session, update: ProgressUpdate, checks: Checks = DEFAULT_CHECKS
) -> list[ReviewWarning]:
    return review_context(session, update, checks).warnings


def require_acknowledged(warnings: Sequence[ReviewWarning], acknowledged: Collection[str]) -> None:
    """Refuse to accept while a warning is not acknowledged (by its key, as the reviewer saw it)."""
    missing = [w for w in warnings if w.key not in acknowledged]
    if missing:
        raise TrackerError(Message(
            "采纳前请逐条核实审核提示并勾选“我已核实以上提示”（{count}条未确认）：{warnings}",
            count=len(missing), warnings=Joined(w.message for w in missing)))  # fmt: skip


def waiting_count(session: Session, user: User) -> int:
    """How many submitted updates wait for the user's review (0 for anyone who does not review):
    one COUNT over the updates the user may see."""
    if not may_review_updates(user):
        return 0
    visible = visible_updates(user).where(ProgressUpdate.status == UpdateStatus.SUBMITTED).subquery()
    return session.scalar(select(func.count()).select_from(visible)) or 0


def waiting_queue(session: Session, user: User) -> list[ProgressUpdate]:
    """The submitted updates the user may review, the longest waiting first (since their last
    submission: a corrected update waits from its resubmission), of any period."""
    if not may_review_updates(user):
        return []
    return list(session.scalars(
        visible_updates(user).where(ProgressUpdate.status == UpdateStatus.SUBMITTED)
        .order_by(func.coalesce(ProgressUpdate.last_submitted_at, ProgressUpdate.submitted_at), ProgressUpdate.id)
    ))  # fmt: skip


def days_waiting(update: ProgressUpdate, today: dt.date, tz: dt.tzinfo) -> int | None:
    """Whole days since the update was (last) submitted, in local dates; None when it is not waiting."""
    since = update.last_submitted_at or update.submitted_at
    if update.status is not UpdateStatus.SUBMITTED or since is None:
        return None
    return max((today - since.astimezone(tz).date()).days, 0)
