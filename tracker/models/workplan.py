"""The provincial work plan's periodic updates: one per key task, lead department and period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, intpk
from tracker.models.audited import Audited
from tracker.models.catalogue import WorkPlanTask
from tracker.models.enums import UpdateStatus, enum_column
from tracker.models.geography import Department


class WorkPlanUpdate(Base, Audited):
    """How far one department has carried one key task of 晋环发〔2024〕31号 in one period.

    Entered by provincial staff on the department's behalf (the departments are not users), in the
    same cycle as the pilots' updates: draft → submitted → returned → accepted (locked).
    """

    __tablename__ = "work_plan_updates"
    __table_args__ = (
        # Its index also serves the lookup of one update (task, department, period); a period's
        # list is at most a few dozen rows a month, read by period_start without an index of its own.
        UniqueConstraint("task_id", "department_id", "period_start", name="uq_work_plan_updates_task_period"),
        CheckConstraint("period_end >= period_start", name="end_after_start"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
    )

    id: Mapped[intpk]
    task_id: Mapped[int] = mapped_column(ForeignKey("work_plan_tasks.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    status: Mapped[UpdateStatus] = mapped_column(
        enum_column(UpdateStatus, "update_status"), default=UpdateStatus.DRAFT
    )
    progress: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # a draft may not have one yet
    work_done: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    # submitted_at is the first submission (timeliness counts it); a resubmission after a return
    # is last_submitted_at.
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_submitted_at: Mapped[dt.datetime | None]
    is_late: Mapped[bool] = mapped_column(default=False)
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_reason: Mapped[str | None] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    task: Mapped[WorkPlanTask] = relationship()
    department: Mapped[Department] = relationship()
