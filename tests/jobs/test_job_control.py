""" "Run now" from the dashboard: the web side only records a request (provincial admin only,
audited); the scheduler process takes it once and runs it through the same claim as a scheduled run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from jobs.control import next_runs, pending_requests, request_run, take_requests
from tracker.access.permissions import PermissionDenied
from tracker.core.errors import TrackerError
from tracker.models import AuditEvent, JobRequest, JobRun, Role, RunState, Trigger

NOW = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)


def test_the_admin_asks_and_the_scheduler_runs_it_once(db, session_factory, settings, factory) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user(Role.PROVINCE_ADMIN, username="admin1")
    request = request_run(db, admin, "flag_scan", "2026年11月24日", now=NOW, settings=settings)
    db.commit()
    assert request.period == "2026-11-24"
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "request_run")).one().entity_id == str(
        request.id
    )
    with pytest.raises(TrackerError, match="已在等待运行"):
        request_run(db, admin, "flag_scan", "2026-11-24", now=NOW, settings=settings)
    reports = take_requests(session_factory, settings, now=NOW)
    assert [r.state for r in reports] == [RunState.SUCCEEDED]
    assert take_requests(session_factory, settings, now=NOW) == []  # taken once
    db.expire_all()
    (run,) = db.scalars(select(JobRun))
    assert (run.trigger, run.triggered_by) == (Trigger.MANUAL, "admin1") and pending_requests(db) == []
    assert "完成" in (db.get(JobRequest, request.id).outcome or "")
    with pytest.raises(TrackerError, match="不会重复运行"):
        request_run(db, admin, "flag_scan", "2026-11-24", now=NOW, settings=settings)


@pytest.mark.parametrize("role", [Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.LEADER])
def test_only_the_provincial_admin_may_ask(db, factory, settings, role) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        request_run(db, factory.user(role), "flag_scan", "2026-11-24", now=NOW, settings=settings)
    assert db.scalars(select(JobRequest)).all() == []


def test_an_unknown_job_or_a_bad_period_is_refused(db, factory, settings) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user(Role.PROVINCE_ADMIN)
    with pytest.raises(TrackerError, match="没有名为"):
        request_run(db, admin, "rm -rf", "2026-11", now=NOW, settings=settings)
    with pytest.raises(TrackerError, match="无法识别的报告期"):
        request_run(db, admin, "monthly_bulletin", "2026-11-24", now=NOW, settings=settings)
    assert db.scalars(select(JobRequest)).all() == []


def test_next_runs_are_given_in_the_configured_zone_with_their_period(settings) -> None:  # type: ignore[no-untyped-def]
    planned = {p.spec.id: p for p in next_runs(settings, NOW)}  # 11:00 in Shanghai
    assert planned["reminders"].next_run == dt.datetime(2026, 11, 25, 8, 30, tzinfo=settings.timezone)
    assert planned["monthly_bulletin"].next_period == "2026-11"
    assert planned["quarterly_bulletin"].next_period == "2026Q4"
