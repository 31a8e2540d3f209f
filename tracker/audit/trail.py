"""The audit trail: every change to an audited model is written as an event in the same transaction.

Hooked on ``TrackerSession`` after each flush, so no service can forget it. The actor is the user
put in ``session.info["actor"]`` by the edge that opened the session (``tracker.core.db.transaction``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, event, insert, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from tracker.audit import chain as audit_chain
from tracker.core.db import Base, TrackerSession, utcnow
from tracker.core.secrets import redact, redact_value
from tracker.models import (
    Application,
    Audited,
    AuditEvent,
    Pilot,
    ProgressUpdate,
    TaskProgress,
    UpdateFile,
    UpdateMilestone,
    User,
    WorkPlanUpdate,
)

SYSTEM_ACTOR = "system"


class AuditImmutableError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


def plain(value: object) -> object:
    """A JSON-safe form of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 100, not 1E+2
    return value


def snapshot(obj: object) -> dict[str, object]:
    """Every column attribute of ``obj`` as plain values."""
    mapper = inspect(obj).mapper
    return {attr.key: plain(getattr(obj, attr.key)) for attr in mapper.column_attrs}


def _changes(obj: object) -> tuple[dict[str, object], dict[str, object]]:
    """Before and after values of the columns that changed in this flush."""
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before[attr.key] = plain(history.deleted[0]) if history.deleted else None
        after[attr.key] = plain(history.added[0]) if history.added else None
    return before, after


def _city_id(session: Session, obj: object) -> int | None:
    """The city an audited object belongs to, so city users can be shown their own trail."""
    if isinstance(obj, WorkPlanUpdate):
        return None  # the provincial work plan: province-level, in no city's trail
    if hasattr(obj, "city_id"):
        return obj.city_id  # type: ignore[no-any-return]
    application_id = getattr(obj, "application_id", None)
    if application_id is not None:
        return (
            session.connection()
            .execute(select(Application.city_id).where(Application.id == application_id))
            .scalar()
        )
    pilot_id = getattr(obj, "pilot_id", None)
    if isinstance(obj, TaskProgress | UpdateMilestone | UpdateFile):
        pilot_id = (
            session.connection()
            .execute(select(ProgressUpdate.pilot_id).where(ProgressUpdate.id == obj.update_id))
            .scalar()
        )
    if pilot_id is None:
        return None
    return session.connection().execute(select(Pilot.city_id).where(Pilot.id == pilot_id)).scalar()


def actor_fields(session: Session) -> dict[str, int | str | None]:
    actor = session.info.get("actor")
    if isinstance(actor, User):
        return {"actor_id": actor.id, "actor_name": actor.username}
    return {"actor_id": None, "actor_name": actor if isinstance(actor, str) else SYSTEM_ACTOR}


def _event(
    session: Session,
    action: str,
    obj: object,
    before: dict[str, object] | None,
    after: dict[str, object] | None,
) -> dict[str, object]:
    # The identity key is set only after the flush ends; the primary key values are there already.
    identity = inspect(obj).mapper.primary_key_from_instance(obj)
    return {
        "at": utcnow(),
        **actor_fields(session),
        "action": action,
        "entity_type": type(obj).__tablename__,  # type: ignore[attr-defined]
        "entity_id": str(identity[0]) if identity and identity[0] is not None else None,
        "city_id": _city_id(session, obj),
        "summary": None,
        "before": redact_value(before),  # a webhook key or a password never enters the trail
        "after": redact_value(after),
    }


def _keep_old_values(_target: object, value: object, _old: object, _initiator: object) -> object:
    return value


def _load_old_values_on_change() -> None:
    """Load a column's stored value before it is overwritten, so "before" is never a guess."""
    for mapper in Base.registry.mappers:
        if issubclass(mapper.class_, Audited):
            for prop in mapper.column_attrs:
                event.listen(getattr(mapper.class_, prop.key), "set", _keep_old_values, active_history=True)


_load_old_values_on_change()


@event.listens_for(TrackerSession, "do_orm_execute")
def _refuse_unaudited_bulk_changes(state: ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE statements bypass the flush, and so the audit trail: not allowed."""
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper and issubclass(mapper.class_, Audited | AuditEvent):
        raise AuditImmutableError(
            "不允许批量修改或删除受审计的数据 / bulk changes to audited rows are not allowed"
        )


@event.listens_for(TrackerSession, "before_flush")
def _refuse_audit_changes(
    session: Session, _context: UOWTransaction, _instances: Sequence[object] | None
) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditImmutableError("审计记录不可修改或删除 / audit events cannot be changed or deleted")


@event.listens_for(TrackerSession, "after_flush")
def _write_audit_events(session: Session, _context: UOWTransaction) -> None:
    events = []
    for obj in session.new:
        if isinstance(obj, Audited):
            events.append(_event(session, "create", obj, None, snapshot(obj)))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after or before:
                events.append(_event(session, "update", obj, before, after))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            events.append(_event(session, "delete", obj, snapshot(obj), None))
    if events:
        # Core insert on the flush's own connection: ORM statements are not allowed mid-flush. The
        # ids come back in order, for the hash chain to link at commit (tracker.audit.chain).
        table = cast(Table, AuditEvent.__table__)
        inserted = session.connection().execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), events
        )
        audit_chain.remember_ids(session, list(inserted.scalars()))


def record(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: object = None,
    *,
    summary: str | None = None,
    city_id: int | None = None,
    after: dict[str, object] | None = None,
) -> None:
    """Record an event that is not a row change (a login, an export, an account change)."""
    recorded = AuditEvent(
        **actor_fields(session),
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        city_id=city_id,
        summary=None if summary is None else redact(summary),
        after=redact_value(after),
    )
    session.add(recorded)
    audit_chain.remember_event(session, recorded)


__all__ = ["AuditImmutableError", "plain", "record", "snapshot"]
