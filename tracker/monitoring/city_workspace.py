"""本市工作台: what one city owes this period, its drafts and returned updates, its completeness and
its overdue milestones, as plain rows. Every figure comes from ``tracker.monitoring.figures``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TypedDict

from sqlalchemy import case, select
from sqlalchemy.orm import Session, joinedload

from tracker.access.permissions import (
    city_scope,
    system_reader,
    visible_cities,
    visible_flags,
    visible_pilots,
)
from tracker.core.i18n import _
from tracker.core.periods import Period, Reporting, due_date
from tracker.models import (
    City,
    Flag,
    FlagStatus,
    Milestone,
    Pilot,
    ProgressUpdate,
    Severity,
    UpdateStatus,
    User,
)
from tracker.monitoring.figures import Figures, ReportingFigures, scope_figures
from tracker.progress.expected import STATUS_LABELS, ProgressStatus, Thresholds
from tracker.progress.owed import entry_open_until
from tracker.progress.updates import STATUS_ZH, updates_for

OPEN_FLAGS = (FlagStatus.OPEN, FlagStatus.UNDER_REVIEW, FlagStatus.CONFIRMED)


def workspace_city(session: Session, user: User, wanted: object) -> City | None:
    """The city the workspace shows: a city user's own; for the province, the one asked for (by
    code or id), or None to choose. A city outside the user's scope is never returned."""
    cities = visible_cities(user)
    if (own := city_scope(user)) is not None:
        return session.scalars(cities.where(City.id == own)).first()
    if wanted in (None, ""):
        return None
    text = str(wanted)
    return session.scalars(cities.where((City.code == text) | (City.short_zh == text))).first()


class DueRow(TypedDict):
    """One pilot that owes an update: its update's state and its progress."""

    pilot_id: int
    pilot: str
    update: str  # the update's status as shown (未填报 when there is none)
    update_status: str | None  # the stored status (None: not entered)
    late: bool
    return_reason: str | None
    expected: Decimal
    actual: Decimal
    gap: Decimal
    status: ProgressStatus
    status_zh: str


@dataclass(frozen=True)
class Due:
    """The city's reporting state for one period."""

    period: Period
    due: dt.date
    open_until: dt.date
    line: ReportingFigures
    rows: list[DueRow]
    figures: Figures  # the city's figures (tracker.monitoring.figures), the same as every other surface's


def dues(session: Session, user: User, city: City, period: Period, *, reporting: Reporting, on: dt.date,
         thresholds: Thresholds) -> Due:  # fmt: skip
    """Every pilot of the city that owes an update for the period, with its update's state and its
    progress on ``on`` (the same figures as the pilot page, the overview and the API)."""
    figures = scope_figures(session, user, on=on, period=period, reporting=reporting, thresholds=thresholds,
                            city_id=city.id)  # fmt: skip
    pilots = figures.pilots
    updates = updates_for(session, [p.id for p in pilots], period)
    rows: list[DueRow] = []
    for pilot in pilots:
        update, figure = updates.get(pilot.id), figures.progress[pilot.id]
        rows.append({
            "pilot_id": pilot.id, "pilot": pilot.name,
            "update": _(STATUS_ZH[update.status]) if update else _("未填报"),
            "update_status": update.status.value if update else None,
            "late": bool(update and update.is_late), "return_reason": update.return_reason if update else None,
            "expected": figure.expected, "actual": figure.actual, "gap": figure.gap,
            "status": figure.status, "status_zh": _(STATUS_LABELS[figure.status]),
        })  # fmt: skip
    return Due(period, due_date(period, reporting), entry_open_until(session, city.id, period, reporting),
               figures.total.reporting, rows, figures)  # fmt: skip


def open_updates(session: Session, user: User, city: City) -> list[ProgressUpdate]:
    """Drafts and returned updates of the city, any period, newest period first: work to finish."""
    pilots = visible_pilots(user).where(Pilot.city_id == city.id).with_only_columns(Pilot.id)
    return list(session.scalars(
        select(ProgressUpdate)
        .where(ProgressUpdate.pilot_id.in_(pilots),
               ProgressUpdate.status.in_((UpdateStatus.DRAFT, UpdateStatus.RETURNED)))
        .order_by(ProgressUpdate.period_start.desc(), ProgressUpdate.pilot_id)
    ))  # fmt: skip


def city_overdue_milestones(figures: Figures) -> list[Milestone]:
    """The overdue milestones the city's figures count, by pilot."""
    return [m for p in figures.pilots for m in figures.overdue[p.id]]


@dataclass(frozen=True)
class Standing:
    """Where the city stands among the province's cities on one day. Rank 1 is the smallest gap
    between 序时进度 and actual progress, and the highest completeness; cities level share a rank.
    None where a rank says nothing: the city has no pilots measured or owes nothing, fewer than two
    cities are ranked, or every city is level."""

    cities: int  # cities given a gap rank
    gap: Decimal | None
    gap_rank: int | None
    province_gap: Decimal | None
    completeness: Decimal | None
    completeness_rank: int | None
    completeness_ranked: int  # cities with pilots owing an update this period
    province_completeness: Decimal | None


def city_standing(session: Session, city: City, *, on: dt.date, period: Period, thresholds: Thresholds,
                  reporting: Reporting | None = None) -> Standing:  # fmt: skip
    """The city's rank among all cities of its province (``tracker.monitoring.figures`` ranks them). It reads
    every city's pilots, but gives out only the city's own figures, its ranks and the province-wide
    means (which the bulletins publish anyway): a city user learns no other city's figures from it.
    Call it only for a city the user may see (``workspace_city``)."""
    figures = scope_figures(session, system_reader(city.province_id), on=on, period=period,
                            reporting=reporting or Reporting(), thresholds=thresholds)  # fmt: skip
    own = figures.city(city.id)
    return Standing(
        cities=figures.ranked_for_gap, gap=own.gap if own else None, gap_rank=own.gap_rank if own else None,
        province_gap=figures.total.gap,
        completeness=own.reporting.completeness if own else None,
        completeness_rank=own.completeness_rank if own else None,
        completeness_ranked=figures.ranked_for_completeness,
        province_completeness=figures.total.reporting.completeness,
    )  # fmt: skip


SEVERITY_ORDER = case({Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}, value=Flag.severity)


def city_open_flags(session: Session, user: User, city: City) -> list[Flag]:
    """The city's open flags the user may see (open, under review or confirmed), most severe and
    oldest first."""
    stmt = (visible_flags(user).where(Flag.city_id == city.id, Flag.status.in_(OPEN_FLAGS))
            .options(joinedload(Flag.pilot)).order_by(SEVERITY_ORDER, Flag.first_seen, Flag.id))  # fmt: skip
    return list(session.scalars(stmt))
