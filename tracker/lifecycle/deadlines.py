"""Batch deadlines per city: the province's date by default, a city's own where it set one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.accounts import find_city
from tracker.core.errors import TrackerError
from tracker.models import Batch, BatchDeadline, City


def list_deadlines(session: Session) -> list[tuple[Batch, City, BatchDeadline]]:
    stmt = (
        select(Batch, City, BatchDeadline)
        .join(BatchDeadline.batch)
        .join(BatchDeadline.city)
        .order_by(Batch.number, City.code)
    )
    return [(batch, city, row) for batch, city, row in session.execute(stmt)]


def parse_chinese_or_iso_date(text: str) -> dt.date:
    """2025-06-28 or 2025年6月28日."""
    cleaned = text.strip().replace("年", "-").replace("月", "-").replace("日", "")
    try:
        year, month, day = (int(part) for part in cleaned.split("-"))
        return dt.date(year, month, day)
    except ValueError:
        raise TrackerError(f"日期格式不正确：{text}（应为 2025-06-28 或 2025年6月28日）",
                           f"Not a date: {text} (use 2025-06-28)") from None  # fmt: skip


def set_deadline(
    session: Session, *, batch_number: int, city: str, deadline: dt.date, source: str | None
) -> BatchDeadline:
    """Change one city's deadline for a batch (audited). It may not be after the province's."""
    city_row = find_city(session, city)
    row = session.scalars(
        select(BatchDeadline)
        .join(BatchDeadline.batch)
        .where(Batch.number == batch_number, BatchDeadline.city_id == city_row.id)
    ).first()
    if row is None:
        raise TrackerError(f"没有第{batch_number}批", f"No batch {batch_number}")
    if deadline > row.batch.provincial_deadline:
        raise TrackerError(
            f"城市截止日期不能晚于全省截止日期（{row.batch.provincial_deadline.isoformat()}）",
            f"A city deadline cannot be after the provincial one ({row.batch.provincial_deadline.isoformat()})",
        )
    row.deadline = deadline
    row.source = source
    session.flush()
    return row
