"""The demo on other days: ``tracker demo --no-serve`` with tracker.core.clock pinned to a month end, New
Year's Day, a leap day and a year from today has the same story each time. Its bulletin is archived
with a cut for every city that has a pilot owing an update, no job run failed, pilots are in every
lifecycle and progress state, and nothing in it is dated after the day it was built on."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.cli.test_demo_cli import owing_city_codes, reference_day, run_demo
from tracker.core import clock
from tracker.core.db import make_engine, make_session_factory
from tracker.demo.province import add_months, timeline
from tracker.models import (
    Application,
    Batch,
    Bulletin,
    Claim,
    DeadlineException,
    Flag,
    JobRun,
    Milestone,
    Pilot,
    PilotStatus,
    ProgressUpdate,
    RunState,
    WorkflowStep,
    WorkPlanUpdate,
)
from tracker.progress.expected import ProgressStatus, load_progress

SHANGHAI = ZoneInfo("Asia/Shanghai")
A_YEAR_FROM_TODAY = "today+1y"


def the_day(name: str) -> dt.date:
    if name == A_YEAR_FROM_TODAY:
        return add_months(clock.local_today(SHANGHAI), 12)
    return dt.date.fromisoformat(name)


@pytest.mark.parametrize("name", ["2027-03-31", "2027-01-01", "2028-02-29", A_YEAR_FROM_TODAY])
def test_the_demo_has_the_same_story_on_any_day(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = the_day(name)
    instant = dt.datetime.combine(day, dt.time(9), SHANGHAI)
    with clock.pinned(instant):
        result = run_demo(tmp_path, monkeypatch, "--no-serve")
    assert result.exit_code == 0, result.output
    assert reference_day(result.output) == day
    when = timeline(day)
    period = when.history_period
    last_month_end = day.replace(day=1) - dt.timedelta(days=1)
    assert period.end in (last_month_end, last_month_end.replace(day=1) - dt.timedelta(days=1))  # updates in
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    with make_session_factory(engine)() as session:
        # the bulletin of the last reported month, a cut for each city with a pilot owing an update
        cities = owing_city_codes(session, period)
        assert len(cities) >= 6, cities
        cuts = {b.cut for b in session.scalars(select(Bulletin).where(Bulletin.period == period.key))}
        assert cuts == {"province", "leadership"} | {f"city-{code}" for code in cities}
        assert all(b.issued_on == day for b in session.scalars(select(Bulletin)))
        runs = session.scalars(select(JobRun)).all()
        assert [(r.job, r.period, r.state) for r in runs] == [
            ("monthly_bulletin", period.key, RunState.SUCCEEDED)
        ]
        assert not [r for r in runs if r.state is RunState.FAILED]
        # pilots in every lifecycle state and, on the day, every progress state
        pilots = session.scalars(select(Pilot)).all()
        assert {p.status for p in pilots} >= {PilotStatus.IN_IMPLEMENTATION, PilotStatus.COMPLETED,
                                              PilotStatus.EXTENDED, PilotStatus.WITHDRAWN}  # fmt: skip
        progress = Counter(p.status for p in load_progress(session, [p.id for p in pilots], day).values())
        for state in (ProgressStatus.ON_TRACK, ProgressStatus.BEHIND, ProgressStatus.SERIOUSLY_BEHIND,
                      ProgressStatus.FINISHED):  # fmt: skip
            assert progress[state] >= 2, progress
        # history runs to the last reported month, a year and more of it
        first, last = session.execute(
            select(func.min(ProgressUpdate.period_start), func.max(ProgressUpdate.period_end))
        ).one()
        assert last == period.end and (last - first).days >= 365
        # nothing is dated after the reference instant (or day)
        stamps = [
            *session.scalars(select(ProgressUpdate.submitted_at)),
            *session.scalars(select(WorkPlanUpdate.submitted_at)),
            *session.scalars(select(WorkPlanUpdate.reviewed_at)),
            *session.scalars(select(WorkflowStep.at)),
            *session.scalars(select(Flag.first_seen)),
            *session.scalars(select(Flag.last_seen)),
            *session.scalars(select(Application.submitted_at)),
        ]
        assert stamps and max(s for s in stamps if s is not None) <= instant
        days = [
            *session.scalars(select(Milestone.achieved_on)),
            *session.scalars(select(Claim.published_on)),
            *session.scalars(select(Pilot.published_on)),
            *session.scalars(select(Pilot.closed_on)),
        ]
        assert max(d for d in days if d is not None) <= day
        # every batch closed before its pilots started; 长治's late batch-3 exception still open
        deadlines = dict(session.execute(select(Batch.number, Batch.provincial_deadline)).all())
        first_starts = select(Batch.number, func.min(Pilot.start_date)).join(Pilot).group_by(Batch.number)
        starts = dict(session.execute(first_starts).all())
        assert all(deadlines[n] < starts[n] for n in starts) and len(starts) == 3
        assert session.scalars(select(DeadlineException.until)).one() >= day
    engine.dispose()
