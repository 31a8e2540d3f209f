"""The overview's figures for one user and one set of filters, as plain data (the 概览 page reads it).

Every figure comes from ``tracker.monitoring.figures.scope_figures``, the one computation all surfaces share:
the same scope on the same day reads the same on 概览, 本市工作台, 领导摘要 and in the bulletins.
Names of cities and products are the reader's language's (the catalogue's English in English).
Only the count of pilots by lifecycle stage covers every pilot the filters keep (selected and
withdrawn ones too); the progress figures count the population ``scope_figures`` defines.
A city user's overview is their city's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker.access.permissions import visible_bulletins, visible_pilots
from tracker.core.i18n import name_of
from tracker.core.periods import Period, Reporting
from tracker.models import Bulletin, Milestone, Pilot, PilotStatus, Severity
from tracker.monitoring.figures import (
    Change,
    Figures,
    GroupFigures,
    ReportingFigures,
    headline_changes,
    one_period_before,
    scope_figures,
)
from tracker.monitoring.registry import RegistryFilters, apply_filters
from tracker.progress.expected import PilotProgress, ProgressStatus, Rollup, RollupBy, Thresholds, rollup_of

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
    pilots: int  # every pilot the filters keep, whatever its stage
    by_stage: dict[PilotStatus, int]
    figures: Figures  # the measured population's figures (tracker.monitoring.figures)
    cities: list[GroupFigures] = field(default_factory=list)  # cities with pilots measured, largest gap first
    products: list[Rollup] = field(default_factory=list)
    categories: list[Rollup] = field(default_factory=list)
    points: list[PilotPoint] = field(default_factory=list)
    upcoming: list[UpcomingMilestone] = field(default_factory=list)
    bulletins: list[Bulletin] = field(default_factory=list)
    # 较上期: the headline counts' changes since the previous period (tracker.monitoring.figures.headline_changes)
    changes: dict[str, Change] = field(default_factory=dict)

    @property
    def by_progress(self) -> dict[ProgressStatus, int]:
        return self.figures.total.by_status

    @property
    def reporting(self) -> ReportingFigures:
        return self.figures.total.reporting

    @property
    def open_flags(self) -> dict[Severity, int]:
        return self.figures.total.open_flags

    @property
    def behind(self) -> int:
        return self.figures.total.behind


def filtered_pilots(session: Session, user: object, filters: RegistryFilters) -> list[Pilot]:
    """The pilots the user may see that the filters keep (the registry's filters, the same rules)."""
    stmt = visible_pilots(user).options(
        joinedload(Pilot.city), joinedload(Pilot.product), joinedload(Pilot.batch)
    )
    stmt = apply_filters(stmt, filters)
    return list(session.scalars(stmt.order_by(Pilot.city_id, Pilot.id)).unique())


def overview(session: Session, user: object, filters: RegistryFilters, *, on: dt.date, period: Period,
             thresholds: Thresholds, reporting: Reporting | None = None) -> Overview:  # fmt: skip
    """Every figure of the overview for the pilots the user may see and the filters keep."""
    pilots = filtered_pilots(session, user, filters)
    figures = scope_figures(session, user, on=on, period=period, reporting=reporting or Reporting(), thresholds=thresholds,
                            filters=filters)  # fmt: skip
    then, previous = one_period_before(on, period)
    before = scope_figures(session, user, on=then, period=previous, reporting=reporting or Reporting(),
                           thresholds=thresholds, filters=filters)  # fmt: skip
    measured, progress, overdue = figures.pilots, figures.progress, figures.overdue
    cities = sorted((c for c in figures.cities if c.pilots), key=lambda c: (-(c.gap or 0), c.key))
    return Overview(
        on=on, period=period, pilots=len(pilots),
        by_stage={status: sum(p.status is status for p in pilots) for status in PilotStatus},
        figures=figures, cities=cities,
        products=rollup_of(measured, RollupBy.PRODUCT, progress, overdue),
        categories=rollup_of(measured, RollupBy.CATEGORY, progress, overdue),
        points=[_point(p, progress[p.id]) for p in measured],
        upcoming=_upcoming(session, measured, on),
        bulletins=list(session.scalars(visible_bulletins(user).options(joinedload(Bulletin.city))
                                       .order_by(Bulletin.issued_on.desc(), Bulletin.id).limit(RECENT_BULLETINS))),
        changes=headline_changes(figures.total, before.total),
    )  # fmt: skip


def _point(pilot: Pilot, progress: PilotProgress) -> PilotPoint:
    return PilotPoint(pilot.id, pilot.name, name_of(pilot.city, short=True), name_of(pilot.product) if pilot.product else "",
                      float(progress.expected), float(progress.actual), float(progress.gap), progress.status)  # fmt: skip


def _upcoming(session: Session, pilots: list[Pilot], on: dt.date) -> list[UpcomingMilestone]:
    """Milestones not yet met that fall due within the next 30 days, soonest first."""
    by_id = {p.id: p for p in pilots}
    if not by_id:
        return []
    stmt = select(Milestone).where(Milestone.pilot_id.in_(list(by_id)), Milestone.achieved_on.is_(None),
                                   Milestone.due_date >= on, Milestone.due_date <= on + dt.timedelta(days=UPCOMING_DAYS))  # fmt: skip
    milestones = session.scalars(stmt.order_by(Milestone.due_date, Milestone.id)).all()
    return [UpcomingMilestone(m.pilot_id, by_id[m.pilot_id].name, name_of(by_id[m.pilot_id].city, short=True), m.title,
                              m.due_date, (m.due_date - on).days) for m in milestones]  # fmt: skip
