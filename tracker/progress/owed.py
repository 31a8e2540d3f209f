"""Who owes a periodic update (调度) for a period, and until when its entry is open: the due day, the
entry window, and the province's exceptions that reopen it for a city."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from tracker.access.permissions import (
    Level,
    require_act,
    visible_pilots,
)
from tracker.core.errors import TrackerError
from tracker.core.messages import Day, Label, Message
from tracker.core.periods import Period, Reporting, window_closes
from tracker.models import (
    City,
    Pilot,
    PilotStatus,
    UpdateWindowException,
    User,
)

PS = PilotStatus
STARTED = (PS.IN_IMPLEMENTATION, PS.EXTENDED, PS.COMPLETED, PS.WITHDRAWN)
CLOSED = (PS.COMPLETED, PS.WITHDRAWN)


def implementation_span(pilot: Pilot) -> tuple[dt.date, dt.date | None] | None:
    """First and last day in implementation (None: still running); None if it never started."""
    if pilot.status not in STARTED:
        return None
    if pilot.status in CLOSED:
        if pilot.closed_on is None:
            # Rows from before closing days were recorded: a completed pilot ran to its planned end;
            # for a withdrawn one nobody knows when it stopped, so nothing is claimed of it.
            if pilot.status is PS.WITHDRAWN:
                return None
            return pilot.start_date, pilot.end_date
        return pilot.start_date, pilot.closed_on - dt.timedelta(days=1)
    return pilot.start_date, None


def owes_update(pilot: Pilot, period: Period) -> bool:
    """Whether the pilot must report for the period (see the module's docstring)."""
    span = implementation_span(pilot)
    if span is None:
        return False
    first, last = span
    return first <= period.end and (last is None or last >= period.start)


def owing_pilots_query(period: Period) -> ColumnElement[bool]:
    """The same rule as ``owes_update``, as a SQL condition on pilots."""
    # A closed pilot's last day (closed_on − 1) must be on or after the period's start, i.e.
    # closed_on > period.start; rows without closed_on fall back to the planned end, as above.
    running = Pilot.status.in_((PS.IN_IMPLEMENTATION, PS.EXTENDED))
    closed_in_time = and_(
        Pilot.status.in_(CLOSED),
        or_(
            Pilot.closed_on > period.start,
            and_(Pilot.closed_on.is_(None), Pilot.status == PS.COMPLETED, Pilot.end_date >= period.start),
        ),
    )
    return and_(Pilot.start_date <= period.end, or_(running, closed_in_time))


def owing_pilots(session: Session, user: User, period: Period, city_id: int | None = None) -> list[Pilot]:
    """The pilots the user may see that owe an update for the period."""
    stmt = visible_pilots(user).where(owing_pilots_query(period))
    if city_id is not None:
        stmt = stmt.where(Pilot.city_id == city_id)
    return list(session.scalars(stmt.order_by(Pilot.city_id, Pilot.id)))


def window_exception(session: Session, city_id: int, period: Period) -> UpdateWindowException | None:
    return session.scalars(
        select(UpdateWindowException).where(
            UpdateWindowException.city_id == city_id, UpdateWindowException.period_start == period.start
        )
    ).first()


def entry_open_until(session: Session, city_id: int, period: Period, reporting: Reporting) -> dt.date:
    """The last day on which the city may enter updates for the period (exceptions included)."""
    closes = window_closes(period, reporting)
    exception = window_exception(session, city_id, period)
    return max(closes, exception.until) if exception else closes


def check_window(
    session: Session, pilot: Pilot, period: Period, reporting: Reporting, today: dt.date
) -> None:
    if period.start > today:
        raise TrackerError(
            Message("{period}尚未开始，不能填报", period=Label(period.label_zh, period.label_en))
        )
    last = entry_open_until(session, pilot.city_id, period, reporting)
    if today > last:
        raise TrackerError(
            Message(
                "{period}的填报已于{day}截止，如需补报请联系省厅开放例外",
                period=Label(period.label_zh, period.label_en),
                day=Day(last),
            ),
        )


def grant_window_exception(session: Session, user: User, *, city: City, period: Period, until: dt.date,
                           reason: str) -> UpdateWindowException:  # fmt: skip
    """The province reopens entry for one city and one period until ``until`` (inclusive)."""
    require_act(user, Level.PROVINCE, city)
    if not reason.strip():
        raise TrackerError(Message("开放例外须填写理由"))
    row = window_exception(session, city.id, period)
    if row is None:
        row = UpdateWindowException(city_id=city.id, period_start=period.start, period_end=period.end,
                                    until=until, reason=reason.strip(), granted_by_id=user.id)  # fmt: skip
        session.add(row)
    else:
        row.until, row.reason, row.granted_by_id = until, reason.strip(), user.id
    session.flush()
    return row
