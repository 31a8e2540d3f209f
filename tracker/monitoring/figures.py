"""The monitoring figures of a scope on a day: the one computation behind every surface.

概览, 本市工作台, 领导摘要, 调度填报, 试点详情, the bulletins (workbook and PDF), the summary downloads
and the API all read their progress, status counts, overdue milestones, reporting completeness,
timeliness and open flags from ``scope_figures``, so the same scope on the same day reads the same
everywhere. What a figure counts is part of it:

- **The day** (``on``): pages measure as of today; a numbered bulletin as of its period's last day.
  Each surface says which (``as_of_text``).
- **The pilots** (the population): the pilots the reader may see in the scope (province, a city, the
  overview's filters) that owe an update for the reporting period: in implementation, extended, or
  closed during the period (``tracker.progress.owed.owes_update``). Pilots selected but not started and
  withdrawn ones are not measured. Status counts partition the population, so they add up to it.
- **Means** are plain means over the population's pilots (each counts once), rounded half up to one
  decimal like every pilot's figure.
- **Reporting**: the population's updates for the period. Completeness counts updates submitted and
  not returned; timeliness counts updates *first* submitted by the due day, whatever happened after
  (a return and a resubmission do not make an on-time update late). A scope that owes nothing has no
  completeness (不适用) and is not ranked.
- **Open flags**: flags open, under review or confirmed in the scope (a flag about a claim counts by
  its city; with product, category, status or batch filters only flags about a kept pilot count).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select
from sqlalchemy.orm import Session, joinedload

from tracker.access.permissions import city_scope, visible_cities, visible_flags, visible_pilots
from tracker.core.i18n import _, english, format_date, label_of
from tracker.core.messages import Message
from tracker.core.periods import Period, Reporting, due_date, previous_period, window_closes
from tracker.models import City, Flag, FlagStatus, Milestone, Pilot, ProgressUpdate, Severity, User
from tracker.monitoring.registry import RegistryFilters, apply_filters
from tracker.progress.completeness import reporting_line, share
from tracker.progress.expected import (
    PilotProgress,
    ProgressStatus,
    Thresholds,
    load_progress,
    overdue_milestones,
)
from tracker.progress.owed import owing_pilots_query
from tracker.progress.updates import updates_for

OPEN_FLAGS = (FlagStatus.OPEN, FlagStatus.UNDER_REVIEW, FlagStatus.CONFIRMED)
BEHIND = (ProgressStatus.BEHIND, ProgressStatus.SERIOUSLY_BEHIND)
FlagRow = tuple[Severity, int | None, int | None]  # severity, pilot id, city id


def mean(values: Sequence[Decimal]) -> Decimal | None:
    """The plain mean, rounded half up to one decimal as every pilot's figure is (None when empty)."""
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ReportingFigures:
    """The population's updates for one period, seen on ``on``."""

    period: Period
    due: dt.date  # the day the period's updates are due
    closes: dt.date  # the last day of entry without an exception
    on: dt.date
    expected: int  # pilots owing an update
    submitted: int  # submitted and not returned (awaiting review or accepted)
    on_time: int  # first submitted by the due day, whatever happened after
    accepted: int

    @property
    def applicable(self) -> bool:
        """Whether the scope owes anything this period (otherwise: 不适用, and no rank)."""
        return self.expected > 0

    @property
    def overdue(self) -> bool:
        """Whether the due day has passed on ``on``."""
        return self.on > self.due

    @property
    def completeness(self) -> Decimal | None:
        return share(self.submitted, self.expected)

    @property
    def timeliness(self) -> Decimal | None:
        return share(self.on_time, self.expected)


@dataclass(frozen=True)
class GroupFigures:
    """The figures of one group of the population: the whole scope, or one city."""

    key: str  # 全省, or the city's Chinese name
    city_id: int | None
    city_code: str | None
    pilots: int
    by_status: dict[ProgressStatus, int]  # every status, adding up to ``pilots``
    expected: Decimal | None  # mean 序时进度
    actual: Decimal | None
    overdue_milestones: int
    reporting: ReportingFigures
    open_flags: dict[Severity, int]
    gap_rank: int | None = None  # among the cities with pilots; None when a rank says nothing
    completeness_rank: int | None = None  # among the cities that owe updates
    key_en: str = ""  # the city's English name (the catalogue's); empty for the whole scope

    def name(self) -> str:
        """The group's name in the reader's language: 太原市 / Taiyuan, 全省 / Province-wide."""
        if english() and self.key_en:
            return self.key_en
        return _("全省") if self.key == "全省" else self.key

    @property
    def gap(self) -> Decimal | None:
        """序时进度 − 实际进度 from the shown means, so the three figures agree on every surface."""
        if self.expected is None or self.actual is None:
            return None
        return self.expected - self.actual

    @property
    def behind(self) -> int:
        """Behind, seriously behind included."""
        return sum(self.by_status[s] for s in BEHIND)

    @property
    def open_flags_total(self) -> int:
        return sum(self.open_flags.values())


@dataclass(frozen=True)
class Figures:
    """Everything counted for a scope on a day (see the module's docstring)."""

    on: dt.date
    period: Period
    filtered: bool  # product, category, status or batch filters narrowed the scope
    pilots: list[Pilot]  # the population, by city then id (city, product and batch loaded)
    progress: dict[int, PilotProgress]
    overdue: dict[int, list[Milestone]]
    total: GroupFigures
    cities: list[GroupFigures] = field(default_factory=list)  # every city of the scope, by code
    ranked_for_gap: int = 0  # cities given a gap rank
    ranked_for_completeness: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)  # the bands the statuses were given by
    updates: dict[int, ProgressUpdate] = field(
        default_factory=dict
    )  # the population's updates for the period
    flags: list[FlagRow] = field(default_factory=list)  # the open flags counted (severity, pilot, city)

    def city(self, city_id: int) -> GroupFigures | None:
        return next((line for line in self.cities if line.city_id == city_id), None)


def scope_figures(session: Session, user: object, *, on: dt.date, period: Period, reporting: Reporting,
                  thresholds: Thresholds, city_id: int | None = None,
                  filters: RegistryFilters | None = None) -> Figures:  # fmt: skip
    """The figures of the pilots ``user`` may see in the scope (one city, or all the user sees; then
    the overview's ``filters``) that owe an update for ``period``, measured on ``on``."""
    filters = filters or RegistryFilters()
    if city_id is None and isinstance(user, User):
        city_id = city_scope(user)  # a city user's scope is their city, named as such
    stmt = visible_pilots(user).where(owing_pilots_query(period))
    if city_id is not None:
        stmt = stmt.where(Pilot.city_id == city_id)
    stmt = apply_filters(stmt, filters).options(
        joinedload(Pilot.city), joinedload(Pilot.product), joinedload(Pilot.batch)
    )
    pilots = list(session.scalars(stmt.order_by(Pilot.city_id, Pilot.id)).unique())
    ids = [p.id for p in pilots]
    progress = load_progress(session, ids, on, thresholds)
    overdue = overdue_milestones(session, ids, on)
    updates = updates_for(session, ids, period)
    due = due_date(period, reporting)
    filtered = bool(filters.product_ids or filters.categories or filters.statuses or filters.batch_numbers)
    flags = _open_flags(session, user, city_id, filters, filtered)
    count = _Counter(progress, overdue, updates, period, due, window_closes(period, reporting), on, flags)
    cities = list(session.scalars(_cities(user, city_id, filters)))
    by_city: dict[int, list[Pilot]] = defaultdict(list)
    for pilot in pilots:
        by_city[pilot.city_id].append(pilot)
    lines = [
        count.group(c.name_zh, c, by_city.get(c.id, []), [f for f in flags if f[2] == c.id]) for c in cities
    ]
    ranked, gap_ranked, share_ranked = _ranked(lines)
    return Figures(on=on, period=period, filtered=filtered, pilots=pilots, progress=progress, overdue=overdue,
                   total=count.group("全省" if city_id is None else cities[0].name_zh if cities else "",
                                     cities[0] if city_id is not None and cities else None, pilots, flags),
                   cities=ranked, ranked_for_gap=gap_ranked, ranked_for_completeness=share_ranked,
                   thresholds=thresholds, updates=updates, flags=flags)  # fmt: skip


def _cities(user: object, city_id: int | None, filters: RegistryFilters) -> Select[City]:
    stmt = visible_cities(user)
    if city_id is not None:
        stmt = stmt.where(City.id == city_id)
    elif filters.city_ids:
        stmt = stmt.where(City.id.in_(list(filters.city_ids)))
    return stmt.order_by(City.code)


def _open_flags(session: Session, user: object, city_id: int | None, filters: RegistryFilters,
                filtered: bool) -> list[FlagRow]:  # fmt: skip
    """The scope's open flags. With narrowing filters, only flags about a pilot the filters keep
    (any lifecycle state: a flag about a withdrawn pilot is still open business)."""
    stmt = visible_flags(user).where(Flag.status.in_(OPEN_FLAGS))
    if city_id is not None:
        stmt = stmt.where(Flag.city_id == city_id)
    if filters.city_ids:
        stmt = stmt.where(Flag.city_id.in_(list(filters.city_ids)))
    if filtered:
        kept = apply_filters(visible_pilots(user), filters).with_only_columns(Pilot.id)
        stmt = stmt.where(Flag.pilot_id.in_(kept))
    rows = session.execute(stmt.with_only_columns(Flag.severity, Flag.pilot_id, Flag.city_id))
    return [(row[0], row[1], row[2]) for row in rows]


@dataclass(frozen=True)
class _Counter:
    """Counts a group of the population from what ``scope_figures`` loaded once."""

    progress: dict[int, PilotProgress]
    overdue: dict[int, list[Milestone]]
    updates: dict[int, ProgressUpdate]
    period: Period
    due: dt.date
    closes: dt.date
    on: dt.date
    flags: list[FlagRow]

    def group(self, key: str, city: City | None, pilots: Sequence[Pilot],
              flags: Iterable[FlagRow]) -> GroupFigures:  # fmt: skip
        figures = [self.progress[p.id] for p in pilots]
        statuses = Counter(f.status for f in figures)
        severities = Counter(row[0] for row in flags)
        return GroupFigures(
            key=key, city_id=city.id if city else None, city_code=city.code if city else None,
            pilots=len(pilots), by_status={s: statuses[s] for s in ProgressStatus},
            expected=mean([f.expected for f in figures]), actual=mean([f.actual for f in figures]),
            overdue_milestones=sum(len(self.overdue[p.id]) for p in pilots),
            reporting=self._reporting(pilots), open_flags={s: severities[s] for s in Severity},
            key_en=city.name_en if city else "",
        )  # fmt: skip

    def _reporting(self, pilots: Sequence[Pilot]) -> ReportingFigures:
        line = reporting_line(None, self.period, pilots, self.updates)  # the one counting rule
        return ReportingFigures(self.period, self.due, self.closes, self.on, line.expected, line.submitted, line.on_time,
                                line.accepted)  # fmt: skip


def _ranked(lines: list[GroupFigures]) -> tuple[list[GroupFigures], int, int]:
    """Each city's rank by gap (smallest first) among cities with pilots, and by completeness
    (highest first) among cities that owe updates. Cities level share a rank. No rank is given
    where it says nothing: fewer than two cities, or every city level."""
    gaps = {line.city_id: line.gap for line in lines if line.gap is not None}
    shares = {line.city_id: line.reporting.completeness for line in lines if line.reporting.applicable}
    gap_rank = _ranks({k: v for k, v in gaps.items() if v is not None}, smaller_is_better=True)
    share_rank = _ranks({k: v for k, v in shares.items() if v is not None}, smaller_is_better=False)
    ranked = [
        GroupFigures(**{**line.__dict__, "gap_rank": gap_rank.get(line.city_id),
                        "completeness_rank": share_rank.get(line.city_id)})
        for line in lines
    ]  # fmt: skip
    return ranked, len(gap_rank), len(share_rank)


def _ranks(values: dict[int | None, Decimal], *, smaller_is_better: bool) -> dict[int | None, int]:
    if len(values) < 2 or len(set(values.values())) == 1:
        return {}
    sign = 1 if smaller_is_better else -1
    return {key: 1 + sum(sign * v < sign * mine for v in values.values()) for key, mine in values.items()}


# --- what the figures count, in words --------------------------------------------------------------


def as_of_text(figures: Figures | None = None, *, on: dt.date | None = None, pilots: int | None = None,
               period: Period | None = None, filtered: bool = False) -> str:  # fmt: skip
    """ "数据截至2026年12月2日；统计实施中的试点27个（2026年11月应报送）" in the reader's language.
    Give the figures, or their day, pilot count and period."""
    if figures is not None:
        on, pilots, period, filtered = figures.on, figures.total.pilots, figures.period, figures.filtered
    assert on is not None and pilots is not None and period is not None
    text = _("数据截至{on}；统计实施中的试点{pilots}个（{period}应报送）").format(
        on=format_date(on), pilots=pilots, period=label_of(period)
    )
    return text + (_("，已按筛选条件") if filtered else "")


def reporting_text(line: ReportingFigures) -> str:
    """The completeness with its due day and entry window: "截止12月5日，尚未到期；填报窗口至12月15日";
    不适用 when nothing is owed."""
    if not line.applicable:
        return _("不适用（本期无应报送的试点）")
    state = _("已过截止日") if line.overdue else _("尚未到期")
    return _("截止{due}，{state}；填报窗口至{closes}").format(
        due=format_date(line.due), state=state, closes=format_date(line.closes)
    )


def completeness_label(line: ReportingFigures) -> str:
    """The completeness as shown: "7.4%" or "不适用"."""
    return _("不适用") if line.completeness is None else f"{line.completeness}%"


def timeliness_label(line: ReportingFigures) -> str:
    return _("不适用") if line.timeliness is None else f"{line.timeliness}%"


# --- change since the last period (较上期) ------------------------------------------------------------


def one_period_before(on: dt.date, period: Period) -> tuple[dt.date, Period]:
    """The day and period to compare with: the previous period, measured as many days after it began
    as ``on`` is after ``period`` began (3 December for November → 2 November for October). The
    figures are computed again for that day by ``scope_figures``, the function of the current ones."""
    previous = previous_period(period)
    return previous.start + (on - period.start), previous


@dataclass(frozen=True)
class Change:
    """How a headline figure moved since the last period: a count's difference, or a share's in
    percentage points; ``None`` where there is nothing to compare (no figure then or now)."""

    delta: Decimal | int | None
    points: bool = False  # a share: the difference is in percentage points

    def text(self, locale: str | None = None) -> str:
        if self.delta is None:
            return Message("较上期：无可比").text(locale)
        if self.delta == 0:
            return Message("较上期持平").text(locale)
        sign = "+" if self.delta > 0 else "−"
        size = abs(self.delta)
        amount = f"{size:.1f}" if self.points else str(size)
        if self.points:
            return Message("较上期{sign}{n}个百分点", sign=sign, n=amount).text(locale)
        return Message("较上期{sign}{n}", sign=sign, n=amount).text(locale)


def change(now: int | Decimal | None, before: int | Decimal | None, *, points: bool = False) -> Change:
    if now is None or before is None:
        return Change(None, points)
    delta = now - before
    return Change(
        delta.quantize(Decimal("0.1"), ROUND_HALF_UP) if isinstance(delta, Decimal) else delta, points
    )


def headline_changes(now: GroupFigures, before: GroupFigures) -> dict[str, Change]:
    """The headline counts' changes, by the name the pages and the bulletin use."""
    return {
        "pilots": change(now.pilots, before.pilots),
        "on_track": change(now.by_status[ProgressStatus.ON_TRACK], before.by_status[ProgressStatus.ON_TRACK]),
        "behind": change(now.behind, before.behind),
        "serious": change(
            now.by_status[ProgressStatus.SERIOUSLY_BEHIND], before.by_status[ProgressStatus.SERIOUSLY_BEHIND]
        ),
        "overdue": change(now.overdue_milestones, before.overdue_milestones),
        "completeness": change(now.reporting.completeness, before.reporting.completeness, points=True),
    }
