"""序时进度: the time-proportional expected progress (the issue on updates extends these cases)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tracker.progress import ProgressStatus, TaskPlan, expected_task_progress, pilot_progress

START, END = dt.date(2025, 9, 1), dt.date(2025, 9, 30)


@pytest.mark.parametrize(("on", "expected"), [
    (dt.date(2025, 8, 31), Decimal(0)),
    (dt.date(2025, 9, 1), Decimal(100) / 30),
    (dt.date(2025, 9, 15), Decimal(50)),
    (dt.date(2025, 9, 30), Decimal(100)),
    (dt.date(2026, 1, 1), Decimal(100)),
])  # fmt: skip
def test_expected_progress_is_the_elapsed_share_of_the_span(on: dt.date, expected: Decimal) -> None:
    assert expected_task_progress(START, END, on) == expected


def test_pilot_progress_weights_tasks_and_reports_the_gap() -> None:
    tasks = [
        TaskPlan(1, Decimal(3), START, END),
        TaskPlan(2, Decimal(1), dt.date(2025, 10, 1), dt.date(2025, 10, 31)),
    ]
    result = pilot_progress(tasks, {1: Decimal(40), 2: Decimal(0)}, dt.date(2025, 9, 15))
    assert result.expected == Decimal("37.5")  # (3×50 + 1×0) / 4
    assert result.actual == Decimal("30.0")
    assert result.gap == Decimal("7.5")
    assert result.status is ProgressStatus.BEHIND


@pytest.mark.parametrize(("actual", "status"), [
    (Decimal(50), ProgressStatus.ON_TRACK), (Decimal(46), ProgressStatus.ON_TRACK),
    (Decimal(45), ProgressStatus.BEHIND), (Decimal(30), ProgressStatus.SERIOUSLY_BEHIND),
    (Decimal(100), ProgressStatus.FINISHED),
])  # fmt: skip
def test_status_thresholds(actual: Decimal, status: ProgressStatus) -> None:
    tasks = [TaskPlan(1, Decimal(1), START, END)]
    assert pilot_progress(tasks, {1: actual}, dt.date(2025, 9, 15)).status is status


def test_latest_accepted_update_gives_the_actual_figure(db, factory) -> None:  # type: ignore[no-untyped-def]
    from tracker.progress import load_progress

    pilot = factory.pilot("长治", start=dt.date(2025, 9, 1))
    factory.accepted_update(pilot, dt.date(2025, 9, 1), dt.date(2025, 9, 30), "5")
    factory.accepted_update(pilot, dt.date(2025, 10, 1), dt.date(2025, 10, 31), "20")
    progress = load_progress(db, [pilot.id], dt.date(2025, 10, 31))[pilot.id]
    assert progress.actual == Decimal("20.0")
    assert load_progress(db, [pilot.id], dt.date(2025, 10, 15))[pilot.id].actual == Decimal("5.0")
