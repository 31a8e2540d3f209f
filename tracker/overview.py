"""The overview's figures for one user and one set of filters, as plain data (the 概览 page reads it).

Nothing is computed here that another module already computes: the pilots come from the
registry's filters (``tracker.registry``) through ``tracker.permissions``, progress from
``tracker.progress.load_progress`` and ``rollup``, reporting completeness and timeliness from
``tracker.updates``, flags from ``visible_flags``. A city user's overview is their city's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker.models import Bulletin, Flag, Milestone, Pilot, PilotStatus, Severity
from tracker.periods import Period
from tracker.permissions import visible_bulletins, visible_flags, visible_pilots
from tracker.progress import (
    PilotProgress,
    ProgressStatus,
    Rollup,
    RollupBy,
    Thresholds,
    load_progress,
    overdue_milestones,
    rollup_of,
)
from tracker.registry import RegistryFilters, apply_filters
from tracker.updates import Completeness, completeness_of, owes_update

OPEN_FLAGS = ("open", "under_review", "confirmed")
UPCOMING_DAYS = 30
RECENT_BULLETINS = 5


@dataclass(frozen=True)
class PilotPoint:
    """One pilot on the expected-versus-actual scatter."""

    pilot_id: int
    name: str
    city: str
    product: str
    expected: float
    actual: float
    gap: float
    status: ProgressStatus


@dataclass(frozen=True)
class UpcomingMilestone:
    pilot_id: int
    pilot: str
    city: str
    title: str
    due_date: dt.date
    days_left: int


@dataclass(frozen=True)
class Overview:
    on: dt.date
    period: Period
    pilots: int
    by_stage: dict[PilotStatus, int]
    by_progress: dict[ProgressStatus, int]  # pilots measured against their plan (not withdrawn)
    reporting: Completeness  # this period's updates of the filtered pilots that owe one
    open_flags: dict[Severity, int]
    cities: list[Rollup] = field(default_factory=list)  # largest gap first
    products: list[Rollup] = field(default_factory=list)
    categories: list[Rollup] = field(default_factory=list)
    points: list[PilotPoint] = field(default_factory=list)
    upcoming: list[UpcomingMilestone] = field(default_factory=list)
    bulletins: list[Bulletin] = field(default_factory=list)

    @property
    def behind(self) -> int:
        return self.by_progress[ProgressStatus.BEHIND] + self.by_progress[ProgressStatus.SERIOUSLY_BEHIND]


def filtered_pilots(session: Session, user: object, filters: RegistryFilters) -> list[Pilot]:
    """The pilots the user may see that the filters keep (the registry's filters, the same rules)."""
    stmt = visible_pilots(user).options(
        joinedload(Pilot.city), joinedload(Pilot.product), joinedload(Pilot.batch)
    )
    stmt = apply_filters(stmt, filters)
    return list(session.scalars(stmt.order_by(Pilot.city_id, Pilot.id)).unique())


def overview(session: Session, user: object, filters: RegistryFilters, *, on: dt.date, period: Period,
             thresholds: Thresholds) -> Overview:  # fmt: skip
    """Every figure of the overview for the pilots the user may see and the filters keep."""
    pilots = filtered_pilots(session, user, filters)
    measured = [p for p in pilots if p.status is not PilotStatus.WITHDRAWN]
    progress = load_progress(session, [p.id for p in measured], on, thresholds)
    overdue = overdue_milestones(session, [p.id for p in measured], on)
    by_progress = Counter(progress[p.id].status for p in measured)
    return Overview(
        on=on, period=period, pilots=len(pilots),
        by_stage={status: sum(p.status is status for p in pilots) for status in PilotStatus},
        by_progress={status: by_progress[status] for status in ProgressStatus},
        reporting=completeness_of(session, [p for p in pilots if owes_update(p, period)], period),
        open_flags=_open_flags(session, user, pilots, filters),
        cities=rollup_of(measured, RollupBy.CITY, progress, overdue),
        products=rollup_of(measured, RollupBy.PRODUCT, progress, overdue),
        categories=rollup_of(measured, RollupBy.CATEGORY, progress, overdue),
        points=[_point(p, progress[p.id]) for p in measured],
        upcoming=_upcoming(session, measured, on),
        bulletins=list(session.scalars(visible_bulletins(user).options(joinedload(Bulletin.city))
                                       .order_by(Bulletin.issued_on.desc(), Bulletin.id).limit(RECENT_BULLETINS))),
    )  # fmt: skip


def _open_flags(
    session: Session, user: object, pilots: list[Pilot], filters: RegistryFilters
) -> dict[Severity, int]:
    """Open flags in scope: a flag about a pilot counts when the pilot is kept; a flag about a claim
    (no pilot) counts when only the city filter is set, and then by its city."""
    stmt = visible_flags(user).where(Flag.status.in_(OPEN_FLAGS))
    kept = {p.id for p in pilots}
    only_city = not (filters.product_ids or filters.categories or filters.statuses or filters.batch_numbers)
    counts: Counter[Severity] = Counter()
    for severity, pilot_id, city_id in session.execute(stmt.with_only_columns(Flag.severity, Flag.pilot_id,
                                                                               Flag.city_id)):  # fmt: skip
        if pilot_id is not None:
            counts[severity] += pilot_id in kept
        elif only_city and (not filters.city_ids or city_id in filters.city_ids):
            counts[severity] += 1
    return {severity: counts[severity] for severity in Severity}


def _point(pilot: Pilot, progress: PilotProgress) -> PilotPoint:
    return PilotPoint(pilot.id, pilot.name, pilot.city.short_zh, pilot.product.name_zh if pilot.product else "",
                      float(progress.expected), float(progress.actual), float(progress.gap), progress.status)  # fmt: skip


def _upcoming(session: Session, pilots: list[Pilot], on: dt.date) -> list[UpcomingMilestone]:
    """Milestones not yet met that fall due within the next 30 days, soonest first."""
    by_id = {p.id: p for p in pilots}
    if not by_id:
        return []
    stmt = select(Milestone).where(Milestone.pilot_id.in_(list(by_id)), Milestone.achieved_on.is_(None),
                                   Milestone.due_date >= on, Milestone.due_date <= on + dt.timedelta(days=UPCOMING_DAYS))  # fmt: skip
    milestones = session.scalars(stmt.order_by(Milestone.due_date, Milestone.id)).all()
    return [UpcomingMilestone(m.pilot_id, by_id[m.pilot_id].name, by_id[m.pilot_id].city.short_zh, m.title,
                              m.due_date, (m.due_date - on).days) for m in milestones]  # fmt: skip
