"""Batch deadlines per city: the province's date by default, a city's own where it set one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.accounts import find_city
from tracker.access.permissions import Level, require_act
from tracker.core.errors import TrackerError
from tracker.models import (
    Application,
    Batch,
    BatchDeadline,
    City,
    DeadlineException,
    User,
)


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


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    source_zh: str  # whose date it is, for the message


def submission_deadline(
    session: Session, batch: Batch, city: City, *, direct_to_province: bool = False
) -> Deadline:
    """The last day a city may take applications for a batch: its own date, the province's for direct
    service applications, or a later date the province granted that city for that batch."""
    if direct_to_province:
        deadline = Deadline(batch.provincial_deadline, "全省截止日期")
    else:
        own = session.scalars(
            select(BatchDeadline.deadline).where(
                BatchDeadline.batch_id == batch.id, BatchDeadline.city_id == city.id
            )
        ).first()
        deadline = Deadline(own or batch.provincial_deadline, f"{city.name_zh}截止日期")
    exception = session.scalars(
        select(DeadlineException).where(
            DeadlineException.batch_id == batch.id, DeadlineException.city_id == city.id
        )
    ).first()
    if exception is not None and exception.until > deadline.date:
        return Deadline(exception.until, "省厅准予的延期")
    return deadline


def check_deadline(session: Session, application: Application, now: dt.datetime, tz: ZoneInfo) -> None:
    """Refuse once the deadline day has ended where the regulator is (local midnight)."""
    deadline = submission_deadline(session, application.batch, application.city,
                                   direct_to_province=application.direct_to_province)  # fmt: skip
    if now.astimezone(tz).date() > deadline.date:
        raise TrackerError(
            f"已过{application.batch.name_zh}申报截止时间（{deadline.source_zh}：{deadline.date.year}年"
            f"{deadline.date.month}月{deadline.date.day}日），如需补报请联系省厅开放例外",
            f"The deadline for batch {application.batch.number} has passed ({deadline.date.isoformat()})",
        )


def open_batch(session: Session, city: City, today: dt.date) -> Batch:
    """The earliest batch of the city's province still open to that city today."""
    batches = session.scalars(
        select(Batch).where(Batch.province_id == city.province_id).order_by(Batch.number)
    )
    for batch in batches:
        if submission_deadline(session, batch, city).date >= today:
            return batch
    raise TrackerError("目前没有仍在申报期内的批次，请指定批次（命令行用 --batch）或联系省厅开放例外",
                       "No batch is open for this city; choose one (--batch on the command line)")  # fmt: skip


def batch_for(session: Session, city: City, number: int | None, today: dt.date) -> Batch:
    """The batch of the city's province with that number, or with none given the one still open to
    the city today (forms, imports and the CLI choose batches the same way)."""
    if number is None:
        return open_batch(session, city, today)
    batch = session.scalars(
        select(Batch).where(Batch.province_id == city.province_id, Batch.number == number)
    ).first()
    if batch is None:
        raise TrackerError(f"没有第{number}批", f"No batch {number}")
    return batch


def grant_exception(session: Session, user: User, *, batch: Batch, city: City, until: dt.date,
                    reason: str) -> DeadlineException:  # fmt: skip
    """The province reopens one batch for one city until ``until`` (inclusive)."""
    require_act(user, Level.PROVINCE, city)
    if not reason.strip():
        raise TrackerError("开放例外须填写理由", "An exception needs a reason")
    row = session.scalars(
        select(DeadlineException).where(
            DeadlineException.batch_id == batch.id, DeadlineException.city_id == city.id
        )
    ).first()
    if row is None:
        row = DeadlineException(batch=batch, city=city, batch_id=batch.id, city_id=city.id, until=until,
                                reason=reason.strip(), granted_by_id=user.id)  # fmt: skip
        session.add(row)
    else:
        row.until, row.reason, row.granted_by_id = until, reason.strip(), user.id
    session.flush()
    return row
