"""In-app notices (通知): one row per event and per user who should know of it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import Base, code_str, intpk, utcnow
from tracker.models.audited import Audited


class Notice(Base, Audited):
    """Something a user is told in the app: an update returned, a flag proposal or decision, a new
    bulletin. ``kind`` and ``params`` are kept rather than a rendered sentence, so the list speaks
    the reader's language; the data in ``params`` (pilot and city names, a reason) stays as entered.

    ``event_key`` names the event (a workflow step, a bulletin); unique with the user, so an event is
    told to each user once however often the telling is tried. ``city_id`` is the object's city (the
    audit trail files the notice there)."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("user_id", "event_key"),
        Index("ix_notices_user_id_read_at", "user_id", "read_at"),  # the menu bar's unread count
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[code_str]
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    link: Mapped[str] = mapped_column(String(300))
    object_type: Mapped[code_str]
    object_id: Mapped[int | None] = mapped_column(Integer)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
