"""Reporting periods (调度周期): months or quarters, each with a due date and an entry window.

Modelled on DHIS2's periodic data sets: a period is due some days after it ends, and entry stays open
some days after that; later entry needs an exception granted by the province for that city and
period. Dates are local calendar dates (Asia/Shanghai by default); a day ends at local midnight.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from tracker.core.errors import TrackerError
from tracker.core.messages import Label, Message


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


@dataclass(frozen=True)
class Reporting:
    """The reporting cycle: how often, the due day and how long entry stays open after it.

    ``due_days``: the update is due on the N-th day after the period ends (5: a November update is
    due on 5 December). ``window_days``: entry closes N days after the due date (the last day of
    entry is due date + N); later entry needs an exception.
    """

    frequency: Frequency = Frequency.MONTHLY
    due_days: int = 5
    window_days: int = 10


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def frequency(self) -> Frequency:
        return Frequency.MONTHLY if self.start.month == self.end.month else Frequency.QUARTERLY

    @property
    def key(self) -> str:
        """Stable text key: 2026-11 for a month, 2026Q4 for a quarter (also DHIS2's notation)."""
        if self.frequency is Frequency.MONTHLY:
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"

    @property
    def label_zh(self) -> str:
        if self.frequency is Frequency.MONTHLY:
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"

    @property
    def label_en(self) -> str:
        if self.frequency is Frequency.MONTHLY:
            return self.start.strftime("%B %Y")
        return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"

    @property
    def label(self) -> Label:
        """The period's name in both languages, as a message's parameter (2026年11月 / November 2026)."""
        return Label(self.label_zh, self.label_en)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return start <= self.end and end >= self.start


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_of(day: dt.date, frequency: Frequency) -> Period:
    """The period of ``frequency`` that contains ``day`` (28-, 29-, 30- and 31-day months alike)."""
    if frequency is Frequency.MONTHLY:
        return Period(day.replace(day=1), _month_end(day.year, day.month))
    first = (day.month - 1) // 3 * 3 + 1
    return Period(dt.date(day.year, first, 1), _month_end(day.year, first + 2))


def next_period(period: Period) -> Period:
    return period_of(period.end + dt.timedelta(days=1), period.frequency)


def previous_period(period: Period) -> Period:
    return period_of(period.start - dt.timedelta(days=1), period.frequency)


def periods_between(start: dt.date, end: dt.date, frequency: Frequency) -> list[Period]:
    """Every period that has at least one day in [start, end], oldest first."""
    if end < start:
        return []
    periods = [period_of(start, frequency)]
    while periods[-1].end < end:
        periods.append(next_period(periods[-1]))
    return periods


FIRST_YEAR, LAST_YEAR = 2000, 2100  # plausible reporting years (and dates Python can shift by months)


def parse_period(text: str, frequency: Frequency | None = None) -> Period:
    """``2026-11``, ``2026年11月``, ``2026Q4`` or ``2026年第4季度``; refused clearly otherwise."""
    value = text.strip().replace(" ", "")
    month = re.fullmatch(r"(\d{4})(?:-|年)(\d{1,2})月?", value)
    quarter = re.fullmatch(r"(\d{4})(?:Q|q|年第)([1-4])(?:季度)?", value)
    found = month or quarter
    if found is not None and not FIRST_YEAR <= int(found.group(1)) <= LAST_YEAR:
        raise TrackerError(Message("报告期年份应在{first_year}–{last_year}之间：{text}", first_year=FIRST_YEAR, last_year=LAST_YEAR, text=text))  # fmt: skip
    if month and 1 <= int(month.group(2)) <= 12 and frequency is not Frequency.QUARTERLY:
        return period_of(dt.date(int(month.group(1)), int(month.group(2)), 1), Frequency.MONTHLY)
    if quarter and frequency is not Frequency.MONTHLY:
        return period_of(dt.date(int(quarter.group(1)), int(quarter.group(2)) * 3, 1), Frequency.QUARTERLY)
    raise TrackerError(
        Message(
            "无法识别的报告期：{text}（月度如 2026-11 或 2026年11月，季度如 2026Q4 或 2026年第4季度）",
            text=text,
        ),
    )


def due_date(period: Period, reporting: Reporting) -> dt.date:
    """The last day on which an update counts as on time."""
    return period.end + dt.timedelta(days=reporting.due_days)


def window_closes(period: Period, reporting: Reporting) -> dt.date:
    """The last day of entry without an exception."""
    return due_date(period, reporting) + dt.timedelta(days=reporting.window_days)


def reporting_period(today: dt.date, reporting: Reporting) -> Period:
    """The period cities are reporting on today: the last one ended while its entry window is
    still open (on 3 December, November), else the current one (on 24 November, November)."""
    current = period_of(today, reporting.frequency)
    last = previous_period(current)
    return last if today <= window_closes(last, reporting) else current
