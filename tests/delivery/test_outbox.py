"""The outbox against a real SMTP server on loopback (aiosmtpd) and a local HTTP webhook: each
message is delivered once with its attachment; a rerun queues nothing; an SMTP server down for the
first two tries is retried and delivers once, with the Message-ID it was queued with; one down for
good ends in ``failed``, with the error, nothing lost. A deliverer that stops between its claim and
recording the outcome leaves the message ``uncertain`` once the claim expires, never sent again until
the provincial administrator resends it (same Message-ID) or marks it delivered. (Killed processes:
tests/delivery/test_outbox_crash.py.)"""

from __future__ import annotations

import datetime as dt
import threading
from functools import partial
from http.server import HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.mailserver import Inbox, Robot, free_port, mail, robot_server, smtp_server
from tracker.access.permissions import PermissionDenied
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.delivery.outbox import (
    BACKOFF,
    CLAIM_EXPIRES,
    MAX_ATTEMPTS,
    deliver,
    enqueue,
    failed_messages,
    mark_delivered,
    resend_uncertain,
    smtp_send,
    uncertain_messages,
    webhook_post,
)
from tracker.models import AuditEvent, MessageState, OutboxMessage, Role

T0 = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)
EXPIRED = T0 + CLAIM_EXPIRES + dt.timedelta(minutes=1)  # a claim made at T0 (and a moment) has expired


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
    with sessions() as session:
        (message,) = session.scalars(select(OutboxMessage))
    assert message.message_id.startswith("<") and inbox.messages[0]["Message-ID"] == message.message_id


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


# --- a deliverer that stops mid-way ----------------------------------------------------------------


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the delivery loop catches it."""


def stop_at(step: str, address: str):  # type: ignore[no-untyped-def]
    def hook(name: str, message: OutboxMessage) -> None:
        if name == step and message.recipient == address:
            raise Killed

    return hook


@pytest.mark.parametrize("step", ["claimed", "sent"])
def test_an_interrupted_message_becomes_uncertain_and_is_not_sent_again(sessions, step: str) -> None:  # type: ignore[no-untyped-def]
    queue(sessions, ["a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"])
    with smtp_server() as (inbox, port):
        with pytest.raises(Killed):
            deliver(sessions, now=T0, email=partial(smtp_send, mail(port), timeout=5), webhook=webhook_post,
                    on_step=stop_at(step, "b@127.0.0.1"))  # fmt: skip
        assert [s[1] for s in states(sessions)] == [
            MessageState.SENT,
            MessageState.SENDING,
            MessageState.PENDING,
        ]
        early = send(sessions, port, T0 + CLAIM_EXPIRES - dt.timedelta(seconds=1))  # the claim still holds
        assert early.uncertain == [] and [m["To"] for m in inbox.messages].count("b@127.0.0.1") == (
            step == "sent"
        )
        later = send(sessions, port, EXPIRED)
        much_later = send(sessions, port, T0 + dt.timedelta(days=2))
    received = sorted(m["To"] for m in inbox.messages)
    assert received == sorted(["a@127.0.0.1", "c@127.0.0.1"] + (["b@127.0.0.1"] if step == "sent" else []))
    assert [s[1] for s in states(sessions)] == [MessageState.SENT, MessageState.UNCERTAIN, MessageState.SENT]
    assert len(later.uncertain) == 1 and later.sent == [] and much_later.uncertain == much_later.sent == []
    with sessions() as session:
        (message,) = uncertain_messages(session)
        assert message.recipient == "b@127.0.0.1" and "发送中断" in (message.last_error or "")


def test_the_admin_resends_an_uncertain_message_once_with_its_message_id(sessions, cli_database) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    queue(sessions, ["b@127.0.0.1"])
    with transaction(sessions) as session:
        admin, staff = Factory(session).user(Role.PROVINCE_ADMIN), Factory(session).user(Role.PROVINCE_STAFF)
    with smtp_server() as (inbox, port):
        with pytest.raises(Killed):
            deliver(sessions, now=T0, email=partial(smtp_send, mail(port), timeout=5), webhook=webhook_post,
                    on_step=stop_at("sent", "b@127.0.0.1"))  # fmt: skip
        send(sessions, port, EXPIRED)
        with sessions() as session:
            (message,) = uncertain_messages(session)
            with pytest.raises(PermissionDenied):
                resend_uncertain(session, staff, [message.id], now=T0 + dt.timedelta(hours=1))
            assert resend_uncertain(session, admin, [message.id], now=T0 + dt.timedelta(hours=1)) == [
                message.id
            ]
            assert (
                resend_uncertain(session, admin, [message.id], now=T0 + dt.timedelta(hours=1)) == []
            )  # once
            session.commit()
        again = send(sessions, port, T0 + dt.timedelta(hours=1))
        send(sessions, port, T0 + dt.timedelta(days=1))
    assert again.sent == [message.id] and [m["To"] for m in inbox.messages] == ["b@127.0.0.1", "b@127.0.0.1"]
    assert {m["Message-ID"] for m in inbox.messages} == {
        message.message_id
    }  # the receiver can tell it is one
    assert states(sessions) == [("b@127.0.0.1", MessageState.SENT, 1)]
    with sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "resend_uncertain")).one()
        assert event.after == {"ids": [message.id], "message_ids": [message.message_id]}


def test_the_admin_marks_an_uncertain_message_delivered(sessions, cli_database) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    queue(sessions, ["b@127.0.0.1"])
    with transaction(sessions) as session:
        admin = Factory(session).user(Role.PROVINCE_ADMIN)
    with pytest.raises(Killed):
        deliver(
            sessions,
            now=T0,
            email=lambda m: None,
            webhook=webhook_post,
            on_step=stop_at("sent", "b@127.0.0.1"),
        )
    sent: list[str] = []
    deliver(sessions, now=EXPIRED, email=lambda m: sent.append(m.recipient), webhook=webhook_post)
    with transaction(sessions, actor=admin) as session:
        (message,) = uncertain_messages(session)
        assert mark_delivered(session, admin, [message.id], now=T0 + dt.timedelta(hours=2)) == [message.id]
    deliver(
        sessions,
        now=T0 + dt.timedelta(days=1),
        email=lambda m: sent.append(m.recipient),
        webhook=webhook_post,
    )
    with sessions() as session:
        row = session.get(OutboxMessage, message.id)
        assert row is not None and row.state is MessageState.SENT  # sent when the interrupted attempt began:
        assert row.sent_at is not None and T0 <= row.sent_at < T0 + dt.timedelta(seconds=10)
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "mark_delivered")).one()
        assert uncertain_messages(session) == []
    assert sent == []


def test_a_slow_deliverer_whose_claim_expired_still_records_what_happened(sessions) -> None:  # type: ignore[no-untyped-def]
    """Expiry is a guess that the deliverer died; if it was only slow, its answer is the better news."""
    queue(sessions, ["b@127.0.0.1"])

    def slow(message: OutboxMessage) -> None:
        # meanwhile, another deliverer finds the claim expired
        assert len(deliver(sessions, now=EXPIRED, email=slow, webhook=webhook_post).uncertain) == 1

    assert len(deliver(sessions, now=T0, email=slow, webhook=webhook_post).sent) == 1
    assert states(sessions) == [("b@127.0.0.1", MessageState.SENT, 1)]


def test_a_deliverer_replaced_by_a_persons_decision_cannot_overwrite_it(sessions, cli_database) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    queue(sessions, ["b@127.0.0.1"])
    with transaction(sessions) as session:
        admin = Factory(session).user(Role.PROVINCE_ADMIN)
    calls: list[str] = []

    def slow(message: OutboxMessage) -> None:
        calls.append(message.claim_token or "")
        if len(calls) == 1:  # while the first attempt hangs, it is found interrupted and resent
            deliver(sessions, now=EXPIRED, email=slow, webhook=webhook_post)
            with transaction(sessions, actor=admin) as session:
                resend_uncertain(session, admin, [message.id], now=EXPIRED)
            deliver(sessions, now=EXPIRED, email=slow, webhook=webhook_post)
            raise ConnectionResetError("the first attempt's answer, far too late")

    deliver(sessions, now=T0, email=slow, webhook=webhook_post)
    assert len(calls) == 2 and calls[0] != calls[1]
    assert states(sessions) == [("b@127.0.0.1", MessageState.SENT, 1)]  # the late failure changed nothing


def test_a_group_robot_is_given_the_message_id_as_idempotency_key(sessions) -> None:  # type: ignore[no-untyped-def]
    keys: list[Any] = []

    class KeyedRobot(Robot):
        def do_POST(self) -> None:
            keys.append(self.headers.get("Idempotency-Key"))
            super().do_POST()

    Robot.received = []
    server = HTTPServer(("127.0.0.1", 0), KeyedRobot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test"
    try:
        with sessions() as session:
            message = enqueue(session, key="flags/2026-11-05/province/r9", channel="webhook", recipient=url,
                              subject="风险线索", body="新发现2条", now=T0)  # fmt: skip
            assert message is not None
            session.commit()
        deliver(sessions, now=T0, email=lambda m: None, webhook=webhook_post)
    finally:
        server.shutdown()
        server.server_close()
    assert keys == [message.message_id.strip("<>")] and len(Robot.received) == 1


def test_a_long_round_of_slow_sends_does_not_stamp_its_later_claims_in_the_past(
    sessions, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The second message is claimed twenty minutes into the round: another deliverer looking then
    must not take its claim (stamped T0 + 20 min, not T0) for an expired one."""
    import tracker.delivery.outbox

    clock = [1000.0]
    monkeypatch.setattr(tracker.delivery.outbox.time, "monotonic", lambda: clock[0])
    queue(sessions, ["a@127.0.0.1", "b@127.0.0.1"])
    meanwhile: list[list[int]] = []

    def slow(message: OutboxMessage) -> None:
        if message.recipient == "a@127.0.0.1":
            clock[0] += 20 * 60  # the first send took twenty minutes
        else:
            later = T0 + dt.timedelta(minutes=21)
            meanwhile.append(deliver(sessions, now=later, email=slow, webhook=webhook_post).uncertain)

    assert len(deliver(sessions, now=T0, email=slow, webhook=webhook_post).sent) == 2
    assert meanwhile == [[]] and [s[1] for s in states(sessions)] == [MessageState.SENT, MessageState.SENT]
