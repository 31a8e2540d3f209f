"""The outbox: every message is written to the database before it is sent, then delivered with
retries. E-mail goes by SMTP (STARTTLS or SSL, login, attachment); a WeCom (企业微信) or DingTalk
group robot gets the summary text by its webhook.

A message's ``key`` (job, period, what, recipient) is unique, so a rerun cannot queue it twice.
Delivery claims each due message by a conditional update (pending → sending) before sending, so two
deliverers cannot both send it; a failure puts it back with the next attempt later (1 min, 5 min,
30 min, 2 h), and after the last attempt it is ``failed``, with the error, for people to see. The
one gap no outbox closes: a server that accepted a message but whose answer was lost, and a process
that died before recording it, may see it again (a message stuck in ``sending`` is retried after
an hour).
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracker import audit
from tracker.config import MailSettings
from tracker.models import MessageState, OutboxMessage, User
from tracker.permissions import require_run_jobs

BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2))
MAX_ATTEMPTS = len(BACKOFF) + 1
STUCK_AFTER = dt.timedelta(hours=1)  # a message left in "sending" this long: its deliverer died
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def enqueue(session: Session, *, key: str, channel: str, recipient: str, subject: str, body: str,
            now: dt.datetime, run_id: int | None = None, attachment_name: str | None = None,
            attachment: bytes | None = None) -> OutboxMessage | None:  # fmt: skip
    """Queue a message; None when a message with this key was queued before (nothing is added)."""
    if session.scalars(select(OutboxMessage.id).where(OutboxMessage.key == key)).first() is not None:
        return None
    message = OutboxMessage(key=key[:300], channel=channel, recipient=recipient, subject=subject[:300], body=body,
                            run_id=run_id, attachment_name=attachment_name, attachment=attachment,
                            state=MessageState.PENDING, attempts=0, created_at=now, next_attempt_at=now)  # fmt: skip
    savepoint = session.begin_nested()
    try:
        session.add(message)
        session.flush()
    except IntegrityError:  # queued by someone else meanwhile
        savepoint.rollback()
        return None
    savepoint.commit()
    return message


def smtp_send(mail: MailSettings, message: OutboxMessage, timeout: float = 30) -> None:
    """Send one e-mail as the settings say (security, login), with its attachment."""
    if not mail.host:
        raise ConnectionError("未配置邮件服务器（TRACKER_MAIL_HOST）/ no mail server configured")
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = mail.sender, message.recipient, message.subject
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
    request = urllib.request.Request(message.recipient, data=payload, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read() or b"{}")
    if answer.get("errcode", 0) != 0:  # both robots answer 200 with an error code
        raise ConnectionError(f"webhook: {answer.get('errcode')} {answer.get('errmsg', '')}")


@dataclass
class Delivery:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


Sender = Callable[[OutboxMessage], None]


def deliver(factory: sessionmaker[Session], *, now: dt.datetime, email: Sender, webhook: Sender,
            ids: Sequence[int] | None = None) -> Delivery:  # fmt: skip
    """Send every due message (or these ones), each claimed first; record what happened."""
    result = Delivery()
    with factory() as session:
        due = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id)
        if ids is not None:
            due = due.where(OutboxMessage.id.in_(list(ids)))
        candidates = list(session.scalars(due))
    for message_id in candidates:
        with factory() as session:
            message = _claim(session, message_id, now)
            if message is None:  # sent, or being sent, by another deliverer since the list was made
                continue
            try:
                (email if message.channel == "email" else webhook)(message)
            except Exception as error:  # any failure of the far side: recorded, retried, never lost
                _failed(session, message, now, f"{type(error).__name__}: {error}", result)
                continue
            message.state, message.sent_at, message.last_error = MessageState.SENT, now, None
            session.commit()
            result.sent.append(message.id)
    return result


def _due(now: dt.datetime) -> ColumnElement[bool]:
    """Waiting for its (next) attempt, or left in "sending" by a deliverer that died."""
    return and_(
        or_(OutboxMessage.state == MessageState.PENDING,
            (OutboxMessage.state == MessageState.SENDING) & (OutboxMessage.next_attempt_at <= now - STUCK_AFTER)),
        OutboxMessage.next_attempt_at <= now,
    )  # fmt: skip


def _claim(session: Session, message_id: int, now: dt.datetime) -> OutboxMessage | None:
    """Take the message if it is still due: the condition is checked by the database in the update
    itself, so of two deliverers (or one whose list went stale) only one gets it. No transaction is
    left open while the caller sends (on SQLite an open snapshot would stop the result being written)."""
    done = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, _due(now))
        .values(state=MessageState.SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.commit()
    if int(getattr(done, "rowcount", 0)) != 1:
        return None
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    session.commit()  # ends the read; the loaded message stays usable (expire_on_commit is off)
    return message


def _failed(session: Session, message: OutboxMessage, now: dt.datetime, error: str, result: Delivery) -> None:
    message.last_error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.state = MessageState.FAILED
        result.failed.append(message.id)
    else:
        message.state = MessageState.PENDING
        message.next_attempt_at = now + BACKOFF[message.attempts - 1]
        result.retrying.append(message.id)
    session.commit()


def failed_messages(session: Session, limit: int = 100) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.state == MessageState.FAILED)
                                .order_by(OutboxMessage.id.desc()).limit(limit)))  # fmt: skip


def failed_since(session: Session, since: dt.datetime | None) -> list[OutboxMessage]:
    """Messages that failed for good since ``since`` (their last attempt), for the next run's report."""
    stmt = select(OutboxMessage).where(OutboxMessage.state == MessageState.FAILED)
    if since is not None:
        stmt = stmt.where(OutboxMessage.next_attempt_at >= since)
    return list(session.scalars(stmt.order_by(OutboxMessage.id)))


def requeue_failed(session: Session, user: User, ids: Sequence[int], *, now: dt.datetime) -> list[int]:
    """Send failed messages again from a fresh count of attempts (provincial administrator; audited)."""
    require_run_jobs(user)
    done = session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)), OutboxMessage.state == MessageState.FAILED)
        .values(state=MessageState.PENDING, attempts=0, next_attempt_at=now).returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    requeued = sorted(row.id for row in done)
    if requeued:
        audit.record(session, "requeue", "outbox", ",".join(map(str, requeued))[:60],
                     summary=f"重新发送{len(requeued)}条失败消息", after={"ids": requeued})  # fmt: skip
    return requeued
