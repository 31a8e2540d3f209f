"""A tamper-evident audit trail: every audit event is a link of a SHA-256 hash chain.

Each province has its own chain. When a transaction that recorded audit events commits, its events
are linked, in the order they were recorded, into their province's chain (an event's province is
its city's, else its actor's, else the first province): each link's hash covers the previous link's
hash and the event as the database holds it (id, time, actor, action, object, city, summary, before
and after). A chain's head (its last hash) is locked while the links are written, at the very end
of the transaction, so concurrent writers link one after another and never wait for each other's
rows while holding it.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Row, Table, event, func, insert, select, update
from sqlalchemy.orm import Session

from tracker.core.db import TrackerSession, utcnow
from tracker.core.messages import Message
from tracker.models import AuditChainHead, AuditChainLink, AuditEvent, City, Province, User

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


class EventContent(Protocol):
    """What a link's hash covers: an audit event as the database returns it (a row of EVENT_COLUMNS)."""

    @property
    def id(self) -> int: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def actor_id(self) -> int | None: ...
    @property
    def actor_name(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def entity_type(self) -> str: ...
    @property
    def entity_id(self) -> str | None: ...
    @property
    def city_id(self) -> int | None: ...
    @property
    def summary(self) -> str | None: ...
    @property
    def before(self) -> object: ...
    @property
    def after(self) -> object: ...


def digest(previous: str, row: EventContent) -> str:
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


def _provinces(session: Session) -> list[int]:
    return list(session.scalars(select(Province.id).order_by(Province.id)))


def link(session: Session, ids: list[int]) -> None:
    """Append the events ``ids`` (in id order, as recorded) to their provinces' chains, each under
    its head's lock, provinces in id order (so two writers never wait for each other crosswise). An
    event's province is its city's, else its actor's, else (the system's own events) the first
    province."""
    connection = session.connection()
    provinces = _provinces(session)
    fallback = provinces[0] if provinces else None  # an event of no province (the system's): the first
    grouped: dict[int, list[Row[Any]]] = {}
    for chunk in _chunks(ids):
        stmt = (select(*EVENT_COLUMNS, City.province_id.label("city_province"), User.province_id.label("actor_province"))
                .outerjoin(City, City.id == AuditEvent.city_id).outerjoin(User, User.id == AuditEvent.actor_id)
                .where(AuditEvent.id.in_(chunk)).order_by(AuditEvent.id))  # fmt: skip
        for row in connection.execute(stmt):
            province = row.city_province or row.actor_province or fallback
            if province is not None:  # before any province is loaded there is no chain to join
                grouped.setdefault(province, []).append(row)
    for province in sorted(grouped):
        _append(connection, province, grouped[province])


def _append(connection: Connection, province_id: int, rows: Sequence[EventContent]) -> None:
    heads = cast(Table, AuditChainHead.__table__)
    head = connection.execute(
        select(heads.c.last_hash).where(heads.c.province_id == province_id).with_for_update()
    ).scalar_one_or_none()
    if head is None:  # a province loaded after the chain's migration: its chain starts now
        connection.execute(insert(heads).values(province_id=province_id, last_seq=0, last_hash=GENESIS))
        head = GENESIS
    previous, links = head, []
    for row in sorted(rows, key=lambda r: r.id):
        previous = digest(previous, row)
        links.append({"province_id": province_id, "event_id": row.id, "hash": previous})
    connection.execute(insert(cast(Table, AuditChainLink.__table__)), links)
    last = connection.execute(
        select(func.max(AuditChainLink.seq)).where(AuditChainLink.province_id == province_id)
    ).scalar_one()
    connection.execute(
        update(heads).where(heads.c.province_id == province_id).values(last_seq=last, last_hash=previous)
    )


@dataclass(frozen=True)
class Verification:
    province_id: int | None  # the chain checked (None: a finding about no one chain)
    links: int  # links checked
    broken_event_id: int | None  # the first event that does not match (None: whole, or see ``problem``)
    problem: Message | None = None  # what is wrong (None: whole)

    @property
    def whole(self) -> bool:
        return self.problem is None

    @property
    def problem_zh(self) -> str | None:
        return None if self.problem is None else self.problem.zh

    @property
    def problem_en(self) -> str | None:
        return None if self.problem is None else self.problem.en


def verify_province(session: Session, province_id: int) -> Verification:
    """Recompute one province's chain from its start (see the module's docstring). Reads only."""
    head = session.execute(
        select(AuditChainHead.last_hash).where(AuditChainHead.province_id == province_id)
    ).scalar_one_or_none()
    broken = partial(Verification, province_id)
    if head is None:
        return Verification(province_id, 0, None)  # nothing recorded for it since the chain began
    previous, count, last_event = GENESIS, 0, None
    stmt = (select(AuditChainLink.seq, AuditChainLink.event_id, AuditChainLink.hash, *EVENT_COLUMNS[1:],
                   AuditEvent.id.label("id"))
            .outerjoin(AuditEvent, AuditEvent.id == AuditChainLink.event_id)
            .where(AuditChainLink.province_id == province_id).order_by(AuditChainLink.seq))  # fmt: skip
    for row in session.execute(stmt.execution_options(yield_per=2000)):
        if row.id is None:
            return broken(count, row.event_id, Message("第{event_id}号审计记录已被删除", event_id=row.event_id))  # fmt: skip
        if digest(previous, row) != row.hash:
            return broken(count, row.event_id, Message("第{event_id}号审计记录与其链上的哈希不符（被改动过）", event_id=row.event_id))  # fmt: skip
        previous, count, last_event = row.hash, count + 1, row.event_id
    if previous != head:
        return broken(
            count,
            last_event,
            Message("审计链在第{last_event}号记录之后被截短", last_event=last_event),
        )
    return Verification(province_id, count, None)


def verify_all(session: Session) -> list[Verification]:
    """Every province's chain, then events recorded since the chains began that are in none."""
    results = [verify_province(session, province) for province in _provinces(session)]
    first = session.scalar(select(func.min(AuditChainLink.event_id)))
    if first is not None:
        stray = session.scalar(
            select(func.min(AuditEvent.id)).where(
                AuditEvent.id > first, ~AuditEvent.id.in_(select(AuditChainLink.event_id))
            )
        )
        if stray is not None:
            results.append(Verification(None, 0, stray, Message("第{stray}号审计记录不在审计链上（被插入）", stray=stray)))  # fmt: skip
    return results


def verify(session: Session) -> Verification:
    """All chains as one answer: whole when every one is, else the first finding."""
    return combined(verify_all(session))


def combined(results: list[Verification]) -> Verification:
    links = sum(r.links for r in results)
    broken = next((r for r in results if not r.whole), None)
    if broken is None:
        return Verification(None, links, None)
    return Verification(broken.province_id, links, broken.broken_event_id, broken.problem)


def record_verification(session: Session, results: list[Verification]) -> None:
    """Keep each province's outcome on its chain's head (the audit page shows it); a finding about
    no one chain (an event slipped in) is kept on every head."""
    stray = next((r for r in results if r.province_id is None), None)
    heads = cast(Table, AuditChainHead.__table__)
    for result in results:
        if result.province_id is None:
            continue
        finding = result if not result.whole else stray
        session.execute(
            update(heads).where(heads.c.province_id == result.province_id)
            .values(verified_at=utcnow(), verified_links=result.links,
                    broken_event_id=finding.broken_event_id if finding else None)
        )  # fmt: skip


def last_verification(session: Session, province_id: int) -> AuditChainHead | None:
    return session.get(AuditChainHead, province_id)
