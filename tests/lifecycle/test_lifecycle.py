"""The application workflow: each step as each role, deadlines and exceptions, quotas, the new pilot."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import BACKEND, fresh_database, initialise
from tracker.access.permissions import PermissionDenied
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.errors import TrackerError
from tracker.lifecycle.deadlines import grant_exception
from tracker.lifecycle.quotas import quota_board
from tracker.lifecycle.workflow import (
    APPLICATION_STEPS,
    PILOT_STEPS,
    advance_application,
    advance_pilot,
    record_score,
)
from tracker.models import (
    Application,
    ApplicationStatus,
    AuditEvent,
    Batch,
    Pilot,
    PilotStatus,
    Role,
    WorkflowStep,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 6, 20, 9, 0, tzinfo=TZ)  # before every first-batch deadline
AS = ApplicationStatus
ROLES = {
    "province_admin": (Role.PROVINCE_ADMIN, None),
    "province_staff": (Role.PROVINCE_STAFF, None),
    "city_staff_own": (Role.CITY_STAFF, "长治"),
    "city_staff_other": (Role.CITY_STAFF, "太原"),
    "leader": (Role.LEADER, None),
}
CITY_ONLY = {"city_staff_own"}
PROVINCE_ONLY = {"province_admin", "province_staff"}
APPLICATION_CASES = {
    "submit": (AS.DRAFT, CITY_ONLY),
    "return": (AS.SUBMITTED, CITY_ONLY),
    "pass": (AS.SUBMITTED, CITY_ONLY),
    "forward": (AS.CITY_PASSED, CITY_ONLY),
    "start_review": (AS.FORWARDED, PROVINCE_ONLY),
    "select": (AS.UNDER_REVIEW, PROVINCE_ONLY),
    "reject": (AS.UNDER_REVIEW, PROVINCE_ONLY),
}
PILOT_CASES = {
    "publish": (PilotStatus.SELECTED, PROVINCE_ONLY),
    "start": (PilotStatus.PUBLISHED, PROVINCE_ONLY | CITY_ONLY),
    "extend": (PilotStatus.IN_IMPLEMENTATION, PROVINCE_ONLY),
    "complete": (PilotStatus.IN_IMPLEMENTATION, PROVINCE_ONLY),
    "withdraw": (PilotStatus.IN_IMPLEMENTATION, PROVINCE_ONLY),
}


def test_every_step_has_a_case() -> None:
    assert set(APPLICATION_CASES) == set(APPLICATION_STEPS) and set(PILOT_CASES) == set(PILOT_STEPS)


def make_user(factory, who: str):  # type: ignore[no-untyped-def]
    role, city = ROLES[who]
    return factory.user(role, city)


@pytest.mark.parametrize("who", list(ROLES))
@pytest.mark.parametrize("step", list(APPLICATION_CASES))
def test_application_step_as_each_role(db, factory, step: str, who: str) -> None:  # type: ignore[no-untyped-def]
    source, allowed = APPLICATION_CASES[step]
    application = factory.application("长治", "焦炭", status=source)
    user = make_user(factory, who)
    db.info["actor"] = user
    if who in allowed:
        entry = advance_application(db, user, application.id, step, now=NOW, tz=TZ, reason="材料不全，请补充")
        db.commit()
        assert application.status == APPLICATION_STEPS[step].target
        assert (entry.actor_id, entry.from_status, entry.step) == (user.id, source, step)
        event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "applications",
                                                    AuditEvent.entity_id == str(application.id),
                                                    AuditEvent.action == "update")).all()[-1]  # fmt: skip
        assert event.actor_id == user.id and event.after["status"] == APPLICATION_STEPS[step].target
    else:
        with pytest.raises(PermissionDenied):
            advance_application(db, user, application.id, step, now=NOW, tz=TZ, reason="x")
        db.rollback()
        db.refresh(application)
        assert application.status == source
        assert db.scalar(select(func.count(WorkflowStep.id))) == 0


@pytest.mark.parametrize("who", list(ROLES))
@pytest.mark.parametrize("step", list(PILOT_CASES))
def test_pilot_step_as_each_role(db, factory, step: str, who: str) -> None:  # type: ignore[no-untyped-def]
    source, allowed = PILOT_CASES[step]
    pilot = factory.pilot("长治", "焦炭", status=source)
    user = make_user(factory, who)
    db.info["actor"] = user
    new_date = pilot.end_date + dt.timedelta(days=90) if step == "extend" else None
    if who in allowed:
        advance_pilot(db, user, pilot.id, step, today=NOW.date(), reason="因故调整", new_date=new_date)
        db.commit()
        assert pilot.status == PILOT_STEPS[step].target
    else:
        with pytest.raises(PermissionDenied):
            advance_pilot(db, user, pilot.id, step, today=NOW.date(), reason="x", new_date=new_date)
        db.rollback()
        db.refresh(pilot)
        assert pilot.status == source


def test_a_step_from_the_wrong_state_is_refused(db, factory) -> None:  # type: ignore[no-untyped-def]
    application = factory.application(status=AS.DRAFT)
    user = factory.user(Role.CITY_STAFF, "长治")
    with pytest.raises(TrackerError, match="当前状态为“草稿”，不能报送省厅"):
        advance_application(db, user, application.id, "forward", now=NOW, tz=TZ)


def test_returning_needs_a_reason_which_is_kept(db, factory) -> None:  # type: ignore[no-untyped-def]
    application = factory.application(status=AS.SUBMITTED)
    user = factory.user(Role.CITY_STAFF, "长治")
    with pytest.raises(TrackerError, match="须填写理由"):
        advance_application(db, user, application.id, "return", now=NOW, tz=TZ, reason="  ")
    advance_application(db, user, application.id, "return", now=NOW, tz=TZ, reason="缺少工作方案")
    assert application.status is AS.RETURNED and application.return_reason == "缺少工作方案"
    advance_application(db, user, application.id, "submit", now=NOW, tz=TZ)  # corrected and resubmitted
    assert application.status is AS.SUBMITTED


def test_direct_service_application_goes_to_the_province(db, factory) -> None:  # type: ignore[no-untyped-def]
    application = factory.application("太原", None, direct_to_province=True)
    city_user = factory.user(Role.CITY_STAFF, "太原")
    with pytest.raises(PermissionDenied):
        advance_application(db, city_user, application.id, "submit", now=NOW, tz=TZ)
    province = factory.user(Role.PROVINCE_STAFF)
    advance_application(db, province, application.id, "submit", now=NOW, tz=TZ)
    assert application.status is AS.FORWARDED


# --- deadlines ------------------------------------------------------------------------------------


def test_one_minute_after_the_city_deadline_is_refused(db, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    late = factory.application("长治", status=AS.DRAFT)
    in_time = factory.application("长治", "白酒", status=AS.DRAFT)
    last_minute = dt.datetime(2025, 6, 28, 23, 59, tzinfo=TZ)  # 长治's own date is 28 June (36号)
    advance_application(db, user, in_time.id, "submit", now=last_minute, tz=TZ)
    with pytest.raises(TrackerError, match="已过第一批申报截止时间") as caught:
        advance_application(db, user, late.id, "submit", now=last_minute + dt.timedelta(minutes=2), tz=TZ)
    assert "2025年6月28日" in caught.value.message_zh
    assert late.status is AS.DRAFT


def test_an_exception_reopens_only_that_city_and_batch(db, factory) -> None:  # type: ignore[no-untyped-def]
    after = dt.datetime(2025, 7, 3, 10, 0, tzinfo=TZ)
    changzhi = factory.user(Role.CITY_STAFF, "长治")
    taiyuan = factory.user(Role.CITY_STAFF, "太原")
    province = factory.user(Role.PROVINCE_STAFF)
    with pytest.raises(PermissionDenied):
        grant_exception(db, changzhi, batch=db.scalars(select(Batch).where(Batch.number == 1)).one(),
                        city=changzhi.city, until=dt.date(2025, 7, 10), reason="自己给自己开放")  # fmt: skip
    first = db.scalars(select(Batch).where(Batch.number == 1)).one()
    grant_exception(db, province, batch=first, city=changzhi.city, until=dt.date(2025, 7, 10), reason="补报")
    ok = factory.application("长治", status=AS.DRAFT)
    advance_application(db, changzhi, ok.id, "submit", now=after, tz=TZ)
    assert ok.status is AS.SUBMITTED
    other_city = factory.application("太原", status=AS.DRAFT)
    with pytest.raises(TrackerError, match="截止"):
        advance_application(db, taiyuan, other_city.id, "submit", now=after, tz=TZ)
    # The exception is for batch 1 only: batch 2 of 长治 keeps its own date.
    second = factory.application("长治", "白酒", status=AS.DRAFT, batch=2)
    advance_application(db, changzhi, second.id, "submit", now=after, tz=TZ)  # batch 2 still open in July
    assert second.status is AS.SUBMITTED
    later = factory.application("长治", "氢", status=AS.DRAFT, batch=2)
    with pytest.raises(TrackerError, match="第二批"):
        advance_application(
            db, changzhi, later.id, "submit", now=dt.datetime(2025, 9, 29, 0, 1, tzinfo=TZ), tz=TZ
        )


# --- quotas and selection -------------------------------------------------------------------------


def test_a_fourth_pilot_for_one_product_is_refused(db, factory) -> None:  # type: ignore[no-untyped-def]
    province = factory.user(Role.PROVINCE_STAFF)
    db.info["actor"] = province
    applications = [
        factory.application(city, "玻璃", status=AS.UNDER_REVIEW) for city in ("晋中", "临汾", "太原", "大同")
    ]
    for application in applications[:3]:
        advance_application(db, province, application.id, "select", now=NOW, tz=TZ)
    board = {line.product_name: line for line in quota_board(db, province.province_id)}
    assert (board["玻璃"].taken, board["玻璃"].remaining, board["玻璃"].candidates) == (3, 0, 1)
    with pytest.raises(TrackerError, match="名额已满：玻璃最多3个试点，已入选3个"):
        advance_application(db, province, applications[3].id, "select", now=NOW, tz=TZ)
    db.rollback()
    assert applications[3].status is AS.UNDER_REVIEW


def test_a_withdrawn_pilot_gives_its_place_back(db, factory) -> None:  # type: ignore[no-untyped-def]
    province = factory.user(Role.PROVINCE_STAFF)
    pilots = [factory.pilot(city, "石灰") for city in ("忻州", "阳泉", "朔州")]
    advance_pilot(db, province, pilots[0].id, "withdraw", today=NOW.date(), reason="企业停产")
    application = factory.application("晋城", "石灰", status=AS.UNDER_REVIEW)
    advance_application(db, province, application.id, "select", now=NOW, tz=TZ)
    assert application.status is AS.SELECTED


def test_at_most_two_service_pilots(db, factory) -> None:  # type: ignore[no-untyped-def]
    province = factory.user(Role.PROVINCE_STAFF)
    for city in ("太原", "长治"):
        factory.pilot(city, None)
    application = factory.application("晋中", None, status=AS.UNDER_REVIEW)
    with pytest.raises(TrackerError, match="最多2个"):
        advance_application(db, province, application.id, "select", now=NOW, tz=TZ)


def test_selection_creates_the_pilot_with_tasks_milestones_and_units(db, factory) -> None:  # type: ignore[no-untyped-def]
    province = factory.user(Role.PROVINCE_STAFF)
    application = factory.application("长治", "陈醋", status=AS.UNDER_REVIEW, with_plan=True)
    record_score(db, province, application.id, expert="张专家", score=Decimal("86.5"), comment="方案可行")
    advance_application(db, province, application.id, "select", now=NOW, tz=TZ)
    pilot = db.scalars(select(Pilot).where(Pilot.application_id == application.id)).one()
    assert (pilot.start_date, pilot.end_date) == (dt.date(2025, 6, 20), dt.date(2026, 6, 19))
    assert [t.title for t in pilot.tasks][:1] == ["参与国家产品碳足迹规则制定"]
    assert all(t.planned_start == pilot.start_date and t.planned_end == pilot.end_date for t in pilot.tasks)
    assert [(m.title, m.due_date) for m in pilot.milestones] == [
        ("建成数据采集系统", dt.date(2025, 9, 19)), ("发布碳足迹报告", dt.date(2026, 6, 19))]  # fmt: skip
    assert [(p.unit_name, p.responsibility) for p in pilot.participants] == [
        ("示例大学", "核算方法与数据质量")
    ]
    # publish, then start on a later date: the whole plan moves with it
    advance_pilot(db, province, pilot.id, "publish", today=dt.date(2025, 8, 1))
    assert pilot.published_on == dt.date(2025, 8, 1)
    city_user = factory.user(Role.CITY_STAFF, "长治")
    advance_pilot(db, city_user, pilot.id, "start", today=dt.date(2025, 9, 1), new_date=dt.date(2025, 9, 1))
    assert pilot.status is PilotStatus.IN_IMPLEMENTATION
    assert (pilot.start_date, pilot.end_date) == (dt.date(2025, 9, 1), dt.date(2026, 8, 31))
    assert pilot.milestones[0].due_date == dt.date(2025, 12, 1)  # moved by the same 73 days


def test_scores_only_during_review_and_only_by_the_province(db, factory) -> None:  # type: ignore[no-untyped-def]
    application = factory.application(status=AS.FORWARDED)
    province = factory.user(Role.PROVINCE_STAFF)
    with pytest.raises(TrackerError, match="专家评审中"):
        record_score(db, province, application.id, expert="张", score=Decimal(80), comment=None)
    application.status = AS.UNDER_REVIEW
    with pytest.raises(PermissionDenied):
        record_score(db, factory.user(Role.CITY_STAFF, "长治"), application.id, expert="张", score=Decimal(80),
                     comment=None)  # fmt: skip
    with pytest.raises(TrackerError, match="0–100"):
        record_score(db, province, application.id, expert="张", score=Decimal(101), comment=None)


@pytest.mark.skipif(
    BACKEND != "postgresql",
    reason="on SQLite the write lock taken at BEGIN serialises the two selections; the race needs a server database",
)
def test_two_concurrent_selections_for_the_last_place_leave_exactly_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    with fresh_database(tmp_path) as url:
        initialise(url)
        engine = make_engine(url, pool_size=4)
        factory_ = make_session_factory(engine)
        with transaction(factory_) as session:
            f = Factory(session)
            for city in ("太原", "大同"):
                f.pilot(city, "水泥")
            contenders = [f.application(city, "水泥", status=AS.UNDER_REVIEW).id for city in ("长治", "晋城")]
            staff = [f.user(Role.PROVINCE_STAFF).id for _ in range(2)]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def select_as(user_id: int, application_id: int) -> None:
            from tracker.models import User

            try:
                with transaction(factory_) as session:
                    user = session.get(User, user_id)
                    session.info["actor"] = user
                    barrier.wait()
                    advance_application(session, user, application_id, "select", now=NOW, tz=TZ)
                outcomes.append("selected")
            except TrackerError as error:
                outcomes.append(error.message_zh)

        threads = [
            threading.Thread(target=select_as, args=pair) for pair in zip(staff, contenders, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        with transaction(factory_) as session:
            statuses = sorted(
                s.value
                for s in session.scalars(select(Application.status).where(Application.id.in_(contenders)))
            )
            cement = session.scalar(select(func.count(Pilot.id)).where(Pilot.product.has(name_zh="水泥")))
        engine.dispose()
    assert sorted(outcomes) == ["selected", "名额已满：水泥最多3个试点，已入选3个"]
    assert statuses == ["selected", "under_review"] and cement == 3
