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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.core.i18n import N_, _, english
from tracker.models import Milestone, Pilot, ProgressUpdate, Task, TaskProgress, UpdateStatus

HUNDRED = Decimal(100)


class ProgressStatus(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    SERIOUSLY_BEHIND = "seriously_behind"
    FINISHED = "finished"


STATUS_LABELS = {
    ProgressStatus.NOT_STARTED: N_("未开始"),
    ProgressStatus.ON_TRACK: N_("正常"),
    ProgressStatus.BEHIND: N_("滞后"),
    ProgressStatus.SERIOUSLY_BEHIND: N_("严重滞后"),
    ProgressStatus.FINISHED: N_("全部完成"),
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


def thresholds_from(settings: object) -> Thresholds:
    """The thresholds configured in settings (TRACKER_BEHIND_GAP, TRACKER_SERIOUSLY_BEHIND_GAP)."""
    return Thresholds(
        getattr(settings, "behind_gap", Thresholds.behind),
        getattr(settings, "seriously_behind_gap", Thresholds.seriously_behind),
    )


def load_progress(
    session: Session, pilot_ids: Sequence[int], on: dt.date, thresholds: Thresholds = Thresholds()
) -> dict[int, PilotProgress]:
    """Progress of each pilot on ``on``: actual figures come from its latest accepted update."""
    if not pilot_ids:
        return {}
    plans = _plans(session, pilot_ids)
    actual = _actual(session, pilot_ids, on)
    return {pid: pilot_progress(plans[pid], actual[pid], on, thresholds) for pid in pilot_ids}


def _plans(session: Session, pilot_ids: Sequence[int]) -> dict[int, list[TaskPlan]]:
    plans: dict[int, list[TaskPlan]] = defaultdict(list)
    for task in session.execute(
        select(Task.id, Task.pilot_id, Task.weight, Task.planned_start, Task.planned_end).where(
            Task.pilot_id.in_(pilot_ids)
        )
    ):
        plans[task.pilot_id].append(TaskPlan(task.id, task.weight, task.planned_start, task.planned_end))
    return plans


def accepted_figures(
    session: Session, pilot_ids: Sequence[int], on: dt.date
) -> dict[int, dict[int, Decimal]]:
    """Each task's accepted figure on ``on`` (pilot id → task id → percent), as ``load_progress``
    reads it: the day before a period began gives what was accepted before it (the reviewer's 上次采纳)."""
    return _actual(session, pilot_ids, on)


def _actual(session: Session, pilot_ids: Sequence[int], on: dt.date) -> dict[int, dict[int, Decimal]]:
    """Each task's figure from the latest accepted update of a period that began by ``on``: a
    period's accepted figures count from its first day (a city may report the current month before
    it ends), so every page shows the same actual progress on the same day."""
    actual: dict[int, dict[int, Decimal]] = defaultdict(dict)
    # Per task, its figure in the latest accepted update (a later period overrides an earlier one;
    # a task an update leaves out keeps its earlier figure). The database picks the rows.
    newest = func.row_number().over(partition_by=TaskProgress.task_id,
                                    order_by=(ProgressUpdate.period_start.desc(), ProgressUpdate.id.desc()))  # fmt: skip
    reported = (
        select(ProgressUpdate.pilot_id, TaskProgress.task_id, TaskProgress.percent, newest.label("newest"))
        .join(TaskProgress.update)
        .where(
            ProgressUpdate.pilot_id.in_(pilot_ids),
            ProgressUpdate.status == UpdateStatus.ACCEPTED,
            ProgressUpdate.period_start <= on,
        )
        .subquery()
    )
    for row in session.execute(select(reported.c.pilot_id, reported.c.task_id, reported.c.percent)
                               .where(reported.c.newest == 1)):  # fmt: skip
        actual[row.pilot_id][row.task_id] = row.percent
    return actual


def progress_history(
    session: Session, pilot_id: int, days: Sequence[dt.date], thresholds: Thresholds = Thresholds()
) -> dict[dt.date, PilotProgress]:
    """One pilot's progress on each of several days, as ``load_progress`` gives it on each, from
    two queries (its plan, and every accepted figure) instead of two per day."""
    plan = _plans(session, [pilot_id])[pilot_id]
    figures = session.execute(
        select(ProgressUpdate.period_start, ProgressUpdate.id, TaskProgress.task_id, TaskProgress.percent)
        .join(TaskProgress.update)
        .where(ProgressUpdate.pilot_id == pilot_id, ProgressUpdate.status == UpdateStatus.ACCEPTED)
        .order_by(ProgressUpdate.period_start, ProgressUpdate.id)
    ).all()
    result: dict[dt.date, PilotProgress] = {}
    for day in days:
        actual: dict[int, Decimal] = {}
        for row in figures:  # oldest first: a later period (then a later update) overrides
            if row.period_start <= day:
                actual[row.task_id] = row.percent
        result[day] = pilot_progress(plan, actual, day, thresholds)
    return result


@dataclass(frozen=True)
class TaskLine:
    """One task of a pilot on a day: planned span, weight, expected and actual progress, gap."""

    task_id: int
    number: str
    title: str
    weight: Decimal
    planned_start: dt.date
    planned_end: dt.date
    expected: Decimal
    actual: Decimal

    @property
    def gap(self) -> Decimal:
        return self.expected - self.actual


def task_lines(session: Session, pilot_id: int, on: dt.date) -> list[TaskLine]:
    """The pilot's tasks with their 序时进度 and reported progress on ``on`` (same sources as
    ``load_progress``, so the pilot's figure is the weighted mean of these lines)."""
    actual = _actual(session, [pilot_id], on)[pilot_id]
    tasks = session.scalars(select(Task).where(Task.pilot_id == pilot_id).order_by(Task.position))
    return [
        TaskLine(t.id, t.number, t.title, t.weight, t.planned_start, t.planned_end,
                 _round(expected_task_progress(t.planned_start, t.planned_end, on)),
                 _round(actual.get(t.id, Decimal(0))))
        for t in tasks
    ]  # fmt: skip


def overdue_milestones(session: Session, pilot_ids: Sequence[int], on: dt.date) -> dict[int, list[Milestone]]:
    """Milestones due before ``on`` and not reached (a milestone due yesterday is one day overdue)."""
    found: dict[int, list[Milestone]] = defaultdict(list)
    if not pilot_ids:
        return found
    for milestone in session.scalars(
        select(Milestone)
        .where(Milestone.pilot_id.in_(pilot_ids), Milestone.due_date < on, Milestone.achieved_on.is_(None))
        .order_by(Milestone.due_date, Milestone.id)
    ):
        found[milestone.pilot_id].append(milestone)
    return found


class RollupBy(StrEnum):
    CITY = "city"
    PRODUCT = "product"
    CATEGORY = "category"
    PROVINCE = "province"


@dataclass(frozen=True)
class Rollup:
    """Pilots grouped by city, product, category or the whole province on one day. Expected and
    actual are the plain means over the group's pilots (each pilot counts once)."""

    key: str
    pilots: int
    expected: Decimal
    actual: Decimal
    by_status: dict[ProgressStatus, int]
    overdue_milestones: int
    key_en: str = ""  # a city's or product's English name (the catalogue's); empty for the rest

    @property
    def gap(self) -> Decimal:
        return self.expected - self.actual

    def name(self) -> str:
        """The group's name in the reader's language (a category's or 专业化服务 through the catalogue)."""
        if english() and self.key_en:
            return self.key_en[:1].upper() + self.key_en[1:]
        return _(self.key)


def rollup(
    session: Session,
    pilots: Sequence[Pilot],
    on: dt.date,
    by: RollupBy,
    thresholds: Thresholds = Thresholds(),
) -> list[Rollup]:
    """Roll the pilots' progress up by ``by``; group keys are city, product or category names in
    Chinese, or 全省. Built on ``load_progress``, the one computation of progress."""
    ids = [p.id for p in pilots]
    return rollup_of(
        pilots, by, load_progress(session, ids, on, thresholds), overdue_milestones(session, ids, on)
    )


def rollup_of(pilots: Sequence[Pilot], by: RollupBy, progress: dict[int, PilotProgress],
              overdue: dict[int, list[Milestone]]) -> list[Rollup]:  # fmt: skip
    """``rollup`` from progress and overdue milestones already loaded (several groupings of the
    same pilots need them once)."""
    groups: dict[str, list[Pilot]] = defaultdict(list)
    english_names: dict[str, str] = {}
    for pilot in pilots:
        key = _group_key(pilot, by)
        groups[key].append(pilot)
        english_names.setdefault(key, _english_name(pilot, by))
    lines = []
    for key, members in groups.items():
        figures = [progress[p.id] for p in members]
        counts: dict[ProgressStatus, int] = {status: 0 for status in ProgressStatus}
        for figure in figures:
            counts[figure.status] += 1
        lines.append(Rollup(
            key, len(members),
            _round(sum((f.expected for f in figures), Decimal(0)) / len(figures)),
            _round(sum((f.actual for f in figures), Decimal(0)) / len(figures)),
            counts, sum(len(overdue[p.id]) for p in members), english_names[key],
        ))  # fmt: skip
    return sorted(lines, key=lambda line: (-line.gap, line.key))


def _english_name(pilot: Pilot, by: RollupBy) -> str:
    if by is RollupBy.CITY:
        return pilot.city.name_en
    if by is RollupBy.PRODUCT and pilot.product:
        return pilot.product.name_en
    return ""


def _group_key(pilot: Pilot, by: RollupBy) -> str:
    if by is RollupBy.CITY:
        return pilot.city.name_zh
    if by is RollupBy.PRODUCT:
        return pilot.product.name_zh if pilot.product else N_("专业化服务")
    if by is RollupBy.CATEGORY:
        return N_("产品碳足迹管理试点") if pilot.category.value == "product" else N_("碳足迹专业化服务试点")
    return "全省"
