"""tracker.monitoring.figures on a small province: what it counts, on which day, and how it says so."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tracker.access.permissions import system_reader
from tracker.core.periods import Period, Reporting
from tracker.models import PilotStatus, ProgressUpdate, UpdateStatus
from tracker.monitoring.figures import as_of_text, completeness_label, reporting_text, scope_figures
from tracker.progress.expected import Thresholds

NOV = Period(dt.date(2025, 11, 1), dt.date(2025, 11, 30))
TZ = dt.timezone(dt.timedelta(hours=8))


def figures(db, pilot, on):  # type: ignore[no-untyped-def]
    return scope_figures(db, system_reader(pilot.city.province_id), on=on, period=NOV, reporting=Reporting(),
                         thresholds=Thresholds())  # fmt: skip


def test_only_pilots_owing_the_period_are_counted_and_the_statuses_add_up(db, factory) -> None:  # type: ignore[no-untyped-def]
    running = factory.pilot("长治", name="实施中")
    factory.pilot("长治", name="未启动", status=PilotStatus.SELECTED, start=dt.date(2026, 1, 1))
    factory.pilot("太原", name="已退出", status=PilotStatus.WITHDRAWN)
    result = figures(db, running, dt.date(2025, 12, 2))
    assert [p.name for p in result.pilots] == ["实施中"]
    assert sum(result.total.by_status.values()) == result.total.pilots == 1
    changzhi = next(c for c in result.cities if c.key == "长治市")
    assert changzhi.pilots == 1 and changzhi.gap == result.total.gap
    taiyuan = next(c for c in result.cities if c.key == "太原市")
    assert taiyuan.pilots == 0 and taiyuan.gap is None and not taiyuan.reporting.applicable
    assert completeness_label(taiyuan.reporting) == "不适用" and taiyuan.completeness_rank is None
    text = as_of_text(result)
    assert text == "数据截至2025年12月2日；统计实施中的试点1个（2025年11月应报送）"


def test_completeness_says_its_due_day_and_window(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    before = figures(db, pilot, dt.date(2025, 12, 2)).total.reporting
    assert reporting_text(before) == "截止2025年12月5日，尚未到期；填报窗口至2025年12月15日"
    after = figures(db, pilot, dt.date(2025, 12, 6)).total.reporting
    assert reporting_text(after).startswith("截止2025年12月5日，已过截止日")


def test_timeliness_counts_the_first_submission_whatever_happens_after(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    update = ProgressUpdate(pilot_id=pilot.id, period_start=NOV.start, period_end=NOV.end, status=UpdateStatus.SUBMITTED,
                            submitted_at=dt.datetime(2025, 12, 3, 9, tzinfo=TZ), is_late=False)  # fmt: skip
    db.add(update)
    db.flush()
    line = figures(db, pilot, dt.date(2025, 12, 20)).total.reporting
    assert (line.submitted, line.on_time) == (1, 1)
    update.status, update.return_reason = UpdateStatus.RETURNED, "请补充佐证"
    db.flush()
    returned = figures(db, pilot, dt.date(2025, 12, 20)).total.reporting
    assert (returned.submitted, returned.on_time) == (0, 1)  # not complete now, but it was on time
    assert returned.timeliness == Decimal(100) and returned.completeness == Decimal(0)
    update.status, update.last_submitted_at = UpdateStatus.SUBMITTED, dt.datetime(2025, 12, 18, 9, tzinfo=TZ)
    db.flush()
    again = figures(db, pilot, dt.date(2025, 12, 20)).total.reporting
    assert (again.submitted, again.on_time) == (1, 1)  # a resubmission after the due day stays on time


def test_the_period_before_is_measured_as_far_into_it_as_today_is_into_this_one() -> None:
    from tracker.core.periods import Frequency, period_of
    from tracker.monitoring.figures import one_period_before

    november = period_of(dt.date(2025, 11, 1), Frequency.MONTHLY)
    then, previous = one_period_before(dt.date(2025, 12, 3), november)
    assert (then, previous.key) == (dt.date(2025, 11, 2), "2025-10")
    quarter = period_of(dt.date(2025, 7, 1), Frequency.QUARTERLY)
    then, previous = one_period_before(dt.date(2025, 10, 8), quarter)
    assert (then, previous.key) == (dt.date(2025, 7, 9), "2025Q2")


def test_a_change_says_how_a_figure_moved_in_each_language() -> None:
    from decimal import Decimal

    from tracker.monitoring.figures import change

    assert change(13, 10).text("zh_CN") == "较上期+3" and change(13, 10).text("en") == "+3 from last period"
    assert change(8, 10).text("zh_CN") == "较上期−2"
    assert change(5, 5).text("en") == "unchanged from last period"
    assert change(Decimal("92.5"), Decimal("80.25"), points=True).text("zh_CN") == "较上期+12.3个百分点"
    assert change(None, 4).delta is None and change(None, 4).text("zh_CN") == "较上期：无可比"
