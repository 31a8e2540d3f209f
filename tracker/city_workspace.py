"""本市工作台: what one city owes this period, its drafts and returned updates, its completeness and
its overdue milestones, as plain rows. Progress figures come from ``tracker.progress``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import City, Pilot, ProgressUpdate, UpdateStatus, User
from tracker.periods import Period, Reporting, due_date
from tracker.permissions import city_scope, visible_cities, visible_pilots
from tracker.progress import STATUS_LABELS, Thresholds, load_progress, overdue_milestones
from tracker.updates import STATUS_ZH, Completeness, completeness, entry_open_until, owing_pilots, updates_for


def workspace_city(session: Session, user: User, wanted: Any) -> City | None:
    """The city the workspace shows: a city user's own; for the province, the one asked for (by
    code or id), or None to choose. A city outside the user's scope is never returned."""
    cities = visible_cities(user)
    if (own := city_scope(user)) is not None:
        return session.scalars(cities.where(City.id == own)).first()
    if wanted in (None, ""):
        return None
    text = str(wanted)
    return session.scalars(cities.where((City.code == text) | (City.short_zh == text))).first()


@dataclass(frozen=True)
class Due:
    """The city's reporting state for one period."""

    period: Period
    due: dt.date
    open_until: dt.date
    line: Completeness | None
    rows: list[dict[str, Any]]


def dues(session: Session, user: User, city: City, period: Period, *, reporting: Reporting, on: dt.date,
         thresholds: Thresholds) -> Due:  # fmt: skip
    """Every pilot of the city that owes an update for the period, with its update's state and its
    progress on ``on`` (the same figures as the pilot page and the API)."""
    pilots = owing_pilots(session, user, period, city.id)
    updates = updates_for(session, [p.id for p in pilots], period)
    progress = load_progress(session, [p.id for p in pilots], on, thresholds)
    rows = []
    for pilot in pilots:
        update, figure = updates.get(pilot.id), progress[pilot.id]
        rows.append({
            "pilot_id": pilot.id, "pilot": pilot.name,
            "update": STATUS_ZH[update.status] if update else "未填报",
            "update_status": update.status.value if update else None,
            "late": bool(update and update.is_late), "return_reason": update.return_reason if update else None,
            "expected": figure.expected, "actual": figure.actual, "gap": figure.gap,
            "status": figure.status, "status_zh": STATUS_LABELS[figure.status],
        })  # fmt: skip
    lines = [c for c in completeness(session, user, period) if c.city_id == city.id]
    return Due(period, due_date(period, reporting), entry_open_until(session, city.id, period, reporting),
               lines[0] if lines else None, rows)  # fmt: skip


def open_updates(session: Session, user: User, city: City) -> list[ProgressUpdate]:
    """Drafts and returned updates of the city, any period, newest period first: work to finish."""
    pilots = visible_pilots(user).where(Pilot.city_id == city.id).with_only_columns(Pilot.id)
    return list(session.scalars(
        select(ProgressUpdate)
        .where(ProgressUpdate.pilot_id.in_(pilots),
               ProgressUpdate.status.in_((UpdateStatus.DRAFT, UpdateStatus.RETURNED)))
        .order_by(ProgressUpdate.period_start.desc(), ProgressUpdate.pilot_id)
    ))  # fmt: skip


def city_overdue_milestones(session: Session, user: User, city: City, on: dt.date) -> list[Any]:
    pilots = list(session.scalars(visible_pilots(user).where(Pilot.city_id == city.id)))
    found = overdue_milestones(session, [p.id for p in pilots], on)
    return [m for p in pilots for m in found[p.id]]
