"""Factories for test data: small, explicit, valid by default (credit codes pass their checksums)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tracker.access.accounts import create_user
from tracker.core.db import TrackerSession
from tracker.core.periods import Frequency, Reporting, period_of
from tracker.demo.province import make_credit_code
from tracker.models import (
    Application,
    ApplicationStatus,
    Batch,
    City,
    Organisation,
    OrganisationKind,
    Pilot,
    PilotCategory,
    PilotStatus,
    PlanMilestone,
    PlanParticipant,
    Product,
    ProgressUpdate,
    Role,
    Task,
    TaskProgress,
    UpdateStatus,
    User,
)

PASSWORD = "Test-password-2025"
# The regulator's zone, the default reporting cycle and a reference month for the update tests.
TZ = ZoneInfo("Asia/Shanghai")
MONTHLY = Reporting(Frequency.MONTHLY, due_days=5, window_days=10)
NOV = period_of(dt.date(2025, 11, 1), Frequency.MONTHLY)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A moment on a local (Asia/Shanghai) day."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


_serial = itertools.count(1)


class Factory:
    def __init__(self, session: TrackerSession) -> None:
        self.session = session
        self.rng = random.Random(7)

    def city(self, short_zh: str) -> City:
        return self.session.scalars(select(City).where(City.short_zh == short_zh)).one()

    def product(self, name_zh: str = "焦炭") -> Product:
        return self.session.scalars(select(Product).where(Product.name_zh == name_zh)).one()

    def user(self, role: Role = Role.CITY_STAFF, city: str | None = "长治", **kwargs: Any) -> User:
        if role in (Role.PROVINCE_ADMIN, Role.PROVINCE_STAFF):
            city = None
        username = kwargs.pop("username", f"user{next(_serial)}")
        user = create_user(self.session, username=username, display_name=kwargs.pop("display_name", username),
                           role=role, password=kwargs.pop("password", PASSWORD), city=city, **kwargs)  # fmt: skip
        self.session.commit()
        return user

    def organisation(self, city: str = "长治", name: str | None = None) -> Organisation:
        city_row = self.city(city)
        org = Organisation(
            name=name or f"示例{city}测试有限公司{next(_serial)}",
            credit_code=make_credit_code(self.rng, f"{city_row.code[:4]}{self.rng.randint(1, 30):02d}"),
            city_id=city_row.id, kind=OrganisationKind.ENTERPRISE,
        )  # fmt: skip
        self.session.add(org)
        return org

    def pilot(self, city: str = "长治", product: str | None = "焦炭", *, start: dt.date = dt.date(2025, 9, 1),
              status: PilotStatus = PilotStatus.IN_IMPLEMENTATION, name: str | None = None) -> Pilot:  # fmt: skip
        org = self.organisation(city)
        batch = self.session.scalars(select(Batch).where(Batch.number == 1)).one()
        pilot = Pilot(
            organisation=org, city_id=org.city_id, batch=batch,
            category=PilotCategory.PRODUCT if product else PilotCategory.SERVICE,
            product=self.product(product) if product else None, name=name or f"{org.name}碳足迹试点",
            start_date=start, end_date=start.replace(year=start.year + 1) - dt.timedelta(days=1), status=status,
        )  # fmt: skip
        self.session.add(pilot)
        self.session.add(Task(pilot=pilot, position=1, number="1", title="数据采集", weight=Decimal(1),
                              planned_start=pilot.start_date, planned_end=pilot.end_date))  # fmt: skip
        self.session.commit()
        return pilot

    def accepted_update(self, pilot: Pilot, period_start: dt.date, period_end: dt.date, percent: str) -> None:
        update = ProgressUpdate(pilot_id=pilot.id, period_start=period_start, period_end=period_end,
                                status=UpdateStatus.ACCEPTED)  # fmt: skip
        update.task_progress.append(TaskProgress(task_id=pilot.tasks[0].id, percent=Decimal(percent)))
        self.session.add(update)
        self.session.commit()

    def application(self, city: str = "长治", product: str | None = "焦炭", *,
                    status: ApplicationStatus = ApplicationStatus.DRAFT, batch: int = 1,
                    direct_to_province: bool = False, with_plan: bool = False) -> Application:  # fmt: skip
        """A complete application (every required field filled) in the given state."""
        org = self.organisation(city)
        application = Application(
            organisation=org, city_id=org.city_id, city=self.city(city),
            batch=self.session.scalars(select(Batch).where(Batch.number == batch)).one(),
            category=PilotCategory.PRODUCT if product else PilotCategory.SERVICE,
            product=self.product(product) if product else None, product_text=product, status=status,
            direct_to_province=direct_to_province, contact_name="李联系", contact_phone="0355-2110461",
            overall_goal="建立产品碳足迹管理体系",
        )  # fmt: skip
        if with_plan:
            application.plan_milestones = [
                PlanMilestone(position=1, title="建成数据采集系统", month=3, indicator="覆盖阶段数", target_value="6"),
                PlanMilestone(position=2, title="发布碳足迹报告", month=12, indicator="报告", target_value="1"),
            ]  # fmt: skip
            application.plan_participants = [
                PlanParticipant(position=1, unit_name="示例大学", responsibility="核算方法与数据质量"),
            ]
        self.session.add(application)
        self.session.commit()
        return application
