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
from tracker.core.messages import Day, Label, Message
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
        raise TrackerError(Message("日期格式不正确：{text}（应为 2025-06-28 或 2025年6月28日）", text=text)) from None  # fmt: skip


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
        raise TrackerError(Message("没有第{batch_number}批", batch_number=batch_number))
    if deadline > row.batch.provincial_deadline:
        raise TrackerError(
            Message(
                "城市截止日期不能晚于全省截止日期（{isoformat}）",
                isoformat=row.batch.provincial_deadline.isoformat(),
            ),
        )
    row.deadline = deadline
    row.source = source
    session.flush()
    return row


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    source: Label  # whose date it is, for the message


def submission_deadline(
    session: Session, batch: Batch, city: City, *, direct_to_province: bool = False
) -> Deadline:
    """The last day a city may take applications for a batch: its own date, the province's for direct
    service applications, or a later date the province granted that city for that batch."""
    if direct_to_province:
        deadline = Deadline(batch.provincial_deadline, Label("全省截止日期", "the provincial deadline"))
    else:
        own = session.scalars(
            select(BatchDeadline.deadline).where(
                BatchDeadline.batch_id == batch.id, BatchDeadline.city_id == city.id
            )
        ).first()
        deadline = Deadline(
            own or batch.provincial_deadline, Label(f"{city.name_zh}截止日期", f"{city.name_en}'s deadline")
        )
    exception = session.scalars(
        select(DeadlineException).where(
            DeadlineException.batch_id == batch.id, DeadlineException.city_id == city.id
        )
    ).first()
    if exception is not None and exception.until > deadline.date:
        return Deadline(exception.until, Label("省厅准予的延期", "an extension granted by the province"))
    return deadline


def check_deadline(session: Session, application: Application, now: dt.datetime, tz: ZoneInfo) -> None:
    """Refuse once the deadline day has ended where the regulator is (local midnight)."""
    deadline = submission_deadline(session, application.batch, application.city,
                                   direct_to_province=application.direct_to_province)  # fmt: skip
    if now.astimezone(tz).date() > deadline.date:
        raise TrackerError(
            Message(
                "已过{batch}申报截止时间（{source}：{day}），如需补报请联系省厅开放例外",
                batch=Label(application.batch.name_zh, f"batch {application.batch.number}"),
                source=deadline.source,
                day=Day(deadline.date),
            ),
        )


def open_batch(session: Session, city: City, today: dt.date) -> Batch:
    """The earliest batch of the city's province still open to that city today."""
    batches = session.scalars(
        select(Batch).where(Batch.province_id == city.province_id).order_by(Batch.number)
    )
    for batch in batches:
        if submission_deadline(session, batch, city).date >= today:
            return batch
    raise TrackerError(Message("目前没有仍在申报期内的批次，请指定批次（命令行用 --batch）或联系省厅开放例外"))  # fmt: skip


def batch_for(session: Session, city: City, number: int | None, today: dt.date) -> Batch:
    """The batch of the city's province with that number, or with none given the one still open to
    the city today (forms, imports and the CLI choose batches the same way)."""
    if number is None:
        return open_batch(session, city, today)
    batch = session.scalars(
        select(Batch).where(Batch.province_id == city.province_id, Batch.number == number)
    ).first()
    if batch is None:
        raise TrackerError(Message("没有第{number}批", number=number))
    return batch


def grant_exception(session: Session, user: User, *, batch: Batch, city: City, until: dt.date,
                    reason: str) -> DeadlineException:  # fmt: skip
    """The province reopens one batch for one city until ``until`` (inclusive)."""
    require_act(user, Level.PROVINCE, city)
    if not reason.strip():
        raise TrackerError(Message("开放例外须填写理由"))
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
