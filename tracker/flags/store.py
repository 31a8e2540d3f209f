"""Bringing stored flags up to date with a scan's findings: the one place both scans (progress
checks, claim rules) record what they found, and where flags are handed out for notification once.

A finding already stored is only marked seen again (and reopened if a scan had closed it); a new one
becomes a flag; a stored open or under-review flag whose finding is gone closes itself with a note.
Dismissed and confirmed flags are left as the reviewer left them (a confirmed flag's pending
proposal to resolve too: the province decides it).

A scan may find tens of thousands of flags, so new flags are inserted in bulk and "seen again" is a
set-wise update; the scan itself is the audited act (one event with its counts), while each flag a
scan closes or reopens changes through the ORM and is audited on its own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from tracker.audit import trail as audit
from tracker.core.db import one_of
from tracker.core.json_types import JsonRow
from tracker.core.messages import Message
from tracker.models import Closure, Flag, FlagStatus, Subject

# The note a scan leaves on a flag it closed (``closed_by`` records that it was the scan).
AUTO_CLOSED = Message("复查未再发现（数据已更正），自动关闭")
CHUNK = 5000
LOOKUP = 100_000  # values per one_of() parameter
T = TypeVar("T")


@dataclass
class Synced:
    new: list[int] = field(default_factory=list)  # ids of the flags this scan added
    seen_again: int = 0
    closed: int = 0
    reopened: int = 0


def sync_flags(session: Session, subject_type: Subject, found: dict[str, Callable[[], JsonRow]], *,
               now: dt.datetime, refresh: Collection[str] = ()) -> Synced:  # fmt: skip
    """``found`` maps each finding's fingerprint to a function giving its flag's column values
    (called for findings not stored yet, and for those in ``refresh``: findings whose evidence holds
    more than identifies them — the other companies a cross-claim finding names — get their stored
    evidence and texts from it when it differs; their review is left as it is)."""
    result = Synced()
    stored = session.execute(
        select(Flag.fingerprint, Flag.id, Flag.status, Flag.closed_by).where(
            Flag.subject_type == subject_type
        )
    ).all()
    seen, reopen, close = [], [], []
    for fingerprint, flag_id, status, closed_by in stored:
        if fingerprint in found:
            seen.append(flag_id)
            if status is FlagStatus.RESOLVED and closed_by is Closure.SCAN:
                reopen.append(flag_id)  # it came back
        elif status in (FlagStatus.OPEN, FlagStatus.UNDER_REVIEW):
            close.append(flag_id)
    known = {row[0] for row in stored}
    rows = [{**build(), "fingerprint": fingerprint, "subject_type": subject_type, "status": FlagStatus.OPEN,
             "first_seen": now, "last_seen": now} for fingerprint, build in found.items() if fingerprint not in known]  # fmt: skip
    table = cast(Table, Flag.__table__)
    if rows:
        result.new = _insert(session, table, rows)
    dialect = session.connection().dialect.name
    for chunk in _chunks(seen, LOOKUP):
        session.execute(update(table).where(one_of(dialect, table.c.id, list(chunk))).values(last_seen=now))
    _refresh(session, table, [fp for fp in refresh if fp in found and fp in known], found)
    for flag in _load(session, reopen):
        flag.status, flag.reason, flag.closed_at, flag.closed_by = FlagStatus.OPEN, None, None, None
    for flag in _load(session, close):
        flag.status, flag.reason, flag.closed_at, flag.closed_by = (
            FlagStatus.RESOLVED,
            AUTO_CLOSED.zh,  # the record; shown in the reader's language from ``closed_by``
            now,
            Closure.SCAN,
        )
        # A city's proposal waiting for the province is moot once the finding is gone.
        flag.proposal = flag.proposal_reason = None
        flag.proposed_by_id = flag.proposed_at = None
    result.seen_again, result.closed, result.reopened = len(seen), len(close), len(reopen)
    audit.record(session, "scan", "flags", subject_type, summary=f"新发现{len(result.new)}条，再次发现{len(seen)}条，"
                 f"自动关闭{len(close)}条，重新打开{len(reopen)}条",
                 after={"new": len(result.new), "seen_again": len(seen), "closed": len(close), "reopened": len(reopen)})  # fmt: skip
    session.flush()
    return result


REFRESHED = ("evidence", "message_id", "message_zh", "message_en")


def _refresh(session: Session, table: Table, fingerprints: list[str],
             found: dict[str, Callable[[], JsonRow]]) -> None:  # fmt: skip
    """Store afresh the evidence and texts of these seen-again findings where they changed."""
    for chunk in _chunks(fingerprints):
        stored = session.execute(select(table.c.id, table.c.fingerprint, table.c.evidence, table.c.message_id)
                                 .where(table.c.fingerprint.in_(chunk))).all()  # fmt: skip
        for flag_id, fingerprint, evidence, message_id in stored:
            fresh = found[fingerprint]()
            if fresh["evidence"] != evidence or fresh["message_id"] != message_id:
                session.execute(update(table).where(table.c.id == flag_id)
                                .values({name: fresh[name] for name in REFRESHED}))  # fmt: skip


def _insert(session: Session, table: Table, rows: list[JsonRow]) -> list[int]:
    """Insert the new flags (COPY on PostgreSQL, where a multi-row INSERT of tens of thousands costs
    the driver seconds to parse) and return their ids."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        names = list(rows[0])
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY flags ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_pg_value(row[name]) for name in names])
    elif not _insert_sqlite(connection, table, rows):
        connection.execute(insert(table), rows)
    fingerprints = [row["fingerprint"] for row in rows]
    dialect = connection.dialect.name
    return sorted(flag_id for chunk in _chunks(fingerprints, LOOKUP)
                  for flag_id in session.scalars(select(Flag.id).where(one_of(dialect, Flag.fingerprint, list(chunk)))))  # fmt: skip


def _insert_sqlite(connection: Connection, table: Table, rows: list[JsonRow]) -> bool:
    """The new flags by one prepared INSERT on the driver, each value converted by its column's own
    SQLAlchemy bind processor (as a Core insert stores it, without its per-row compiling: tens of
    thousands of flags in a second less). False, having written nothing, when the rows do not all
    have the same columns or a column left out has a default to fill in (Core's insert does that)."""
    names = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        return False
    if any(
        column.default is not None
        for column in table.columns
        if column.name not in names and not column.primary_key
    ):
        return False
    dialect = connection.dialect
    columns = []
    for name in names:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values = [row[name] for row in rows]
        columns.append([process(value) for value in values] if process else values)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                       zip(*columns, strict=True))  # fmt: skip
    return True


def _pg_value(value: object) -> object:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value.value if isinstance(value, Enum) else value


def _chunks(ids: Sequence[T], size: int = CHUNK) -> list[Sequence[T]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _load(session: Session, ids: list[int]) -> list[Flag]:
    return [
        flag for chunk in _chunks(ids) for flag in session.scalars(select(Flag).where(Flag.id.in_(chunk)))
    ]


def flags_to_notify(
    session: Session, subject_type: Subject | None = None, limit: int | None = None
) -> list[Flag]:
    """Open flags never notified yet, oldest first."""
    query = select(Flag).where(Flag.notified_at.is_(None), Flag.status == FlagStatus.OPEN)
    if subject_type is not None:
        query = query.where(Flag.subject_type == subject_type)
    return list(session.scalars(query.order_by(Flag.id).limit(limit)))


def mark_notified(session: Session, flag_ids: Sequence[int], *, now: dt.datetime) -> list[int]:
    """Claim these flags for notification: sets ``notified_at`` only where it is still empty and
    returns the ids this call claimed. Two senders racing for the same flag cannot both get it, so a
    flag is notified once."""
    claimed: list[int] = []
    table = cast(Table, Flag.__table__)
    for chunk in _chunks(list(flag_ids)):
        done = session.execute(
            update(table).where(table.c.id.in_(chunk), table.c.notified_at.is_(None))
            .values(notified_at=now).returning(table.c.id)
        )  # fmt: skip
        claimed += [row.id for row in done]
    return sorted(claimed)
