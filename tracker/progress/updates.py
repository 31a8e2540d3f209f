"""Periodic progress updates (调度): who owes one, entering it, and the province's review.

The cycle, as in DHIS2's periodic data sets: for each pilot in implementation and each reporting
period, the city bureau enters progress per task (0–100), milestones reached with their indicator
values and evidence, work done, problems and next steps; saves a draft; submits. The province
accepts (the update is then locked and counts as actual progress) or returns it with a reason; a
returned update is corrected and submitted again. Submissions after the due day are marked late,
never refused; entry after the window closes needs a provincial exception for that city and period.

Which pilots owe an update for a period (``owes_update``): every pilot that was in implementation
on at least one day of the period. Implementation runs from the start date; a completed or
withdrawn pilot's last day is the day before it closed. So a pilot that starts on 20 November
reports for November, and one completed on 1 December owes nothing for December.

Every change goes through these functions (pages, Excel bulk entry and the API alike).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from tracker.access.permissions import (
    Level,
    require_act,
)
from tracker.audit import trail as audit
from tracker.core.errors import TrackerError
from tracker.core.i18n import DEFAULT_LOCALE, N_
from tracker.core.messages import Joined, Label, Message
from tracker.core.periods import Period, Reporting, due_date
from tracker.core.validation import (
    CONTROL_MESSAGE,
    Problem,
    ValidationFailed,
    clean_text,
    has_control_characters,
)
from tracker.delivery.notices import tell_update_returned
from tracker.models import (
    Pilot,
    PilotStatus,
    ProgressUpdate,
    Subject,
    TaskProgress,
    UpdateMilestone,
    UpdateStatus,
    User,
    WorkflowStep,
)
from tracker.progress.consistency import DEFAULT_CHECKS, Checks
from tracker.progress.owed import check_window, owes_update
from tracker.progress.review_context import require_acknowledged, review_warnings
from tracker.progress.reviewed import mark_reviewed, mark_submitted
from tracker.review.cycle import Cycle, Step, locked, record_step

US = UpdateStatus
PS = PilotStatus
NARRATIVE_LIMIT = 2000  # characters, for work done, problems and next steps
EDITABLE = (US.DRAFT, US.RETURNED)
ACKNOWLEDGED = "review_acknowledged"  # the audit action: warnings the reviewer acknowledged on accepting
STEP_ZH = {"submit": N_("提交"), "resubmit": N_("修改后重新提交"), "accept": N_("采纳"), "return": N_("退回")}
STATUS_ZH = {
    US.DRAFT: N_("草稿"),
    US.SUBMITTED: N_("已提交待审核"),
    US.RETURNED: N_("已退回"),
    US.ACCEPTED: N_("已采纳"),
}


class UpdateConflict(TrackerError):
    """The update changed since it was read, or its state does not allow the step (HTTP 409)."""


# The cycle of a periodic update, and of a work-plan update (tracker.progress.workplan): a draft is
# changed and submitted, the province accepts it (locked) or returns it with a reason, a returned one
# is corrected and resubmitted. Only the steps are recorded; saving a draft is checked, not recorded.
REVIEW_STEPS: tuple[Step[UpdateStatus], ...] = (
    Step("edit", "修改", "Change", frozenset(EDITABLE), None),
    Step("submit", "提交", "Submit", frozenset({US.DRAFT}), US.SUBMITTED),
    Step("resubmit", "修改后重新提交", "Resubmit", frozenset({US.RETURNED}), US.SUBMITTED),
    Step("accept", "采纳", "Accept", frozenset({US.SUBMITTED}), US.ACCEPTED),
    Step("return", "退回", "Return", frozenset({US.SUBMITTED}), US.RETURNED, needs_reason=True),
)
UPDATE_CYCLE: Cycle[UpdateStatus, Step[UpdateStatus]] = Cycle(
    Subject.UPDATE, REVIEW_STEPS, noun_zh="该更新", noun_en="update",
    status_zh=lambda status: STATUS_ZH[status], refusal=UpdateConflict)  # fmt: skip


def submit_step(status: UpdateStatus) -> str:
    """A returned update is resubmitted; anything else is submitted (and refused unless a draft)."""
    return "resubmit" if status is US.RETURNED else "submit"


@dataclass
class MilestoneReport:
    milestone_id: int
    reached: bool = False
    achieved_on: dt.date | None = None
    indicator_value: Decimal | None = None
    note: str = ""


@dataclass
class UpdateEntry:
    """What a city enters for one pilot and period, before validation."""

    task_percents: dict[int, Any] = field(default_factory=dict)  # task id → 0–100 (as typed)
    milestones: list[MilestoneReport] = field(default_factory=list)
    work_done: str = ""
    problems: str = ""
    next_steps: str = ""


# --- entering an update ----------------------------------------------------------------------------


def parse_number(value: object) -> Decimal | None:
    """A number typed as a number or as text, with an optional % sign; None when blank, ValueError
    when it is not a number (forms, the Excel template and the API read figures the same way)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    try:
        number = Decimal(str(value).strip().rstrip("%％"))
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return number


NARRATIVES = (("work_done", "本期工作进展", "work done"), ("problems", "存在问题", "problems"),
              ("next_steps", "下步计划", "next steps"))  # fmt: skip


def narrative_problems(entry: object) -> list[Problem]:
    """Work done, problems or next steps longer than NARRATIVE_LIMIT, in an entry that has them
    (a pilot's update or a work-plan update)."""
    problems = []
    for key, label_zh, label_en in NARRATIVES:
        text = clean_text(getattr(entry, key))
        if has_control_characters(text):
            problems.append(
                Problem(
                    key, Message("{label}{control}", label=Label(label_zh, label_en), control=CONTROL_MESSAGE)
                )
            )
        elif len(text) > NARRATIVE_LIMIT:
            problems.append(Problem(key, Message("{label}超过{narrative_limit}字（现有{n_text}字）", label=Label(label_zh, label_en), narrative_limit=NARRATIVE_LIMIT, n_text=len(text))))  # fmt: skip
    return problems


def check_entry(pilot: Pilot, entry: UpdateEntry, period: Period, *, complete: bool) -> dict[int, Decimal]:
    """Every problem at once, or the task percentages as numbers. ``complete``: for submission,
    every task needs a figure and the work done must be described."""
    problems: list[Problem] = []
    tasks = {task.id: task for task in pilot.tasks}
    milestones = {m.id: m for m in pilot.milestones}
    percents: dict[int, Decimal] = {}
    wrong: set[int] = set()
    for task_id, raw in entry.task_percents.items():
        task = tasks.get(task_id)
        if task is None:
            problems.append(Problem("tasks", Message("任务{task_id}不属于该试点", task_id=task_id)))
            continue
        try:
            value = parse_number(raw)
        except ValueError:
            wrong.add(task_id)
            problems.append(Problem("tasks", Message("任务{number}的进度“{raw}”不是数字", number=task.number, raw=raw)))  # fmt: skip
            continue
        if value is None:
            continue
        if not Decimal(0) <= value <= Decimal(100):
            wrong.add(task_id)
            problems.append(Problem("tasks", Message("任务{number}的进度应在0–100之间（填了{value}）", number=task.number, value=value)))  # fmt: skip
            continue
        percents[task_id] = value.quantize(Decimal("0.1"))
    if complete:
        for task in pilot.tasks:
            if task.id not in percents and task.id not in wrong:
                problems.append(Problem("tasks", Message("任务{number}“{title}”未填进度", number=task.number, title=task.title)))  # fmt: skip
        if not clean_text(entry.work_done):
            problems.append(Problem("work_done", Message("请填写本期工作进展")))
    problems += narrative_problems(entry)
    seen: set[int] = set()
    for report in entry.milestones:
        milestone = milestones.get(report.milestone_id)
        if milestone is None or report.milestone_id in seen:
            problems.append(Problem("milestones", Message("阶段性目标{milestone_id}不属于该试点或重复填报", milestone_id=report.milestone_id)))  # fmt: skip
            continue
        seen.add(report.milestone_id)
        if (
            report.reached
            and report.achieved_on is not None
            and not (pilot.start_date - dt.timedelta(days=366) <= report.achieved_on <= period.end)
        ):
            problems.append(Problem("milestones", Message("阶段性目标“{title}”的完成日期应不晚于报告期末", title=milestone.title)))  # fmt: skip
        if report.note and has_control_characters(clean_text(report.note)):
            problems.append(Problem("milestones", Message("阶段性目标“{title}”的说明{control}", title=milestone.title, control=CONTROL_MESSAGE)))  # fmt: skip
        if report.note and len(clean_text(report.note)) > 500:
            problems.append(Problem("milestones", Message("阶段性目标“{title}”的说明超过500字", title=milestone.title)))  # fmt: skip
    if problems:
        raise ValidationFailed(problems)
    return percents


def find_update(
    session: Session, pilot_id: int, period: Period, *, lock: bool = False
) -> ProgressUpdate | None:
    stmt = select(ProgressUpdate).where(
        ProgressUpdate.pilot_id == pilot_id, ProgressUpdate.period_start == period.start
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def updates_for(session: Session, pilot_ids: list[int], period: Period) -> dict[int, ProgressUpdate]:
    """Each pilot's update for the period, in one query (pages and lists of many pilots)."""
    if not pilot_ids:
        return {}
    return {u.pilot_id: u for u in session.scalars(
        select(ProgressUpdate).where(ProgressUpdate.pilot_id.in_(pilot_ids), ProgressUpdate.period_start == period.start,
                                     ProgressUpdate.period_end == period.end)
    )}  # fmt: skip


class Versioned(Protocol):
    """A row under optimistic locking (``version_id_col``): a pilot's or a work-plan update."""

    @property
    def version(self) -> int: ...


def check_version(update: Versioned, version: int | None) -> None:
    """Refuse a change made from an older reading of ``update`` (the version the user saw)."""
    if version is None or version != update.version:
        raise UpdateConflict(
            Message(
                "该更新已被他人修改（当前版本{version}，您编辑的是版本{yours}），为避免覆盖，本次保存未执行。请刷新后重新填写",
                version=update.version,
                yours=version or "—",
            ),
        )


def save_update(
    session: Session,
    user: User,
    pilot_id: int,
    period: Period,
    entry: UpdateEntry,
    *,
    reporting: Reporting,
    today: dt.date,
    version: int | None = None,
) -> ProgressUpdate:
    """Create or change the draft update of a pilot for a period, as the pilot's city bureau.

    A new update needs no version; changing one needs the version that was read (optimistic
    locking): when someone saved in between, nothing is overwritten and the reason is given.
    """
    pilot = session.get(Pilot, pilot_id)
    if pilot is None:
        raise TrackerError(Message("试点不存在"))
    require_act(user, Level.CITY, pilot)
    if not owes_update(pilot, period):
        raise TrackerError(Message("该试点在{label}不在实施期内，无需填报", label=Label(period.label_zh, period.label_en)))  # fmt: skip
    check_window(session, pilot, period, reporting, today)
    update = find_update(session, pilot.id, period, lock=True)
    if update is not None:
        check_version(update, version)
        UPDATE_CYCLE.check("edit", update.status)
    percents = check_entry(pilot, entry, period, complete=False)
    if update is None:
        update = ProgressUpdate(
            pilot=pilot, period_start=period.start, period_end=period.end, status=US.DRAFT
        )
        session.add(update)
    update.entered_by_id = user.id
    _apply(update, entry, percents)
    if update.id is not None:
        flag_modified(update, "entered_by_id")  # the version moves with any change, rows below included
    session.flush()
    return update


def _apply(update: ProgressUpdate, entry: UpdateEntry, percents: dict[int, Decimal]) -> None:
    for key in ("work_done", "problems", "next_steps"):
        text = clean_text(getattr(entry, key)) or None
        if getattr(update, key) != text:
            setattr(update, key, text)
    rows = {row.task_id: row for row in update.task_progress}
    for task_id, percent in percents.items():
        if task_id in rows:
            if rows[task_id].percent != percent:
                rows[task_id].percent = percent
        else:
            update.task_progress.append(TaskProgress(task_id=task_id, percent=percent))
    reports = {row.milestone_id: row for row in update.milestone_reports}
    for report in entry.milestones:
        values: dict[str, Any] = {"reached": report.reached,
                  "achieved_on": (report.achieved_on or update.period_end) if report.reached else None,
                  "indicator_value": report.indicator_value, "note": clean_text(report.note) or None}  # fmt: skip
        row = reports.get(report.milestone_id)
        if row is None:
            update.milestone_reports.append(UpdateMilestone(milestone_id=report.milestone_id, **values))
            continue
        for name, wanted in values.items():
            if getattr(row, name) != wanted:
                setattr(row, name, wanted)


def _locked(session: Session, update_id: int) -> ProgressUpdate:
    return locked(session, ProgressUpdate, update_id, Message("该更新不存在"))


def submit_update(
    session: Session,
    user: User,
    update_id: int,
    *,
    version: int | None,
    reporting: Reporting,
    now: dt.datetime,
    tz: ZoneInfo,
) -> ProgressUpdate:
    """Submit a draft or a corrected returned update. After the due day it is marked late."""
    update = _locked(session, update_id)
    require_act(user, Level.CITY, update.pilot)
    check_version(update, version)
    step = UPDATE_CYCLE.check(submit_step(update.status), update.status)
    period = Period(update.period_start, update.period_end)
    today = now.astimezone(tz).date()
    check_window(session, update.pilot, period, reporting, today)
    check_entry(update.pilot, stored_entry(update), period, complete=True)
    before = update.status
    mark_submitted(update, user.id, now, late=today > due_date(period, reporting))
    session.flush()
    record_step(session, Subject.UPDATE, update.id, step=step.key, city_id=update.pilot.city_id, before=before,
                after=update.status)  # fmt: skip
    return update


def review_update(
    session: Session,
    user: User,
    update_id: int,
    *,
    accept: bool,
    version: int | None,
    now: dt.datetime,
    reason: str | None = None,
    acknowledged: Collection[str] = (),
    checks: Checks = DEFAULT_CHECKS,
) -> ProgressUpdate:
    """The province accepts a submitted update (it is then locked) or returns it with a reason.

    Accepting needs every warning of ``review_warnings`` acknowledged (``acknowledged`` holds the
    keys of those the reviewer saw and ticked); the audit trail keeps the ones acknowledged."""
    update = _locked(session, update_id)
    require_act(user, Level.PROVINCE, update.pilot)
    check_version(update, version)
    step = UPDATE_CYCLE.check("accept" if accept else "return", update.status, reason)
    warnings = review_warnings(session, update, checks) if accept else []
    require_acknowledged(warnings, acknowledged)
    before = update.status
    mark_reviewed(update, user.id, now, accept=accept, reason=reason)
    if accept:
        for report in update.milestone_reports:
            if report.reached and report.milestone.achieved_on is None:
                report.milestone.achieved_on = report.achieved_on or update.period_end
    session.flush()
    logged = record_step(session, Subject.UPDATE, update.id, step=step.key, city_id=update.pilot.city_id,
                         before=before, after=update.status, reason=reason)  # fmt: skip
    if not accept:  # the city is told, in the app and by mail, in this same transaction
        tell_update_returned(session, update, logged, now=now)
    if warnings:
        audit.record(session, ACKNOWLEDGED, ProgressUpdate.__tablename__, update.id,
                     summary=Joined(w.message for w in warnings).text(DEFAULT_LOCALE)[:2000], city_id=update.pilot.city_id,
                     after={"warnings": [w.key for w in warnings]})  # fmt: skip
    return update


def stored_entry(update: ProgressUpdate) -> UpdateEntry:
    """An update as entry data (to check it again at submission, and to fill forms)."""
    milestones = [
        MilestoneReport(r.milestone_id, r.reached, r.achieved_on, r.indicator_value, r.note or "")
        for r in update.milestone_reports
    ]
    return UpdateEntry(
        task_percents={row.task_id: row.percent for row in update.task_progress},
        milestones=milestones,
        work_done=update.work_done or "",
        problems=update.problems or "",
        next_steps=update.next_steps or "",
    )


def news_only(pilot: Pilot, entry: UpdateEntry, period: Period) -> UpdateEntry:
    """The entry without milestone lines that say nothing new: a milestone achieved before the
    period began (forms and templates show it ticked), or one not reached with no value or note.
    So an earlier milestone is not credited to this period again, and every channel stores the same."""
    earlier = {m.id for m in pilot.milestones if m.achieved_on is not None and m.achieved_on < period.start}
    kept = [r for r in entry.milestones
            if not (r.reached and r.milestone_id in earlier)
            and (r.reached or r.indicator_value is not None or clean_text(r.note))]  # fmt: skip
    return UpdateEntry(entry.task_percents, kept, entry.work_done, entry.problems, entry.next_steps)


def is_blank(entry: UpdateEntry, last: dict[int, Decimal]) -> bool:
    """Nothing entered: the figures are the last reported ones (as pre-filled), no narrative, and no
    milestone news. A template row left as downloaded is not an update."""
    figures_unchanged = all(
        task_id in last and Decimal(value) == Decimal(last[task_id])
        for task_id, value in entry.task_percents.items()
    )
    texts = (clean_text(entry.work_done), clean_text(entry.problems), clean_text(entry.next_steps))
    return figures_unchanged and not any(texts) and not entry.milestones


def last_reported(session: Session, pilot: Pilot, before: dt.date) -> dict[int, Decimal]:
    """Each task's latest figure from updates of earlier periods that were submitted or accepted
    (what the entry form and the Excel template start from)."""
    return last_reported_many(session, [pilot.id], before)[pilot.id]


def last_reported_many(
    session: Session, pilot_ids: list[int], before: dt.date
) -> dict[int, dict[int, Decimal]]:
    """``last_reported`` for many pilots in one query (pilot id → task id → figure)."""
    found: dict[int, dict[int, Decimal]] = {pilot_id: {} for pilot_id in pilot_ids}
    if not pilot_ids:
        return found
    rows = session.execute(
        select(ProgressUpdate.pilot_id, TaskProgress.task_id, TaskProgress.percent)
        .join(TaskProgress.update)
        .where(ProgressUpdate.pilot_id.in_(pilot_ids), ProgressUpdate.period_start < before,
               ProgressUpdate.status.in_((US.SUBMITTED, US.ACCEPTED)))
        .order_by(ProgressUpdate.period_start)
    )  # fmt: skip
    for row in rows:
        found[row.pilot_id][row.task_id] = row.percent  # later periods overwrite earlier ones
    return found


def update_history(session: Session, update: ProgressUpdate) -> list[WorkflowStep]:
    return UPDATE_CYCLE.history(session, update.id)
