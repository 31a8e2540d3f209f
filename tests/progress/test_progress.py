"""序时进度: the time-proportional expected progress (the issue on updates extends these cases)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tracker.progress.expected import ProgressStatus, TaskPlan, expected_task_progress, pilot_progress

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
    from tracker.progress.expected import load_progress

    pilot = factory.pilot("长治", start=dt.date(2025, 9, 1))
    factory.accepted_update(pilot, dt.date(2025, 9, 1), dt.date(2025, 9, 30), "5")
    factory.accepted_update(pilot, dt.date(2025, 10, 1), dt.date(2025, 10, 31), "20")
    progress = load_progress(db, [pilot.id], dt.date(2025, 10, 31))[pilot.id]
    assert progress.actual == Decimal("20.0")
    # A period's accepted figures count from its first day (the city may report before it ends).
    assert load_progress(db, [pilot.id], dt.date(2025, 10, 15))[pilot.id].actual == Decimal("20.0")
    assert load_progress(db, [pilot.id], dt.date(2025, 9, 30))[pilot.id].actual == Decimal("5.0")
    assert load_progress(db, [pilot.id], dt.date(2025, 8, 31))[pilot.id].actual == Decimal("0.0")


def test_each_task_keeps_its_latest_accepted_figure(db, factory) -> None:  # type: ignore[no-untyped-def]
    """A task a later update leaves out keeps its earlier figure; a returned or draft update of a
    later period changes nothing."""
    from tracker.models import ProgressUpdate, Task, TaskProgress, UpdateStatus
    from tracker.progress.expected import load_progress, progress_history

    pilot = factory.pilot("长治", start=dt.date(2025, 9, 1))
    first = pilot.tasks[0]
    second = Task(pilot=pilot, position=2, number="2", title="核算", weight=Decimal(1),
                  planned_start=pilot.start_date, planned_end=pilot.end_date)  # fmt: skip
    db.add(second)
    db.flush()

    def update(start: dt.date, end: dt.date, status: UpdateStatus, figures: dict[int, str]) -> None:
        row = ProgressUpdate(pilot_id=pilot.id, period_start=start, period_end=end, status=status)
        row.task_progress.extend(TaskProgress(task_id=t, percent=Decimal(v)) for t, v in figures.items())
        db.add(row)
        db.commit()

    update(
        dt.date(2025, 9, 1), dt.date(2025, 9, 30), UpdateStatus.ACCEPTED, {first.id: "10", second.id: "40"}
    )
    update(dt.date(2025, 10, 1), dt.date(2025, 10, 31), UpdateStatus.ACCEPTED, {first.id: "30"})
    update(
        dt.date(2025, 11, 1), dt.date(2025, 11, 30), UpdateStatus.RETURNED, {first.id: "90", second.id: "90"}
    )
    # task 1 from October (30), task 2 still from September (40); November was returned
    assert load_progress(db, [pilot.id], dt.date(2025, 11, 20))[pilot.id].actual == Decimal("35.0")
    assert load_progress(db, [pilot.id], dt.date(2025, 9, 20))[pilot.id].actual == Decimal("25.0")
    # the pilot page's curve computes many days in one pass: the same figures as day by day
    days = [dt.date(2025, 8, 31), dt.date(2025, 9, 1), dt.date(2025, 9, 30), dt.date(2025, 10, 1),
            dt.date(2025, 10, 31), dt.date(2025, 11, 20), dt.date(2026, 8, 31)]  # fmt: skip
    history = progress_history(db, pilot.id, days)
    assert list(history) == days
    assert history == {day: load_progress(db, [pilot.id], day)[pilot.id] for day in days}
    assert history[dt.date(2025, 11, 20)].actual == Decimal("35.0")
    assert history[dt.date(2025, 8, 31)].actual == Decimal(0)


@pytest.mark.parametrize(("start", "end", "on", "expected"), [
    # a leap year's February has 29 days: 29 Feb closes the span, 28 Feb is 28/29 of it
    (dt.date(2028, 2, 1), dt.date(2028, 2, 29), dt.date(2028, 2, 28), Decimal(100) * 28 / 29),
    (dt.date(2028, 2, 1), dt.date(2028, 2, 29), dt.date(2028, 2, 29), Decimal(100)),
    # a one-year span over a leap day has 366 days; its middle is 1 March 2028 (day 183)
    (dt.date(2027, 9, 1), dt.date(2028, 8, 31), dt.date(2028, 3, 1), Decimal(100) * 183 / 366),
    # month ends: 31 January to 30 April is 90 days; on 28 February, 29 of them have passed
    (dt.date(2027, 1, 31), dt.date(2027, 4, 30), dt.date(2027, 2, 28), Decimal(100) * 29 / 90),
    # a one-day task is either not begun or done
    (dt.date(2027, 6, 30), dt.date(2027, 6, 30), dt.date(2027, 6, 29), Decimal(0)),
    (dt.date(2027, 6, 30), dt.date(2027, 6, 30), dt.date(2027, 6, 30), Decimal(100)),
])  # fmt: skip
def test_expected_progress_over_leap_days_and_month_ends(
    start: dt.date, end: dt.date, on: dt.date, expected: Decimal
) -> None:
    assert expected_task_progress(start, end, on) == expected


def test_configured_thresholds_change_the_status() -> None:
    from tracker.progress.expected import Thresholds

    tasks = [TaskPlan(1, Decimal(1), START, END)]
    strict = Thresholds(behind=Decimal(2), seriously_behind=Decimal(4))
    assert (
        pilot_progress(tasks, {1: Decimal(47)}, dt.date(2025, 9, 15), strict).status is ProgressStatus.BEHIND
    )
    assert (
        pilot_progress(tasks, {1: Decimal(45)}, dt.date(2025, 9, 15), strict).status
        is ProgressStatus.SERIOUSLY_BEHIND
    )


def test_roll_ups_by_city_product_category_and_province(db, factory) -> None:  # type: ignore[no-untyped-def]
    from tracker.progress.expected import RollupBy, rollup, task_lines

    on = dt.date(2026, 3, 2)  # 183 of the 365 days from 1 September 2025: 序时进度 50.1
    coke = factory.pilot("长治", "焦炭", start=dt.date(2025, 9, 1))
    liquor = factory.pilot("长治", "白酒", start=dt.date(2025, 9, 1))
    steel = factory.pilot("太原", "钢铁", start=dt.date(2025, 9, 1))
    factory.accepted_update(coke, dt.date(2026, 2, 1), dt.date(2026, 2, 28), "50")
    factory.accepted_update(liquor, dt.date(2026, 2, 1), dt.date(2026, 2, 28), "20")
    factory.accepted_update(steel, dt.date(2026, 2, 1), dt.date(2026, 2, 28), "60")
    pilots = [coke, liquor, steel]
    (line,) = task_lines(db, coke.id, on)
    assert (line.expected, line.actual, line.gap) == (Decimal("50.1"), Decimal("50.0"), Decimal("0.1"))
    by_city = {r.key: r for r in rollup(db, pilots, on, RollupBy.CITY)}
    assert by_city["长治市"].pilots == 2 and by_city["长治市"].actual == Decimal("35.0")
    assert by_city["长治市"].by_status[ProgressStatus.SERIOUSLY_BEHIND] == 1
    assert by_city["长治市"].by_status[ProgressStatus.ON_TRACK] == 1
    assert by_city["太原市"].gap == Decimal("-9.9")
    assert list(by_city) == ["长治市", "太原市"]  # the city furthest behind first
    assert {r.key for r in rollup(db, pilots, on, RollupBy.PRODUCT)} == {"焦炭", "白酒", "钢铁"}
    (category,) = rollup(db, pilots, on, RollupBy.CATEGORY)
    (province,) = rollup(db, pilots, on, RollupBy.PROVINCE)
    assert category.pilots == province.pilots == 3 and province.key == "全省"
    assert province.actual == Decimal("43.3")  # (50 + 20 + 60) / 3
