"""A pilot made from its selected application: its one-year span, its name, its plan copied in,
and the whole plan moved when it starts on another day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.models import (
    Application,
    Milestone,
    Pilot,
    PilotCategory,
    PilotParticipant,
    PilotStatus,
    Task,
    TaskTemplate,
)

PS = PilotStatus


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
        raise TrackerError(Message("试点已有进度报送，不能整体调整起始日期"))
    delta = start - pilot.start_date
    if not delta:
        return
    pilot.start_date, pilot.end_date = start, pilot.end_date + delta
    for task in pilot.tasks:
        task.planned_start, task.planned_end = task.planned_start + delta, task.planned_end + delta
    for milestone in pilot.milestones:
        milestone.due_date = milestone.due_date + delta
