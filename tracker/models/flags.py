"""Findings of the integrity checks (风险线索): one table for progress-report checks and, later, for
carbon-label claims, with a review lifecycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, code_str, intpk, utcnow
from tracker.core.messages import Label, Shown
from tracker.models.audited import Audited
from tracker.models.enums import Subject, enum_column, subject_column
from tracker.models.geography import City

if TYPE_CHECKING:
    from tracker.models.pilots import Pilot


class Closure(StrEnum):
    """How a flag was closed: by a reviewer's decision, or by a scan that no longer found it."""

    REVIEW = "review"
    SCAN = "scan"  # the data was corrected; the next scan that finds it again reopens the flag


class FlagStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"  # assigned to someone
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"  # reason required; stays dismissed while the data is unchanged
    RESOLVED = "resolved"  # dealt with, or closed by itself when the data was corrected


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Flag(Base, Audited):
    """One finding: which rule, on what (an update or a claim), the evidence that made it fire, and
    where its review stands. ``fingerprint`` identifies the finding (rule, subject and evidence), so
    a scan never records the same finding twice."""

    __tablename__ = "flags"
    __table_args__ = (Index("ix_flags_city_id_status", "city_id", "status"),)

    id: Mapped[intpk]
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[code_str] = mapped_column(index=True)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "flag_severity"))
    subject_type: Mapped[Subject] = mapped_column(subject_column())  # UPDATE or CLAIM
    subject_id: Mapped[int] = mapped_column(Integer)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"))
    pilot_id: Mapped[int | None] = mapped_column(ForeignKey("pilots.id"), index=True)
    # The rule's message template (its catalogue id), rendered over ``evidence`` when shown; flags
    # recorded before it was kept (revision 0020) have none and show the texts of their scan.
    message_id: Mapped[str | None] = mapped_column(Text)
    message_zh: Mapped[str] = mapped_column(Text)  # as rendered at the scan, for the record
    message_en: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[FlagStatus] = mapped_column(
        enum_column(FlagStatus, "flag_status"), default=FlagStatus.OPEN
    )
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[Closure | None] = mapped_column(enum_column(Closure, "flag_closure"))
    # A city bureau's pending proposal for the province to decide (tracker.flags.review): the outcome
    # proposed ("dismiss" | "resolve"), why, by whom and when; empty when nothing awaits the province.
    proposal: Mapped[str | None] = mapped_column(String(32), index=True)
    proposal_reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime | None]

    city: Mapped[City | None] = relationship()
    pilot: Mapped[Pilot | None] = relationship(viewonly=True)

    @property
    def message(self) -> Shown:
        """What the flag found, in the reader's language when shown; other companies a cross-claim
        finding involves are named only when in the flag's own city (``message_for`` names those of
        the reader's cities)."""
        return self.message_for(None)

    def message_for(self, visible: Collection[int] | None) -> Shown:
        """What the flag found, for a reader who may see the cities ``visible`` (their ids; None: the
        flag's own city, which every reader of the flag may see)."""
        if self.message_id is None:
            return Label(self.message_zh, self.message_en)
        from tracker.models.labels import finding_message  # labels imports this module's enums

        scope = visible if visible is not None else ({self.city_id} if self.city_id is not None else set())
        return finding_message(self.message_id, self.evidence, visible=scope)
