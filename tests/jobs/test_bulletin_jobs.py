"""The monthly and quarterly bulletin jobs end to end: built in every cut, archived, sent once to
each recipient through a real SMTP server and a group robot on loopback, and never again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from jobs.runner import run_now
from jobs.schedule import JOB_BY_ID
from tests.factories import at
from tests.mailserver import free_port, mail, robot_server, smtp_server
from tests.text import CJK
from tracker.delivery.bulletin_archive import issue_number
from tracker.models import Audience, Bulletin, Channel, City, MessageState, OutboxMessage, Recipient, RunState

MONTHLY, QUARTERLY = JOB_BY_ID["monthly_bulletin"], JOB_BY_ID["quarterly_bulletin"]
ISSUE_DAY = at(dt.date(2025, 12, 8), 9)  # the monthly bulletin's default fire time, local


@pytest.fixture
def world(factory, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two pilots in 长治 and one in 太原, all reporting since September 2025."""
    changzhi = [
        factory.pilot("长治", name="长治焦炭试点"),
        factory.pilot("长治", "法兰", name="长治法兰试点"),
    ]
    taiyuan = factory.pilot("太原", "玻璃", name="太原玻璃试点")
    for pilot in (*changzhi, taiyuan):
        factory.accepted_update(pilot, dt.date(2025, 10, 1), dt.date(2025, 10, 31), "10")
    return {"changzhi": changzhi, "taiyuan": taiyuan}


def recipient(db: Any, audience: Audience, address: str, city: str | None = None,
              channel: Channel = Channel.EMAIL, locale: str = "zh_CN") -> Recipient:  # fmt: skip
    city_row = db.scalars(select(City).where(City.short_zh == city)).one() if city else None
    row = Recipient(province_id=(city_row or db.scalars(select(City)).first()).province_id, audience=audience,
                    city_id=city_row.id if city_row else None, channel=channel, address=address, name=address[:20],
                    locale=locale)  # fmt: skip
    db.add(row)
    db.commit()
    return row


def run(session_factory, settings, spec=MONTHLY, period: str = "2025-11", port: int | None = None,
        when: dt.datetime = ISSUE_DAY, trigger: str = "scheduled"):  # type: ignore[no-untyped-def]  # fmt: skip
    configured = dataclasses.replace(settings, mail=mail(port or free_port()))
    return run_now(spec, session_factory, configured, period, trigger=trigger, now=lambda: when)


def cells(content: bytes, sheet: str) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [str(c) for row in book[sheet].iter_rows(values_only=True) for c in row if c is not None]


def test_a_monthly_run_sends_each_recipient_its_cut_once_and_a_rerun_sends_nothing(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    recipient(db, Audience.LEADERSHIP, "lingdao@127.0.0.1")
    recipient(db, Audience.CITY, "changzhi@127.0.0.1", "长治")
    recipient(db, Audience.CITY, "datong@127.0.0.1", "大同")  # a city with no pilots gets nothing
    with smtp_server() as (inbox, port), robot_server() as (robot, url):
        recipient(db, Audience.CITY, url, "太原", Channel.WEBHOOK)
        first = run(session_factory, settings, port=port)
        again = run(session_factory, settings, port=port)
        by_hand = run(session_factory, settings, port=port, trigger="manual")
    assert first.ran and first.state is RunState.SUCCEEDED, first.message_zh
    assert not again.ran and not by_hand.ran
    assert sorted(m["To"] for m in inbox.messages) == [
        "changzhi@127.0.0.1",
        "lingdao@127.0.0.1",
        "sheng@127.0.0.1",
    ]

    (province,) = inbox.to("sheng@127.0.0.1")
    assert "调度通报" in province["Subject"] and "第1期" in province["Subject"]
    (sheet,) = list(province.iter_attachments())
    assert sheet.get_filename() == "调度通报_2025年11月_第1期_全省.xlsx"
    everything = cells(sheet.get_content(), "试点进度")
    assert {"长治焦炭试点", "长治法兰试点", "太原玻璃试点"} <= set(everything)

    (city,) = list(inbox.to("changzhi@127.0.0.1")[0].iter_attachments())
    assert city.get_filename() == "调度通报_2025年11月_第1期_长治市.xlsx"
    own = cells(city.get_content(), "试点进度")
    assert "长治焦炭试点" in own and "太原玻璃试点" not in own  # a city's cut holds only its pilots

    (summary,) = list(inbox.to("lingdao@127.0.0.1")[0].iter_attachments())
    assert summary.get_filename().endswith("领导摘要.pdf") and summary.get_content().startswith(b"%PDF")

    assert len(robot) == 1 and "太原" in robot[0]["text"]["content"]  # the group robot: the summary text

    archive = db.scalars(select(Bulletin).order_by(Bulletin.cut)).all()
    assert sorted(b.cut for b in archive) == ["city-140100", "city-140400", "leadership", "province"]
    assert {b.number for b in archive} == {1} and {b.period for b in archive} == {"2025-11"}
    assert {m.state for m in db.scalars(select(OutboxMessage))} == {MessageState.SENT}


def test_an_english_recipient_gets_the_summary_in_english_and_the_document_as_issued(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.CITY, "changzhi@127.0.0.1", "长治")
    recipient(db, Audience.CITY, "changzhi-en@127.0.0.1", "长治", locale="en")
    with smtp_server() as (inbox, port):
        assert run(session_factory, settings, port=port).state is RunState.SUCCEEDED
    (chinese,), (english,) = inbox.to("changzhi@127.0.0.1"), inbox.to("changzhi-en@127.0.0.1")
    assert chinese["Subject"] == english["Subject"]  # the bulletin's title: the document's name, as issued
    zh, en = (m.get_body(("plain",)).get_content() for m in (chinese, english))
    assert "纳入调度试点" in zh and "印发日期：" in zh and "调度通报”页下载" in zh
    assert "Issued on: " in en and "the bulletin file can be downloaded" in en
    title = chinese["Subject"]
    rest = en.replace(title, "")
    assert not CJK.search(rest), rest
    assert [a.get_filename() for a in english.iter_attachments()] == ["调度通报_2025年11月_第1期_长治市.xlsx"]


def test_issues_are_numbered_within_the_year_and_a_period_keeps_its_number(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    with smtp_server() as (_inbox, port):
        run(session_factory, settings, period="2025-11", port=port)
        run(session_factory, settings, period="2025-12", port=port, when=at(dt.date(2026, 1, 8), 9))
        quarter = run(
            session_factory, settings, QUARTERLY, "2025Q4", port=port, when=at(dt.date(2026, 1, 8), 10)
        )
    numbers = {(b.kind, b.period): b.number for b in db.scalars(select(Bulletin))}
    assert numbers[("monthly", "2025-11")] == 1 and numbers[("monthly", "2025-12")] == 2
    assert numbers[("quarterly", "2025Q4")] == 1 and "季度" in quarter.message_zh
    province_id = db.scalars(select(City.province_id)).first()
    assert issue_number(db, province_id, "monthly", "2025-11") == 1  # a retried period keeps its number
    assert issue_number(db, province_id, "monthly", "2026-01") == 1  # a new year starts again at 1


def test_no_recipients_archives_but_skips_with_the_reason(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    report = run(session_factory, settings)
    assert report.state is RunState.SKIPPED and "没有启用的发送对象" in report.message_zh
    assert len(db.scalars(select(Bulletin)).all()) == 4  # still archived, and downloadable
    assert db.scalars(select(OutboxMessage)).all() == []


def test_a_switched_off_recipient_gets_nothing(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1").active = False
    db.commit()
    assert run(session_factory, settings).state is RunState.SKIPPED


def test_a_period_without_pilots_is_skipped_not_failed(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    report = run(session_factory, settings, period="2024-03", when=at(dt.date(2024, 4, 8), 9))
    assert report.state is RunState.SKIPPED and "没有应报送进展的试点" in report.message_zh
    assert db.scalars(select(Bulletin)).all() == []


def test_a_dry_run_builds_but_archives_and_sends_nothing(db, session_factory, settings, world) -> None:  # type: ignore[no-untyped-def]
    from jobs.context import JobContext

    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    outcome = MONTHLY.work(JobContext(session_factory, settings, "2025-11", dry_run=True, now=ISSUE_DAY))
    assert "演算" in outcome.reason.zh and "4份" in outcome.reason.zh
    assert db.scalars(select(Bulletin)).all() == [] and db.scalars(select(OutboxMessage)).all() == []


def test_a_message_that_failed_for_good_is_reported_in_the_next_run(
    db, session_factory, settings, world
) -> None:  # type: ignore[no-untyped-def]
    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    recipient(db, Audience.CITY, "changzhi@127.0.0.1", "长治")
    november = run(session_factory, settings)  # no server listening: both retry later
    assert "将重试" in november.message_zh
    for message in db.scalars(select(OutboxMessage)):  # ... and every retry failed too
        message.state, message.last_error = MessageState.FAILED, "ConnectionRefusedError"
    db.commit()
    with smtp_server() as (inbox, port):
        december = run(
            session_factory, settings, period="2025-12", port=port, when=at(dt.date(2026, 1, 8), 9)
        )
    assert "上次以来2条消息投递失败" in december.message_zh
    (province,) = inbox.to("sheng@127.0.0.1")
    assert "仍未送达" in province.get_body(("plain",)).get_content()
    assert "仍未送达" not in inbox.to("changzhi@127.0.0.1")[0].get_body(("plain",)).get_content()


def test_a_run_that_dies_after_queuing_is_retried_without_a_second_bulletin_or_message(
    db, session_factory, settings, world, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import jobs.bulletins
    from jobs.scheduler import deliver_due

    recipient(db, Audience.PROVINCE, "sheng@127.0.0.1")
    recipient(db, Audience.CITY, "changzhi@127.0.0.1", "长治")
    real_deliver = jobs.bulletins.deliver

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("进程在发送前终止")

    with smtp_server() as (inbox, port):
        monkeypatch.setattr(jobs.bulletins, "deliver", dies)
        first = run(session_factory, settings, port=port)
        monkeypatch.setattr(jobs.bulletins, "deliver", real_deliver)
        retry = run(session_factory, settings, port=port, when=ISSUE_DAY + dt.timedelta(hours=1))
        deliver_due(session_factory, dataclasses.replace(settings, mail=mail(port)))  # the delivery loop
        deliver_due(session_factory, dataclasses.replace(settings, mail=mail(port)))
    assert first.state is RunState.FAILED and retry.ran and retry.state is RunState.SUCCEEDED
    assert sorted(m["To"] for m in inbox.messages) == ["changzhi@127.0.0.1", "sheng@127.0.0.1"]
    assert len(db.scalars(select(Bulletin)).all()) == 4 and len(db.scalars(select(OutboxMessage)).all()) == 2
