"""Each new flag is told once, after the nightly scan, to its city's recipients and the province's;
a flag nobody can be told about waits until someone can."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from jobs.context import JobContext
from jobs.flag_notice import notify_new_flags
from jobs.runner import run_now
from jobs.schedule import JOB_BY_ID
from tests.factories import at
from tests.mailserver import mail, smtp_server
from tests.text import CJK
from tracker.models import Audience, Channel, City, Flag, FlagStatus, Recipient, RunState, Severity


def flag(db: Any, pilot: Any, message: str, severity: Severity = Severity.HIGH,
         status: FlagStatus = FlagStatus.OPEN) -> Flag:  # fmt: skip
    row = Flag(fingerprint=uuid.uuid4().hex, rule_id="PROGRESS_BACKWARDS", severity=severity, subject_type="update",
               subject_id=1, city_id=pilot.city_id, pilot_id=pilot.id, status=status, message_zh=message,
               message_en="progress went backwards", evidence={})  # fmt: skip
    db.add(row)
    db.commit()
    return row


def recipient(db: Any, address: str, city: str | None = None, locale: str = "zh_CN") -> None:
    city_row = db.scalars(select(City).where(City.short_zh == city)).one() if city else None
    db.add(Recipient(province_id=db.scalars(select(City.province_id)).first(),
                     audience=Audience.CITY if city_row else Audience.PROVINCE,
                     city_id=city_row.id if city_row else None, channel=Channel.EMAIL, address=address, name=address,
                     locale=locale))  # fmt: skip
    db.commit()


@pytest.fixture
def world(factory, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    changzhi, taiyuan = factory.pilot("长治"), factory.pilot("太原", "玻璃")
    return {
        "changzhi": [
            flag(db, changzhi, "长治进度倒退一"),
            flag(db, changzhi, "长治进度倒退二", Severity.LOW),
        ],
        "taiyuan": [flag(db, taiyuan, "太原进度倒退", Severity.MEDIUM)],
        "resolved": flag(db, changzhi, "早已办结的线索", status=FlagStatus.RESOLVED),
    }


def notify(session_factory, settings, port: int, day: dt.date) -> str:  # type: ignore[no-untyped-def]
    context = JobContext(session_factory, dataclasses.replace(settings, mail=mail(port)), day.isoformat(),
                         now=at(day, 2))  # fmt: skip
    return notify_new_flags(context)[0].zh


def body(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def test_each_new_flag_is_told_once_to_its_city_and_the_province(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, "sheng@127.0.0.1")
    recipient(db, "changzhi@127.0.0.1", "长治")
    with smtp_server() as (inbox, port):
        first = notify(session_factory, settings, port, dt.date(2025, 11, 24))
        again = notify(session_factory, settings, port, dt.date(2025, 11, 25))
    assert "通知新风险线索3条" in first and again == "无新的风险线索需要通知"
    (city,) = inbox.to("changzhi@127.0.0.1")
    assert "长治进度倒退一" in body(city) and "长治进度倒退二" in body(city) and "太原" not in body(city)
    assert body(city).index("长治进度倒退一") < body(city).index("长治进度倒退二")  # most severe first
    (province,) = inbox.to("sheng@127.0.0.1")
    assert "按市：太原1条、长治2条" in body(province) and "早已办结" not in body(province)
    assert "全省新发现风险线索3条" in province["Subject"]
    db.expire_all()
    notified = {f.message_zh: f.notified_at is not None for f in db.scalars(select(Flag))}
    assert notified == {
        "长治进度倒退一": True,
        "长治进度倒退二": True,
        "太原进度倒退": True,
        "早已办结的线索": False,
    }


def test_an_english_recipient_reads_the_notice_in_english(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    recipient(db, "sheng-en@127.0.0.1", locale="en")
    recipient(db, "changzhi-en@127.0.0.1", "长治", locale="en")
    with smtp_server() as (inbox, port):
        notify(session_factory, settings, port, dt.date(2025, 11, 24))
    (city,) = inbox.to("changzhi-en@127.0.0.1")
    assert city["Subject"] == "Changzhi: 2 new risk flags"
    pilot = world["changzhi"][0].pilot.name
    assert f"[High] {pilot}, Progress went backwards: progress went backwards (flag No." in body(city)
    (province,) = inbox.to("sheng-en@127.0.0.1")
    assert province["Subject"] == "Province: 3 new risk flags" and "By city: Taiyuan 1, Changzhi 2" in body(
        province
    )
    for sent in (city, province):  # pilots' names as entered; every other word in English
        rest = body(sent)
        for entered in (f.pilot.name for f in world["changzhi"] + world["taiyuan"]):
            rest = rest.replace(entered, "")
        assert not CJK.search(rest), rest


def test_a_flag_nobody_can_be_told_about_waits_until_someone_can(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    with smtp_server() as (inbox, port):
        nobody = notify(session_factory, settings, port, dt.date(2025, 11, 24))
        recipient(db, "changzhi@127.0.0.1", "长治")
        city_only = notify(session_factory, settings, port, dt.date(2025, 11, 25))
        recipient(db, "taiyuan@127.0.0.1", "太原")
        later = notify(session_factory, settings, port, dt.date(2025, 11, 26))
    assert "无发送对象" in nobody
    assert "通知新风险线索2条" in city_only and "1条因无发送对象待通知" in city_only
    assert "通知新风险线索1条" in later and len(inbox.to("taiyuan@127.0.0.1")) == 1
    assert len(inbox.to("changzhi@127.0.0.1")) == 1  # told once, though the scan ran three nights


def test_the_nightly_scan_tells_what_it_found(db, session_factory, settings, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治", name="长治倒退试点")
    factory.accepted_update(pilot, dt.date(2025, 9, 1), dt.date(2025, 9, 30), "30")
    factory.accepted_update(
        pilot, dt.date(2025, 10, 1), dt.date(2025, 10, 31), "10"
    )  # reported progress fell
    recipient(db, "sheng@127.0.0.1")
    with smtp_server() as (inbox, port):
        report = run_now(JOB_BY_ID["flag_scan"], session_factory, dataclasses.replace(settings, mail=mail(port)),
                         "2025-11-24", trigger="scheduled", now=lambda: at(dt.date(2025, 11, 24), 1))  # fmt: skip
    assert report.state is RunState.SUCCEEDED and "进度核查：新发现" in report.message_zh
    assert "通知新风险线索" in report.message_zh
    (told,) = inbox.to("sheng@127.0.0.1")
    assert "长治" in body(told)
