"""Completeness and timeliness of reporting (填报率、及时率) per city and for the province: the share of
owed updates submitted, and of those first submitted by the due day."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from tracker.access.permissions import (
    city_scope,
)
from tracker.core.periods import Period
from tracker.models import (
    Pilot,
    ProgressUpdate,
    UpdateStatus,
    User,
)
from tracker.progress.owed import owing_pilots
from tracker.progress.updates import updates_for

US = UpdateStatus


@dataclass(frozen=True)
class Completeness:
    """Reporting for one city (or the province: city_id None) and one period."""

    city_id: int | None
    period: Period
    expected: int
    submitted: int  # submitted and not returned (awaiting review or accepted)
    on_time: int  # first submitted by the due day, whatever happened after (a return included)
    accepted: int

    @property
    def completeness(self) -> Decimal | None:
        return share(self.submitted, self.expected)

    @property
    def timeliness(self) -> Decimal | None:
        return share(self.on_time, self.expected)


def share(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, one decimal rounded half up (None when there is no whole)."""
    if whole == 0:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def completeness(session: Session, user: User, period: Period, *, by_city: bool = True) -> list[Completeness]:
    """Expected, submitted and on-time updates per city (and, for users who see the whole province,
    a province-wide line with city None).

    Only updates of pilots that owe one for the period count, one per pilot at most, so neither
    share can exceed 100%.
    """
    owing = owing_pilots(session, user, period)
    updates = updates_for(session, [p.id for p in owing], period)
    lines: dict[int | None, list[Pilot]] = {}
    whole_province = city_scope(user) is None  # a city user's "province" line would be their city again
    for pilot in owing:
        if by_city:
            lines.setdefault(pilot.city_id, []).append(pilot)
        if whole_province:
            lines.setdefault(None, []).append(pilot)
    return [reporting_line(city_id, period, pilots, updates) for city_id, pilots in lines.items()]


def completeness_of(session: Session, pilots: Sequence[Pilot], period: Period) -> Completeness:
    """Reporting of these pilots (each must owe an update for the period) as one line."""
    return reporting_line(None, period, pilots, updates_for(session, [p.id for p in pilots], period))


def reporting_line(city_id: int | None, period: Period, pilots: Iterable[Pilot],
                   updates: dict[int, ProgressUpdate]) -> Completeness:  # fmt: skip
    """Count the pilots' updates: submitted (and not returned), first submitted on time, accepted.

    Timeliness is the first submission's: ``submitted_at`` and ``is_late`` keep it through a return
    and a resubmission, so returning an on-time update does not make it late or uncounted."""
    expected = submitted = on_time = accepted = 0
    for pilot in pilots:
        expected += 1
        update = updates.get(pilot.id)
        if update is None:
            continue
        ever_submitted = update.submitted_at is not None or update.status in (US.SUBMITTED, US.ACCEPTED)
        on_time += ever_submitted and not update.is_late
        if update.status in (US.SUBMITTED, US.ACCEPTED):
            submitted += 1
            accepted += update.status is US.ACCEPTED
    return Completeness(city_id, period, expected, submitted, on_time, accepted)
