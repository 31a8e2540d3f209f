"""A deliverer killed with SIGKILL at each step of sending one message, against a real SMTP server on
loopback: after its claim (nothing sent yet), while the server has taken the message but holds its
answer (the client dies not knowing), and after the server accepted it but before the outcome
was committed. Another delivery past the claim's expiry sends the rest and never the interrupted
message: it is ``uncertain``. The mails the server received are counted: no message twice, until the
provincial administrator resends it, which sends it once more with the same Message-ID.

The child process stops at a step through ``deliver``'s ``on_step`` parameter (set only by this
file's child); the DATA case needs no hook: the server itself holds the message until the test has
killed the sender.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.factories import Factory
from tests.mailserver import Inbox, free_port, mail
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.delivery.outbox import CLAIM_EXPIRES, deliver, enqueue, resend_uncertain, smtp_send, webhook_post
from tracker.models import MessageState, OutboxMessage, Role

T0 = dt.datetime(2026, 11, 8, 1, 0, tzinfo=dt.UTC)  # the bulletin's morning, 09:00 in Shanghai
RECIPIENTS = ["a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"]
VICTIM = "b@127.0.0.1"


class HoldingInbox(Inbox):
    """Takes the first message addressed to ``hold`` into its mailbox, then holds its answer ("250 OK")
    until released: the worst case of a sender dying mid-send, a message delivered whose sender never
    learnt it."""

    def __init__(self, hold: str | None) -> None:
        super().__init__()
        self.hold, self.arrived, self.release = hold, threading.Event(), threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if self.hold is not None and self.hold in envelope.rcpt_tos and not self.arrived.is_set():
            self.arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
        return answer


def _deliverer(url: str, port: int, step: str | None, marker: str) -> None:  # runs in a child process
    engine = make_engine(url)

    def stop(name: str, message: OutboxMessage) -> None:
        if name == step and message.recipient == VICTIM:
            Path(marker).write_text(name)
            time.sleep(600)  # killed here

    deliver(make_session_factory(engine), now=T0, email=partial(smtp_send, mail(port), timeout=60),
            webhook=webhook_post, on_step=stop)  # fmt: skip


def _wait_for(condition: Any, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "the child never reached the step"
        time.sleep(0.05)


@pytest.mark.parametrize("step", ["claimed", "smtp_data", "sent"])
def test_a_deliverer_killed_at_any_step_never_sends_a_message_twice_by_itself(
    cli_database: str, tmp_path: Path, step: str
) -> None:
    engine = make_engine(cli_database)
    sessions = make_session_factory(engine)
    with transaction(sessions, actor="test") as session:
        admin = Factory(session).user(Role.PROVINCE_ADMIN, username="guanli")
        for address in RECIPIENTS:
            enqueue(session, key=f"monthly_bulletin/2026-10/province/{address}", channel="email", recipient=address,
                    subject="调度通报 第10期", body="附件为本期调度通报。", now=T0)  # fmt: skip
    inbox, port = HoldingInbox(VICTIM if step == "smtp_data" else None), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        marker = tmp_path / "stopped"
        child = multiprocessing.get_context("spawn").Process(
            target=_deliverer, args=(cli_database, port, None if step == "smtp_data" else step, str(marker))
        )
        child.start()
        _wait_for(inbox.arrived.is_set if step == "smtp_data" else marker.exists)
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(10)
        inbox.release.set()  # the answer goes to a client that is gone
        with sessions() as session:
            victim = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == VICTIM)).one()
        assert child.exitcode == -signal.SIGKILL and victim.state is MessageState.SENDING

        send = partial(
            deliver, sessions, email=partial(smtp_send, mail(port), timeout=10), webhook=webhook_post
        )
        soon = send(now=T0 + CLAIM_EXPIRES - dt.timedelta(seconds=1))  # the claim still holds: the rest only
        later = send(now=T0 + CLAIM_EXPIRES + dt.timedelta(minutes=1))
        send(now=T0 + dt.timedelta(days=3))
        time.sleep(0.2)
        before = Counter(m["To"] for m in inbox.messages)
        held_by_server = 0 if step == "claimed" else 1
        assert before == Counter({"a@127.0.0.1": 1, "c@127.0.0.1": 1, VICTIM: held_by_server}), step
        assert len(soon.sent) == 1 and soon.uncertain == [] and later.uncertain == [victim.id]
        with sessions() as session:
            states = {m.recipient: m.state for m in session.scalars(select(OutboxMessage))}
        assert states == {"a@127.0.0.1": MessageState.SENT, VICTIM: MessageState.UNCERTAIN,
                          "c@127.0.0.1": MessageState.SENT}  # fmt: skip

        with transaction(sessions, actor=admin) as session:  # the administrator decides: send it again
            assert resend_uncertain(session, admin, [victim.id], now=T0 + dt.timedelta(hours=2)) == [
                victim.id
            ]
        resent = send(now=T0 + dt.timedelta(hours=2))
        send(now=T0 + dt.timedelta(days=4))
        time.sleep(0.2)
    finally:
        inbox.release.set()
        server.stop()
    counted = Counter(m["To"] for m in inbox.messages)
    assert resent.sent == [victim.id]
    assert counted == Counter({"a@127.0.0.1": 1, "c@127.0.0.1": 1, VICTIM: held_by_server + 1}), step
    assert {m["Message-ID"] for m in inbox.messages if m["To"] == VICTIM} == {victim.message_id}
    assert len({m["Message-ID"] for m in inbox.messages}) == 3
    print(f"\n{step}: mails received before the resend {dict(before)}, after it {dict(counted)}")
    engine.dispose()
