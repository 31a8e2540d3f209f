"""The monthly cycle (调度): periods and windows, who owes an update, entry, submission, review,
late marking, exceptions, optimistic locking, completeness and timeliness."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import MONTHLY, NOV, TZ, at
from tracker.access.permissions import PermissionDenied
from tracker.core.errors import TrackerError
from tracker.core.periods import (
    Frequency,
    Period,
    due_date,
    parse_period,
    period_of,
    periods_between,
    window_closes,
)
from tracker.core.validation import ValidationFailed
from tracker.models import (
    Milestone,
    PilotStatus,
    ProgressUpdate,
    Role,
    Task,
    UpdateStatus,
    WorkflowStep,
)
from tracker.progress.completeness import completeness
from tracker.progress.expected import load_progress
from tracker.progress.owed import grant_window_exception, owes_update
from tracker.progress.updates import MilestoneReport, UpdateEntry, review_update, save_update, submit_update

US = UpdateStatus


@pytest.mark.parametrize(("day", "start", "end"), [
    (dt.date(2026, 2, 14), dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    (dt.date(2028, 2, 29), dt.date(2028, 2, 1), dt.date(2028, 2, 29)),  # leap year
    (dt.date(2026, 4, 30), dt.date(2026, 4, 1), dt.date(2026, 4, 30)),
    (dt.date(2026, 12, 31), dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
])  # fmt: skip
def test_months_of_every_length(day: dt.date, start: dt.date, end: dt.date) -> None:
    period = period_of(day, Frequency.MONTHLY)
    assert (period.start, period.end) == (start, end)
    assert period.days == (end - start).days + 1


def test_quarters_and_parsing() -> None:
    q1 = period_of(dt.date(2028, 3, 31), Frequency.QUARTERLY)
    assert (q1.start, q1.end, q1.days, q1.key, q1.label_zh) == (
        dt.date(2028, 1, 1), dt.date(2028, 3, 31), 91, "2028Q1", "2028年第1季度")  # fmt: skip
    assert (
        parse_period("2026年第4季度")
        == parse_period("2026q4")
        == period_of(dt.date(2026, 11, 5), Frequency.QUARTERLY)
    )
    assert (
        parse_period("2026年2月")
        == parse_period("2026-02")
        == period_of(dt.date(2026, 2, 1), Frequency.MONTHLY)
    )
    assert [p.key for p in periods_between(dt.date(2025, 11, 20), dt.date(2026, 2, 1), Frequency.MONTHLY)] == [
        "2025-11", "2025-12", "2026-01", "2026-02"]  # fmt: skip
    with pytest.raises(TrackerError, match="无法识别的报告期"):
        parse_period("2026-13")
    for absurd in ("0000-01", "9999Q4"):  # no year 0; no due day past year 9999
        with pytest.raises(TrackerError, match="报告期年份"):
            parse_period(absurd)


def test_due_day_and_window() -> None:
    assert due_date(NOV, MONTHLY) == dt.date(2025, 12, 5)
    assert window_closes(NOV, MONTHLY) == dt.date(2025, 12, 15)
    feb = period_of(dt.date(2028, 2, 10), Frequency.MONTHLY)
    assert due_date(feb, MONTHLY) == dt.date(2028, 3, 5)  # from the 29th, in a leap year


def test_who_owes_an_update(factory) -> None:  # type: ignore[no-untyped-def]
    mid = factory.pilot(start=dt.date(2025, 11, 20))
    assert owes_update(mid, NOV)  # started during November: reports for November
    assert not owes_update(mid, period_of(dt.date(2025, 10, 1), Frequency.MONTHLY))
    done = factory.pilot(start=dt.date(2024, 12, 1), status=PilotStatus.COMPLETED)
    done.closed_on = dt.date(2025, 11, 1)  # closed on the first: nothing owed for November
    assert not owes_update(done, NOV)
    assert owes_update(done, period_of(dt.date(2025, 10, 1), Frequency.MONTHLY))
    done.closed_on = dt.date(2025, 11, 2)  # one day of November in implementation
    assert owes_update(done, NOV)
    waiting = factory.pilot(status=PilotStatus.PUBLISHED)
    assert not owes_update(waiting, NOV)
    # A withdrawn pilot recorded before closing days were kept: when it stopped is unknown, so it owes nothing.
    gone = factory.pilot(start=dt.date(2025, 9, 1), status=PilotStatus.WITHDRAWN)
    assert gone.closed_on is None and not owes_update(gone, NOV)
    gone.closed_on = dt.date(2025, 11, 15)
    assert owes_update(gone, NOV)


@pytest.fixture
def setup(factory, db):  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治", start=dt.date(2025, 9, 1))
    db.add(Task(pilot=pilot, position=2, number="2", title="标准制定", weight=Decimal(3),
                planned_start=dt.date(2025, 9, 1), planned_end=dt.date(2026, 2, 28)))  # fmt: skip
    db.add(Milestone(pilot=pilot, title="建成数据采集系统", due_date=dt.date(2025, 11, 30), indicator="覆盖阶段数",
                     target_value="6"))  # fmt: skip
    db.commit()
    return {
        "pilot": pilot,
        "city": factory.user(Role.CITY_STAFF, "长治", username="czu"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyu"),
        "province": factory.user(Role.PROVINCE_STAFF, username="sheng"),
        "leader": factory.user(Role.LEADER, username="ldu"),
    }


def entry(pilot, first: object = 40, second: object = 20, **texts: str) -> UpdateEntry:  # type: ignore[no-untyped-def]
    tasks = sorted(pilot.tasks, key=lambda t: t.position)
    return UpdateEntry(task_percents={tasks[0].id: first, tasks[1].id: second},
                       work_done=texts.get("work_done", "完成数据采集系统招标"), problems=texts.get("problems", ""),
                       next_steps=texts.get("next_steps", "系统上线"))  # fmt: skip


def test_the_cycle_draft_submit_return_resubmit_accept_locked(db, setup) -> None:  # type: ignore[no-untyped-def]
    pilot, city, province = setup["pilot"], setup["city"], setup["province"]
    update = save_update(db, city, pilot.id, NOV, entry(pilot), reporting=MONTHLY, today=dt.date(2025, 12, 1))
    db.commit()
    assert update.status is US.DRAFT and update.version == 1
    update = submit_update(
        db, city, update.id, version=1, reporting=MONTHLY, now=at(dt.date(2025, 12, 5), 23), tz=TZ
    )
    db.commit()
    assert update.status is US.SUBMITTED and not update.is_late  # the due day itself is on time
    with pytest.raises(TrackerError, match="不能修改"):
        save_update(db, city, pilot.id, NOV, entry(pilot, 50), reporting=MONTHLY, today=dt.date(2025, 12, 6),
                    version=update.version)  # fmt: skip
    db.rollback()
    with pytest.raises(TrackerError, match="退回须填写理由"):
        review_update(
            db, province, update.id, accept=False, version=update.version, now=at(dt.date(2025, 12, 6))
        )
    db.rollback()
    update = review_update(db, province, update.id, accept=False, version=update.version,
                           now=at(dt.date(2025, 12, 6)), reason="任务2进度与附件不符")  # fmt: skip
    db.commit()
    assert update.status is US.RETURNED and update.return_reason == "任务2进度与附件不符"
    # Corrected after the due day: the first submission was on time, so it stays on time.
    update = save_update(db, city, pilot.id, NOV, entry(pilot, 40, 15), reporting=MONTHLY,
                         today=dt.date(2025, 12, 8), version=update.version)  # fmt: skip
    update = submit_update(db, city, update.id, version=update.version, reporting=MONTHLY,
                           now=at(dt.date(2025, 12, 8)), tz=TZ)  # fmt: skip
    db.commit()
    assert update.status is US.SUBMITTED and not update.is_late and update.return_reason is None
    update = review_update(
        db, province, update.id, accept=True, version=update.version, now=at(dt.date(2025, 12, 9))
    )
    db.commit()
    assert update.status is US.ACCEPTED
    with pytest.raises(TrackerError, match="已采纳"):
        save_update(db, city, pilot.id, NOV, entry(pilot, 90), reporting=MONTHLY, today=dt.date(2025, 12, 10),
                    version=update.version)  # fmt: skip
    db.rollback()
    steps = db.scalars(select(WorkflowStep.step).where(WorkflowStep.subject_type == "update",
                                                       WorkflowStep.subject_id == update.id)
                       .order_by(WorkflowStep.id)).all()  # fmt: skip
    assert steps == ["submit", "return", "resubmit", "accept"]
    # Accepted figures are the pilot's actual progress: (1×40 + 3×15) / 4 = 21.25 → 21.3
    assert load_progress(db, [pilot.id], dt.date(2025, 12, 10))[pilot.id].actual == Decimal("21.3")


def test_a_late_submission_is_marked_late_never_lost(db, setup) -> None:  # type: ignore[no-untyped-def]
    pilot, city = setup["pilot"], setup["city"]
    update = save_update(db, city, pilot.id, NOV, entry(pilot), reporting=MONTHLY, today=dt.date(2025, 12, 6))
    update = submit_update(db, city, update.id, version=update.version, reporting=MONTHLY,
                           now=at(dt.date(2025, 12, 6), 0), tz=TZ)  # fmt: skip
    db.commit()
    assert update.status is US.SUBMITTED and update.is_late


def test_after_the_window_entry_needs_an_exception_for_that_city_and_period(db, setup, factory) -> None:  # type: ignore[no-untyped-def]
    pilot, city, province = setup["pilot"], setup["city"], setup["province"]
    closed = dt.date(2025, 12, 16)  # the window closed at the end of the 15th
    with pytest.raises(TrackerError, match="填报已于2025年12月15日截止"):
        save_update(db, city, pilot.id, NOV, entry(pilot), reporting=MONTHLY, today=closed)
    db.rollback()
    grant_window_exception(db, province, city=factory.city("太原"), period=NOV, until=dt.date(2025, 12, 31),
                           reason="系统故障")  # fmt: skip
    db.commit()
    with pytest.raises(TrackerError, match="截止"):  # another city's exception does not help
        save_update(db, city, pilot.id, NOV, entry(pilot), reporting=MONTHLY, today=closed)
    db.rollback()
    with pytest.raises(PermissionDenied):
        grant_window_exception(db, city, city=factory.city("长治"), period=NOV, until=dt.date(2025, 12, 31),
                               reason="自己开")  # fmt: skip
    db.rollback()
    grant_window_exception(db, province, city=factory.city("长治"), period=NOV, until=dt.date(2025, 12, 31),
                           reason="春节前补报")  # fmt: skip
    db.commit()
    update = save_update(db, city, pilot.id, NOV, entry(pilot), reporting=MONTHLY, today=closed)
    update = submit_update(
        db, city, update.id, version=update.version, reporting=MONTHLY, now=at(closed), tz=TZ
    )
    db.commit()
    assert update.status is US.SUBMITTED and update.is_late
    october = period_of(dt.date(2025, 10, 1), Frequency.MONTHLY)  # only that period reopened
    with pytest.raises(TrackerError, match="截止"):
        save_update(db, city, pilot.id, october, entry(pilot), reporting=MONTHLY, today=closed)


def test_roles_and_cities(db, setup) -> None:  # type: ignore[no-untyped-def]
    pilot, city, other, province, leader = (
        setup[k] for k in ("pilot", "city", "other", "province", "leader")
    )
    for user in (other, province, leader):
        with pytest.raises(PermissionDenied):
            save_update(db, user, pilot.id, NOV, entry(pilot), reporting=MONTHLY, today=dt.date(2025, 12, 1))
        db.rollback()
    update = save_update(db, city, pilot.id, NOV, entry(pilot), reporting=MONTHLY, today=dt.date(2025, 12, 1))
    update = submit_update(db, city, update.id, version=update.version, reporting=MONTHLY,
                           now=at(dt.date(2025, 12, 1)), tz=TZ)  # fmt: skip
    db.commit()
    for user in (city, other, leader):
        with pytest.raises(PermissionDenied):
            review_update(
                db, user, update.id, accept=True, version=update.version, now=at(dt.date(2025, 12, 2))
            )
        db.rollback()
    db.refresh(update)
    assert update.status is US.SUBMITTED


def test_the_second_of_two_concurrent_edits_is_refused(db, setup) -> None:  # type: ignore[no-untyped-def]
    pilot, city = setup["pilot"], setup["city"]
    update = save_update(
        db, city, pilot.id, NOV, entry(pilot, 10), reporting=MONTHLY, today=dt.date(2025, 12, 1)
    )
    db.commit()
    read_by_both = update.version
    save_update(db, city, pilot.id, NOV, entry(pilot, 30), reporting=MONTHLY, today=dt.date(2025, 12, 1),
                version=read_by_both)  # fmt: skip
    db.commit()
    with pytest.raises(TrackerError, match="已被他人修改") as refused:
        save_update(db, city, pilot.id, NOV, entry(pilot, 99), reporting=MONTHLY, today=dt.date(2025, 12, 1),
                    version=read_by_both)  # fmt: skip
    assert "nothing was overwritten" in refused.value.message_en
    db.rollback()
    db.refresh(update)
    assert sorted(row.percent for row in update.task_progress) == [Decimal(20), Decimal(30)]
    with pytest.raises(
        TrackerError, match="已被他人修改"
    ):  # saving over an existing update needs its version
        save_update(db, city, pilot.id, NOV, entry(pilot, 99), reporting=MONTHLY, today=dt.date(2025, 12, 1))


def test_bad_entries_list_every_problem_and_write_nothing(db, setup) -> None:  # type: ignore[no-untyped-def]
    pilot, city = setup["pilot"], setup["city"]
    bad = entry(pilot, 120, "七十", work_done="进展" * 1001)
    with pytest.raises(ValidationFailed) as refused:
        save_update(db, city, pilot.id, NOV, bad, reporting=MONTHLY, today=dt.date(2025, 12, 1))
    messages = [p.message_zh for p in refused.value.problems]
    assert messages == [
        "任务1的进度应在0–100之间（填了120）",
        "任务2的进度“七十”不是数字",
        "本期工作进展超过2000字（现有2002字）",
    ]
    db.rollback()
    assert db.scalars(select(ProgressUpdate)).first() is None
    # A draft may be partial; submission needs every task and the work done.
    update = save_update(db, city, pilot.id, NOV, UpdateEntry(task_percents={pilot.tasks[0].id: "35%"}),
                         reporting=MONTHLY, today=dt.date(2025, 12, 1))  # fmt: skip
    db.commit()
    with pytest.raises(ValidationFailed) as refused:
        submit_update(
            db,
            city,
            update.id,
            version=update.version,
            reporting=MONTHLY,
            now=at(dt.date(2025, 12, 1)),
            tz=TZ,
        )
    assert [p.message_zh for p in refused.value.problems] == ["任务2“标准制定”未填进度", "请填写本期工作进展"]


def test_future_periods_and_pilots_not_in_implementation_are_refused(db, setup, factory) -> None:  # type: ignore[no-untyped-def]
    pilot, city = setup["pilot"], setup["city"]
    with pytest.raises(TrackerError, match="尚未开始"):
        save_update(db, city, pilot.id, period_of(dt.date(2026, 1, 1), Frequency.MONTHLY), entry(pilot),
                    reporting=MONTHLY, today=dt.date(2025, 12, 1))  # fmt: skip
    waiting = factory.pilot("长治", status=PilotStatus.PUBLISHED)
    with pytest.raises(TrackerError, match="不在实施期内"):
        save_update(db, city, waiting.id, NOV, UpdateEntry(), reporting=MONTHLY, today=dt.date(2025, 12, 1))


def test_accepting_a_reached_milestone_records_it(db, setup) -> None:  # type: ignore[no-untyped-def]
    from tracker.progress.expected import overdue_milestones

    pilot, city, province = setup["pilot"], setup["city"], setup["province"]
    milestone = pilot.milestones[0]
    # Due 30 November: on 1 December it is one day overdue.
    assert [m.id for m in overdue_milestones(db, [pilot.id], dt.date(2025, 12, 1))[pilot.id]] == [
        milestone.id
    ]
    assert not overdue_milestones(db, [pilot.id], dt.date(2025, 11, 30))[pilot.id]
    filled = entry(pilot)
    filled.milestones = [MilestoneReport(milestone.id, reached=True, achieved_on=dt.date(2025, 11, 28),
                                         indicator_value=Decimal(6))]  # fmt: skip
    update = save_update(db, city, pilot.id, NOV, filled, reporting=MONTHLY, today=dt.date(2025, 12, 1))
    update = submit_update(db, city, update.id, version=update.version, reporting=MONTHLY,
                           now=at(dt.date(2025, 12, 1)), tz=TZ)  # fmt: skip
    assert milestone.achieved_on is None  # not before the province accepts
    review_update(db, province, update.id, accept=True, version=update.version, now=at(dt.date(2025, 12, 2)),
                  acknowledged=[f"evidence:{milestone.id}"])  # no evidence attached: acknowledged  # fmt: skip
    db.commit()
    db.refresh(milestone)
    assert milestone.achieved_on == dt.date(2025, 11, 28)
    assert not overdue_milestones(db, [pilot.id], dt.date(2025, 12, 3))[pilot.id]


def test_completeness_never_exceeds_100_percent(db, setup, factory) -> None:  # type: ignore[no-untyped-def]
    pilot, city, province = setup["pilot"], setup["city"], setup["province"]
    starts_late = factory.pilot("长治", start=dt.date(2025, 11, 30))  # owes November (one day)
    factory.pilot("长治", start=dt.date(2025, 12, 1))  # owes nothing for November
    ended = factory.pilot("长治", start=dt.date(2024, 11, 1), status=PilotStatus.COMPLETED)
    ended.closed_on = dt.date(2025, 11, 1)  # owes nothing for November
    db.commit()
    # An update for the pilot that closed on 1 November does not count (it owes none).
    db.add(ProgressUpdate(pilot_id=ended.id, period_start=NOV.start, period_end=NOV.end, status=US.ACCEPTED))
    db.commit()
    for target, when in ((pilot, dt.date(2025, 12, 3)), (starts_late, dt.date(2025, 12, 9))):
        tasks = {t.id: 50 for t in target.tasks}
        update = save_update(db, city, target.id, NOV, UpdateEntry(task_percents=tasks, work_done="推进"),
                             reporting=MONTHLY, today=when)  # fmt: skip
        submit_update(db, city, update.id, version=update.version, reporting=MONTHLY, now=at(when), tz=TZ)
    db.commit()
    lines = {line.city_id: line for line in completeness(db, province, NOV)}
    changzhi = lines[pilot.city_id]
    assert (changzhi.expected, changzhi.submitted, changzhi.on_time) == (2, 2, 1)
    assert changzhi.completeness == Decimal(100) and changzhi.timeliness == Decimal(50)
    assert lines[None].expected == 2  # the province-wide line
    # Quarters: both pilots owe the fourth quarter, no quarterly update exists yet.
    q4 = period_of(dt.date(2025, 11, 1), Frequency.QUARTERLY)
    (line,) = [x for x in completeness(db, province, q4) if x.city_id is None]
    assert (line.expected, line.submitted, line.completeness) == (4, 0, Decimal(0))
    # City users see only their own city, with no province line; nothing is expected before any pilot began.
    assert {x.city_id for x in completeness(db, setup["other"], NOV)} == set()
    assert {x.city_id for x in completeness(db, city, NOV)} == {pilot.city_id}
    empty = completeness(db, province, Period(dt.date(2020, 1, 1), dt.date(2020, 1, 31)))
    assert empty == []
