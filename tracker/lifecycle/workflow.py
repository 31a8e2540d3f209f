"""The workflow from application to finished pilot, with its role rules, deadlines and quotas.

Application: draft → submitted → returned (reason) | passed city review → forwarded → under expert
review → selected | not selected. Pilot (created at selection): selected → published → in
implementation → completed | extended | withdrawn. Each step names the level that performs it
(``tracker.access.permissions.Level``); every step is checked, audited and logged as a ``WorkflowStep``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from tracker.access.permissions import Level, require_act
from tracker.core.errors import TrackerError
from tracker.core.i18n import _
from tracker.core.validation import Problem, ValidationFailed
from tracker.lifecycle.applications import data_from_application, validate
from tracker.models import (
    Application,
    ApplicationStatus,
    Batch,
    BatchDeadline,
    CategoryQuota,
    City,
    DeadlineException,
    ExpertScore,
    Milestone,
    Pilot,
    PilotCategory,
    PilotParticipant,
    PilotStatus,
    Product,
    QuotaScope,
    Subject,
    Task,
    TaskTemplate,
    User,
    WorkflowStep,
)
from tracker.models.labels import label
from tracker.review.cycle import Cycle, Step, locked, record_step

AS = ApplicationStatus
PS = PilotStatus
REFUSAL_ZH = "当前状态为“{status}”，不能{step}"


APPLICATION_STEPS: Cycle[Step[ApplicationStatus]] = Cycle(Subject.APPLICATION, (
    Step("submit", "提交申报", "Submit", frozenset({AS.DRAFT, AS.RETURNED}), AS.SUBMITTED, Level.CITY),
    Step("return", "退回修改", "Return", frozenset({AS.SUBMITTED, AS.CITY_PASSED}), AS.RETURNED, Level.CITY,
         needs_reason=True),
    Step("pass", "初审通过", "Pass city review", frozenset({AS.SUBMITTED}), AS.CITY_PASSED, Level.CITY),
    Step("forward", "报送省厅", "Forward to province", frozenset({AS.CITY_PASSED}), AS.FORWARDED, Level.CITY),
    Step("start_review", "开始专家评审", "Start expert review", frozenset({AS.FORWARDED}), AS.UNDER_REVIEW,
         Level.PROVINCE),
    Step("select", "确定入选", "Select", frozenset({AS.UNDER_REVIEW}), AS.SELECTED, Level.PROVINCE),
    Step("reject", "未入选", "Not selected", frozenset({AS.UNDER_REVIEW}), AS.NOT_SELECTED, Level.PROVINCE,
         needs_reason=True),
), noun_zh="", noun_en="application", status_zh=lambda status: label(AS(status)),
   refusal_zh=REFUSAL_ZH)  # fmt: skip
PILOT_STEPS: Cycle[Step[PilotStatus]] = Cycle(Subject.PILOT, (
    Step("publish", "公布名单", "Publish", frozenset({PS.SELECTED}), PS.PUBLISHED, Level.PROVINCE),
    Step("start", "启动实施", "Start implementation", frozenset({PS.PUBLISHED}), PS.IN_IMPLEMENTATION, Level.EITHER),
    Step("extend", "延期实施", "Extend", frozenset({PS.IN_IMPLEMENTATION, PS.EXTENDED}), PS.EXTENDED,
         Level.PROVINCE, needs_reason=True),
    Step("complete", "完成验收", "Complete", frozenset({PS.IN_IMPLEMENTATION, PS.EXTENDED}), PS.COMPLETED,
         Level.PROVINCE),
    Step("withdraw", "退出试点", "Withdraw",
         frozenset({PS.SELECTED, PS.PUBLISHED, PS.IN_IMPLEMENTATION, PS.EXTENDED}), PS.WITHDRAWN,
         Level.PROVINCE, needs_reason=True),
), noun_zh="", noun_en="pilot", status_zh=lambda status: label(PS(status)), refusal_zh=REFUSAL_ZH)  # fmt: skip


def _cycle(subject: Application | Pilot) -> Cycle[Step[Any]]:
    return APPLICATION_STEPS if isinstance(subject, Application) else PILOT_STEPS


def _check_step(user: User, step: Step[Any], subject: Application | Pilot, reason: str | None) -> None:
    assert step.level is not None  # every application and pilot step says whose it is
    require_act(user, step.level, subject)
    _cycle(subject).check(step, subject.status, reason)


def _record(subject: Application | Pilot, session: Session, step: Step[Any], before: StrEnum,
            reason: str | None) -> WorkflowStep:  # fmt: skip
    return record_step(session, _cycle(subject).subject, subject.id, step=step.key, city_id=subject.city_id,
                       before=before, after=subject.status, reason=reason)  # fmt: skip


# --- deadlines ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    source_zh: str  # whose date it is, for the message


def submission_deadline(
    session: Session, batch: Batch, city: City, *, direct_to_province: bool = False
) -> Deadline:
    """The last day a city may take applications for a batch: its own date, the province's for direct
    service applications, or a later date the province granted that city for that batch."""
    if direct_to_province:
        deadline = Deadline(batch.provincial_deadline, "全省截止日期")
    else:
        own = session.scalars(
            select(BatchDeadline.deadline).where(
                BatchDeadline.batch_id == batch.id, BatchDeadline.city_id == city.id
            )
        ).first()
        deadline = Deadline(own or batch.provincial_deadline, f"{city.name_zh}截止日期")
    exception = session.scalars(
        select(DeadlineException).where(
            DeadlineException.batch_id == batch.id, DeadlineException.city_id == city.id
        )
    ).first()
    if exception is not None and exception.until > deadline.date:
        return Deadline(exception.until, "省厅准予的延期")
    return deadline


def check_deadline(session: Session, application: Application, now: dt.datetime, tz: ZoneInfo) -> None:
    """Refuse once the deadline day has ended where the regulator is (local midnight)."""
    deadline = submission_deadline(session, application.batch, application.city,
                                   direct_to_province=application.direct_to_province)  # fmt: skip
    if now.astimezone(tz).date() > deadline.date:
        raise TrackerError(
            f"已过{application.batch.name_zh}申报截止时间（{deadline.source_zh}：{deadline.date.year}年"
            f"{deadline.date.month}月{deadline.date.day}日），如需补报请联系省厅开放例外",
            f"The deadline for batch {application.batch.number} has passed ({deadline.date.isoformat()})",
        )


def open_batch(session: Session, city: City, today: dt.date) -> Batch:
    """The earliest batch of the city's province still open to that city today."""
    batches = session.scalars(
        select(Batch).where(Batch.province_id == city.province_id).order_by(Batch.number)
    )
    for batch in batches:
        if submission_deadline(session, batch, city).date >= today:
            return batch
    raise TrackerError("目前没有仍在申报期内的批次，请指定批次（命令行用 --batch）或联系省厅开放例外",
                       "No batch is open for this city; choose one (--batch on the command line)")  # fmt: skip


def batch_for(session: Session, city: City, number: int | None, today: dt.date) -> Batch:
    """The batch of the city's province with that number, or with none given the one still open to
    the city today (forms, imports and the CLI choose batches the same way)."""
    if number is None:
        return open_batch(session, city, today)
    batch = session.scalars(
        select(Batch).where(Batch.province_id == city.province_id, Batch.number == number)
    ).first()
    if batch is None:
        raise TrackerError(f"没有第{number}批", f"No batch {number}")
    return batch


def grant_exception(session: Session, user: User, *, batch: Batch, city: City, until: dt.date,
                    reason: str) -> DeadlineException:  # fmt: skip
    """The province reopens one batch for one city until ``until`` (inclusive)."""
    require_act(user, Level.PROVINCE, city)
    if not reason.strip():
        raise TrackerError("开放例外须填写理由", "An exception needs a reason")
    row = session.scalars(
        select(DeadlineException).where(
            DeadlineException.batch_id == batch.id, DeadlineException.city_id == city.id
        )
    ).first()
    if row is None:
        row = DeadlineException(batch=batch, city=city, batch_id=batch.id, city_id=city.id, until=until,
                                reason=reason.strip(), granted_by_id=user.id)  # fmt: skip
        session.add(row)
    else:
        row.until, row.reason, row.granted_by_id = until, reason.strip(), user.id
    session.flush()
    return row


# --- quotas ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaLine:
    category: PilotCategory
    product_id: int | None
    product_name: str
    quota: int
    taken: int
    candidates: int  # applications under expert review for this line

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.taken)


def _taken(session: Session, province_id: int, category: PilotCategory, product_id: int | None) -> int:
    """Pilots holding a place: every pilot of the province in the line except withdrawn ones (a
    withdrawn pilot gives its place back), across all batches (the quota is overall)."""
    stmt = (
        select(func.count(Pilot.id))
        .join(Pilot.city)
        .where(City.province_id == province_id, Pilot.category == category, Pilot.status != PS.WITHDRAWN)
    )
    if product_id is not None:
        stmt = stmt.where(Pilot.product_id == product_id)
    return int(session.scalar(stmt) or 0)


def quota_board(session: Session, province_id: int) -> list[QuotaLine]:
    """Remaining places per product and for service pilots."""
    quotas = {
        q.category: q
        for q in session.scalars(select(CategoryQuota).where(CategoryQuota.province_id == province_id))
    }
    taken_rows = session.execute(
        select(Pilot.category, Pilot.product_id, func.count(Pilot.id)).join(Pilot.city)
        .where(City.province_id == province_id, Pilot.status != PS.WITHDRAWN)
        .group_by(Pilot.category, Pilot.product_id)
    ).all()  # fmt: skip
    review_rows = session.execute(
        select(Application.category, Application.product_id, func.count(Application.id)).join(Application.city)
        .where(City.province_id == province_id, Application.status == AS.UNDER_REVIEW)
        .group_by(Application.category, Application.product_id)
    ).all()  # fmt: skip
    taken = {(c, p): n for c, p, n in taken_rows}
    review = {(c, p): n for c, p, n in review_rows}
    lines = []
    product_quota = quotas.get(PilotCategory.PRODUCT)
    if product_quota is not None:
        for product in session.scalars(select(Product).order_by(Product.id)):
            key = (PilotCategory.PRODUCT, product.id)
            lines.append(QuotaLine(PilotCategory.PRODUCT, product.id, product.name_zh, product_quota.quota,
                                   taken.get(key, 0), review.get(key, 0)))  # fmt: skip
    service_quota = quotas.get(PilotCategory.SERVICE)
    if service_quota is not None:
        lines.append(QuotaLine(PilotCategory.SERVICE, None, "专业化服务试点", service_quota.quota,
                               sum(n for (c, _p), n in taken.items() if c is PilotCategory.SERVICE),
                               sum(n for (c, _p), n in review.items() if c is PilotCategory.SERVICE)))  # fmt: skip
    return lines


def _claim_quota_place(session: Session, application: Application) -> None:
    """Refuse selection beyond the quota. The quota row is locked (SELECT … FOR UPDATE) so two staff
    selecting at the same moment are serialised; on SQLite the single writer does the same."""
    province_id = application.city.province_id
    quota = session.scalars(
        select(CategoryQuota)
        .where(CategoryQuota.province_id == province_id, CategoryQuota.category == application.category)
        .with_for_update()
    ).first()
    if quota is None:
        return
    product_id = application.product_id if quota.scope is QuotaScope.PER_PRODUCT else None
    taken = _taken(session, province_id, application.category, product_id)
    if taken >= quota.quota:
        what = (
            application.product.name_zh if product_id is not None and application.product else quota.name_zh
        )
        raise TrackerError(
            f"名额已满：{what}最多{quota.quota}个试点，已入选{taken}个",
            f"Quota reached: at most {quota.quota} pilots for {what}; {taken} already selected",
        )


# --- pilots ---------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    return min(day.replace(year=year, month=month, day=1) + dt.timedelta(days=day.day - 1),
               next_month - dt.timedelta(days=1))  # fmt: skip


def one_year_end(start: dt.date) -> dt.date:
    return add_months(start, 12) - dt.timedelta(days=1)


def pilot_name(application: Application) -> str:
    what = application.product.name_zh if application.product else "碳足迹专业化服务"
    if application.category is PilotCategory.PRODUCT:
        return f"{application.organisation.name}{what}产品碳足迹管理试点"
    return f"{application.organisation.name}产品碳足迹专业化服务试点"


def create_pilot(session: Session, application: Application, start: dt.date) -> Pilot:
    """The pilot of a selected application: the standard tasks of its category over one year, the
    milestones of its plan, and its participating units."""
    end = one_year_end(start)
    pilot = Pilot(
        application=application, organisation=application.organisation, city_id=application.city_id,
        city=application.city, batch=application.batch, category=application.category,
        product=application.product, name=pilot_name(application)[:200], status=PS.SELECTED,
        start_date=start, end_date=end,
    )  # fmt: skip
    session.add(pilot)
    templates = session.scalars(
        select(TaskTemplate)
        .where(TaskTemplate.category == application.category)
        .order_by(TaskTemplate.number)
    )
    for position, template in enumerate(templates, start=1):
        session.add(Task(pilot=pilot, template=template, position=position, number=template.number,
                         title=template.title_zh, weight=Decimal(template.default_weight),
                         planned_start=start, planned_end=end))  # fmt: skip
    for item in application.plan_milestones:
        due = min(add_months(start, item.month) - dt.timedelta(days=1), end)
        session.add(Milestone(pilot=pilot, title=item.title, due_date=due, indicator=item.indicator,
                              target_value=item.target_value, evidence_required=True))  # fmt: skip
    for part in application.plan_participants:
        session.add(PilotParticipant(pilot=pilot, position=part.position, unit_name=part.unit_name,
                                     responsibility=part.responsibility))  # fmt: skip
    session.flush()
    return pilot


def shift_plan(pilot: Pilot, start: dt.date) -> None:
    """Move a pilot that has not reported yet to a new start date, keeping every span and offset."""
    if pilot.updates:
        raise TrackerError(
            "试点已有进度报送，不能整体调整起始日期", "The pilot has updates; its start cannot move"
        )
    delta = start - pilot.start_date
    if not delta:
        return
    pilot.start_date, pilot.end_date = start, pilot.end_date + delta
    for task in pilot.tasks:
        task.planned_start, task.planned_end = task.planned_start + delta, task.planned_end + delta
    for milestone in pilot.milestones:
        milestone.due_date = milestone.due_date + delta


# --- performing steps -----------------------------------------------------------------------------


def _locked_application(session: Session, application_id: int) -> Application:
    return locked(session, Application, application_id, "申报不存在", "No such application")


def advance_application(
    session: Session,
    user: User,
    application_id: int,
    step_key: str,
    *,
    now: dt.datetime,
    tz: ZoneInfo,
    reason: str | None = None,
) -> WorkflowStep:
    """Perform one step on an application as ``user``; refused with a clear message otherwise."""
    step = APPLICATION_STEPS.step(step_key)
    application = _locked_application(session, application_id)
    _check_step(user, step, application, reason)
    before = application.status
    target = step.target
    if step.key == "submit":
        validate(session, data_from_application(application))  # a draft saved long ago is checked again
        check_deadline(session, application, now, tz)
        application.submitted_at = now
        if application.direct_to_province:
            target = AS.FORWARDED  # filed with the province: there is no city review
    elif step.key == "select":
        _claim_quota_place(session, application)
        create_pilot(session, application, now.astimezone(tz).date())
    assert target is not None  # every application step leads somewhere
    application.status = target
    if step.key == "return":
        application.return_reason = (reason or "").strip()
    session.flush()
    entry = _record(application, session, step, before, reason)
    session.flush()
    return entry


def record_score(session: Session, user: User, application_id: int, *, expert: str, score: Decimal,
                 comment: str | None) -> ExpertScore:  # fmt: skip
    """Record (or correct) one expert's score on an application under review."""
    application = _locked_application(session, application_id)
    require_act(user, Level.PROVINCE, application)
    if application.status is not AS.UNDER_REVIEW:
        raise TrackerError("只能为专家评审中的申报录入评分", "Scores are recorded only during expert review")
    expert = expert.strip()
    if not expert or len(expert) > 64:
        raise TrackerError("请填写专家姓名（不超过64字）", "Give the expert's name (at most 64 characters)")
    if not Decimal(0) <= score <= Decimal(100):
        raise TrackerError("评分应在0–100之间", "A score is between 0 and 100")
    row = next((s for s in application.scores if s.expert_name == expert), None)
    if row is None:
        row = ExpertScore(application=application, expert_name=expert, score=score, comment=comment or None,
                          recorded_by_id=user.id)  # fmt: skip
        session.add(row)
    else:
        row.score, row.comment, row.recorded_by_id = score, comment or None, user.id
    session.flush()
    return row


def average_score(application: Application) -> Decimal | None:
    if not application.scores:
        return None
    return (sum((s.score for s in application.scores), Decimal(0)) / len(application.scores)).quantize(
        Decimal("0.1")
    )


def advance_pilot(
    session: Session,
    user: User,
    pilot_id: int,
    step_key: str,
    *,
    today: dt.date,
    reason: str | None = None,
    new_date: dt.date | None = None,
) -> WorkflowStep:
    """Perform one step on a pilot. ``new_date`` is the start date for ``start`` (default: keep the
    planned start) and the new end date for ``extend``."""
    step = PILOT_STEPS.step(step_key)
    pilot = locked(session, Pilot, pilot_id, "试点不存在", "No such pilot")
    _check_step(user, step, pilot, reason)
    before = pilot.status
    if step.key == "publish":
        pilot.published_on = today
    elif step.key == "start" and new_date is not None:
        shift_plan(pilot, new_date)
    elif step.key == "extend":
        if new_date is None or new_date <= pilot.end_date:
            raise TrackerError("延期须给出晚于原结束日期的新结束日期", "An extension needs a later end date")
        pilot.end_date = new_date
    elif step.key in ("complete", "withdraw"):
        pilot.closed_on = today
    assert step.target is not None  # every pilot step leads somewhere
    pilot.status = step.target
    session.flush()
    return _record(pilot, session, step, before, reason)


def publish_batch(session: Session, user: User, batch: Batch, *, today: dt.date) -> list[Pilot]:
    """Publish the list (名单公开): every selected pilot of the batch in the user's province."""
    require_act(user, Level.PROVINCE, batch)
    pilots = list(session.scalars(
        select(Pilot).join(Pilot.city)
        .where(Pilot.batch_id == batch.id, Pilot.status == PS.SELECTED, City.province_id == user.province_id)
        .order_by(Pilot.id)
    ))  # fmt: skip
    for pilot in pilots:
        advance_pilot(session, user, pilot.id, "publish", today=today)
    return pilots


def history(session: Session, subject: Application | Pilot) -> list[WorkflowStep]:
    """Who did what, when, for one application or pilot (oldest first)."""
    return _cycle(subject).history(session, subject.id)


# --- what pages show ------------------------------------------------------------------------------


def allowed_application_steps(user: object, application: Application) -> list[Step[Any]]:
    """The steps this user could take on this application now (pages show only these buttons)."""
    from tracker.access.permissions import may_act

    return [
        s
        for s in APPLICATION_STEPS.values()
        if application.status in s.sources and s.level is not None and may_act(user, s.level, application)
    ]


def allowed_pilot_steps(user: object, pilot: Pilot) -> list[Step[Any]]:
    from tracker.access.permissions import may_act

    return [
        s
        for s in PILOT_STEPS.values()
        if pilot.status in s.sources and s.level is not None and may_act(user, s.level, pilot)
    ]


def application_rows(session: Session, user: User, *, batch_number: int | None = None,
                     statuses: list[str] | None = None) -> list[dict[str, object]]:  # fmt: skip
    """The applications the user may see, one dict per grid row."""
    from sqlalchemy.orm import selectinload

    from tracker.access.permissions import visible_applications
    from tracker.models.labels import label

    stmt = visible_applications(user).options(
        selectinload(Application.organisation), selectinload(Application.city), selectinload(Application.batch),
        selectinload(Application.product), selectinload(Application.scores),
    ).order_by(Application.id.desc())  # fmt: skip
    if batch_number is not None:
        stmt = stmt.join(Application.batch).where(Batch.number == batch_number)
    if statuses:
        stmt = stmt.where(Application.status.in_([AS(s) for s in statuses if s in AS.__members__.values()]))
    applications = list(session.scalars(stmt))
    last_steps = {
        subject_id: (name, at)
        for subject_id, name, at in session.execute(
            select(WorkflowStep.subject_id, WorkflowStep.actor_name, WorkflowStep.at)
            .where(WorkflowStep.subject_type == Subject.APPLICATION,
                   WorkflowStep.subject_id.in_([a.id for a in applications]))
            .order_by(WorkflowStep.at, WorkflowStep.id)
        )
    }  # fmt: skip
    rows = []
    for a in applications:
        score = average_score(a)
        who, at = last_steps.get(a.id, ("", None))
        rows.append({
            "id": a.id, "organisation": a.organisation.name, "city": a.city.short_zh, "batch": a.batch.name_zh,
            "category": label(a.category), "product": a.product.name_zh if a.product else "",
            "status": label(a.status), "status_key": a.status.value,
            "score": float(score) if score is not None else None, "experts": len(a.scores),
            "direct": _("是") if a.direct_to_province else "",
            "last_by": who, "last_at": at.isoformat() if at else None,
        })  # fmt: skip
    return rows


# --- refining a pilot's plan ----------------------------------------------------------------------


@dataclass(frozen=True)
class TaskEdit:
    """A task's plan; no id for a custom task the pilot adds (its title is then required; a custom
    task's title may change, a standard task's title is the category template's)."""

    task_id: int | None
    weight: Decimal
    planned_start: dt.date
    planned_end: dt.date
    responsible_unit: str | None
    title: str | None = None


@dataclass(frozen=True)
class MilestoneEdit:
    """A milestone's details; no id for a new milestone (its title is then required)."""

    milestone_id: int | None
    due_date: dt.date
    indicator: str | None
    target_value: str | None
    evidence_required: bool
    title: str | None = None


@dataclass(frozen=True)
class ParticipantEdit:
    """A participating unit and its share of the work; no id for a new unit."""

    participant_id: int | None
    unit_name: str
    responsibility: str


def refine_plan(session: Session, user: User, pilot_id: int, *, version: int, tasks: list[TaskEdit],
                milestones: list[MilestoneEdit], participants: list[ParticipantEdit] | None = None) -> Pilot:  # fmt: skip
    """The city bureau (or the province) adjusts task weights and spans, milestone details and the
    participating units' responsibilities (``participants`` None: unchanged; a unit left out of the
    list is removed).

    ``version`` is the pilot version the editor loaded: if someone else saved in between, the change
    is refused rather than silently overwriting theirs. Every problem is reported at once.
    """
    pilot = session.get(Pilot, pilot_id)
    if pilot is None:
        raise TrackerError("试点不存在", "No such pilot")
    require_act(user, Level.EITHER, pilot)
    if pilot.status in (PS.COMPLETED, PS.WITHDRAWN):
        raise TrackerError("试点已结束，计划不能再修改", "The pilot has ended; its plan is closed")
    if pilot.version != version:
        raise TrackerError(
            "该试点计划已被他人修改，请刷新后重新编辑",
            "Someone else changed this plan; reload and edit again",
        )
    by_task = {t.id: t for t in pilot.tasks}
    by_milestone = {m.id: m for m in pilot.milestones}
    problems: list[Problem] = []
    for index, edit in enumerate(tasks, start=1):
        where = f"任务第{index}行"
        if edit.task_id is not None and edit.task_id not in by_task:
            problems.append(Problem("tasks", f"{where}不属于该试点", f"task row {index} is not this pilot's"))
        known = by_task.get(edit.task_id) if edit.task_id is not None else None
        custom = edit.task_id is None or (known is not None and known.template_id is None)
        if custom and not 0 < len((edit.title or "").strip()) <= 200:
            problems.append(Problem("tasks", f"{where}（自定义任务）须填写任务名称（200字以内）",
                                    f"task row {index}: a custom task needs a title of up to 200 characters"))  # fmt: skip
        if edit.weight < 0 or edit.weight > 1000:
            problems.append(
                Problem("tasks", f"{where}权重应在0–1000之间", f"task row {index}: weight 0–1000")
            )
        if edit.planned_end < edit.planned_start:
            problems.append(
                Problem("tasks", f"{where}计划结束早于开始", f"task row {index}: end before start")
            )
    if tasks and sum((e.weight for e in tasks), Decimal(0)) <= 0:
        problems.append(
            Problem("tasks", "任务权重合计须大于0", "the task weights must add up to more than 0")
        )
    for index, medit in enumerate(milestones, start=1):
        if medit.milestone_id is None and not 0 < len((medit.title or "").strip()) <= 200:
            problems.append(Problem("milestones", f"阶段性目标第{index}行（新增）须填写名称（200字以内）",
                                    f"milestone row {index}: a new milestone needs a title"))  # fmt: skip
        if medit.milestone_id is not None and medit.milestone_id not in by_milestone:
            problems.append(
                Problem(
                    "milestones",
                    f"阶段性目标第{index}行不属于该试点",
                    f"milestone row {index} is not this pilot's",
                )
            )
        if not pilot.start_date <= medit.due_date <= pilot.end_date + dt.timedelta(days=366):
            problems.append(Problem("milestones", f"阶段性目标第{index}行到期日不在试点期内",
                                    f"milestone row {index}: due date outside the pilot"))  # fmt: skip
    problems += _participant_problems(pilot, participants or [])
    if problems:
        raise ValidationFailed(problems)
    if participants is not None:
        _apply_participants(session, pilot, participants)
    for edit in tasks:
        task = by_task[edit.task_id] if edit.task_id is not None else _custom_task(pilot)
        task.weight, task.planned_start, task.planned_end = edit.weight, edit.planned_start, edit.planned_end
        task.responsible_unit = (edit.responsible_unit or "").strip() or None
        if task.template_id is None and task.title != (edit.title or "").strip():
            task.title = (edit.title or "").strip()
    for medit in milestones:
        if medit.milestone_id is None:
            milestone = Milestone(title=(medit.title or "").strip())
            pilot.milestones.append(milestone)
        else:
            milestone = by_milestone[medit.milestone_id]
        milestone.due_date, milestone.evidence_required = medit.due_date, medit.evidence_required
        milestone.indicator = (medit.indicator or "").strip() or None
        milestone.target_value = (medit.target_value or "").strip() or None
    added = any(e.task_id is None for e in tasks) or any(m.milestone_id is None for m in milestones)
    if (
        added
        or participants is not None
        or any(session.is_modified(row) for row in [*pilot.tasks, *pilot.milestones])
    ):
        flag_modified(pilot, "name")  # the pilot's version moves with its plan (optimistic locking)
    session.flush()
    return pilot


def _custom_task(pilot: Pilot) -> Task:
    """A new task of the pilot's own (no template), numbered after the others."""
    numbers = [int(t.number) for t in pilot.tasks if t.number.isdigit()]
    task = Task(position=max((t.position for t in pilot.tasks), default=0) + 1,
                number=str(max(numbers, default=0) + 1), title="")  # fmt: skip
    pilot.tasks.append(task)
    return task


def _participant_problems(pilot: Pilot, participants: list[ParticipantEdit]) -> list[Problem]:
    known = {p.id for p in pilot.participants}
    problems = []
    for index, edit in enumerate(participants, start=1):
        if edit.participant_id is not None and edit.participant_id not in known:
            problems.append(Problem("participants", f"参与单位第{index}行不属于该试点",
                                    f"participant row {index} is not this pilot's"))  # fmt: skip
        if not edit.unit_name.strip() or len(edit.unit_name.strip()) > 200:
            problems.append(Problem("participants", f"参与单位第{index}行的单位名称应为1–200字",
                                    f"participant row {index}: unit name of 1–200 characters"))  # fmt: skip
        if len(edit.responsibility.strip()) > 1000:
            problems.append(Problem("participants", f"参与单位第{index}行的分工超过1000字",
                                    f"participant row {index}: responsibility over 1000 characters"))  # fmt: skip
    return problems


def _apply_participants(session: Session, pilot: Pilot, participants: list[ParticipantEdit]) -> None:
    """Change rows in place, add new ones after the others, delete those left out (each change
    audited). Positions of kept rows do not move: renumbering in place would collide on the
    (pilot, position) constraint within one flush."""
    rows: dict[int, PilotParticipant] = {p.id: p for p in pilot.participants}
    kept = {e.participant_id for e in participants if e.participant_id is not None}
    for row_id, gone in rows.items():
        if row_id not in kept:
            pilot.participants.remove(gone)
            session.delete(gone)
    session.flush()
    next_position = max((p.position for p in pilot.participants), default=0) + 1
    for edit in participants:
        values = {"unit_name": edit.unit_name.strip(), "responsibility": edit.responsibility.strip()}
        row = rows.get(edit.participant_id) if edit.participant_id is not None else None
        if row is None:
            pilot.participants.append(PilotParticipant(position=next_position, **values))
            next_position += 1
            continue
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
