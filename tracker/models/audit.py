"""Audit events: append-only (database triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import Base, intpk, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        # The history of one object, newest first.
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        # A city's recent events in the audit log page.
        Index("ix_audit_events_city_id_at", "city_id", "at"),
    )

    id: Mapped[intpk]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"))
    summary: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class AuditChainLink(Base):
    """One audit event's place in its province's hash chain (tracker.audit.chain): ``hash`` is
    SHA-256 over the previous link's hash in that chain and the event's stored content. Append-only,
    like the events."""

    __tablename__ = "audit_chain"
    __table_args__ = (Index("ix_audit_chain_province_id_seq", "province_id", "seq"),)

    seq: Mapped[intpk]
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """A province's chain end: its last link, and its last verification's outcome."""

    __tablename__ = "audit_chain_head"

    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[dt.datetime | None]
    verified_links: Mapped[int | None]
    broken_event_id: Mapped[int | None]  # the first event that does not match, at the last verification
    told_event_id: Mapped[int | None]  # the break the provincial admins were told of (once)
