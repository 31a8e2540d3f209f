"""A tamper-evident audit trail: every audit event is a link of a SHA-256 hash chain.

When a transaction that recorded audit events commits, its events are linked in the order they
were recorded: each link's hash covers the previous link's hash and the event as the database holds
it (id, time, actor, action, object, city, summary, before and after). The chain's head (its last
hash) is locked while the links are written, at the very end of the transaction, so concurrent
writers link one after another and never wait for each other's rows while holding it.

``verify`` walks the chain from its start and names the first event whose stored content no longer
gives its link's hash (an edited event), whose link points at nothing (a deleted event), that is
not in the chain though recorded after it began (a row slipped in), or where the chain stops short
of its head (links removed from its end). The triggers that keep both tables append-only stop the
application; the chain shows what someone with the database owner's rights did anyway.

Events recorded before the chain's migration (0018) are not part of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, event, func, insert, select, update
from sqlalchemy.orm import Session

from tracker.db import TrackerSession, utcnow
from tracker.models import AuditChainHead, AuditChainLink, AuditEvent

GENESIS = "0" * 64
PENDING_IDS = "tracker_audit_pending_ids"  # session.info: ids of events this transaction inserted
PENDING_EVENTS = "tracker_audit_pending_events"  # session.info: events added as objects (ids at flush)
CHUNK = 500
EVENT_COLUMNS = (AuditEvent.id, AuditEvent.at, AuditEvent.actor_id, AuditEvent.actor_name, AuditEvent.action,
                 AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.city_id, AuditEvent.summary,
                 AuditEvent.before, AuditEvent.after)  # fmt: skip


def _utc_text(value: dt.datetime) -> str:
    moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def digest(previous: str, row: Row[Any] | Any) -> str:
    """The link hash of ``row`` (an audit event as the database returns it) after ``previous``."""
    content = [row.id, _utc_text(row.at), row.actor_id, row.actor_name, row.action, row.entity_type,
               row.entity_id, row.city_id, row.summary, row.before, row.after]  # fmt: skip
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()


def remember_ids(session: Session, ids: list[int]) -> None:
    session.info.setdefault(PENDING_IDS, []).extend(ids)


def remember_event(session: Session, audit_event: AuditEvent) -> None:
    session.info.setdefault(PENDING_EVENTS, []).append(audit_event)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@event.listens_for(TrackerSession, "before_commit")
def _link_pending(session: Session) -> None:
    if not session.info.get(PENDING_IDS) and not session.info.get(PENDING_EVENTS):
        return
    session.flush()  # events added as objects get their ids (and their own changes are audited)
    ids = list(session.info.pop(PENDING_IDS, []))
    ids += [e.id for e in session.info.pop(PENDING_EVENTS, []) if e.id is not None]
    if ids:
        link(session, sorted(set(ids)))


@event.listens_for(TrackerSession, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING_IDS, None)
    session.info.pop(PENDING_EVENTS, None)


def link(session: Session, ids: list[int]) -> None:
    """Append the events ``ids`` (in id order, as recorded) to the chain, under the head's lock."""
    connection = session.connection()
    head = connection.execute(
        select(AuditChainHead.last_hash).where(AuditChainHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:  # a database the chain's migration has not reached: nothing to link to
        return
    previous, links = head, []
    for chunk in _chunks(ids):
        for row in connection.execute(
            select(*EVENT_COLUMNS).where(AuditEvent.id.in_(chunk)).order_by(AuditEvent.id)
        ):
            previous = digest(previous, row)
            links.append({"event_id": row.id, "hash": previous})
    if not links:
        return  # every one was rolled back with its savepoint
    connection.execute(insert(cast(Table, AuditChainLink.__table__)), links)
    last = connection.execute(select(func.max(AuditChainLink.seq))).scalar_one()
    connection.execute(
        update(cast(Table, AuditChainHead.__table__))
        .where(AuditChainHead.__table__.c.id == 1)
        .values(last_seq=last, last_hash=previous)
    )


@dataclass(frozen=True)
class Verification:
    links: int  # links checked
    broken_event_id: int | None  # the first event that does not match (None: whole, or see ``problem``)
    problem_zh: str | None
    problem_en: str | None

    @property
    def whole(self) -> bool:
        return self.problem_zh is None


def _broken(links: int, event_id: int | None, zh: str, en: str) -> Verification:
    return Verification(links, event_id, zh, en)


def verify(session: Session) -> Verification:
    """Recompute the chain from its start (see the module's docstring). Reads only."""
    head = session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).one_or_none()
    if head is None:
        return _broken(
            0,
            None,
            "审计链尚未建立（请运行 tracker init）",
            "the audit chain is not set up (run tracker init)",
        )
    previous, count, last_event = GENESIS, 0, None
    stmt = (select(AuditChainLink.seq, AuditChainLink.event_id, AuditChainLink.hash, *EVENT_COLUMNS[1:],
                   AuditEvent.id.label("id"))
            .outerjoin(AuditEvent, AuditEvent.id == AuditChainLink.event_id).order_by(AuditChainLink.seq))  # fmt: skip
    for row in session.execute(stmt.execution_options(yield_per=2000)):
        if row.id is None:
            return _broken(count, row.event_id, f"第{row.event_id}号审计记录已被删除",
                           f"audit event {row.event_id} was deleted")  # fmt: skip
        if digest(previous, row) != row.hash:
            return _broken(count, row.event_id, f"第{row.event_id}号审计记录与其链上的哈希不符（被改动过）",
                           f"audit event {row.event_id} does not match its link (it was changed)")  # fmt: skip
        previous, count, last_event = row.hash, count + 1, row.event_id
    if previous != head.last_hash:
        return _broken(
            count,
            last_event,
            f"审计链在第{last_event}号记录之后被截短",
            f"the chain was cut short after event {last_event}",
        )
    first = session.scalar(select(func.min(AuditChainLink.event_id)))
    if first is not None:
        stray = session.scalar(
            select(func.min(AuditEvent.id)).where(
                AuditEvent.id > first, ~AuditEvent.id.in_(select(AuditChainLink.event_id))
            )
        )
        if stray is not None:
            return _broken(count, stray, f"第{stray}号审计记录不在审计链上（被插入）",
                           f"audit event {stray} is not in the chain (it was slipped in)")  # fmt: skip
    return Verification(count, None, None, None)


def record_verification(session: Session, result: Verification) -> None:
    """Keep the outcome on the chain's head (the audit page shows it)."""
    session.execute(
        update(cast(Table, AuditChainHead.__table__))
        .where(AuditChainHead.__table__.c.id == 1)
        .values(verified_at=utcnow(), verified_links=result.links, broken_event_id=result.broken_event_id
                if not result.whole else None)
    )  # fmt: skip


def last_verification(session: Session) -> AuditChainHead | None:
    return session.get(AuditChainHead, 1)
