"""The provincial work plan (晋环发〔2024〕31号) by department: who reports, the cycle, late marking,
optimistic locking, who may do what, and completeness."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import MONTHLY, NOV, TZ, at
from tracker.access.permissions import PermissionDenied
from tracker.core.errors import TrackerError
from tracker.core.periods import Frequency, Period, period_of
from tracker.core.validation import ValidationFailed
from tracker.models import (
    AuditEvent,
    Department,
    DepartmentDuty,
    Role,
    UpdateStatus,
    WorkflowStep,
    WorkPlanUpdate,
)
from tracker.progress.updates import UpdateConflict
from tracker.progress.workplan import (
    WorkPlanEntry,
    assignments,
    find_department,
    find_task,
    review_work_plan_update,
    save_work_plan_update,
    submit_work_plan_update,
    work_plan_completeness,
    work_plan_history,
    work_plan_lines,
)

US = UpdateStatus


def department(db, code: str) -> Department:  # type: ignore[no-untyped-def]
    return db.scalars(select(Department).where(Department.code == code)).one()  # type: ignore[no-any-return]


def entry(progress: object = 40, work_done: str = "起草碳标识认证实施细则", **texts: str) -> WorkPlanEntry:
    return WorkPlanEntry(progress=progress, work_done=work_done, problems=texts.get("problems", ""),
                         next_steps=texts.get("next_steps", "征求意见"))  # fmt: skip


@pytest.fixture
def people(factory):  # type: ignore[no-untyped-def]
    return {
        "staff": factory.user(Role.PROVINCE_STAFF, username="sheng"),
        "admin": factory.user(Role.PROVINCE_ADMIN, username="guanli"),
        "leader": factory.user(Role.LEADER, None, username="lingdao"),
        "city_leader": factory.user(Role.LEADER, "大同", username="dtld"),
        "city": factory.user(Role.CITY_STAFF, "长治", username="czu"),
    }


@pytest.fixture
def task3(db, people):  # type: ignore[no-untyped-def]
    """Task 3 (落实产品碳标识认证制度), led by 省市场监管局, and that department."""
    return find_task(db, people["staff"], 3), department(db, "scjgj")


def save(db, user, pair, period=NOV, filled=None, *, today=dt.date(2025, 12, 1), version=None):  # type: ignore[no-untyped-def]
    task, dept = pair
    return save_work_plan_update(
        db, user, task.id, dept.id, period, filled or entry(), today=today, version=version
    )


def test_lead_departments_report_else_those_responsible_else_the_coordinating_bureau(db, people) -> None:  # type: ignore[no-untyped-def]
    owed = assignments(db, people["staff"], NOV)
    by_task: dict[int, list[tuple[str, DepartmentDuty | None]]] = {}
    for a in owed:
        by_task.setdefault(a.task.number, []).append((a.department.code, a.duty))
    assert sorted(by_task) == list(range(1, 13))
    assert by_task[3] == [("scjgj", DepartmentDuty.LEAD)]  # 省生态环境厅 etc. only take part (参与)
    assert sorted(by_task[10]) == [("scjgj", DepartmentDuty.LEAD), ("sthjt", DepartmentDuty.LEAD)]
    assert by_task[12] == [("sthjt", DepartmentDuty.LEAD)]  # 各有关部门按职责分工负责: not named, not owed
    assert by_task[11] == [("sthjt", None)]  # 各有关部门: the bureau that dispatches the plan reports
    assert {code for code, _ in by_task[9]} == {"jyt", "rst", "sthjt", "gxt"}
    assert all(duty is DepartmentDuty.RESPONSIBLE for _, duty in by_task[9])
    assert len(owed) == len({(a.task.id, a.department.id) for a in owed})  # one line per pair


def test_owed_from_the_period_the_plan_was_issued_in(db, people) -> None:  # type: ignore[no-untyped-def]
    november_2024 = period_of(dt.date(2024, 11, 1), Frequency.MONTHLY)
    december_2024 = period_of(dt.date(2024, 12, 1), Frequency.MONTHLY)
    assert assignments(db, people["staff"], november_2024) == []
    assert len(assignments(db, people["staff"], december_2024)) == len(assignments(db, people["staff"], NOV))
    assert work_plan_completeness(db, people["staff"], november_2024).completeness is None
    with pytest.raises(TrackerError, match="早于工作方案印发"):
        save(db, people["staff"], (find_task(db, people["staff"], 3), department(db, "scjgj")), november_2024)


def test_the_cycle_draft_submit_return_resubmit_accept_locked(db, people, task3) -> None:  # type: ignore[no-untyped-def]
    staff, admin = people["staff"], people["admin"]
    draft = save(db, staff, task3, filled=WorkPlanEntry(progress="", work_done=""))  # a draft may be empty
    db.commit()
    assert draft.status is US.DRAFT and draft.version == 1 and draft.progress is None
    with pytest.raises(ValidationFailed) as refused:
        submit_work_plan_update(
            db, staff, draft.id, version=1, reporting=MONTHLY, now=at(dt.date(2025, 12, 1)), tz=TZ
        )
    assert [p.message_zh for p in refused.value.problems] == ["请填写完成进度", "请填写本期工作进展"]
    db.rollback()
    update = save(db, staff, task3, filled=entry("35%"), version=draft.version)
    update = submit_work_plan_update(db, staff, update.id, version=update.version, reporting=MONTHLY,
                                     now=at(dt.date(2025, 12, 5), 23), tz=TZ)  # fmt: skip
    db.commit()
    assert update.status is US.SUBMITTED and not update.is_late and update.progress == Decimal(35)
    with pytest.raises(UpdateConflict, match="不能修改"):
        save(db, staff, task3, filled=entry(50), version=update.version)
    db.rollback()
    with pytest.raises(TrackerError, match="退回须填写理由"):
        review_work_plan_update(
            db, admin, update.id, accept=False, version=update.version, now=at(dt.date(2025, 12, 6))
        )
    db.rollback()
    update = review_work_plan_update(db, admin, update.id, accept=False, version=update.version,
                                     now=at(dt.date(2025, 12, 6)), reason="请补充认证目录进展")  # fmt: skip
    db.commit()
    assert update.status is US.RETURNED and update.return_reason == "请补充认证目录进展"
    # Corrected after the due day: the first submission was on time, so it stays on time.
    update = save(
        db,
        staff,
        task3,
        filled=entry(40, "认证目录已报送"),
        today=dt.date(2025, 12, 9),
        version=update.version,
    )
    update = submit_work_plan_update(db, staff, update.id, version=update.version, reporting=MONTHLY,
                                     now=at(dt.date(2025, 12, 9)), tz=TZ)  # fmt: skip
    db.commit()
    assert update.status is US.SUBMITTED and not update.is_late and update.return_reason is None
    update = review_work_plan_update(db, admin, update.id, accept=True, version=update.version,
                                     now=at(dt.date(2025, 12, 10)))  # fmt: skip
    db.commit()
    assert update.status is US.ACCEPTED and update.reviewed_by_id == admin.id
    with pytest.raises(UpdateConflict, match="已采纳"):
        save(db, staff, task3, filled=entry(90), version=update.version)
    db.rollback()
    with pytest.raises(UpdateConflict, match="已采纳"):
        submit_work_plan_update(db, staff, update.id, version=update.version, reporting=MONTHLY,
                                now=at(dt.date(2025, 12, 11)), tz=TZ)  # fmt: skip
    db.rollback()
    assert [s.step for s in work_plan_history(db, people["leader"], update)] == [
        "submit", "return", "resubmit", "accept"]  # fmt: skip
    assert {
        s.city_id for s in db.scalars(select(WorkflowStep).where(WorkflowStep.subject_type == "workplan"))
    } == {None}
    events = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "work_plan_updates",
                                                 AuditEvent.entity_id == str(update.id))
                        .order_by(AuditEvent.id)).all()  # fmt: skip
    assert [e.action for e in events][:1] == ["create"] and len(events) >= 6
    assert {e.city_id for e in events} == {None}  # province-level: no city's trail shows it


def test_a_late_first_submission_is_marked_late_never_refused(db, people, task3) -> None:  # type: ignore[no-untyped-def]
    months_later = dt.date(2026, 3, 2)  # long after the pilots' entry window would have closed
    update = save(db, people["staff"], task3, today=months_later)
    update = submit_work_plan_update(db, people["staff"], update.id, version=update.version, reporting=MONTHLY,
                                     now=at(dt.date(2025, 12, 6), 0), tz=TZ)  # fmt: skip
    db.commit()
    assert update.status is US.SUBMITTED and update.is_late


def test_a_stale_version_is_refused_and_nothing_is_overwritten(db, people, task3) -> None:  # type: ignore[no-untyped-def]
    staff, admin = people["staff"], people["admin"]
    update = save(db, staff, task3, filled=entry(10))
    db.commit()
    read_by_both = update.version
    save(db, admin, task3, filled=entry(30, "管理员补充"), version=read_by_both)
    db.commit()
    with pytest.raises(UpdateConflict, match="已被他人修改") as refused:
        save(db, staff, task3, filled=entry(99), version=read_by_both)
    assert "nothing was overwritten" in refused.value.message_en
    db.rollback()
    with pytest.raises(UpdateConflict, match="已被他人修改"):  # changing an existing update needs its version
        save(db, staff, task3, filled=entry(99))
    db.rollback()
    db.refresh(update)
    assert (update.progress, update.work_done, update.version) == (
        Decimal(30),
        "管理员补充",
        read_by_both + 1,
    )
    submitted = submit_work_plan_update(db, staff, update.id, version=update.version, reporting=MONTHLY,
                                        now=at(dt.date(2025, 12, 2)), tz=TZ)  # fmt: skip
    db.commit()
    with pytest.raises(UpdateConflict, match="已被他人修改"):
        review_work_plan_update(
            db, admin, submitted.id, accept=True, version=read_by_both, now=at(dt.date(2025, 12, 3))
        )
    db.rollback()
    db.refresh(update)
    assert update.status is US.SUBMITTED


def test_two_people_creating_the_same_update_at_once_conflict(db, people, task3, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tracker.progress.workplan

    first = save(db, people["staff"], task3, filled=entry(10))
    db.commit()
    # The second reads "nothing there yet" before the first one's row is visible to it.
    monkeypatch.setattr(tracker.progress.workplan, "find_work_plan_update", lambda *a, **k: None)
    with pytest.raises(UpdateConflict, match="刚由他人新建"):
        save(db, people["admin"], task3, filled=entry(70))
    db.rollback()
    db.refresh(first)
    assert first.progress == Decimal(10)


def test_bad_entries_list_every_problem_and_write_nothing(db, people, task3) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        save(db, people["staff"], task3, filled=entry(120, "进展" * 1001))
    assert [p.message_zh for p in refused.value.problems] == [
        "进度应在0–100之间（填了120）", "本期工作进展超过2000字（现有2002字）"]  # fmt: skip
    with pytest.raises(ValidationFailed, match="不是数字"):
        save(db, people["staff"], task3, filled=entry("七十"))
    db.rollback()
    assert db.scalars(select(WorkPlanUpdate)).first() is None


def test_only_the_tasks_reporting_departments_and_begun_periods(db, people, task3) -> None:  # type: ignore[no-untyped-def]
    task, _lead = task3
    with pytest.raises(TrackerError, match="不是第3项任务的牵头或负责部门"):  # 省生态环境厅 only takes part
        save(db, people["staff"], (task, department(db, "sthjt")))
    with pytest.raises(TrackerError, match="尚未开始"):
        save(db, people["staff"], task3, period_of(dt.date(2026, 1, 1), Frequency.MONTHLY))
    with pytest.raises(TrackerError, match="没有第13项任务"):
        find_task(db, people["staff"], 13)
    assert find_department(db, people["staff"], "市场监管").code == "scjgj"
    assert find_department(db, people["staff"], "省生态环境厅").code == "sthjt"
    with pytest.raises(TrackerError, match="找不到唯一的部门"):
        find_department(db, people["staff"], "省")  # fits many


def test_city_users_neither_read_nor_write_leaders_only_read_staff_do_not_review(db, people, task3) -> None:  # type: ignore[no-untyped-def]
    for outsider in (people["city"], people["city_leader"]):
        with pytest.raises(PermissionDenied, match="仅限省级用户和省级领导"):
            assignments(db, outsider, NOV)
        with pytest.raises(PermissionDenied):
            work_plan_lines(db, outsider, NOV)
        with pytest.raises(PermissionDenied):
            save(db, outsider, task3)
        db.rollback()
    with pytest.raises(PermissionDenied, match="仅限省级业务人员填报"):
        save(db, people["leader"], task3)
    db.rollback()
    update = save(db, people["staff"], task3)
    db.commit()
    for user in (people["leader"], people["city"]):
        with pytest.raises(PermissionDenied):
            submit_work_plan_update(db, user, update.id, version=update.version, reporting=MONTHLY,
                                    now=at(dt.date(2025, 12, 2)), tz=TZ)  # fmt: skip
        db.rollback()
    update = submit_work_plan_update(db, people["staff"], update.id, version=update.version, reporting=MONTHLY,
                                     now=at(dt.date(2025, 12, 2)), tz=TZ)  # fmt: skip
    db.commit()
    for user in (people["staff"], people["leader"], people["city"], people["city_leader"]):
        with pytest.raises(PermissionDenied):
            review_work_plan_update(
                db, user, update.id, accept=True, version=update.version, now=at(dt.date(2025, 12, 3))
            )
        db.rollback()
    with pytest.raises(PermissionDenied):
        work_plan_history(db, people["city"], update)
    db.refresh(update)
    assert update.status is US.SUBMITTED
    assert len(work_plan_lines(db, people["leader"], NOV)) == len(assignments(db, people["staff"], NOV))


def test_completeness_counts_only_owed_updates_and_never_exceeds_100_percent(db, people, task3) -> None:  # type: ignore[no-untyped-def]
    staff = people["staff"]
    owed = assignments(db, staff, NOV)
    for when, pair in (
        (dt.date(2025, 12, 3), task3),
        (dt.date(2025, 12, 8), (owed[0].task, owed[0].department)),
    ):
        update = save(db, staff, pair, today=when)
        submit_work_plan_update(
            db, staff, update.id, version=update.version, reporting=MONTHLY, now=at(when), tz=TZ
        )
    save(db, staff, (owed[1].task, owed[1].department))  # a draft does not count
    # Rows the rule does not ask for (a participating department; a second copy cannot exist) never count.
    task, _lead = task3
    db.add(WorkPlanUpdate(task_id=task.id, department_id=department(db, "sthjt").id, period_start=NOV.start,
                          period_end=NOV.end, status=US.ACCEPTED, progress=Decimal(100)))  # fmt: skip
    db.commit()
    line = work_plan_completeness(db, people["leader"], NOV)
    assert (line.expected, line.submitted, line.on_time, line.accepted) == (len(owed), 2, 1, 0)
    assert line.completeness == (Decimal(200) / len(owed)).quantize(Decimal("0.1"))
    for pair in ((a.task, a.department) for a in owed[2:] if a.task.id != task.id):
        update = save(db, staff, pair)
        submit_work_plan_update(db, staff, update.id, version=update.version, reporting=MONTHLY,
                                now=at(dt.date(2025, 12, 2)), tz=TZ)  # fmt: skip
    full = work_plan_completeness(db, staff, NOV)
    assert (full.submitted, full.completeness, full.timeliness) == (len(owed) - 1, *(
        (Decimal(100) * n / len(owed)).quantize(Decimal("0.1")) for n in (len(owed) - 1, len(owed) - 2)))  # fmt: skip
    assert work_plan_completeness(db, staff, Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))).submitted == 0
