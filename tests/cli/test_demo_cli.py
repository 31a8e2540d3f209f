"""`tracker demo --no-serve`: the demo database, with last month's dispatch bulletin archived as the
scheduled job makes it (so the overview, the summary and /bulletins have one to show). What is
expected is worked out from the demo's own data, so it holds on any reference day."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db import make_engine, make_session_factory
from tracker.core.periods import Period
from tracker.models import Bulletin, City, JobRun, Pilot, PilotStatus, RunState

RUNNING = (PilotStatus.IN_IMPLEMENTATION, PilotStatus.EXTENDED)
CLOSED = (PilotStatus.COMPLETED, PilotStatus.WITHDRAWN)


def run_demo(instance: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """``tracker demo`` with its instance folder (and so its demo database) under ``instance``."""
    from tracker.core.config import get_settings
    from tracker_cli.main import cli

    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(instance))
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, ["demo", *args], catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def reference_day(output: str) -> dt.date:
    found = re.search(r"基准日 / reference day: (\d{4}-\d\d-\d\d)", output)
    assert found, output
    return dt.date.fromisoformat(found.group(1))


def owes_update(pilot: Pilot, period: Period) -> bool:
    """The README's rule, independently of tracker.progress.updates: in implementation on a day of the period
    (a closed pilot's last day is the day before it closed)."""
    if pilot.start_date > period.end:
        return False
    if pilot.status in RUNNING:
        return True
    if pilot.status not in CLOSED:
        return False  # not started yet
    if pilot.closed_on is not None:
        return pilot.closed_on - dt.timedelta(days=1) >= period.start
    return pilot.status is PilotStatus.COMPLETED and pilot.end_date >= period.start


def owing_city_codes(session: Session, period: Period) -> set[str]:
    pilots = session.scalars(select(Pilot)).all()
    return {session.get(City, p.city_id).code for p in pilots if owes_update(p, period)}  # type: ignore[union-attr]


def test_the_demo_archives_last_months_bulletin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.demo.province import timeline

    result = run_demo(tmp_path, monkeypatch, "--no-serve")
    assert result.exit_code == 0, result.output
    assert (
        "最近报送月份的调度通报 / the last reported month's bulletin" in result.output
        and "已归档" in result.output
    )
    period = timeline(reference_day(result.output)).history_period
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    with make_session_factory(engine)() as session:
        cuts = {b.cut for b in session.scalars(select(Bulletin).where(Bulletin.period == period.key))}
        run = session.scalars(select(JobRun)).one()
        cities = owing_city_codes(session, period)
        assert cities  # the demo's last reported month has pilots reporting
        assert cuts == {"province", "leadership"} | {f"city-{code}" for code in cities}, cuts
        assert session.scalars(select(Bulletin.period)).all() == [period.key] * len(cuts)
        assert (run.job, run.period, run.state) == ("monthly_bulletin", period.key, RunState.SUCCEEDED)
    engine.dispose()


def test_a_bulletin_that_fails_at_demo_start_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jobs.bulletins

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("演示：数据源不可用 / the data source is down")

    monkeypatch.setattr(jobs.bulletins, "bulletin_data", broken)
    result = run_demo(tmp_path, monkeypatch, "--no-serve")
    assert result.exit_code == 0, result.output  # the demo database is still there to serve
    assert "运行失败" in result.output
    assert "失败原因 / reason: RuntimeError: 演示：数据源不可用 / the data source is down" in result.output
    assert "tracker jobs history --job monthly_bulletin" in result.output
    assert "演示账户" in result.output
