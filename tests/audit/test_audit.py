"""Every create, update and delete of an audited model leaves an event with before and after values."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tracker.audit.trail import AuditImmutableError
from tracker.models import AuditEvent, Milestone, Role


def events_for(db, entity_type: str, entity_id: int) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    stmt = select(AuditEvent).where(
        AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id)
    )
    return list(db.scalars(stmt.order_by(AuditEvent.id)))


def test_an_update_records_who_and_the_values_before_and_after(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    user = factory.user(Role.CITY_STAFF, "长治")
    db.info["actor"] = user
    pilot.end_date = dt.date(2026, 12, 31)
    db.commit()
    change = events_for(db, "pilots", pilot.id)[-1]
    assert change.action == "update"
    assert change.actor_id == user.id and change.actor_name == user.username
    assert change.before["end_date"] == "2026-08-31" and change.after["end_date"] == "2026-12-31"
    assert change.city_id == pilot.city_id
    assert change.at.tzinfo is not None


def test_create_and_delete_of_a_milestone_are_recorded_under_its_pilots_city(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("太原")
    milestone = Milestone(pilot_id=pilot.id, title="完成核算报告", due_date=dt.date(2026, 3, 31))
    db.add(milestone)
    db.commit()
    milestone_id = milestone.id
    db.delete(milestone)
    db.commit()
    created, deleted = events_for(db, "milestones", milestone_id)
    assert created.action == "create" and created.after["title"] == "完成核算报告" and created.before is None
    assert deleted.action == "delete" and deleted.before["due_date"] == "2026-03-31" and deleted.after is None
    assert created.city_id == deleted.city_id == pilot.city_id
    assert created.actor_name == "system"


def test_an_unchanged_flush_writes_no_event(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    before = len(events_for(db, "pilots", pilot.id))
    pilot.name = pilot.name  # same value
    db.commit()
    assert len(events_for(db, "pilots", pilot.id)) == before


def test_the_application_cannot_change_an_audit_event(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    event = events_for(db, "pilots", pilot.id)[0]
    event.summary = "rewritten"
    with pytest.raises(AuditImmutableError):
        db.flush()
    db.rollback()
    db.delete(db.get(AuditEvent, event.id))
    with pytest.raises(AuditImmutableError):
        db.flush()


def test_before_values_are_right_even_when_the_row_was_not_loaded(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    old_name = pilot.name
    db.expire(pilot)
    pilot.name = "示例改名试点"
    db.commit()
    change = events_for(db, "pilots", pilot.id)[-1]
    assert change.before == {"name": old_name} and change.after == {"name": "示例改名试点"}


def test_bulk_changes_that_would_skip_the_audit_trail_are_refused(db, factory) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete, update

    from tracker.models import Pilot

    pilot = factory.pilot("长治")
    with pytest.raises(AuditImmutableError):
        db.execute(update(Pilot).where(Pilot.id == pilot.id).values(name="x"))
    with pytest.raises(AuditImmutableError):
        db.execute(delete(Milestone).where(Milestone.pilot_id == pilot.id))


def test_whole_numbers_are_written_plainly(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    task = events_for(db, "tasks", pilot.tasks[0].id)[0]
    assert task.after["weight"] == "1"
