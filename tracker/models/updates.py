"""What a periodic update (调度) carries besides task percentages: milestones reached with their
indicator values, evidence files, and the province's exceptions to the entry window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, intpk, utcnow
from tracker.models.audited import Audited
from tracker.models.geography import City
from tracker.models.lifecycle import StoredFile
from tracker.models.pilots import Milestone, ProgressUpdate


class UpdateMilestone(Base, Audited):
    """One milestone as an update reports it: reached (on which day) and the indicator's value."""

    __tablename__ = "update_milestones"
    __table_args__ = (UniqueConstraint("update_id", "milestone_id"),)

    id: Mapped[intpk]
    update_id: Mapped[int] = mapped_column(ForeignKey("progress_updates.id"))
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    reached: Mapped[bool] = mapped_column(Boolean, default=False)
    achieved_on: Mapped[dt.date | None]
    indicator_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    note: Mapped[str | None] = mapped_column(String(500))

    update: Mapped[ProgressUpdate] = relationship(back_populates="milestone_reports")
    milestone: Mapped[Milestone] = relationship()


class UpdateFile(StoredFile, Base, Audited):
    """Evidence attached to an update (for a milestone reached or a task completed)."""

    __tablename__ = "update_files"

    id: Mapped[intpk]
    update_id: Mapped[int] = mapped_column(ForeignKey("progress_updates.id"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))

    update: Mapped[ProgressUpdate] = relationship(back_populates="files")


class UpdateWindowException(Base, Audited):
    """The province reopens entry for one city and one reporting period until a later day."""

    __tablename__ = "update_window_exceptions"
    __table_args__ = (UniqueConstraint("city_id", "period_start"),)

    id: Mapped[intpk]
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    until: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    city: Mapped[City] = relationship()
