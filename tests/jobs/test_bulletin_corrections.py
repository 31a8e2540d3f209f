"""Bulletins that wait for their period's updates and can be corrected (issue 18, point 6).

A run before the updates are due builds nothing and leaves the period for the run after the due
day; the provincial administrator may force it, seeing the completeness it would carry. A period
already issued says what exists. A correction (第N期（更正）) is archived beside the original and
sent once, through a real SMTP server and a group robot on loopback, to whom the original went."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from jobs.control import NotDue, plan_correction, request_correction, request_run, take_requests
from jobs.runner import run_now
from jobs.schedule import JOB_BY_ID
from jobs.scheduler import deliver_due
from tests.factories import at
from tests.mailserver import free_port, mail, robot_server, smtp_server
from tracker.access.permissions import PermissionDenied
from tracker.core import clock
from tracker.core.errors import TrackerError
from tracker.models import (
    Audience,
    AuditEvent,
    Bulletin,
    Channel,
    City,
    JobRequest,
    JobRun,
    OutboxMessage,
    Recipient,
    Role,
    RunState,
    Trigger,
)

MONTHLY, CORRECTION = JOB_BY_ID["monthly_bulletin"], JOB_BY_ID["monthly_bulletin_correction"]
PERIOD = "2025-11"  # its updates are due on 5 December 2025
EARLY, DUE_DAY, AFTER = at(dt.date(2025, 12, 2), 9), at(dt.date(2025, 12, 5), 18), at(dt.date(2025, 12, 8), 9)


@pytest.fixture
def world(factory, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two pilots in 长治 and one in 太原 owing a November 2025 update, none of them in yet."""
    pilots = [factory.pilot("长治", name="长治焦炭试点"), factory.pilot("长治", "法兰", name="长治法兰试点"),
              factory.pilot("太原", "玻璃", name="太原玻璃试点")]  # fmt: skip
    for pilot in pilots:
        factory.accepted_update(pilot, dt.date(2025, 10, 1), dt.date(2025, 10, 31), "10")
    admin = factory.user(Role.PROVINCE_ADMIN, username="guanli")
    db.info["actor"] = admin  # what the web and CLI edges do: the audit trail names the administrator
    return {"pilots": pilots, "admin": admin}


def recipient(db: Any, audience: Audience, address: str, city: str | None = None,
              channel: Channel = Channel.EMAIL) -> Recipient:  # fmt: skip
    city_row = db.scalars(select(City).where(City.short_zh == city)).one() if city else None
    row = Recipient(province_id=(city_row or db.scalars(select(City)).first()).province_id, audience=audience,
                    city_id=city_row.id if city_row else None, channel=channel, address=address, name=address[:20])  # fmt: skip
    db.add(row)
    db.commit()
    return row


def run(session_factory, settings, when: dt.datetime, *, spec=MONTHLY, period: str = PERIOD,
        port: int | None = None, trigger: Trigger = Trigger.SCHEDULED, by: str | None = None, force: bool = False):  # type: ignore[no-untyped-def]  # fmt: skip
    configured = dataclasses.replace(settings, mail=mail(port or free_port()))
    return run_now(
        spec, session_factory, configured, period, trigger=trigger, by=by, now=lambda: when, force=force
    )


def the_run(db: Any, job: str = "monthly_bulletin", period: str = PERIOD) -> JobRun:
    db.expire_all()
    return db.scalars(select(JobRun).where(JobRun.job == job, JobRun.period == period)).one()


def test_an_early_run_builds_nothing_and_leaves_the_period_for_the_run_after_the_due_day(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    with smtp_server() as (inbox, port):
        early = run(session_factory, settings, EARLY, port=port)
        assert early.ran and early.state is RunState.DEFERRED
        record = the_run(db)
        assert record.state is RunState.DEFERRED
        assert "更新截止2025年12月5日，尚未到期，未生成" in (record.reason or "")
        assert "0/3（0.0%）" in (record.reason or "")  # the completeness it would have carried
        on_the_due_day = run(session_factory, settings, DUE_DAY, port=port)  # updates still come in on time
        assert on_the_due_day.state is RunState.DEFERRED
        assert db.scalars(select(Bulletin)).all() == [] and inbox.messages == []
        later = run(session_factory, settings, AFTER, port=port)
    assert later.ran and later.state is RunState.SUCCEEDED, later.message_zh
    assert the_run(db).attempt == 3 and "强制" not in (the_run(db).reason or "")
    assert len(db.scalars(select(Bulletin)).all()) == 4 and len(inbox.to("sheng@127.0.0.1")) == 1


def test_a_forced_run_builds_early_and_its_record_says_so(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    with smtp_server() as (inbox, port):
        forced = run(
            session_factory, settings, EARLY, port=port, trigger=Trigger.FORCED, by="guanli", force=True
        )
    assert forced.state is RunState.SUCCEEDED, forced.message_zh
    record = the_run(db)
    assert (record.trigger, record.triggered_by) == (Trigger.FORCED, "guanli") and (
        record.reason or ""
    ).startswith("强制提前生成")
    assert "0/3（0.0%）" in (record.reason or "")
    assert {b.issued_on for b in db.scalars(select(Bulletin))} == {dt.date(2025, 12, 2)}
    assert len(inbox.to("sheng@127.0.0.1")) == 1


def test_the_admin_is_shown_the_completeness_and_forces_it_and_the_request_is_audited(
    db, session_factory, settings, world, factory
) -> None:  # type: ignore[no-untyped-def]
    admin = world["admin"]
    with pytest.raises(NotDue) as refused:
        request_run(db, admin, "monthly_bulletin", PERIOD, now=EARLY, settings=settings)
    assert (refused.value.readiness.submitted, refused.value.readiness.expected) == (0, 3)
    assert refused.value.readiness.due == dt.date(2025, 12, 5)
    assert db.scalars(select(JobRequest)).all() == []
    request = request_run(db, admin, "monthly_bulletin", PERIOD, now=EARLY, settings=settings, force=True)
    db.commit()
    assert request.force
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "request_run")).one()
    assert (
        event.actor_name == "guanli"
        and "强制运行" in (event.summary or "")
        and "0/3" in (event.summary or "")
    )
    with pytest.raises(PermissionDenied):  # forcing is the administrator's alone
        request_run(db, factory.user(Role.PROVINCE_STAFF), "monthly_bulletin", "2025-12", now=EARLY,
                    settings=settings, force=True)  # fmt: skip
    with clock.pinned(EARLY):  # the scheduler takes it at once
        (report,) = take_requests(session_factory, settings, now=EARLY)  # no recipients: archived only
    assert (
        report.ran
        and len(db.scalars(select(Bulletin)).all()) == 4
        and (the_run(db).trigger, the_run(db).triggered_by) == (Trigger.FORCED, "guanli")
    )
    assert (the_run(db).reason or "").startswith("强制提前生成")
    # after the due day no confirmation is needed
    assert not request_run(db, admin, "monthly_bulletin", "2025-10", now=AFTER, settings=settings).force


def test_a_run_for_a_period_already_issued_says_what_exists(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    with smtp_server() as (inbox, port):
        run(session_factory, settings, EARLY, port=port, trigger=Trigger.FORCED, by="guanli", force=True)
        scheduled = run(session_factory, settings, AFTER, port=port)
        caught_up = run(session_factory, settings, AFTER, port=port)  # a restart catching up: noted once
    assert not scheduled.ran and "第1期已于2025年12月2日印发" in scheduled.message_zh
    assert "如需更正" in scheduled.message_zh and "correct" in scheduled.message_en
    assert (the_run(db).reason or "").count(
        "2025年12月8日定时运行：2025年11月调度通报第1期已于2025年12月2日印发"
    ) == 1
    assert not caught_up.ran and len(inbox.messages) == 1
    with pytest.raises(TrackerError, match="第1期已于2025年12月2日印发"):
        request_run(db, world["admin"], "monthly_bulletin", PERIOD, now=AFTER, settings=settings)


def issue_early_then_correct(db, session_factory, settings, world, port):  # type: ignore[no-untyped-def]
    """November's bulletin forced on 2 December; by the 8th two updates are in; the admin corrects it."""
    run(session_factory, settings, EARLY, port=port, trigger=Trigger.FORCED, by="guanli", force=True)
    for pilot in world["pilots"][:2]:
        factory_update(db, pilot)
    request = request_correction(db, world["admin"], "monthly", PERIOD, "  提前印发，完整率 0%，按到期数据更正 ",
                                 now=AFTER, settings=settings)  # fmt: skip
    db.commit()
    with clock.pinned(AFTER):
        (report,) = take_requests(session_factory, dataclasses.replace(settings, mail=mail(port)), now=AFTER)
    return request, report


def factory_update(db: Any, pilot: Any) -> None:
    from tests.factories import Factory

    Factory(db).accepted_update(pilot, dt.date(2025, 11, 1), dt.date(2025, 11, 30), "20")


def test_a_correction_is_archived_beside_the_original_and_sent_once_to_its_recipients(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    recipient(db, Audience.LEADERSHIP, "lingdao@127.0.0.1")
    recipient(db, Audience.CITY, "changzhi@127.0.0.1", "长治")
    with smtp_server() as (inbox, port), robot_server() as (robot, url):
        recipient(db, Audience.CITY, url, "太原", Channel.WEBHOOK)
        request, report = issue_early_then_correct(db, session_factory, settings, world, port)
        recipient(db, Audience.PROVINCE, "new@127.0.0.1")  # added after the original: not a recipient of it
        again = run(session_factory, settings, AFTER, spec=CORRECTION, period="2025-11#1", port=port)
        with clock.pinned(AFTER + dt.timedelta(hours=2)):  # the delivery loop, later: nothing left to send
            deliver_due(session_factory, dataclasses.replace(settings, mail=mail(port)))
            deliver_due(session_factory, dataclasses.replace(settings, mail=mail(port)))
    assert request.period == "2025-11#1" and request.reason == "提前印发，完整率 0%，按到期数据更正"
    assert report.state is RunState.SUCCEEDED and "更正原因" in report.message_zh, report.message_zh
    assert not again.ran
    archive = db.scalars(select(Bulletin).order_by(Bulletin.cut, Bulletin.correction)).all()
    assert [(b.cut, b.correction) for b in archive] == [
        ("city-140100", 0), ("city-140100", 1), ("city-140400", 0), ("city-140400", 1),
        ("leadership", 0), ("leadership", 1), ("province", 0), ("province", 1)]  # fmt: skip
    original, corrected = archive[-2], archive[-1]
    assert original.number == corrected.number == 1 and original.issued_on == dt.date(2025, 12, 2)
    assert corrected.issued_on == dt.date(2025, 12, 8) and corrected.reason == request.reason
    assert corrected.title.endswith("（第1期）（更正）") and "更正" not in original.title
    assert corrected.file_name == "调度通报_2025年11月_第1期更正_全省.xlsx"
    assert "2/3" in corrected.summary or "66.7" in corrected.summary  # rebuilt from today's data
    # each original recipient: the original, then one correction marked as such and naming the original
    for address in ("sheng@127.0.0.1", "lingdao@127.0.0.1", "changzhi@127.0.0.1"):
        first, correction = inbox.to(address)
        assert "更正" not in first["Subject"] and correction["Subject"].startswith("【更正】")
        text = correction.get_body(("plain",)).get_content()
        assert "更正原因：提前印发" in text and f"《{first['Subject']}》" in text  # names the original
    assert inbox.to("new@127.0.0.1") == [] and len(inbox.messages) == 6
    assert len(robot) == 2 and robot[1]["text"]["content"].startswith("【更正】")
    assert "更正原因：提前印发" in robot[1]["text"]["content"]
    keys = [m.key for m in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert (
        len(keys) == len(set(keys)) == 8
        and sum(k.startswith("monthly_bulletin_correction/2025-11#1/") for k in keys) == 4
    )
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "request_correction")).one()
    assert event.actor_name == "guanli" and "提前印发" in (event.summary or "")


def test_a_second_correction_is_correction_2_and_the_first_stays(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    with smtp_server() as (inbox, port):
        issue_early_then_correct(db, session_factory, settings, world, port)
        plan = plan_correction(db, world["admin"], "monthly", "2025年11月", now=AFTER, settings=settings)
        assert (plan.correction, plan.run_period, plan.number) == (2, "2025-11#2", 1)
        assert "第1期（更正2）" in plan.message.zh and "2/3" in plan.message.zh
        request_correction(db, world["admin"], "monthly", PERIOD, "再次更正", now=AFTER, settings=settings)
        db.commit()
        with pytest.raises(TrackerError, match="已在等待运行"):
            request_correction(db, world["admin"], "monthly", PERIOD, "第三次", now=AFTER, settings=settings)
        with clock.pinned(AFTER):
            take_requests(session_factory, dataclasses.replace(settings, mail=mail(port)), now=AFTER)
    rows = db.scalars(select(Bulletin).where(Bulletin.cut == "province").order_by(Bulletin.id)).all()
    assert [b.correction for b in rows] == [0, 1, 2] and [b.reason for b in rows][2] == "再次更正"
    assert rows[1].title.endswith("（第1期）（更正）") and rows[2].title.endswith("（第1期）（更正2）")
    assert [m["Subject"] for m in inbox.to("sheng@127.0.0.1")] == [rows[0].title, f"【更正】{rows[1].title}",
                                                                  f"【更正】{rows[2].title}"]  # fmt: skip


@pytest.mark.parametrize("role", [Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.LEADER])
def test_only_the_admin_corrects_and_only_an_issued_bulletin_with_a_reason(
    db, session_factory, settings, world, factory, role
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TrackerError, match="尚未印发"):
        request_correction(db, world["admin"], "monthly", PERIOD, "原因", now=AFTER, settings=settings)
    run(session_factory, settings, AFTER)
    user = factory.user(role, "长治" if role is Role.CITY_STAFF else None)
    with pytest.raises(PermissionDenied):
        request_correction(db, user, "monthly", PERIOD, "原因", now=AFTER, settings=settings)
    with pytest.raises(TrackerError, match="请填写更正原因"):
        request_correction(db, world["admin"], "monthly", PERIOD, "   ", now=AFTER, settings=settings)
    with pytest.raises(TrackerError, match="没有名为"):  # a correction is not a job to "run now"
        request_run(
            db, world["admin"], "monthly_bulletin_correction", "2025-11#1", now=AFTER, settings=settings
        )
    assert db.scalars(select(JobRequest)).all() == []


def test_a_forced_run_that_died_after_archiving_is_finished_by_its_retry_not_deferred(
    db, session_factory, settings, world, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import jobs.bulletins

    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    real_deliver = jobs.bulletins.deliver

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("进程在发送前终止")

    with smtp_server() as (inbox, port):
        monkeypatch.setattr(jobs.bulletins, "deliver", dies)
        first = run(
            session_factory, settings, EARLY, port=port, trigger=Trigger.FORCED, by="guanli", force=True
        )
        monkeypatch.setattr(jobs.bulletins, "deliver", real_deliver)
        retry = run(
            session_factory, settings, EARLY + dt.timedelta(minutes=5), port=port, trigger=Trigger.TAKEOVER
        )
        with clock.pinned(EARLY + dt.timedelta(minutes=6)):  # the delivery loop sends what the first queued
            deliver_due(session_factory, dataclasses.replace(settings, mail=mail(port)))
    assert first.state is RunState.FAILED and retry.state is RunState.SUCCEEDED, retry.message_zh
    assert len(db.scalars(select(Bulletin)).all()) == 4 and len(inbox.to("sheng@127.0.0.1")) == 1
