"""The outbox: every message is written to the database before it is sent, then delivered with
retries. E-mail goes by SMTP (STARTTLS or SSL, login, attachment); a WeCom (企业微信) or DingTalk
group robot gets the summary text by its webhook.

A message's ``key`` (job, period, what, recipient) is unique, so a rerun cannot queue it twice.
Delivery claims each due message by a conditional update (pending → sending, with a fresh claim
token) before sending, so two deliverers cannot both send it; a failure puts it back with the next
attempt later (1 min, 5 min, 30 min, 2 h), and after the last attempt it is ``failed``, with the
error, for people to see. Only the claim that sent a message records its outcome.

A deliverer that dies while a message is ``sending`` leaves no way to know whether the far side got
it (it may have been accepted a moment before the process was killed). Such a message is never sent
again by itself: once its claim expires (``CLAIM_EXPIRES``) it becomes ``uncertain`` (状态不明) and
waits on the jobs page for the provincial administrator, who resends it or marks it delivered. Every
attempt carries the message's one ``message_id`` (Message-ID header; the webhook's Idempotency-Key),
so a resend can be recognised as the same message by the mail server or the recipient.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import Row, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from tracker.access.permissions import require_run_jobs
from tracker.audit import trail as audit
from tracker.core.config import MailSettings
from tracker.core.db import TrackerSession
from tracker.core.messages import Shown
from tracker.delivery.job_runs import worker_name
from tracker.models import Channel, MessageState, OutboxMessage, Recipient, User

BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2))
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claim older than this lost its deliverer: an SMTP or webhook attempt gives up long before (30 s and
# 15 s per operation), so a message still "sending" after it was being sent by a process that died.
CLAIM_EXPIRES = dt.timedelta(minutes=10)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INTERRUPTED = "发送中断（投递进程意外终止），无法确定对方是否已收到 / interrupted: delivery unknown"


def new_message_id() -> str:
    """A Message-ID (RFC 5322 msg-id) made once per message, when it is queued."""
    return f"<{uuid.uuid4().hex}@cfp-pilot-tracker>"


def enqueue(session: Session, *, key: str, channel: str, recipient: str, subject: str, body: str,
            now: dt.datetime, run_id: int | None = None, attachment_name: str | None = None,
            attachment: bytes | None = None) -> OutboxMessage | None:  # fmt: skip
    """Queue a message; None when a message with this key was queued before (nothing is added)."""
    if session.scalars(select(OutboxMessage.id).where(OutboxMessage.key == key)).first() is not None:
        return None
    message = OutboxMessage(key=key[:300], channel=channel, recipient=recipient, subject=subject[:300], body=body,
                            run_id=run_id, attachment_name=attachment_name, attachment=attachment,
                            state=MessageState.PENDING, attempts=0, created_at=now, next_attempt_at=now,
                            message_id=new_message_id())  # fmt: skip
    savepoint = session.begin_nested()
    try:
        session.add(message)
        session.flush()
    except IntegrityError:  # queued by someone else meanwhile
        savepoint.rollback()
        return None
    savepoint.commit()
    return message


def enqueue_to(session: Session, recipient: Recipient, *, key: str, subject: Shown | str, body: Shown, now: dt.datetime,
               run_id: int | None = None, attachment_name: str | None = None,
               attachment: bytes | None = None) -> OutboxMessage | None:  # fmt: skip
    """Queue a message to a recipient, written in the recipient's language (``Recipient.locale``;
    a ``str`` subject is a name, the same in every language: a bulletin's official title); None when
    a message with this key was queued before. An e-mail carries the attachment; a
    group robot gets the text only."""
    email = recipient.channel is Channel.EMAIL
    return enqueue(session, key=key, channel=recipient.channel.value, recipient=recipient.address,
                   subject=subject if isinstance(subject, str) else subject.text(recipient.locale), body=body.text(recipient.locale), now=now, run_id=run_id,
                   attachment_name=attachment_name if email else None, attachment=attachment if email else None)  # fmt: skip


def smtp_send(mail: MailSettings, message: OutboxMessage, timeout: float = 30) -> None:
    """Send one e-mail as the settings say (security, login), with its attachment."""
    if not mail.host:
        raise ConnectionError("未配置邮件服务器（TRACKER_MAIL_HOST）/ no mail server configured")
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = mail.sender, message.recipient, message.subject
    email["Message-ID"] = message.message_id  # the same on every attempt and resend
    email.set_content(message.body)
    if message.attachment is not None:
        maintype, subtype = (
            XLSX if (message.attachment_name or "").endswith(".xlsx") else "application/pdf"
        ).split("/")
        email.add_attachment(message.attachment, maintype=maintype, subtype=subtype,
                             filename=message.attachment_name or "attachment")  # fmt: skip
    if mail.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(mail.host, mail.port, timeout=timeout,
                                                context=ssl.create_default_context())  # fmt: skip
    else:
        client = smtplib.SMTP(mail.host, mail.port, timeout=timeout)
    with client:
        if mail.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if mail.username:
            client.login(mail.username, mail.password or "")
        client.send_message(email)


def webhook_post(message: OutboxMessage, timeout: float = 15) -> None:
    """A group robot's text message: WeCom and DingTalk both take {"msgtype": "text", ...}."""
    payload = json.dumps({"msgtype": "text", "text": {"content": f"{message.subject}\n{message.body}"}},
                         ensure_ascii=False).encode()  # fmt: skip
    # The Idempotency-Key is the Message-ID (robots that do not use it ignore it).
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": message.message_id.strip("<>"),
    }
    request = urllib.request.Request(message.recipient, data=payload, method="POST", headers=headers)  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read() or b"{}")
    if answer.get("errcode", 0) != 0:  # both robots answer 200 with an error code
        raise ConnectionError(f"webhook: {answer.get('errcode')} {answer.get('errmsg', '')}")


@dataclass
class Delivery:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)  # claims that expired, found by this call


Sender = Callable[[OutboxMessage], None]
# Told each step of one message's delivery: "claimed" (committed, nothing sent yet) and "sent" (the far
# side answered, the outcome not yet recorded). Tests use it to stop a process at a step.
StepHook = Callable[[str, OutboxMessage], None]


def deliver(factory: sessionmaker[TrackerSession], *, now: dt.datetime, email: Sender, webhook: Sender,
            ids: Sequence[int] | None = None, on_step: StepHook | None = None) -> Delivery:  # fmt: skip
    """Send every due message (or these ones), each claimed first; record what happened. Messages
    whose deliverer died while sending become ``uncertain`` first, and are not sent.

    ``now`` decides what is due and the back-off; a claim is stamped ``now`` plus the time this call
    has spent so far, so a long round of slow sends does not stamp its later claims in the past
    (another deliverer would take them for expired while they are being sent)."""
    began = time.monotonic()
    result = Delivery(uncertain=expire_claims(factory, now=now))
    with factory() as session:
        due = select(OutboxMessage.id).where(OutboxMessage.state == MessageState.PENDING,
                                             OutboxMessage.next_attempt_at <= now).order_by(OutboxMessage.id)  # fmt: skip
        if ids is not None:
            due = due.where(OutboxMessage.id.in_(list(ids)))
        candidates = list(session.scalars(due))
    for message_id in candidates:
        with factory() as session:
            claimed_at = now + dt.timedelta(seconds=time.monotonic() - began)
            message = _claim(session, message_id, now, claimed_at)
            if message is None:  # sent, or being sent, by another deliverer since the list was made
                continue
            if on_step is not None:
                on_step("claimed", message)
            try:
                (email if message.channel == "email" else webhook)(message)
            except Exception as error:  # any failure of the far side: recorded, retried, never lost
                _failed(session, message, now, f"{type(error).__name__}: {error}", result)
                continue
            if on_step is not None:
                on_step("sent", message)
            if _record(session, message, state=MessageState.SENT, sent_at=now, last_error=None):
                result.sent.append(message.id)
    return result


def expire_claims(factory: sessionmaker[TrackerSession], *, now: dt.datetime) -> list[int]:
    """Messages still ``sending`` past their claim's expiry: their deliverer died mid-send, so whether
    they arrived is unknown. They become ``uncertain`` (never sent again without a person)."""
    with factory() as session:
        done = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == MessageState.SENDING, OutboxMessage.claimed_at <= now - CLAIM_EXPIRES)
            .values(state=MessageState.UNCERTAIN, last_error=INTERRUPTED).returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        expired = sorted(row.id for row in done)
        session.commit()
    return expired


def _claim(
    session: Session, message_id: int, now: dt.datetime, claimed_at: dt.datetime
) -> OutboxMessage | None:
    """Take the message if it is still due: the condition is checked by the database in the update
    itself, so of two deliverers (or one whose list went stale) only one gets it. No transaction is
    left open while the caller sends (on SQLite an open snapshot would stop the result being written)."""
    token = uuid.uuid4().hex
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == MessageState.PENDING,
               OutboxMessage.next_attempt_at <= now)
        .values(state=MessageState.SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=now,
                claimed_at=claimed_at, claimed_by=worker_name(), claim_token=token)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.commit()
    if int(getattr(done, "rowcount", 0)) != 1:
        return None
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    session.commit()  # ends the read; the loaded message stays usable (expire_on_commit is off)
    return message


def _record(session: Session, message: OutboxMessage, **values: object) -> bool:
    """Write this claim's outcome, unless a person has decided about the message since (a claim that
    expired while its deliverer was merely slow still records what it learnt)."""
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == message.claim_token,
               OutboxMessage.state.in_([MessageState.SENDING, MessageState.UNCERTAIN]))
        .values(**values).execution_options(synchronize_session=False)
    )  # fmt: skip
    session.commit()
    for name, value in values.items():
        setattr(message, name, value)
    return int(getattr(done, "rowcount", 0)) == 1


def _failed(session: Session, message: OutboxMessage, now: dt.datetime, error: str, result: Delivery) -> None:
    if message.attempts >= MAX_ATTEMPTS:
        if _record(session, message, state=MessageState.FAILED, last_error=error[:2000]):
            result.failed.append(message.id)
    elif _record(session, message, state=MessageState.PENDING, last_error=error[:2000],
                 next_attempt_at=now + BACKOFF[message.attempts - 1]):  # fmt: skip
        result.retrying.append(message.id)


def failed_messages(session: Session, limit: int = 100) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.state == MessageState.FAILED)
                                .order_by(OutboxMessage.id.desc()).limit(limit)))  # fmt: skip


def failed_since(session: Session, since: dt.datetime | None) -> list[OutboxMessage]:
    """Messages that failed for good since ``since`` (their last attempt), for the next run's report."""
    stmt = select(OutboxMessage).where(OutboxMessage.state == MessageState.FAILED)
    if since is not None:
        stmt = stmt.where(OutboxMessage.next_attempt_at >= since)
    return list(session.scalars(stmt.order_by(OutboxMessage.id)))


def _decide(
    session: Session,
    user: User,
    ids: Sequence[int],
    state: MessageState,
    values: dict[str, object],
    *extra: InstrumentedAttribute[object],
) -> list[Row[int, *tuple[object, ...]]]:
    """A provincial administrator's decision on messages in ``state``: one conditional update, so a
    message that left that state meanwhile is untouched. Returns the rows changed, by id."""
    require_run_jobs(user)
    done = session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)), OutboxMessage.state == state)
        .values(**values).returning(OutboxMessage.id, *extra).execution_options(synchronize_session=False)
    )  # fmt: skip
    return sorted(done, key=lambda row: row.id)


def _audit_decision(session: Session, action: str, ids: list[int], summary: str, **after: object) -> None:
    if ids:
        audit.record(session, action, "outbox", ",".join(map(str, ids))[:60], summary=summary,
                     after={"ids": ids, **after})  # fmt: skip


def requeue_failed(session: Session, user: User, ids: Sequence[int], *, now: dt.datetime) -> list[int]:
    """Send failed messages again from a fresh count of attempts (provincial administrator; audited)."""
    rows = _decide(session, user, ids, MessageState.FAILED,
                   {"state": MessageState.PENDING, "attempts": 0, "next_attempt_at": now})  # fmt: skip
    requeued = [row.id for row in rows]
    _audit_decision(session, "requeue", requeued, f"重新发送{len(requeued)}条失败消息")
    return requeued


def uncertain_messages(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """Messages whose sending was interrupted, waiting for a person's decision (newest first)."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.state == MessageState.UNCERTAIN)
                                .order_by(OutboxMessage.id.desc()).limit(limit)))  # fmt: skip


def resend_uncertain(session: Session, user: User, ids: Sequence[int], *, now: dt.datetime) -> list[int]:
    """Send interrupted messages again, with their own Message-ID (provincial administrator; audited).
    Clearing the claim token means the interrupted claim can no longer record anything."""
    rows = _decide(session, user, ids, MessageState.UNCERTAIN,
                   {"state": MessageState.PENDING, "attempts": 0, "next_attempt_at": now, "claim_token": None},
                   OutboxMessage.message_id)  # fmt: skip
    resent = [row.id for row in rows]
    _audit_decision(session, "resend_uncertain", resent,
                    f"重新发送{len(resent)}条状态不明的消息（沿用原 Message-ID）",
                    message_ids=[row.message_id for row in rows])  # fmt: skip
    return resent


def mark_delivered(session: Session, user: User, ids: Sequence[int], *, now: dt.datetime) -> list[int]:
    """Record interrupted messages as delivered after checking with the recipient (provincial
    administrator; audited). ``sent_at`` is when the interrupted attempt began."""
    rows = _decide(session, user, ids, MessageState.UNCERTAIN,
                   {"state": MessageState.SENT, "sent_at": func.coalesce(OutboxMessage.claimed_at, now),
                    "claim_token": None})  # fmt: skip
    marked = [row.id for row in rows]
    _audit_decision(session, "mark_delivered", marked, f"确认{len(marked)}条状态不明的消息已送达")
    return marked
