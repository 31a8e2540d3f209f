"""The outbox against a real SMTP server on loopback (aiosmtpd) and a local HTTP webhook: each
message is delivered once with its attachment; a rerun queues nothing; an SMTP server down for the
first two tries is retried and delivers once; one down for good ends in ``failed``, with the error,
nothing lost."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.mailserver import Inbox, free_port, mail, robot_server
from tracker.db import make_engine, make_session_factory
from tracker.models import MessageState, OutboxMessage
from tracker.outbox import BACKOFF, MAX_ATTEMPTS, deliver, enqueue, failed_messages, smtp_send, webhook_post

T0 = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def sessions(cli_database: str):  # type: ignore[no-untyped-def]
    engine = make_engine(cli_database)
    yield make_session_factory(engine)
    engine.dispose()


def queue(sessions, recipients: list[str]) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        for address in recipients:
            enqueue(session, key=f"monthly_bulletin:2026-10:province:{address}", channel="email", recipient=address,
                    subject="山西省产品碳足迹管理试点调度通报（第10期）", body="附件为本期调度通报。",
                    attachment_name="调度通报_2026-10.xlsx", attachment=b"PK\x03\x04 workbook bytes", now=T0)  # fmt: skip
        session.commit()


def send(sessions, port: int, now: dt.datetime):  # type: ignore[no-untyped-def]
    return deliver(sessions, now=now, email=partial(smtp_send, mail(port), timeout=5), webhook=webhook_post)


def states(sessions) -> list[tuple[str, MessageState, int]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return [
            (m.recipient, m.state, m.attempts)
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def test_each_recipient_gets_one_message_with_the_attachment_and_a_rerun_sends_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        queue(sessions, ["sheng@127.0.0.1", "lingdao@127.0.0.1"])
        queue(sessions, ["sheng@127.0.0.1", "lingdao@127.0.0.1"])  # the job ran again: nothing new queued
        assert len(send(sessions, port, T0).sent) == 2
        assert send(sessions, port, T0 + dt.timedelta(hours=1)).sent == []
    finally:
        server.stop()
    assert sorted(m["To"] for m in inbox.messages) == ["lingdao@127.0.0.1", "sheng@127.0.0.1"]
    (attachment,) = list(inbox.messages[0].iter_attachments())
    assert attachment.get_filename() == "调度通报_2026-10.xlsx" and attachment.get_content().startswith(b"PK")
    assert "第10期" in inbox.messages[0]["Subject"]


def test_smtp_down_twice_then_up_delivers_exactly_once(sessions) -> None:  # type: ignore[no-untyped-def]
    port = free_port()  # nothing listens yet
    queue(sessions, ["sheng@127.0.0.1"])
    first = send(sessions, port, T0)
    assert first.retrying and states(sessions)[0][1:] == (MessageState.PENDING, 1)
    assert send(sessions, port, T0).retrying == []  # not due yet: the back-off holds
    second = send(sessions, port, T0 + BACKOFF[0])
    assert second.retrying and states(sessions)[0][1:] == (MessageState.PENDING, 2)
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        third = send(sessions, port, T0 + BACKOFF[0] + BACKOFF[1])
        again = send(sessions, port, T0 + dt.timedelta(days=1))
    finally:
        server.stop()
    assert len(third.sent) == 1 and again.sent == [] and len(inbox.messages) == 1
    assert states(sessions)[0][1:] == (MessageState.SENT, 3)


def test_smtp_down_for_good_ends_failed_and_visible(sessions) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    queue(sessions, ["sheng@127.0.0.1"])
    now = T0
    for attempt in range(MAX_ATTEMPTS):
        send(sessions, port, now)
        now += BACKOFF[min(attempt, len(BACKOFF) - 1)]
    with sessions() as session:
        (failed,) = failed_messages(session)
        assert failed.attempts == MAX_ATTEMPTS and "ConnectionRefusedError" in (failed.last_error or "")
        assert failed.attachment is not None  # nothing lost: it can be sent again once the server is back
    assert send(sessions, port, now + dt.timedelta(days=1)).sent == []


def test_two_deliverers_cannot_both_send_a_message(sessions) -> None:  # type: ignore[no-untyped-def]
    sent: list[str] = []
    queue(sessions, ["sheng@127.0.0.1"])
    with sessions() as session:
        (message,) = session.scalars(select(OutboxMessage))
        message_id = message.id

    def slow_email(message: OutboxMessage) -> None:
        sent.append(message.recipient)
        # the second deliverer looks now, while the first is still sending
        inner.extend(
            deliver(sessions, now=T0, email=lambda m: sent.append(m.recipient), webhook=webhook_post).sent
        )

    inner: list[int] = []
    outer = deliver(sessions, now=T0, email=slow_email, webhook=webhook_post, ids=[message_id])
    assert outer.sent == [message_id] and inner == [] and sent == ["sheng@127.0.0.1"]


def test_a_deliverer_whose_list_went_stale_does_not_send_again(sessions) -> None:  # type: ignore[no-untyped-def]
    """The duplicate a clean-clone CI run caught: the first deliverer listed two due messages; while
    it sent the first, a second deliverer sent the other; the first must not then send it again."""
    sent: list[str] = []
    queue(sessions, ["sheng@127.0.0.1", "lingdao@127.0.0.1"])

    def email_and_let_another_deliverer_run(message: OutboxMessage) -> None:
        sent.append(message.recipient)
        if len(sent) == 1:  # meanwhile, the other deliverer sends what is still due
            deliver(sessions, now=T0, email=lambda m: sent.append(m.recipient), webhook=webhook_post)

    deliver(sessions, now=T0, email=email_and_let_another_deliverer_run, webhook=webhook_post)
    assert sorted(sent) == ["lingdao@127.0.0.1", "sheng@127.0.0.1"]
    assert [s[1:] for s in states(sessions)] == [(MessageState.SENT, 1), (MessageState.SENT, 1)]


def test_a_group_robot_gets_the_summary_once(sessions) -> None:  # type: ignore[no-untyped-def]
    with robot_server() as (received, url):
        for _ in range(2):
            with sessions() as session:
                enqueue(session, key=f"monthly_bulletin:2026-10:wecom:{url}", channel="webhook", recipient=url,
                        subject="调度通报（第10期）", body="全省42个试点，滞后5个。", now=T0)  # fmt: skip
                session.commit()
        result = deliver(sessions, now=T0, email=lambda m: None, webhook=webhook_post)
    assert len(result.sent) == 1 and len(received) == 1
    assert received[0]["msgtype"] == "text" and "滞后5个" in received[0]["text"]["content"]
