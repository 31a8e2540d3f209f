"""Notices (issue 18, point 7): a returned update is told to its city's staff in the app and to the
city's recipients by mail, once per event; a flag proposal is told to the province and the province's
decision to the city; a returned work-plan update to whoever entered it; a new bulletin to whoever
receives it. Nothing is told for an action rolled back; each user reads and marks only their own."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from jobs.runner import run_now
from jobs.schedule import JOB_BY_ID
from jobs.scheduler import deliver_due
from tests.factories import MONTHLY, NOV, TZ, at
from tests.mailserver import free_port, mail, smtp_server
from tests.text import CJK
from tracker.access.permissions import PermissionDenied
from tracker.core.i18n import use_locale
from tracker.delivery.notices import (
    mark_read,
    my_notices,
    notice_text,
    tell_update_returned,
    unread_count,
    unread_summary,
)
from tracker.flags.review import review_flag
from tracker.models import (
    Audience,
    AuditEvent,
    Channel,
    City,
    Department,
    Flag,
    MessageState,
    Notice,
    OutboxMessage,
    Recipient,
    Role,
    Severity,
    WorkflowStep,
)
from tracker.progress.updates import UpdateEntry, review_update, save_update, submit_update
from tracker.progress.workplan import (
    WorkPlanEntry,
    find_task,
    review_work_plan_update,
    save_work_plan_update,
    submit_work_plan_update,
)

RETURNED = at(dt.date(2025, 12, 6))
LATER = at(dt.date(2025, 12, 9))


def recipient(
    db: Any, audience: Audience, address: str, city: str | None = None, locale: str = "zh_CN"
) -> Recipient:
    city_row = db.scalars(select(City).where(City.short_zh == city)).one() if city else None
    row = Recipient(province_id=(city_row or db.scalars(select(City)).first()).province_id, audience=audience,
                    city_id=city_row.id if city_row else None, channel=Channel.EMAIL, address=address,
                    name=address[:20], locale=locale)  # fmt: skip
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def world(factory, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治", name="长治焦炭试点")
    people = {
        "city": factory.user(Role.CITY_STAFF, "长治", username="czn1"),
        "colleague": factory.user(Role.CITY_STAFF, "长治", username="czn2"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyn"),
        "province": factory.user(Role.PROVINCE_STAFF, username="shn"),
        "admin": factory.user(Role.PROVINCE_ADMIN, username="adn"),
        "leader": factory.user(Role.LEADER, None, username="ldn"),
    }
    recipient(db, Audience.CITY, "changzhi@127.0.0.1", "长治")
    recipient(db, Audience.CITY, "taiyuan@127.0.0.1", "太原")
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    return {"pilot": pilot, **people}


def submitted(db, world, percent: int = 40, version: int | None = None, day: dt.date = dt.date(2025, 12, 1)):  # type: ignore[no-untyped-def]
    pilot, city = world["pilot"], world["city"]
    entry = UpdateEntry(task_percents={pilot.tasks[0].id: percent}, work_done="完成数据采集系统招标",
                        problems="", next_steps="系统上线")  # fmt: skip
    update = save_update(db, city, pilot.id, NOV, entry, reporting=MONTHLY, today=day, version=version)
    update = submit_update(db, city, update.id, version=update.version, reporting=MONTHLY, now=at(day), tz=TZ)
    db.commit()
    return update


def returned(db, world, update, reason: str = "任务进度与附件不符", now: dt.datetime = RETURNED):  # type: ignore[no-untyped-def]
    update = review_update(db, world["province"], update.id, accept=False, version=update.version, now=now,
                           reason=reason)  # fmt: skip
    db.commit()
    return update


def notices_of(db: Any, user: Any) -> list[Notice]:
    return list(db.scalars(select(Notice).where(Notice.user_id == user.id).order_by(Notice.id)))


def outbox(db: Any) -> list[tuple[str, str]]:
    return [(m.recipient, m.subject) for m in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_return_tells_each_city_user_once_and_mails_the_citys_recipients_once(db, world) -> None:  # type: ignore[no-untyped-def]
    update = returned(db, world, submitted(db, world))
    for person in ("city", "colleague"):
        (notice,) = notices_of(db, world[person])
        assert (notice.kind, notice.object_type, notice.object_id, notice.read_at) == (
            "update_returned", "update", update.id, None)  # fmt: skip
        assert notice.link == f"/update-form?pilot={world['pilot'].id}&period=2025-11"
        assert notice_text(notice) == "长治焦炭试点的2025年11月调度更新被省级退回"
        assert notice.params["reason"] == "任务进度与附件不符"
    for person in ("other", "province", "admin", "leader"):  # another city, the reviewer, the others
        assert notices_of(db, world[person]) == []
    assert outbox(db) == [("changzhi@127.0.0.1", "长治焦炭试点2025年11月调度更新被省级退回")]
    (message,) = db.scalars(select(OutboxMessage))
    assert "任务进度与附件不符" in message.body and message.state is MessageState.PENDING
    # The notices are in the audit trail, in 长治's.
    created = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "notices")).all()
    assert len(created) == 2 and {e.city_id for e in created} == {world["pilot"].city_id}


def test_telling_the_same_return_again_adds_nothing_but_a_second_return_is_a_new_event(db, world) -> None:  # type: ignore[no-untyped-def]
    update = returned(db, world, submitted(db, world))
    step = db.scalars(select(WorkflowStep).where(WorkflowStep.subject_type == "update",
                                                 WorkflowStep.step == "return")).one()  # fmt: skip
    again = tell_update_returned(db, update, step, now=LATER)  # a retry of the same event
    db.commit()
    assert again.notices == [] and again.messages == []
    assert len(notices_of(db, world["city"])) == 1 and len(outbox(db)) == 1
    # Corrected, resubmitted and returned once more: a new event, told anew.
    update = submitted(db, world, 45, version=update.version, day=dt.date(2025, 12, 8))
    returned(db, world, update, reason="仍缺附件", now=LATER)
    assert [n.params["reason"] for n in notices_of(db, world["city"])] == ["任务进度与附件不符", "仍缺附件"]
    assert len(outbox(db)) == 2
    assert unread_count(db, world["city"]) == 2
    assert unread_summary(db, world["city"]) == ["2条更新被退回"]
    with use_locale("en"):
        assert unread_summary(db, world["city"]) == ["Updates returned: 2"]
        assert notice_text(notices_of(db, world["city"])[0]) == (
            "The November 2025 update of 长治焦炭试点 was returned by the province"
        )


def test_an_action_rolled_back_tells_nobody(db, world) -> None:  # type: ignore[no-untyped-def]
    update = submitted(db, world)
    review_update(db, world["province"], update.id, accept=False, version=update.version, now=RETURNED,
                  reason="任务进度与附件不符")  # fmt: skip
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Notice)) == 0 and outbox(db) == []
    # An accepted update tells nobody either.
    review_update(db, world["province"], update.id, accept=True, version=update.version, now=RETURNED)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Notice)) == 0 and outbox(db) == []


def test_a_disabled_account_is_not_told(db, world) -> None:  # type: ignore[no-untyped-def]
    world["colleague"].is_active = False
    db.commit()
    returned(db, world, submitted(db, world))
    assert len(notices_of(db, world["city"])) == 1 and notices_of(db, world["colleague"]) == []


@pytest.fixture
def flag(db, world) -> Flag:  # type: ignore[no-untyped-def]
    row = Flag(fingerprint=uuid.uuid4().hex, rule_id="PROGRESS_BACKWARDS", severity=Severity.HIGH,
               subject_type="update", subject_id=1, city_id=world["pilot"].city_id, pilot_id=world["pilot"].id,
               message_zh="进度倒退", message_en="progress went backwards", evidence={"task": "1"})  # fmt: skip
    db.add(row)
    db.commit()
    return row


def test_a_city_proposal_tells_the_province_and_the_decision_tells_the_city(db, world, flag) -> None:  # type: ignore[no-untyped-def]
    review_flag(db, world["city"], flag.id, "propose_dismiss", now=RETURNED, reason="数据已核实无误")
    db.commit()
    for person in ("province", "admin"):
        (notice,) = notices_of(db, world[person])
        assert notice.kind == "flag_proposed" and notice.link == f"/flags?id={flag.id}"
        assert notice_text(notice) == f"长治市对风险线索{flag.id}提出：市级建议排除，待省级审核"
        with use_locale("en"):
            assert notice_text(notice) == (
                f"Changzhi proposed on flag {flag.id}: Propose to dismiss; awaiting the province"
            )
    for person in ("city", "colleague", "other", "leader"):
        assert notices_of(db, world[person]) == []
    assert [to for to, _ in outbox(db)] == ["sheng@127.0.0.1"]
    review_flag(db, world["province"], flag.id, "reject", now=LATER, reason="倒退幅度过大，须说明")
    db.commit()
    for person in ("city", "colleague"):  # the proposer and the colleague both hear the decision
        (notice,) = notices_of(db, world[person])
        assert notice.kind == "flag_decided" and notice.params["reason"] == "倒退幅度过大，须说明"
        assert notice_text(notice) == f"风险线索{flag.id}（长治市）：省级驳回市级建议"
    assert notices_of(db, world["other"]) == [] and len(notices_of(db, world["province"])) == 1
    assert [to for to, _ in outbox(db)] == ["sheng@127.0.0.1", "changzhi@127.0.0.1"]
    # A direct decision by the province is told too; an assignment is not.
    review_flag(db, world["admin"], flag.id, "assign", now=LATER)
    review_flag(db, world["admin"], flag.id, "confirm", now=LATER, reason="现场核实")
    db.commit()
    assert [n.params["step_key"] for n in notices_of(db, world["city"])] == ["reject", "confirm"]
    assert len(outbox(db)) == 3


def test_each_recipient_reads_the_mail_in_its_own_language(db, world, flag) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.CITY, "changzhi-en@127.0.0.1", "长治", locale="en")
    recipient(db, Audience.PROVINCE, "sheng-en@127.0.0.1", locale="en")
    returned(db, world, submitted(db, world))
    review_flag(db, world["city"], flag.id, "propose_dismiss", now=LATER, reason="数据已核实无误")
    db.commit()
    mails = {m.recipient: m for m in db.scalars(select(OutboxMessage))}
    assert mails["changzhi@127.0.0.1"].subject == "长治焦炭试点2025年11月调度更新被省级退回"
    assert mails["changzhi@127.0.0.1"].body.startswith(
        "长治焦炭试点2025年11月调度更新被省级退回。\n退回理由：任务进度与附件不符"
    )
    returned_en = mails["changzhi-en@127.0.0.1"]
    assert returned_en.subject == "The November 2025 update of 长治焦炭试点 was returned by the province"
    assert (
        "Reason for return: 任务进度与附件不符" in returned_en.body
        and "each event is notified once" in returned_en.body
    )
    proposed = mails["sheng-en@127.0.0.1"]
    assert (
        proposed.subject
        == f"Changzhi proposed on risk flag {flag.id}: Propose to dismiss; awaiting the province's review"
    )
    assert "\n长治焦炭试点: progress went backwards\nReason: 数据已核实无误\n" in proposed.body
    for sent in (returned_en, proposed):  # names and reasons as entered; every other word in English
        rest = sent.subject + sent.body
        for entered in ("长治焦炭试点", "任务进度与附件不符", "数据已核实无误"):
            rest = rest.replace(entered, "")
        assert not CJK.search(rest), rest


def test_a_returned_work_plan_update_tells_who_entered_it(db, world) -> None:  # type: ignore[no-untyped-def]
    staff, admin = world["province"], world["admin"]
    task = find_task(db, staff, 3)
    dept = db.scalars(select(Department).where(Department.code == "scjgj")).one()
    entry = WorkPlanEntry(progress=40, work_done="起草碳标识认证实施细则", problems="", next_steps="征求意见")
    update = save_work_plan_update(db, staff, task.id, dept.id, NOV, entry, today=dt.date(2025, 12, 1))
    update = submit_work_plan_update(db, staff, update.id, version=update.version, reporting=MONTHLY,
                                     now=at(dt.date(2025, 12, 2)), tz=TZ)  # fmt: skip
    review_work_plan_update(db, admin, update.id, accept=False, version=update.version, now=RETURNED,
                            reason="缺少文件依据")  # fmt: skip
    db.commit()
    (notice,) = notices_of(db, staff)
    assert notice.kind == "work_plan_returned" and notice.link == "/work-plan"
    assert notice_text(notice) == f"重点任务3（{dept.name_zh}）的2025年11月进展被退回"
    assert notices_of(db, admin) == [] and notices_of(db, world["city"]) == []
    assert [to for to, _ in outbox(db)] == ["sheng@127.0.0.1"]


def test_each_user_reads_and_marks_only_their_own(db, world) -> None:  # type: ignore[no-untyped-def]
    first = returned(db, world, submitted(db, world))
    returned(db, world, submitted(db, world, 45, version=first.version, day=dt.date(2025, 12, 8)), now=LATER)
    city, colleague = world["city"], world["colleague"]
    mine = my_notices(db, city)
    assert [n.created_at for n in mine] == [LATER, RETURNED]  # newest first
    assert all(n.user_id == city.id for n in mine)
    for outsider in (colleague, world["leader"], world["admin"]):
        with pytest.raises(PermissionDenied):
            mark_read(db, outsider, [mine[0].id], now=LATER)
        db.rollback()
    assert unread_count(db, city) == 2
    assert mark_read(db, city, [mine[0].id], now=LATER) == 1
    db.commit()
    assert unread_count(db, city) == 1 and unread_count(db, colleague) == 2
    assert mark_read(db, city, None, now=LATER) == 1 and mark_read(db, city, None, now=LATER) == 0
    db.commit()
    assert unread_count(db, city) == 0 and unread_summary(db, city) == []
    assert unread_count(db, colleague) == 2  # marking all is marking one's own


def test_a_new_bulletin_is_told_to_whoever_receives_its_cut(
    db, factory, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    city_leader = factory.user(Role.LEADER, "长治", username="czld")
    datong = factory.user(Role.CITY_STAFF, "大同", username="dtn")  # a city without pilots: no cut
    factory.accepted_update(world["pilot"], dt.date(2025, 10, 1), dt.date(2025, 10, 31), "10")
    configured = dataclasses.replace(settings, mail=mail(free_port()))
    spec = JOB_BY_ID["monthly_bulletin"]
    report = run_now(spec, session_factory, configured, "2025-11", trigger="scheduled",
                     now=lambda: at(dt.date(2025, 12, 8), 9))  # fmt: skip
    assert report.ran, report.message_zh
    run_now(
        spec,
        session_factory,
        configured,
        "2025-11",
        trigger="manual",
        now=lambda: at(dt.date(2025, 12, 8), 10),
    )
    db.expire_all()
    cut_of = {}
    for person in (world["city"], world["colleague"], world["province"], world["admin"], world["leader"],
                   city_leader):  # fmt: skip
        (notice,) = notices_of(db, person)  # once, though the run was asked for twice
        assert notice.kind == "bulletin" and notice.link == "/bulletins"
        cut_of[person.username] = notice.params["title"]
    assert "长治" in cut_of["czn1"] and cut_of["czn1"] == cut_of["czld"]
    assert cut_of["shn"] == cut_of["adn"] and "长治" not in cut_of["shn"]
    assert notices_of(db, world["other"]) == [] and notices_of(db, datong) == []  # 太原 and 大同: no cut


def test_the_mail_of_a_return_reaches_the_city_once_when_the_scheduler_delivers(db, session_factory, settings,
                                                                                 world) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    returned(db, world, submitted(db, world))
    with smtp_server() as (inbox, port):
        configured = dataclasses.replace(settings, mail=mail(port))
        deliver_due(session_factory, configured)
        deliver_due(session_factory, configured)  # the next minute's round: nothing is due any more
    (message,) = inbox.messages
    assert message["To"] == "changzhi@127.0.0.1"
    assert message["Subject"] == "长治焦炭试点2025年11月调度更新被省级退回"
    assert "任务进度与附件不符" in message.get_content()
    db.expire_all()
    assert [m.state for m in db.scalars(select(OutboxMessage))] == [MessageState.SENT]
