"""本市工作台: what one city owes this period, its drafts and returned updates, its completeness and
its overdue milestones, as plain rows. Progress figures come from ``tracker.progress``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session, joinedload

from tracker.i18n import _
from tracker.models import (
    City,
    Flag,
    FlagStatus,
    Pilot,
    PilotStatus,
    ProgressUpdate,
    Severity,
    UpdateStatus,
    User,
)
from tracker.periods import Period, Reporting, due_date
from tracker.permissions import city_scope, visible_cities, visible_flags, visible_pilots
from tracker.progress import STATUS_LABELS, RollupBy, Thresholds, load_progress, overdue_milestones, rollup_of
from tracker.updates import (
    STATUS_ZH,
    Completeness,
    completeness,
    completeness_of,
    entry_open_until,
    owes_update,
    owing_pilots,
    updates_for,
)

OPEN_FLAGS = (FlagStatus.OPEN, FlagStatus.UNDER_REVIEW, FlagStatus.CONFIRMED)


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
            "update": _(STATUS_ZH[update.status]) if update else _("未填报"),
            "update_status": update.status.value if update else None,
            "late": bool(update and update.is_late), "return_reason": update.return_reason if update else None,
            "expected": figure.expected, "actual": figure.actual, "gap": figure.gap,
            "status": figure.status, "status_zh": _(STATUS_LABELS[figure.status]),
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


@dataclass(frozen=True)
class Standing:
    """Where the city stands among the province's cities on one day. Rank 1 is the smallest gap
    between 序时进度 and actual progress, and the highest completeness; cities level share a rank.
    None where the city has nothing to rank (no pilots measured, or none owing an update)."""

    cities: int  # cities ranked (those with pilots)
    gap: Decimal | None
    gap_rank: int | None
    province_gap: Decimal | None
    completeness: Decimal | None
    completeness_rank: int | None
    completeness_ranked: int  # cities with pilots owing an update this period
    province_completeness: Decimal | None


def _rank(values: dict[int, Decimal], own: int, *, smaller_is_better: bool) -> int | None:
    if own not in values:
        return None
    mine = values[own]
    return 1 + sum((v < mine) if smaller_is_better else (v > mine) for v in values.values())


def city_standing(session: Session, city: City, *, on: dt.date, period: Period,
                  thresholds: Thresholds) -> Standing:  # fmt: skip
    """The city's rank among all cities of its province. It reads every city's pilots, but gives
    out only the city's own figures, its ranks and the province-wide means (which the bulletins
    publish anyway): a city user learns no other city's figures from it. Call it only for a city the
    user may see (``workspace_city``)."""
    pilots = list(session.scalars(
        select(Pilot).join(Pilot.city).options(joinedload(Pilot.city), joinedload(Pilot.product))
        .where(City.province_id == city.province_id, Pilot.status != PilotStatus.WITHDRAWN)
    ).unique())  # fmt: skip
    names = {p.city.name_zh: p.city_id for p in pilots}
    ids = [p.id for p in pilots]
    progress, overdue = load_progress(session, ids, on, thresholds), overdue_milestones(session, ids, on)
    gaps = {names[line.key]: line.gap for line in rollup_of(pilots, RollupBy.CITY, progress, overdue)}
    province = rollup_of(pilots, RollupBy.PROVINCE, progress, overdue)
    owing: dict[int, list[Pilot]] = {}
    for pilot in pilots:
        if owes_update(pilot, period):
            owing.setdefault(pilot.city_id, []).append(pilot)
    shares = {cid: completeness_of(session, members, period).completeness for cid, members in owing.items()}
    ranked = {cid: share for cid, share in shares.items() if share is not None}
    everyone = [p for members in owing.values() for p in members]
    return Standing(
        cities=len(gaps), gap=gaps.get(city.id), gap_rank=_rank(gaps, city.id, smaller_is_better=True),
        province_gap=province[0].gap if province else None,
        completeness=shares.get(city.id), completeness_rank=_rank(ranked, city.id, smaller_is_better=False),
        completeness_ranked=len(ranked),
        province_completeness=completeness_of(session, everyone, period).completeness if everyone else None,
    )  # fmt: skip


SEVERITY_ORDER = case({Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}, value=Flag.severity)


def city_open_flags(session: Session, user: User, city: City) -> list[Flag]:
    """The city's open flags the user may see (open, under review or confirmed), most severe and
    oldest first."""
    stmt = (visible_flags(user).where(Flag.city_id == city.id, Flag.status.in_(OPEN_FLAGS))
            .options(joinedload(Flag.pilot)).order_by(SEVERITY_ORDER, Flag.first_seen, Flag.id))  # fmt: skip
    return list(session.scalars(stmt))
