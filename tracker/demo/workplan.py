"""The demo's provincial work plan: the last two reported months and the next month's drafts, in
every state, so the 省级工作方案 page has something to show. Deterministic, like the rest of the demo,
and placed relative to the demo's history end (its last reported month)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.periods import Frequency, Period, period_of
from tracker.models import Subject, UpdateStatus, User, WorkPlanUpdate
from tracker.progress.workplan import Assignment, assignments
from tracker.review.cycle import record_step

US = UpdateStatus
DUE_DAYS = 5  # the default reporting cycle's due day (tracker.core.periods.Reporting)
# Each period's states, drawn per line, by months from the history end's month: the month before is
# reviewed; the last reported month is mixed; the month after has only a few drafts (None: not
# entered yet).
STATES: dict[int, tuple[list[US | None], list[int]]] = {
    -1: ([US.ACCEPTED, None], [12, 1]),
    0: ([US.ACCEPTED, US.SUBMITTED, US.RETURNED, US.DRAFT, None], [5, 3, 1, 1, 2]),
    1: ([US.DRAFT, None], [1, 4]),
}
# Months from the plan's issue to the last reported month, as on the day the demo was first made
# (晋环发〔2024〕31号 of December 2024 to October 2026): progress is counted from there.
PLAN_AGE_MONTHS = 22
RETURN_REASON = "示例：请补充本期具体进展和数据支撑后重新提交。"


def build_work_plan_demo(session: Session, rng: random.Random, actor_name: str, history_end: dt.date) -> None:
    """Work-plan updates for the demo months around ``history_end`` (the last day of the demo's last
    reported month); steps are credited to the seed data, not a user."""
    admin = session.scalars(select(User).where(User.username == "admin")).one()
    last = period_of(history_end, Frequency.MONTHLY)
    for offset, (states, weights) in STATES.items():
        period = period_of(_months_after(last.start, offset), Frequency.MONTHLY)
        for line in assignments(session, admin, period):
            state = rng.choices(states, weights)[0]
            if state is not None:
                _update(session, rng, line, period, state, actor_name, PLAN_AGE_MONTHS + offset)
    session.flush()


def _months_after(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _progress(line: Assignment, months: int) -> Decimal:
    """Steady progress over the plan's ``months``, at a pace and head start of each line's own."""
    pace = Decimal(2 + line.task.number % 3)  # points a month
    head_start = Decimal((line.task.number * 7 + line.department.id * 3) % 15 - 5)
    return min(Decimal(100), max(Decimal(0), pace * months + head_start))


def _update(
    session: Session, rng: random.Random, line: Assignment, period: Period, state: US, actor: str, months: int
) -> None:
    update = WorkPlanUpdate(
        task=line.task, department=line.department, period_start=period.start, period_end=period.end, status=state,
        progress=_progress(line, months),
        work_done=f"{period.start.month}月：{line.department.short_zh}推进“{line.task.title_zh}”相关工作（示例）",
        problems="部门间数据共享机制尚未建立（示例）" if rng.random() < 0.3 else "无",
        next_steps="按工作方案分工推进下阶段任务（示例）",
    )  # fmt: skip
    session.add(update)
    if state is US.DRAFT:
        return
    due = period.end + dt.timedelta(days=DUE_DAYS)
    submitted = dt.datetime.combine(
        due + dt.timedelta(days=rng.choice([-4, -2, -1, 0, 3])), dt.time(9), dt.UTC
    )
    update.submitted_at = update.last_submitted_at = submitted
    update.is_late = submitted.date() > due
    session.flush()
    steps: list[tuple[str, US, US, str | None, dt.datetime]] = [
        ("submit", US.DRAFT, US.SUBMITTED, None, submitted)
    ]
    if state in (US.ACCEPTED, US.RETURNED):
        update.reviewed_at = submitted + dt.timedelta(days=2)
        update.return_reason = RETURN_REASON if state is US.RETURNED else None
        steps.append(("accept" if state is US.ACCEPTED else "return", US.SUBMITTED, state, update.return_reason,
                      update.reviewed_at))  # fmt: skip
    for step, before, after, reason, at in steps:
        record_step(session, Subject.WORK_PLAN, update.id, step=step, city_id=None, before=before, after=after,
                    reason=reason, actor=actor, at=at)  # fmt: skip
