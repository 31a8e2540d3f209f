"""The application's journey to a pilot: plan outline, supporting files, expert scores, deadline
exceptions, and the log of every workflow step (who did what, when, why)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, code_str, intpk, name_str, short_str, utcnow
from tracker.models.audited import Audited
from tracker.models.catalogue import Batch
from tracker.models.enums import FileKind, Subject, enum_column, subject_column
from tracker.models.geography import City
from tracker.models.pilots import Application, Pilot


class PlanMilestone(Base, Audited):
    """A staged goal (阶段性目标) of an application's plan, due N months after the pilot starts."""

    __tablename__ = "plan_milestones"
    __table_args__ = (
        UniqueConstraint("application_id", "position"),
        CheckConstraint("month >= 1 AND month <= 36", name="month_range"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[name_str]
    month: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str | None] = mapped_column(String(200))
    target_value: Mapped[str | None] = mapped_column(String(64))

    application: Mapped[Application] = relationship(back_populates="plan_milestones")


class PlanParticipant(Base, Audited):
    """A participating unit of an application's plan and its share of the work (职责分工)."""

    __tablename__ = "plan_participants"
    __table_args__ = (UniqueConstraint("application_id", "position"),)

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    position: Mapped[int] = mapped_column(Integer)
    unit_name: Mapped[name_str]
    responsibility: Mapped[str] = mapped_column(Text)

    application: Mapped[Application] = relationship(back_populates="plan_participants")


class PilotParticipant(Base, Audited):
    """A participating unit of a pilot, copied from the plan at selection and editable after."""

    __tablename__ = "pilot_participants"
    __table_args__ = (UniqueConstraint("pilot_id", "position"),)

    id: Mapped[intpk]
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id"))
    position: Mapped[int] = mapped_column(Integer)
    unit_name: Mapped[name_str]
    responsibility: Mapped[str] = mapped_column(Text)

    pilot: Mapped[Pilot] = relationship(back_populates="participants")


class StoredFile:
    """What every uploaded file records. The bytes live on disk under the instance folder, named by
    their SHA-256, which is also the integrity check (tracker.uploads.files)."""

    __table_args__: tuple[object, ...] = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    filename: Mapped[name_str]
    content_type: Mapped[short_str]
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApplicationFile(StoredFile, Base, Audited):
    """A supporting file (附件4 §六 相关材料)."""

    __tablename__ = "application_files"

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[FileKind] = mapped_column(enum_column(FileKind, "file_kind"))

    application: Mapped[Application] = relationship(back_populates="files")


class ExpertScore(Base, Audited):
    """One expert's score (0–100) and comment on an application during provincial selection."""

    __tablename__ = "expert_scores"
    __table_args__ = (
        UniqueConstraint("application_id", "expert_name"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    expert_name: Mapped[short_str]
    score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="scores")


class DeadlineException(Base, Audited):
    """The province reopens one batch for one city until a later date (a granted exception)."""

    __tablename__ = "deadline_exceptions"
    __table_args__ = (UniqueConstraint("batch_id", "city_id"),)

    id: Mapped[intpk]
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    until: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    batch: Mapped[Batch] = relationship()
    city: Mapped[City] = relationship()


class WorkflowStep(Base):
    """One step of an application's or a pilot's workflow: the record of who did it, when and why.

    Append-only in practice (nothing updates it); the audit trail holds the row changes as well.
    """

    __tablename__ = "workflow_steps"
    __table_args__ = (Index("ix_workflow_steps_subject", "subject_type", "subject_id"),)

    id: Mapped[intpk]
    subject_type: Mapped[Subject] = mapped_column(subject_column())
    subject_id: Mapped[int] = mapped_column(Integer)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True)
    step: Mapped[code_str]
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[code_str]
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[short_str]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


__all__ = [
    "ApplicationFile",
    "DeadlineException",
    "ExpertScore",
    "PilotParticipant",
    "PlanMilestone",
    "PlanParticipant",
    "WorkflowStep",
]
