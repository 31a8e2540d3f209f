"""The steps from application to finished pilot, with their role rules (deadlines in
``tracker.lifecycle.deadlines``, quotas in ``tracker.lifecycle.quotas``, the pilot made at selection in
``tracker.lifecycle.pilots``).

Application: draft → submitted → returned (reason) | passed city review → forwarded → under expert
review → selected | not selected. Pilot (created at selection): selected → published → in
implementation → completed | extended | withdrawn. Each step names the level that performs it
(``tracker.access.permissions.Level``); every step is checked, audited and logged as a ``WorkflowStep``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import Level, require_act
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, batch_name, name_of
from tracker.core.messages import Message
from tracker.lifecycle.applications import data_from_application, validate
from tracker.lifecycle.deadlines import check_deadline
from tracker.lifecycle.pilots import create_pilot, shift_plan
from tracker.lifecycle.quotas import claim_quota_place
from tracker.models import (
    Application,
    ApplicationStatus,
    Batch,
    City,
    ExpertScore,
    Pilot,
    PilotStatus,
    Subject,
    User,
    WorkflowStep,
)
from tracker.models.labels import label
from tracker.review.cycle import Cycle, Step, locked, record_step

AS = ApplicationStatus
PS = PilotStatus
REFUSAL_ZH = N_("当前状态为“{status}”，不能{step}")


APPLICATION_STEPS: Cycle[ApplicationStatus, Step[ApplicationStatus]] = Cycle(Subject.APPLICATION, (
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
PILOT_STEPS: Cycle[PilotStatus, Step[PilotStatus]] = Cycle(Subject.PILOT, (
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


SubjectStep = Step[ApplicationStatus] | Step[PilotStatus]  # a step of either subject's cycle


SubjectCycle = Cycle[ApplicationStatus, Step[ApplicationStatus]] | Cycle[PilotStatus, Step[PilotStatus]]


def _cycle(subject: Application | Pilot) -> SubjectCycle:
    return APPLICATION_STEPS if isinstance(subject, Application) else PILOT_STEPS


def _check_step(user: User, step: SubjectStep, subject: Application | Pilot, reason: str | None) -> None:
    assert step.level is not None  # every application and pilot step says whose it is
    require_act(user, step.level, subject)
    if isinstance(subject, Application):  # by key: the step is this subject's cycle's
        APPLICATION_STEPS.check(step.key, subject.status, reason)
    else:
        PILOT_STEPS.check(step.key, subject.status, reason)


def _record(subject: Application | Pilot, session: Session, step: SubjectStep, before: StrEnum,
            reason: str | None) -> WorkflowStep:  # fmt: skip
    return record_step(session, _cycle(subject).subject, subject.id, step=step.key, city_id=subject.city_id,
                       before=before, after=subject.status, reason=reason)  # fmt: skip


# --- performing steps -----------------------------------------------------------------------------


def _locked_application(session: Session, application_id: int) -> Application:
    return locked(session, Application, application_id, Message("申报不存在"))


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
        claim_quota_place(session, application)
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
        raise TrackerError(Message("只能为专家评审中的申报录入评分"))
    expert = expert.strip()
    if not expert or len(expert) > 64:
        raise TrackerError(Message("请填写专家姓名（不超过64字）"))
    if not Decimal(0) <= score <= Decimal(100):
        raise TrackerError(Message("评分应在0–100之间"))
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
    pilot = locked(session, Pilot, pilot_id, Message("试点不存在"))
    _check_step(user, step, pilot, reason)
    before = pilot.status
    if step.key == "publish":
        pilot.published_on = today
    elif step.key == "start" and new_date is not None:
        shift_plan(pilot, new_date)
    elif step.key == "extend":
        if new_date is None or new_date <= pilot.end_date:
            raise TrackerError(Message("延期须给出晚于原结束日期的新结束日期"))
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


def allowed_application_steps(user: object, application: Application) -> list[Step[ApplicationStatus]]:
    """The steps this user could take on this application now (pages show only these buttons)."""
    from tracker.access.permissions import may_act

    return [
        s
        for s in APPLICATION_STEPS.values()
        if application.status in s.sources and s.level is not None and may_act(user, s.level, application)
    ]


def allowed_pilot_steps(user: object, pilot: Pilot) -> list[Step[PilotStatus]]:
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
            "id": a.id, "organisation": a.organisation.name, "city": name_of(a.city, short=True), "batch": batch_name(a.batch),
            "category": label(a.category), "product": name_of(a.product) if a.product else "",
            "status": label(a.status), "status_key": a.status.value,
            "score": float(score) if score is not None else None, "experts": len(a.scores),
            "direct": _("是") if a.direct_to_province else "",
            "last_by": who, "last_at": at.isoformat() if at else None,
        })  # fmt: skip
    return rows
