"""Reminders on frozen days: counted in working days by the official calendar across the National Day
and Spring Festival holidays and the swapped weekend working days; batch deadlines announced 7, 3 and
1 working days ahead; overdue milestones until met or moved; never twice on one day."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from jobs.context import JobContext
from jobs.reminders import work_out
from jobs.runner import run_now
from jobs.schedule import JOB_BY_ID
from tests.factories import at
from tests.mailserver import free_port, mail, smtp_server
from tests.text import CJK
from tracker.core.workdays import is_workday
from tracker.models import (
    Audience,
    Batch,
    BatchDeadline,
    Channel,
    City,
    Milestone,
    OutboxMessage,
    ProgressUpdate,
    Recipient,
    RunState,
    TaskProgress,
    UpdateStatus,
)

REMINDERS = JOB_BY_ID["reminders"]


@pytest.fixture
def world(factory, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    changzhi = factory.pilot("长治", name="长治焦炭试点")  # both start on 1 September 2025
    taiyuan = factory.pilot("太原", "玻璃", name="太原玻璃试点")
    return {"changzhi": changzhi, "taiyuan": taiyuan, "city": factory.city("长治")}


def digest(db: Any, settings: Any, day: dt.date) -> dict[Any, Any]:
    province_id = db.scalars(select(City.province_id)).first()
    return work_out(db, province_id, day, JobContext(None, settings, day.isoformat()))  # type: ignore[arg-type]


def submit(db: Any, pilot: Any, start: dt.date, end: dt.date) -> None:
    update = ProgressUpdate(
        pilot_id=pilot.id, period_start=start, period_end=end, status=UpdateStatus.SUBMITTED
    )
    update.task_progress.append(TaskProgress(task_id=pilot.tasks[0].id, percent=10))
    db.add(update)
    db.commit()


def test_updates_due_soon_count_working_days_not_weekdays_around_national_day(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    city = world["city"].id
    # September 2025 is due on 5 October, inside the National Day holiday (1–8 October).
    # From Fri 26 Sep: 28 (a Sunday worked), 29 and 30 Sep are the working days left: 3, so a reminder.
    # Plain weekdays would count 29, 30 Sep and 1–3 Oct: 5, and say nothing.
    before = digest(db, settings, dt.date(2025, 9, 26))
    assert "还有3个工作日" in before[city].updates[0].zh
    assert not digest(db, settings, dt.date(2025, 9, 25))[city].updates  # 26, 28, 29, 30 Sep: 4
    last = digest(db, settings, dt.date(2025, 9, 30))[city].updates[0].zh
    assert "此前已无工作日" in last and "长治焦炭试点" in last  # 1–5 October are all holidays
    after = digest(db, settings, dt.date(2025, 10, 9))  # the first working day after the holiday
    assert "逾期1个工作日" in after[city].updates[0].zh
    assert (
        "逾期1个工作日" in after[None].updates[0].zh and "2个市" in after[None].updates[0].zh
    )  # the province's view
    assert "逾期2个工作日" in digest(db, settings, dt.date(2025, 10, 10))[city].updates[0].zh
    assert (
        "逾期3个工作日" in digest(db, settings, dt.date(2025, 10, 11))[city].updates[0].zh
    )  # Sat, a working day
    submit(db, world["changzhi"], dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    assert not digest(db, settings, dt.date(2025, 10, 13))[city].updates  # submitted: no more reminders


def test_a_holiday_or_weekend_sends_nothing_and_a_swapped_saturday_does(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, "changzhi@127.0.0.1", "长治")
    configured = dataclasses.replace(settings, mail=mail(free_port()))
    holiday = run_now(REMINDERS, session_factory, configured, "2025-10-03", trigger="scheduled",
                      now=lambda: at(dt.date(2025, 10, 3), 8))  # fmt: skip
    assert holiday.state is RunState.SKIPPED and "不是工作日" in holiday.message_zh
    saturday = run_now(REMINDERS, session_factory, configured, "2025-10-11", trigger="scheduled",
                       now=lambda: at(dt.date(2025, 10, 11), 8))  # fmt: skip
    assert saturday.state is RunState.SUCCEEDED


def test_february_and_month_ends_due_dates(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    city = world["city"].id
    # January 2026 is due on 5 February (Thu); February 2026 (28 days) on 5 March (Thu).
    assert "还有3个工作日" in digest(db, settings, dt.date(2026, 2, 2))[city].updates[0].zh
    submit(db, world["changzhi"], dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    march = digest(db, settings, dt.date(2026, 3, 2))[city].updates
    assert len(march) == 1 and "2026年2月" in march[0].zh and "还有3个工作日" in march[0].zh


def test_batch_deadline_reminders_7_3_1_working_days_ahead_across_spring_festival(
    db, settings, world
) -> None:  # type: ignore[no-untyped-def]
    # The 2026 Spring Festival holiday runs 15–23 February; 14 and 28 February (Saturdays) are worked.
    row = db.scalars(select(BatchDeadline).join(Batch).where(Batch.number == 1,
                                                             BatchDeadline.city_id == world["city"].id)).one()  # fmt: skip
    row.batch.provincial_deadline, row.deadline = dt.date(2026, 3, 31), dt.date(2026, 2, 26)
    db.commit()
    days = [
        d for n in range(27) if is_workday(d := dt.date(2026, 2, 1) + dt.timedelta(days=n))
    ]  # the job's days
    announced = {d: digest(db, settings, d)[world["city"].id].batches for d in days}
    announced = {d: lines for d, lines in announced.items() if lines}
    assert sorted(announced) == [dt.date(2026, 2, 10), dt.date(2026, 2, 14), dt.date(2026, 2, 25)]
    assert (
        "还有7个工作日" in announced[dt.date(2026, 2, 10)][0].zh
    )  # plain weekdays would say 17 Feb, a holiday
    assert "还有3个工作日" in announced[dt.date(2026, 2, 14)][0].zh
    assert "还有1个工作日" in announced[dt.date(2026, 2, 25)][0].zh


def recipient(db: Any, address: str, city: str | None = None, locale: str = "zh_CN") -> Recipient:
    city_row = db.scalars(select(City).where(City.short_zh == city)).one() if city else None
    row = Recipient(province_id=db.scalars(select(City.province_id)).first(),
                    audience=Audience.CITY if city_row else Audience.PROVINCE,
                    city_id=city_row.id if city_row else None, channel=Channel.EMAIL, address=address, name=address,
                    locale=locale)  # fmt: skip
    db.add(row)
    db.commit()
    return row


def test_overdue_milestones_until_met_or_moved_and_never_twice_a_day(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    milestone = Milestone(
        pilot_id=world["changzhi"].id, title="建成数据采集系统", due_date=dt.date(2025, 11, 20)
    )
    db.add(milestone)
    db.commit()
    recipient(db, "changzhi@127.0.0.1", "长治")
    recipient(db, "taiyuan@127.0.0.1", "太原")

    def remind(day: dt.date, port: int) -> Any:
        configured = dataclasses.replace(settings, mail=mail(port))
        return run_now(REMINDERS, session_factory, configured, day.isoformat(), trigger="scheduled",
                       now=lambda: at(day, 8))  # fmt: skip

    with smtp_server() as (inbox, port):
        remind(dt.date(2025, 11, 24), port)
        remind(dt.date(2025, 11, 24), port)  # the same day again: nothing
        run_now(REMINDERS, session_factory, dataclasses.replace(settings, mail=mail(port)), "2025-11-24",
                trigger="manual", now=lambda: at(dt.date(2025, 11, 24), 15))  # fmt: skip
        monday = inbox.to("changzhi@127.0.0.1")
        assert len(monday) == 1
        text = monday[0].get_body(("plain",)).get_content()
        assert "建成数据采集系统" in text and "已逾期2个工作日" in text  # 21 and 24 November
        assert "建成数据采集系统" not in inbox.to("taiyuan@127.0.0.1")[0].get_body(("plain",)).get_content()

        milestone.due_date = dt.date(2025, 12, 31)  # moved
        db.commit()
        remind(dt.date(2025, 11, 25), port)
        assert "建成数据采集系统" not in inbox.to("changzhi@127.0.0.1")[-1].get_body(("plain",)).get_content()
        milestone.due_date, milestone.achieved_on = dt.date(2025, 11, 20), dt.date(2025, 11, 25)  # met
        db.commit()
        remind(dt.date(2025, 11, 26), port)
    assert all("建成数据采集系统" not in m.get_body(("plain",)).get_content() for m in inbox.messages[2:])
    keys = [m.key for m in db.scalars(select(OutboxMessage))]
    assert (
        len(keys) == len(set(keys)) and len([k for k in keys if k.startswith("reminders/2025-11-24/")]) == 2
    )


def test_each_recipient_reads_the_reminder_in_its_own_language(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    db.add(Milestone(pilot_id=world["changzhi"].id, title="建成数据采集系统", due_date=dt.date(2025, 11, 20)))
    db.commit()
    recipient(db, "changzhi@127.0.0.1", "长治")
    recipient(db, "changzhi-en@127.0.0.1", "长治", locale="en")
    with smtp_server() as (inbox, port):
        run_now(REMINDERS, session_factory, dataclasses.replace(settings, mail=mail(port)), "2025-11-24",
                trigger="scheduled", now=lambda: at(dt.date(2025, 11, 24), 8))  # fmt: skip
        chinese, english = inbox.to("changzhi@127.0.0.1")[0], inbox.to("changzhi-en@127.0.0.1")[0]
    assert chinese["Subject"].startswith("长治市试点工作提醒（2025年11月24日）")
    assert english["Subject"] == "Pilot reminder for Changzhi (Nov 24, 2025)"
    zh, en = (m.get_body(("plain",)).get_content() for m in (chinese, english))
    assert "三、逾期未完成的里程碑" in zh and "已逾期2个工作日" in zh
    assert "3. Overdue milestones" in en and "(due on Nov 20, 2025, 2 working days overdue)" in en
    # Names and titles stay as entered; nothing else in the English mail is Chinese.
    rest = en.replace("建成数据采集系统", "").replace(world["changzhi"].name, "")
    assert not CJK.search(rest), CJK.findall(rest)


def test_nothing_due_is_skipped_with_the_reason(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    for pilot in (world["changzhi"], world["taiyuan"]):
        submit(db, pilot, dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    recipient(db, "sheng@127.0.0.1")
    report = run_now(REMINDERS, session_factory, dataclasses.replace(settings, mail=mail(free_port())), "2025-11-14",
                     trigger="scheduled", now=lambda: at(dt.date(2025, 11, 14), 8))  # fmt: skip
    assert report.state is RunState.SKIPPED and "没有需要提醒的事项" in report.message_zh
