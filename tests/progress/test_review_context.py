"""The province's review with context (审核): each task's figure last accepted, this period's and its
序时进度; the warnings before accepting (a milestone reached without evidence, a jump over the
configured threshold, work done copied from the last report), which review_update enforces and the
audit trail keeps; the 待审核 queue and its count, scoped by the permission module."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import MONTHLY, NOV, TZ, at
from tracker.core.config import load_settings
from tracker.core.errors import TrackerError
from tracker.core.periods import Frequency, period_of
from tracker.models import AuditEvent, Milestone, Role, Task, UpdateFile, UpdateStatus
from tracker.progress.consistency import Checks, checks_from
from tracker.progress.review_context import (
    days_waiting,
    review_context,
    review_warnings,
    waiting_count,
    waiting_queue,
)
from tracker.progress.updates import MilestoneReport, UpdateEntry, review_update, save_update, submit_update

OCT = period_of(dt.date(2025, 10, 1), Frequency.MONTHLY)
TEXT = "完成数据采集系统招标，组织三家供应商现场踏勘并确定实施方案，培训班组人员二十人次"


@pytest.fixture
def setup(factory, db):  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治", start=dt.date(2025, 9, 1))
    db.add(Task(pilot=pilot, position=2, number="2", title="标准制定", weight=Decimal(3),
                planned_start=dt.date(2025, 9, 1), planned_end=dt.date(2026, 2, 28)))  # fmt: skip
    db.add(Milestone(pilot=pilot, title="建成数据采集系统", due_date=dt.date(2025, 11, 30)))
    db.commit()
    return {
        "pilot": pilot,
        "city": factory.user(Role.CITY_STAFF, "长治", username="czr"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyr"),
        "province": factory.user(Role.PROVINCE_STAFF, username="shengr"),
        "leader": factory.user(Role.LEADER, username="ldr"),
    }


def submitted(db, setup, period, first, second, *, work_done=TEXT, reached=False, on=None):  # type: ignore[no-untyped-def]
    pilot = setup["pilot"]
    tasks = sorted(pilot.tasks, key=lambda t: t.position)
    entry = UpdateEntry(task_percents={tasks[0].id: first, tasks[1].id: second}, work_done=work_done)
    if reached:
        entry.milestones = [MilestoneReport(pilot.milestones[0].id, reached=True, achieved_on=period.end)]
    day = on or period.end + dt.timedelta(days=1)
    update = save_update(db, setup["city"], pilot.id, period, entry, reporting=MONTHLY, today=day)
    update = submit_update(db, setup["city"], update.id, version=update.version, reporting=MONTHLY, now=at(day),
                           tz=TZ)  # fmt: skip
    db.commit()
    return update


def accept_all(db, setup, update) -> None:  # type: ignore[no-untyped-def]
    keys = [w.key for w in review_warnings(db, update)]
    review_update(db, setup["province"], update.id, accept=True, version=update.version, now=at(dt.date(2025, 12, 2)),
                  acknowledged=keys)  # fmt: skip
    db.commit()


def test_each_task_shows_its_last_accepted_figure_this_periods_and_the_expected(db, setup) -> None:  # type: ignore[no-untyped-def]
    accept_all(db, setup, submitted(db, setup, OCT, 10, 5, work_done="完成方案编制"))
    november = submitted(db, setup, NOV, 30, 20)
    lines = review_context(db, november).tasks
    assert [(t.number, t.previous, t.current) for t in lines] == [("1", Decimal(10), Decimal(30)),
                                                                  ("2", Decimal(5), Decimal(20))]  # fmt: skip
    # 序时进度 at the period's end: 91 of 365 planned days for task 1, 91 of 181 for task 2.
    assert [t.expected for t in lines] == [Decimal("24.9"), Decimal("50.3")]
    # November is submitted, not accepted: December's previous figures are still October's.
    december = submitted(
        db, setup, period_of(dt.date(2025, 12, 1), Frequency.MONTHLY), 35, 25, work_done="完成招标"
    )
    assert [t.previous for t in review_context(db, december).tasks] == [Decimal(10), Decimal(5)]


def test_a_first_update_has_no_previous_figure_and_no_warning_when_modest(db, setup) -> None:  # type: ignore[no-untyped-def]
    update = submitted(db, setup, OCT, 10, 5)
    assert [t.previous for t in review_context(db, update).tasks] == [None, None]
    assert review_warnings(db, update) == []


def test_a_first_update_over_the_threshold_warns_without_a_previous_figure(db, setup) -> None:  # type: ignore[no-untyped-def]
    (warning,) = review_warnings(db, submitted(db, setup, OCT, 60, 5))
    assert warning.message.zh == "任务“1 数据采集”此前没有采纳的进度，本期即报60.0%，超过50个百分点"


def test_a_milestone_reached_without_evidence_warns_until_a_file_supports_it(db, setup) -> None:  # type: ignore[no-untyped-def]
    update = submitted(db, setup, OCT, 10, 5, reached=True)
    milestone = setup["pilot"].milestones[0]
    (warning,) = review_warnings(db, update)
    assert warning.key == f"evidence:{milestone.id}"
    assert warning.message.zh == "阶段性目标“建成数据采集系统”报告已完成，但没有佐证材料"
    assert "no evidence" in warning.message.en
    db.add(UpdateFile(update_id=update.id, milestone_id=milestone.id, filename="验收报告.pdf",
                      content_type="application/pdf", size_bytes=10, sha256="0" * 64))  # fmt: skip
    db.commit()
    db.refresh(update)
    assert review_warnings(db, update) == []


def test_a_jump_over_the_configured_threshold_warns(db, setup) -> None:  # type: ignore[no-untyped-def]
    accept_all(db, setup, submitted(db, setup, OCT, 10, 5, work_done="完成方案编制"))
    update = submitted(db, setup, NOV, 70, 20)
    task = sorted(setup["pilot"].tasks, key=lambda t: t.position)[0]
    (warning,) = review_warnings(db, update)
    assert warning.key == f"jump:{task.id}"
    assert warning.message.zh == "任务“1 数据采集”进度从上次采纳的10.0%升至70.0%，一期内增加超过50个百分点"
    # The threshold is the settings' (TRACKER_JUMP_POINTS), shared with the progress flags.
    checks = checks_from(load_settings({"TRACKER_JUMP_POINTS": "60", "TRACKER_SECRET_KEY": "k" * 40}))
    assert checks.jump_points == Decimal(60) and review_warnings(db, update, checks) == []
    assert checks_from(load_settings({"TRACKER_SECRET_KEY": "k" * 40})) == Checks()
    assert review_warnings(db, update, Checks(jump_points=Decimal(59)))[0].key == f"jump:{task.id}"


def test_work_done_copied_from_the_last_report_warns(db, setup) -> None:  # type: ignore[no-untyped-def]
    submitted(db, setup, OCT, 10, 5)  # submitted, not yet accepted: still the last report
    update = submitted(db, setup, NOV, 20, 10, work_done=TEXT + "。")
    (warning,) = review_warnings(db, update)
    assert warning.key == "copied"
    assert warning.message.zh == "本期工作进展与上期（2025年10月）几乎相同（相似度1.00）"
    assert "October 2025" in warning.message.en
    other = submitted(db, setup, period_of(dt.date(2025, 12, 1), Frequency.MONTHLY), 30, 15,
                      work_done="完成标准草案编制并组织专家评审，修改意见十二条已逐条落实")  # fmt: skip
    assert review_warnings(db, other) == []


def test_accepting_needs_every_warning_acknowledged_and_the_trail_keeps_them(db, setup) -> None:  # type: ignore[no-untyped-def]
    accept_all(db, setup, submitted(db, setup, OCT, 10, 5, work_done="完成方案编制"))
    update = submitted(db, setup, NOV, 70, 20, reached=True)
    keys = sorted(w.key for w in review_warnings(db, update))
    assert len(keys) == 2
    province, now = setup["province"], at(dt.date(2025, 12, 3))
    with pytest.raises(TrackerError, match=r"我已核实以上提示.*2条未确认") as refused:
        review_update(db, province, update.id, accept=True, version=update.version, now=now)
    assert "没有佐证材料" in str(refused.value) and "升至70.0%" in str(refused.value)
    db.rollback()
    with pytest.raises(TrackerError, match="1条未确认"):
        review_update(
            db, province, update.id, accept=True, version=update.version, now=now, acknowledged=keys[:1]
        )
    db.rollback()
    db.refresh(update)
    assert update.status is UpdateStatus.SUBMITTED
    review_update(db, province, update.id, accept=True, version=update.version, now=now, acknowledged=keys)
    db.commit()
    assert update.status is UpdateStatus.ACCEPTED
    (event,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "review_acknowledged")).all()
    assert event.entity_id == str(update.id) and event.after == {"warnings": keys}
    assert "没有佐证材料" in (event.summary or "") and "升至70.0%" in (event.summary or "")


def test_returning_needs_no_acknowledgement(db, setup) -> None:  # type: ignore[no-untyped-def]
    update = submitted(db, setup, OCT, 70, 5, reached=True)
    assert review_warnings(db, update)
    review_update(db, setup["province"], update.id, accept=False, version=update.version, now=at(dt.date(2025, 11, 2)),
                  reason="请补充佐证材料")  # fmt: skip
    db.commit()
    assert update.status is UpdateStatus.RETURNED
    assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "review_acknowledged")).all()


def test_the_queue_and_its_count_longest_waiting_first_for_reviewers_only(db, factory, setup) -> None:  # type: ignore[no-untyped-def]
    late = submitted(db, setup, NOV, 20, 10, on=dt.date(2025, 12, 4))
    other = factory.pilot("太原", product="钢铁", start=dt.date(2025, 9, 1))
    entry = UpdateEntry(task_percents={other.tasks[0].id: 10}, work_done="完成方案")
    tai = save_update(db, setup["other"], other.id, NOV, entry, reporting=MONTHLY, today=dt.date(2025, 12, 1))
    tai = submit_update(db, setup["other"], tai.id, version=tai.version, reporting=MONTHLY, now=at(dt.date(2025, 12, 1)),
                        tz=TZ)  # fmt: skip
    draft = save_update(db, setup["city"], setup["pilot"].id, OCT, UpdateEntry(task_percents={}), reporting=MONTHLY,
                        today=dt.date(2025, 11, 3))  # fmt: skip
    db.commit()
    province = setup["province"]
    assert waiting_count(db, province) == 2
    assert [u.id for u in waiting_queue(db, province)] == [tai.id, late.id]  # waiting since 1 and 4 December
    assert draft.status is UpdateStatus.DRAFT
    assert (
        days_waiting(tai, dt.date(2025, 12, 6), TZ) == 5
        and days_waiting(draft, dt.date(2025, 12, 6), TZ) is None
    )
    for nobody in (setup["city"], setup["other"], setup["leader"]):
        assert waiting_count(db, nobody) == 0 and waiting_queue(db, nobody) == []
