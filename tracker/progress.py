"""序时进度: expected (time-proportional) progress against reported progress.

``expected_task_progress`` is the single definition; pages, bulletins and the API call into this
module rather than computing it again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.i18n import _
from tracker.models import ProgressUpdate, Task, TaskProgress, UpdateStatus

HUNDRED = Decimal(100)


class ProgressStatus(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    SERIOUSLY_BEHIND = "seriously_behind"
    FINISHED = "finished"


STATUS_LABELS = {
    ProgressStatus.NOT_STARTED: _("未开始"),
    ProgressStatus.ON_TRACK: _("正常"),
    ProgressStatus.BEHIND: _("滞后"),
    ProgressStatus.SERIOUSLY_BEHIND: _("严重滞后"),
    ProgressStatus.FINISHED: _("全部完成"),
}


@dataclass(frozen=True)
class Thresholds:
    """Gap (expected − actual, in percentage points) from which a pilot counts as behind."""

    behind: Decimal = Decimal(5)
    seriously_behind: Decimal = Decimal(20)


@dataclass(frozen=True)
class TaskPlan:
    task_id: int
    weight: Decimal
    planned_start: dt.date
    planned_end: dt.date


@dataclass(frozen=True)
class PilotProgress:
    expected: Decimal
    actual: Decimal
    gap: Decimal
    status: ProgressStatus


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def expected_task_progress(planned_start: dt.date, planned_end: dt.date, on: dt.date) -> Decimal:
    """Share of the planned span elapsed by the end of day ``on``, in percent (both ends inclusive)."""
    if on < planned_start:
        return Decimal(0)
    if on >= planned_end:
        return HUNDRED
    elapsed = (on - planned_start).days + 1
    total = (planned_end - planned_start).days + 1
    return HUNDRED * elapsed / total


def _weighted(values: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    pairs = list(values)
    total_weight = sum((w for w, _v in pairs), Decimal(0))
    if total_weight == 0:
        return Decimal(0)
    return sum((w * v for w, v in pairs), Decimal(0)) / total_weight


def pilot_progress(
    tasks: Sequence[TaskPlan],
    actual_by_task: dict[int, Decimal],
    on: dt.date,
    thresholds: Thresholds = Thresholds(),
) -> PilotProgress:
    """Expected and actual progress of a pilot, weighted by task weight, with its status."""
    expected = _weighted(
        (t.weight, expected_task_progress(t.planned_start, t.planned_end, on)) for t in tasks
    )
    actual = _weighted((t.weight, actual_by_task.get(t.task_id, Decimal(0))) for t in tasks)
    expected, actual = _round(expected), _round(actual)
    gap = expected - actual  # from the shown figures, so 序时 − 实际 = 滞后 on every page
    return PilotProgress(
        _round(expected), _round(actual), _round(gap), _status(expected, actual, gap, thresholds)
    )


def _status(expected: Decimal, actual: Decimal, gap: Decimal, thresholds: Thresholds) -> ProgressStatus:
    if actual >= HUNDRED:
        return ProgressStatus.FINISHED
    if expected == 0:
        return ProgressStatus.NOT_STARTED
    if gap >= thresholds.seriously_behind:
        return ProgressStatus.SERIOUSLY_BEHIND
    if gap >= thresholds.behind:
        return ProgressStatus.BEHIND
    return ProgressStatus.ON_TRACK


def load_progress(session: Session, pilot_ids: Sequence[int], on: dt.date) -> dict[int, PilotProgress]:
    """Progress of each pilot on ``on``: actual figures come from its latest accepted update."""
    if not pilot_ids:
        return {}
    plans: dict[int, list[TaskPlan]] = defaultdict(list)
    for task in session.execute(
        select(Task.id, Task.pilot_id, Task.weight, Task.planned_start, Task.planned_end).where(
            Task.pilot_id.in_(pilot_ids)
        )
    ):
        plans[task.pilot_id].append(TaskPlan(task.id, task.weight, task.planned_start, task.planned_end))
    actual: dict[int, dict[int, Decimal]] = defaultdict(dict)
    reported = (
        select(ProgressUpdate.pilot_id, TaskProgress.task_id, TaskProgress.percent)
        .join(TaskProgress.update)
        .where(
            ProgressUpdate.pilot_id.in_(pilot_ids),
            ProgressUpdate.status == UpdateStatus.ACCEPTED,
            ProgressUpdate.period_end <= on,
        )
        .order_by(ProgressUpdate.period_start)
    )
    for row in session.execute(reported):
        actual[row.pilot_id][row.task_id] = row.percent  # later periods overwrite earlier ones
    return {pid: pilot_progress(plans[pid], actual[pid], on) for pid in pilot_ids}
