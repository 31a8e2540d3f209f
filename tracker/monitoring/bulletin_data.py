"""The figures of a dispatch bulletin (调度通报) for one reporting period, as plain data.

Every figure comes from ``tracker.monitoring.figures.scope_figures``, the computation every page shares (the
pilots owing an update for the period, measured on ``on``: a numbered bulletin on its period's last
day, the leadership page today); this module only arranges it into lines. The bulletin reads through ``tracker.access.permissions`` as a
provincial read-only viewer (``system_reader``), so it sees exactly what a provincial leader sees.

Three cuts: the whole province; one city (only that city's pilots, updates and flags); the
leadership summary (the province's headline figures and the pilots needing attention). The
report builders in ``reports/`` turn this data into files; nothing here holds an ORM object.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import system_reader, visible_flags, visible_pilots
from tracker.core.config import Settings
from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.core.periods import Period
from tracker.models import City, Flag, FlagStatus, Milestone, Pilot, Province, Severity, User
from tracker.models.labels import format_date_zh, label, rule_name
from tracker.monitoring.figures import (
    Change,
    Figures,
    GroupFigures,
    ReportingFigures,
    headline_changes,
    one_period_before,
    scope_figures,
)
from tracker.progress.expected import STATUS_LABELS, PilotProgress, ProgressStatus, thresholds_from
from tracker.progress.updates import updates_for

# Flags still needing someone (a confirmed finding stays in the bulletin until it is resolved).
OPEN_FLAG_STATUSES = (FlagStatus.OPEN, FlagStatus.UNDER_REVIEW, FlagStatus.CONFIRMED)
ATTENTION_LIMIT = 10  # pilots listed in the leadership summary
BEHIND = (ProgressStatus.BEHIND, ProgressStatus.SERIOUSLY_BEHIND)


class CutKind(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    LEADERSHIP = "leadership"


@dataclass(frozen=True)
class Cut:
    """Which bulletin: the whole province, one city (by its GB/T 2260 code) or the leadership summary."""

    kind: CutKind
    city_code: str | None = None

    @classmethod
    def province(cls) -> Cut:
        return cls(CutKind.PROVINCE)

    @classmethod
    def city(cls, code: str) -> Cut:
        return cls(CutKind.CITY, code)

    @classmethod
    def leadership(cls) -> Cut:
        return cls(CutKind.LEADERSHIP)

    @property
    def key(self) -> str:
        """Stable text key (province, city-140400, leadership), for file names and archive rows."""
        return f"city-{self.city_code}" if self.kind is CutKind.CITY else self.kind.value


@dataclass(frozen=True)
class PilotLine:
    """One pilot's progress on the bulletin's day (figures exactly as ``load_progress`` returns them)."""

    pilot_id: int
    city: str
    name: str
    organisation: str
    product: str
    stage: str  # lifecycle status in Chinese (实施中, 延期实施…)
    expected: Decimal
    actual: Decimal
    gap: Decimal
    status: ProgressStatus
    status_zh: str
    overdue_milestones: int
    open_flags: int


@dataclass(frozen=True)
class CityLine:
    """One city: its pilots by progress status, reporting completeness and timeliness, open flags."""

    code: str
    city: str
    pilots: int
    on_track: int
    behind: int  # behind or seriously behind
    seriously_behind: int
    finished: int
    expected: Decimal | None  # mean 序时进度 over the city's pilots
    actual: Decimal | None
    gap: Decimal | None
    updates_expected: int
    updates_submitted: int
    updates_on_time: int
    completeness: Decimal | None  # percent
    timeliness: Decimal | None
    overdue_milestones: int
    open_flags: int


@dataclass(frozen=True)
class MilestoneLine:
    city: str
    pilot: str
    title: str
    due_date: dt.date
    days_overdue: int
    indicator: str
    target_value: str


@dataclass(frozen=True)
class FlagLine:
    city: str
    pilot: str
    rule: str
    severity: Severity
    severity_zh: str
    status_zh: str
    message: str
    first_seen: dt.date  # local day


@dataclass(frozen=True)
class SubmissionLine:
    """A pilot's update for the period: its state, when it was first submitted, and what it says."""

    city: str
    pilot: str
    state: str  # 未填报 when there is none
    submitted_on: dt.date | None  # local day of the first submission
    late: bool
    work_done: str
    problems: str


@dataclass(frozen=True)
class Headline:
    """The figures the bulletin opens with."""

    pilots: int  # pilots reporting in the period
    by_stage: dict[str, int]  # every pilot of the scope by lifecycle status (Chinese labels)
    by_progress: dict[ProgressStatus, int]
    expected: Decimal | None
    actual: Decimal | None
    updates_expected: int
    updates_submitted: int
    updates_on_time: int
    completeness: Decimal | None
    timeliness: Decimal | None
    overdue_milestones: int
    open_flags: dict[Severity, int]
    reporting: ReportingFigures  # the period's due day and the counts above

    @property
    def behind(self) -> int:
        return sum(self.by_progress[s] for s in BEHIND)

    @property
    def open_flags_total(self) -> int:
        return sum(self.open_flags.values())


@dataclass(frozen=True)
class BulletinData:
    """A numbered, dated bulletin (第N期) for one period and cut."""

    number: int  # 0: not a numbered bulletin (the dashboard's summary of the day)
    issued_on: dt.date
    on: dt.date  # the day progress is measured on
    period: Period
    cut: Cut
    province: str
    scope: str  # 全省 or the city's name
    headline: Headline
    figures: Figures  # what every line here is arranged from (tracker.monitoring.figures)
    cities: list[CityLine] = field(default_factory=list)
    pilots: list[PilotLine] = field(default_factory=list)
    milestones: list[MilestoneLine] = field(default_factory=list)
    flags: list[FlagLine] = field(default_factory=list)
    submissions: list[SubmissionLine] = field(default_factory=list)
    attention: list[PilotLine] = field(default_factory=list)  # behind, largest gap first
    correction: int = 0  # 1, 2…: a correction of the issued bulletin (第N期（更正）, （更正2）)
    scope_en: str = ""  # the city's English name (a summary read in English); empty for the province
    # 较上期: the headline counts' changes since the previous period, measured the same way
    changes: dict[str, Change] = field(default_factory=dict)

    @property
    def title(self) -> str:
        city = self.scope if self.cut.kind is CutKind.CITY else ""
        if self.number == 0:  # not a numbered bulletin: the dashboard's summary of the day
            return f"{self.province}{city}产品碳足迹管理试点进展摘要"
        summary = "（领导摘要）" if self.cut.kind is CutKind.LEADERSHIP else ""
        corrected = f"（更正{self.correction if self.correction > 1 else ''}）" if self.correction else ""
        return f"{self.province}{city}产品碳足迹管理试点调度通报{summary}（第{self.number}期）{corrected}"

    @property
    def subtitle(self) -> str:
        return (f"报告期：{self.period.label_zh}　进度统计截至：{format_date_zh(self.on)}　"
                f"统计实施中的试点{self.headline.pilots}个　印发日期：{format_date_zh(self.issued_on)}")  # fmt: skip


def bulletin_data(session: Session, *, period: Period, cut: Cut, on: dt.date, number: int, issued_on: dt.date,
                  settings: Settings) -> BulletinData:  # fmt: skip
    """Gather the bulletin of ``period`` for ``cut``, progress measured on ``on``. Reads only."""
    city = _cut_city(session, cut)
    province = session.get(Province, city.province_id) if city else only_province(session)
    assert province is not None
    reader = system_reader(province.id)
    city_id = city.id if city else None
    figures = scope_figures(session, reader, on=on, period=period, reporting=settings.reporting,
                            thresholds=thresholds_from(settings), city_id=city_id)  # fmt: skip
    then, previous = one_period_before(on, period)
    before = scope_figures(session, reader, on=then, period=previous, reporting=settings.reporting,
                           thresholds=thresholds_from(settings), city_id=city_id)  # fmt: skip
    pilots = figures.pilots
    flags = _open_flags(session, reader, city_id, settings)
    lines = _pilot_lines(pilots, figures.progress, figures.overdue, flags)
    return BulletinData(
        changes=headline_changes(figures.total, before.total),
        number=number, issued_on=issued_on, on=on, period=period, cut=cut, province=province.name_zh,
        scope=city.name_zh if city else "全省", scope_en=city.name_en if city else "",
        headline=_headline(session, reader, city_id, figures.total), figures=figures,
        cities=[_city_line(line) for line in figures.cities], pilots=lines,
        milestones=_milestone_lines(pilots, figures.overdue, on),
        flags=[line for line, _pilot_id, _city in flags],
        submissions=_submission_lines(session, pilots, period, settings),
        attention=_attention(lines),
    )  # fmt: skip


def _cut_city(session: Session, cut: Cut) -> City | None:
    if cut.kind is not CutKind.CITY:
        return None
    city = session.scalars(select(City).where(City.code == cut.city_code)).first()
    if city is None:
        raise TrackerError(Message("没有代码为{city_code}的城市", city_code=cut.city_code))
    return city


def only_province(session: Session) -> Province:
    provinces = session.scalars(select(Province)).all()
    if len(provinces) != 1:
        raise TrackerError(Message("请先运行 tracker init 载入目录"))
    return provinces[0]


def _pilot_lines(pilots: list[Pilot], progress: dict[int, PilotProgress], overdue: dict[int, list[Milestone]],
                 flags: list[tuple[FlagLine, int | None, int]]) -> list[PilotLine]:  # fmt: skip
    flag_count = Counter(pilot_id for _line, pilot_id, _city in flags if pilot_id is not None)
    lines = []
    for pilot in pilots:
        figure = progress[pilot.id]
        lines.append(PilotLine(
            pilot.id, pilot.city.name_zh, pilot.name, pilot.organisation.name,
            pilot.product.name_zh if pilot.product else "专业化服务", label(pilot.status),
            figure.expected, figure.actual, figure.gap, figure.status, STATUS_LABELS[figure.status],
            len(overdue[pilot.id]), flag_count[pilot.id],
        ))  # fmt: skip
    return lines


def _attention(lines: list[PilotLine]) -> list[PilotLine]:
    """The pilots behind their 序时进度, largest gap first (then overdue milestones, open flags)."""
    behind = [line for line in lines if line.status in BEHIND]
    behind.sort(
        key=lambda line: (-line.gap, -line.overdue_milestones, -line.open_flags, line.city, line.name)
    )
    return behind[:ATTENTION_LIMIT]


def _city_line(line: GroupFigures) -> CityLine:
    """One city of the scope (a city without pilots too, with zeros)."""
    counts, reporting = line.by_status, line.reporting
    return CityLine(
        line.city_code or "", line.key, line.pilots, counts[ProgressStatus.ON_TRACK], line.behind,
        counts[ProgressStatus.SERIOUSLY_BEHIND], counts[ProgressStatus.FINISHED],
        line.expected, line.actual, line.gap,
        reporting.expected, reporting.submitted, reporting.on_time, reporting.completeness, reporting.timeliness,
        line.overdue_milestones, line.open_flags_total,
    )  # fmt: skip


def _headline(session: Session, reader: User, city_id: int | None, total: GroupFigures) -> Headline:
    everyone = visible_pilots(reader)
    if city_id is not None:
        everyone = everyone.where(Pilot.city_id == city_id)
    by_stage = Counter(label(p.status) for p in session.scalars(everyone.order_by(Pilot.id)))
    r = total.reporting
    return Headline(
        pilots=total.pilots, by_stage=dict(by_stage), by_progress=dict(total.by_status),
        expected=total.expected, actual=total.actual,
        updates_expected=r.expected, updates_submitted=r.submitted, updates_on_time=r.on_time,
        completeness=r.completeness, timeliness=r.timeliness,
        overdue_milestones=total.overdue_milestones, open_flags=dict(total.open_flags), reporting=r,
    )  # fmt: skip


def _milestone_lines(
    pilots: list[Pilot], overdue: dict[int, list[Milestone]], on: dt.date
) -> list[MilestoneLine]:
    lines = []
    for pilot in pilots:
        for milestone in overdue[pilot.id]:
            lines.append(MilestoneLine(pilot.city.name_zh, pilot.name, milestone.title, milestone.due_date,
                                       (on - milestone.due_date).days, milestone.indicator or "",
                                       milestone.target_value or ""))  # fmt: skip
    return sorted(lines, key=lambda line: (line.due_date, line.city, line.pilot))


def _open_flags(session: Session, reader: User, city_id: int | None,
                settings: Settings) -> list[tuple[FlagLine, int | None, int]]:  # fmt: skip
    """Open flags of the scope, most severe first, each with its pilot id and city id."""
    stmt = (
        visible_flags(reader)
        .add_columns(City.name_zh, Pilot.name)
        .outerjoin(Pilot, Flag.pilot_id == Pilot.id)
        .where(Flag.status.in_(OPEN_FLAG_STATUSES))
        .order_by(Flag.city_id, Flag.first_seen, Flag.id)
    )
    if city_id is not None:
        stmt = stmt.where(Flag.city_id == city_id)
    found = []
    for flag, city_name, pilot_name in session.execute(stmt):
        line = FlagLine(city_name, pilot_name or "", rule_name(flag.rule_id), flag.severity, label(flag.severity),
                        label(flag.status), flag.message.text(), flag.first_seen.astimezone(settings.timezone).date())  # fmt: skip
        found.append((line, flag.pilot_id, flag.city_id))
    rank = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
    return sorted(found, key=lambda item: rank[item[0].severity])  # stable: city, then first seen


def _submission_lines(session: Session, pilots: list[Pilot], period: Period,
                      settings: Settings) -> list[SubmissionLine]:  # fmt: skip
    updates = updates_for(session, [p.id for p in pilots], period)
    lines = []
    for pilot in pilots:
        update = updates.get(pilot.id)
        if update is None:
            lines.append(SubmissionLine(pilot.city.name_zh, pilot.name, "未填报", None, False, "", ""))
            continue
        submitted = update.submitted_at.astimezone(settings.timezone).date() if update.submitted_at else None
        lines.append(SubmissionLine(pilot.city.name_zh, pilot.name, label(update.status), submitted,
                                    update.is_late, update.work_done or "", update.problems or ""))  # fmt: skip
    return lines
