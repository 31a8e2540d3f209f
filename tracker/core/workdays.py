"""Working days by the official Chinese holiday calendar (国务院办公厅 holiday notices, through the
chinese-calendar package): National Day and Spring Festival weeks are not working days, and the
weekend days swapped into working days (调休) are. Reminders count in these days, not weekdays.

The package carries the years the State Council has announced. For a later year it knows nothing;
then Monday to Friday are counted, and ``calendar_known`` says so, so a reminder can say it too.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def calendar_known(day: dt.date) -> bool:
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year not yet announced: weekdays
        return day.weekday() < 5


def working_days_until(today: dt.date, due: dt.date) -> int:
    """Working days from tomorrow up to and including ``due`` (0 when due today or earlier);
    negative: how many working days ``due`` is past, counting the days after it up to today."""
    if due >= today:
        return sum(is_workday(today + dt.timedelta(days=n)) for n in range(1, (due - today).days + 1))
    return -sum(is_workday(due + dt.timedelta(days=n)) for n in range(1, (today - due).days + 1))


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The date ``count`` working days after ``day`` (before it for a negative count)."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += dt.timedelta(days=step)
        remaining -= is_workday(day)
    return day
