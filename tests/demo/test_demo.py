"""The demo province: deterministic, fictitious, and shaped like a programme a year in, as of the
reference day it is built on (today from tracker.core.clock: run with TRACKER_CLOCK_NOW set to try
another day; tests/demo/test_demo_days.py builds it on several)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

import pytest
from sqlalchemy import func, select

from tracker.core import clock
from tracker.core.creditcode import validate_credit_code
from tracker.demo.province import DEMO_TZ, build_demo, timeline
from tracker.models import (
    City,
    Organisation,
    Pilot,
    PilotCategory,
    PilotStatus,
    ProgressUpdate,
    Role,
    UpdateStatus,
    User,
    WorkPlanUpdate,
)
from tracker.progress.expected import ProgressStatus, load_progress


@pytest.fixture(scope="module")
def day() -> dt.date:
    """The reference day the module's demo is built on (and its figures are read on)."""
    return clock.local_today(DEMO_TZ)


@pytest.fixture(scope="module")
def demo(engine, day):  # type: ignore[no-untyped-def]
    """One demo build for the module's read-only tests, rolled back at the end."""
    from sqlalchemy.orm import Session

    from tracker.core.db import TrackerSession

    with engine.connect() as conn:
        outer = conn.begin()
        session: Session = TrackerSession(bind=conn, join_transaction_mode="create_savepoint")
        build_demo(session, today=day)
        session.flush()
        yield session
        session.close()
        outer.rollback()


def fingerprint(db) -> str:  # type: ignore[no-untyped-def]
    rows = db.execute(select(Pilot.name, Pilot.status, Pilot.start_date, Organisation.credit_code)
                      .join(Pilot.organisation).order_by(Pilot.name)).all()  # fmt: skip
    updates = db.execute(select(ProgressUpdate.period_start, ProgressUpdate.status, ProgressUpdate.is_late)
                         .join(ProgressUpdate.pilot).order_by(Pilot.name, ProgressUpdate.period_start)).all()  # fmt: skip
    work_plan = db.execute(select(WorkPlanUpdate.task_id, WorkPlanUpdate.department_id, WorkPlanUpdate.period_start,
                                  WorkPlanUpdate.status, WorkPlanUpdate.progress, WorkPlanUpdate.is_late)
                           .order_by(WorkPlanUpdate.period_start, WorkPlanUpdate.task_id, WorkPlanUpdate.department_id)).all()  # fmt: skip
    return hashlib.sha256(repr((rows, updates, work_plan)).encode()).hexdigest()


def test_the_demo_is_deterministic(db, day) -> None:  # type: ignore[no-untyped-def]
    prints = []
    for _ in range(2):
        nested = db.begin_nested()
        build_demo(db, today=day)
        db.flush()
        prints.append(fingerprint(db))
        nested.rollback()
    assert prints[0] == prints[1]


def test_demo_units_are_fictitious_with_valid_credit_codes(demo) -> None:  # type: ignore[no-untyped-def]
    orgs = demo.scalars(select(Organisation)).all()
    assert all("示例" in org.name for org in orgs)
    for org in orgs:
        city_code = demo.get(City, org.city_id).code
        check = validate_credit_code(org.credit_code, city_code)
        assert check.valid and check.warnings == [], (org.name, check)


def test_every_city_both_categories_and_about_forty_pilots(demo) -> None:  # type: ignore[no-untyped-def]
    pilots = demo.scalars(select(Pilot)).all()
    assert 36 <= len(pilots) <= 48
    assert len({p.city_id for p in pilots}) == 11
    assert {p.category for p in pilots} == set(PilotCategory)
    assert {p.status for p in pilots} >= {PilotStatus.IN_IMPLEMENTATION, PilotStatus.COMPLETED,
                                          PilotStatus.EXTENDED, PilotStatus.WITHDRAWN}  # fmt: skip


def test_quotas_hold_in_the_demo(demo) -> None:  # type: ignore[no-untyped-def]
    pilots = demo.scalars(select(Pilot)).all()
    per_product = Counter(p.product_id for p in pilots if p.category is PilotCategory.PRODUCT)
    assert max(per_product.values()) <= 3
    assert sum(p.category is PilotCategory.SERVICE for p in pilots) <= 2


def test_twelve_months_of_history_and_every_progress_state(demo, day) -> None:  # type: ignore[no-untyped-def]
    first, last = demo.execute(
        select(func.min(ProgressUpdate.period_start), func.max(ProgressUpdate.period_end))
    ).one()
    assert (last - first).days >= 365 and last == timeline(day).history_end < day
    ids = demo.scalars(select(Pilot.id)).all()
    states = Counter(p.status for p in load_progress(demo, ids, day).values())
    for state in (ProgressStatus.ON_TRACK, ProgressStatus.BEHIND, ProgressStatus.SERIOUSLY_BEHIND,
                  ProgressStatus.FINISHED):  # fmt: skip
        assert states[state] >= 2, states


def test_one_account_per_role_and_per_city(demo) -> None:  # type: ignore[no-untyped-def]
    users = demo.scalars(select(User)).all()
    assert {u.role for u in users} == set(Role)
    assert len({u.city_id for u in users if u.role is Role.CITY_STAFF}) == 11


def test_extended_pilots_have_a_later_end_and_withdrawn_ones_are_not_assessed(demo, day) -> None:  # type: ignore[no-untyped-def]
    from tracker.core.i18n import use_locale
    from tracker.monitoring.registry import NOT_ASSESSED, RegistryFilters, registry_rows

    extended = demo.scalars(select(Pilot).where(Pilot.status == PilotStatus.EXTENDED)).all()
    assert extended and all((p.end_date - p.start_date).days > 366 for p in extended)
    admin = demo.scalars(select(User).where(User.role == Role.PROVINCE_ADMIN)).first()
    rows = registry_rows(demo, admin, RegistryFilters(), day)
    withdrawn = [r for r in rows if r["status"] == "已退出"]
    assert withdrawn and all(r["progress_status"] == NOT_ASSESSED and r["gap"] is None for r in withdrawn)
    assert all(r["progress_key"] is None for r in withdrawn)
    with use_locale("en"):  # the colour key is the stored status, whatever the language of the words
        english = registry_rows(demo, admin, RegistryFilters(), day)
    assert [r["progress_key"] for r in english] == [r["progress_key"] for r in rows]
    assert {r["progress_key"] for r in rows} >= {"behind", "seriously_behind"}
    for row in rows:
        if row["gap"] is not None:
            assert round(row["expected"] - row["actual"], 1) == row["gap"]


def test_seed_data_is_not_credited_to_a_real_user(demo) -> None:  # type: ignore[no-untyped-def]
    from tracker.demo.province import DEMO_ACTOR
    from tracker.models import AuditEvent

    actors = set(demo.scalars(select(AuditEvent.actor_name).where(AuditEvent.entity_type == "pilots")))
    assert actors == {DEMO_ACTOR}


def test_the_work_plan_has_every_state_in_the_last_reported_month_and_drafts_in_the_next(demo, day) -> None:  # type: ignore[no-untyped-def]
    from tracker.core.periods import next_period
    from tracker.progress.workplan import work_plan_completeness, work_plan_history, work_plan_lines

    admin = demo.scalars(select(User).where(User.role == Role.PROVINCE_ADMIN)).first()
    last = timeline(day).history_period
    reported = work_plan_lines(demo, admin, last)  # the month the demo's updates run to
    states = Counter(line.update.status if line.update else None for line in reported)
    assert set(states) == {*UpdateStatus, None}, states
    assert any(line.update and line.update.is_late for line in reported)
    returned = next(
        line.update for line in reported if line.update and line.update.status is UpdateStatus.RETURNED
    )
    assert returned.return_reason and [s.step for s in work_plan_history(demo, admin, returned)] == [
        "submit",
        "return",
    ]
    line = work_plan_completeness(demo, admin, last)
    assert 0 < line.submitted < line.expected and line.on_time <= line.submitted
    following = work_plan_lines(demo, admin, next_period(last))
    assert {line.update.status for line in following if line.update} == {UpdateStatus.DRAFT}
