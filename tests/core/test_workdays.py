"""Working days follow the official holiday calendar, not plain weekdays."""

from __future__ import annotations

import datetime as dt

from tracker.core.workdays import add_working_days, calendar_known, is_workday, working_days_until

D = dt.date


def test_national_day_week_and_its_swapped_saturday() -> None:
    assert not is_workday(D(2025, 10, 1)) and not is_workday(D(2025, 10, 8))  # 国庆、中秋 1–8 October
    assert is_workday(D(2025, 9, 28))  # a Sunday made a working day (调休)
    # From Tuesday 30 September, a due date of Thursday 9 October is one working day away, not seven.
    assert working_days_until(D(2025, 9, 30), D(2025, 10, 9)) == 1


def test_spring_festival_2026() -> None:
    assert not is_workday(D(2026, 2, 17))  # 春节
    assert is_workday(D(2026, 2, 14))  # Saturday made a working day (调休)
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)  # the holiday runs 15–23 February


def test_overdue_counts_backwards_and_due_today_is_zero() -> None:
    assert working_days_until(D(2026, 11, 24), D(2026, 11, 24)) == 0
    assert working_days_until(D(2026, 11, 24), D(2026, 11, 20)) == -2  # Friday due, Tuesday now


def test_an_unannounced_year_falls_back_to_weekdays_and_says_so() -> None:
    future = D(2031, 10, 1)
    assert not calendar_known(future) and is_workday(future)  # a Wednesday, no notice yet
