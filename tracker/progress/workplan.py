"""The provincial work plan (晋环发〔2024〕31号, Level A): the 12 key tasks tracked by department.

The plan's safeguards have the provincial bureau "定期调度工作进展" (三、保障措施（一）). Provincial
staff enter, for each reporting department of each key task and each period, the progress (0–100),
the work done, problems and next steps, in the pilots' cycle (tracker.progress.updates): draft → submitted →
returned with a reason → resubmitted → accepted (locked). Saving carries the version that was read.

Who reports on a task (``reporting_departments``): its lead departments (牵头). The plan names a lead
for only three tasks (3, 10, 12); for the others it makes each named department "按职责分工负责"
for its share, so each of those reports. Task 11 names no department ("各有关部门"): the provincial
ecology and environment bureau reports on it, as the department that coordinates and dispatches
the whole plan. Departments that only take part (参与) do not report.

From when: every period from the one in which the plan was issued (6 December 2024), open-ended
(the plan sets no end date). Periods are those of the pilots' cycle (TRACKER_REPORTING_FREQUENCY)
and an update is due on the same day after its period ends; a later first submission is marked
late, never refused. There is no closing window: that window exists so that a city cannot change
its figures after the province compiled them without the province's consent (a per-city
exception); here the province enters its own figures, and acceptance is what locks them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tracker.access.permissions import (
    require_enter_work_plan,
    require_read_work_plan,
    require_review_work_plan,
    visible_work_plan_tasks,
)
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_
from tracker.core.messages import Label, Message
from tracker.core.periods import Frequency, Period, Reporting, due_date, periods_between
from tracker.core.validation import Problem, ValidationFailed, clean_text
from tracker.delivery.notices import tell_work_plan_returned
from tracker.models import (
    Department,
    DepartmentDuty,
    Subject,
    UpdateStatus,
    User,
    WorkflowStep,
    WorkPlanTask,
    WorkPlanTaskDepartment,
    WorkPlanUpdate,
)
from tracker.progress.completeness import Completeness
from tracker.progress.reviewed import mark_reviewed, mark_submitted
from tracker.progress.updates import (
    NARRATIVES,
    REVIEW_STEPS,
    STATUS_ZH,
    UpdateConflict,
    check_version,
    narrative_problems,
    parse_number,
    submit_step,
)
from tracker.review.cycle import Cycle, Step, locked, record_step

US = UpdateStatus
WORK_PLAN_ISSUED = dt.date(2024, 12, 6)  # 晋环发〔2024〕31号, dated 6 December 2024
COORDINATOR_CODE = "sthjt"  # 省生态环境厅 (departments.csv)
# The same cycle as a pilot's periodic update; the provincial admin reviews (permissions decide who).
WORK_PLAN_CYCLE: Cycle[UpdateStatus, Step[UpdateStatus]] = Cycle(
    Subject.WORK_PLAN, REVIEW_STEPS, noun_zh="该进展", noun_en="work-plan update",
    status_zh=lambda status: STATUS_ZH[status], refusal=UpdateConflict)  # fmt: skip
DUTY_ZH = {
    DepartmentDuty.LEAD: N_("牵头"),
    DepartmentDuty.RESPONSIBLE: N_("按职责分工负责"),
    None: N_("统筹调度"),
}


@dataclass(frozen=True)
class Assignment:
    """A department that reports on a task; ``duty`` None: named by this module, not the plan."""

    task: WorkPlanTask
    department: Department
    duty: DepartmentDuty | None

    @property
    def duty_zh(self) -> str:
        return DUTY_ZH[self.duty]


@dataclass
class WorkPlanEntry:
    """What provincial staff enter for one task, department and period, before validation."""

    progress: Any = None  # 0–100, as typed
    work_done: str = ""
    problems: str = ""
    next_steps: str = ""


@dataclass(frozen=True)
class WorkPlanLine:
    assignment: Assignment
    update: WorkPlanUpdate | None


# --- who reports, and when -------------------------------------------------------------------------


def programme_periods(today: dt.date, frequency: Frequency) -> list[Period]:
    """Every period from the plan's issue to today, oldest first."""
    return periods_between(WORK_PLAN_ISSUED, today, frequency)


def reporting_departments(task: WorkPlanTask, coordinator: Department | None) -> list[Assignment]:
    """Who reports on the task (the rule is in the module's docstring)."""
    for duty in (DepartmentDuty.LEAD, DepartmentDuty.RESPONSIBLE):
        links = sorted((x for x in task.departments if x.duty is duty), key=lambda x: x.department_id)
        if links:
            return [Assignment(task, link.department, duty) for link in links]
    return [Assignment(task, coordinator, None)] if coordinator is not None else []


def assignments(session: Session, user: User, period: Period) -> list[Assignment]:
    """Every (task, department) that owes an update for the period, in the plan's order."""
    require_read_work_plan(user)
    if period.end < WORK_PLAN_ISSUED:
        return []
    tasks = session.scalars(
        visible_work_plan_tasks(user)
        .options(selectinload(WorkPlanTask.departments).selectinload(WorkPlanTaskDepartment.department))
        .order_by(WorkPlanTask.number)
    ).all()
    coordinator = session.scalars(
        select(Department).where(
            Department.province_id == user.province_id, Department.code == COORDINATOR_CODE
        )
    ).first()
    return [a for task in tasks for a in reporting_departments(task, coordinator)]


def updates_of(session: Session, user: User, period: Period) -> dict[tuple[int, int], WorkPlanUpdate]:
    """The period's updates by (task id, department id), in one query."""
    stmt = select(WorkPlanUpdate).where(
        WorkPlanUpdate.period_start == period.start,
        WorkPlanUpdate.period_end == period.end,
        WorkPlanUpdate.task_id.in_(visible_work_plan_tasks(user).with_only_columns(WorkPlanTask.id)),
    )
    return {(u.task_id, u.department_id): u for u in session.scalars(stmt)}


def work_plan_lines(session: Session, user: User, period: Period) -> list[WorkPlanLine]:
    """Each reporting department of each task with its update for the period (None: not entered)."""
    owed = assignments(session, user, period)
    updates = updates_of(session, user, period)
    return [WorkPlanLine(a, updates.get((a.task.id, a.department.id))) for a in owed]


def find_task(session: Session, user: User, number: int) -> WorkPlanTask:
    """A key task by its number in the plan (1–12)."""
    require_read_work_plan(user)
    task = session.scalars(visible_work_plan_tasks(user).where(WorkPlanTask.number == number)).first()
    if task is None:
        raise TrackerError(Message("工作方案没有第{number}项任务", number=number))
    return task


def find_department(session: Session, user: User, text: str) -> Department:
    """A department by its code, short or full name, or a part of the name that fits only one."""
    require_read_work_plan(user)
    wanted = text.strip()
    rows = session.scalars(select(Department).where(Department.province_id == user.province_id)).all()
    exact = [d for d in rows if wanted in (d.code, d.short_zh, d.name_zh)]
    partial = [d for d in rows if wanted and (wanted in d.name_zh or wanted in d.short_zh)]
    found = exact or partial
    if len(found) != 1:
        raise TrackerError(Message("找不到唯一的部门：{text}", text=text))
    return found[0]


def assignment_for(
    session: Session, user: User, task_id: int, department_id: int, period: Period
) -> Assignment:
    """The department's duty to report on the task for the period; refused when it has none."""
    for assignment in assignments(session, user, period):
        if assignment.task.id == task_id and assignment.department.id == department_id:
            return assignment
    task = session.get(WorkPlanTask, task_id)
    if task is None:
        raise TrackerError(Message("工作方案任务不存在"))
    require_read_work_plan(user, task)
    if period.end < WORK_PLAN_ISSUED:
        raise TrackerError(Message("{label}早于工作方案印发，无需填报", label=Label(period.label_zh, period.label_en)))  # fmt: skip
    raise TrackerError(Message("该部门不是第{number}项任务的牵头或负责部门，无需填报", number=task.number))  # fmt: skip


def find_work_plan_update(session: Session, user: User, task_id: int, department_id: int,
                          period: Period, *, lock: bool = False) -> WorkPlanUpdate | None:  # fmt: skip
    """The update of a task and department for the period, if entered (read permission checked)."""
    stmt = select(WorkPlanUpdate).where(
        WorkPlanUpdate.task_id == task_id,
        WorkPlanUpdate.department_id == department_id,
        WorkPlanUpdate.period_start == period.start,
    )
    update = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if update is not None:
        require_read_work_plan(user, update)
    return update


# --- entering, submitting, reviewing ----------------------------------------------------------------


def check_work_plan_entry(entry: WorkPlanEntry, *, complete: bool) -> Decimal | None:
    """Every problem at once, or the progress as a number; for submission progress and work done
    are required."""
    problems: list[Problem] = []
    progress = None
    try:
        progress = parse_number(entry.progress)
    except ValueError:
        problems.append(Problem("progress", Message("进度“{progress}”不是数字", progress=entry.progress)))
    if progress is not None and not Decimal(0) <= progress <= Decimal(100):
        problems.append(
            Problem("progress", Message("进度应在0–100之间（填了{progress}）", progress=progress))
        )
        progress = None
    if complete and progress is None and not problems:
        problems.append(Problem("progress", Message("请填写完成进度")))
    if complete and not clean_text(entry.work_done):
        problems.append(Problem("work_done", Message("请填写本期工作进展")))
    problems += narrative_problems(entry)
    if problems:
        raise ValidationFailed(problems)
    return progress.quantize(Decimal("0.1")) if progress is not None else None


def _check_period(period: Period, today: dt.date) -> None:
    if period.start > today:
        raise TrackerError(
            Message("{period}尚未开始，不能填报", period=Label(period.label_zh, period.label_en))
        )


def save_work_plan_update(session: Session, user: User, task_id: int, department_id: int, period: Period,
                          entry: WorkPlanEntry, *, today: dt.date, version: int | None = None) -> WorkPlanUpdate:  # fmt: skip
    """Create or change the draft of a department's update on a task; changing one needs the
    version that was read (someone else's save in between is refused, nothing overwritten)."""
    assignment = assignment_for(session, user, task_id, department_id, period)
    require_enter_work_plan(user, assignment.task)
    _check_period(period, today)
    update = find_work_plan_update(session, user, task_id, department_id, period, lock=True)
    if update is not None:
        check_version(update, version)
        WORK_PLAN_CYCLE.check("edit", update.status)
    progress = check_work_plan_entry(entry, complete=False)
    if update is not None:
        _apply(update, entry, progress, user)
        session.flush()
        return update
    update = WorkPlanUpdate(task=assignment.task, department=assignment.department, period_start=period.start,
                            period_end=period.end, status=US.DRAFT)  # fmt: skip
    _apply(update, entry, progress, user)
    _insert(session, update)
    return update


def _apply(update: WorkPlanUpdate, entry: WorkPlanEntry, progress: Decimal | None, user: User) -> None:
    values: dict[str, Any] = {key: clean_text(getattr(entry, key)) or None for key, _zh, _en in NARRATIVES}
    values |= {"progress": progress, "entered_by_id": user.id}
    for name, wanted in values.items():
        if getattr(update, name) != wanted:
            setattr(update, name, wanted)


def _insert(session: Session, update: WorkPlanUpdate) -> None:
    """A new row that someone else created at the same moment is a conflict, not an error."""
    try:
        with session.begin_nested():
            session.add(update)
    except IntegrityError:
        raise UpdateConflict(Message("该进展刚由他人新建，为避免覆盖，本次保存未执行。请刷新后重新填写")) from None  # fmt: skip


def _locked(session: Session, update_id: int) -> WorkPlanUpdate:
    return locked(session, WorkPlanUpdate, update_id, Message("该进展不存在"))


def submit_work_plan_update(session: Session, user: User, update_id: int, *, version: int | None,
                            reporting: Reporting, now: dt.datetime, tz: ZoneInfo) -> WorkPlanUpdate:  # fmt: skip
    """Submit a draft or a corrected returned update; a first submission after the due day is late."""
    update = _locked(session, update_id)
    require_enter_work_plan(user, update)
    check_version(update, version)
    step = WORK_PLAN_CYCLE.check(submit_step(update.status), update.status)
    period = Period(update.period_start, update.period_end)
    today = now.astimezone(tz).date()
    _check_period(period, today)
    check_work_plan_entry(stored_entry(update), complete=True)
    before = update.status
    mark_submitted(update, user.id, now, late=today > due_date(period, reporting))
    session.flush()
    record_step(
        session, Subject.WORK_PLAN, update.id, step=step.key, city_id=None, before=before, after=update.status
    )
    return update


def review_work_plan_update(session: Session, user: User, update_id: int, *, accept: bool, version: int | None,
                            now: dt.datetime, reason: str | None = None) -> WorkPlanUpdate:  # fmt: skip
    """The provincial admin accepts a submitted update (it is then locked) or returns it with a reason."""
    update = _locked(session, update_id)
    require_review_work_plan(user, update)
    check_version(update, version)
    step = WORK_PLAN_CYCLE.check("accept" if accept else "return", update.status, reason)
    reason = (reason or "").strip()
    before = update.status
    mark_reviewed(update, user.id, now, accept=accept, reason=reason)
    session.flush()
    logged = record_step(session, Subject.WORK_PLAN, update.id, step=step.key, city_id=None, before=before,
                         after=update.status, reason=reason)  # fmt: skip
    if not accept:  # whoever entered it is told, in this same transaction
        tell_work_plan_returned(session, update, logged, now=now)
    return update


def stored_entry(update: WorkPlanUpdate) -> WorkPlanEntry:
    """An update as entry data (checked again at submission; fills the form)."""
    return WorkPlanEntry(
        update.progress, update.work_done or "", update.problems or "", update.next_steps or ""
    )


def work_plan_history(session: Session, user: User, update: WorkPlanUpdate) -> list[WorkflowStep]:
    """Every step of the update (submissions and reviews), oldest first."""
    require_read_work_plan(user, update)
    return WORK_PLAN_CYCLE.history(session, update.id)


# --- completeness and timeliness --------------------------------------------------------------------


def work_plan_completeness(session: Session, user: User, period: Period) -> Completeness:
    """Owed, submitted (awaiting review or accepted), on-time and accepted updates for the period.

    Only the updates of departments that owe one count, one each, so neither share exceeds 100%.
    """
    expected = submitted = on_time = accepted = 0
    for line in work_plan_lines(session, user, period):
        expected += 1
        if line.update is None or line.update.status not in (US.SUBMITTED, US.ACCEPTED):
            continue
        submitted += 1
        on_time += not line.update.is_late
        accepted += line.update.status is US.ACCEPTED
    return Completeness(None, period, expected, submitted, on_time, accepted)
