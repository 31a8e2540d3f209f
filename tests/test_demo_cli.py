"""`tracker demo --no-serve`: the demo database, with last month's dispatch bulletin archived as the
scheduled job makes it (so the overview, the summary and /bulletins have one to show)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tracker.db import make_engine, make_session_factory
from tracker.models import Bulletin, JobRun


def test_the_demo_archives_last_months_bulletin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.config import get_settings
    from tracker_cli.main import cli

    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["demo", "--no-serve"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "上月调度通报 / last month's bulletin" in result.output and "已归档" in result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    with make_session_factory(engine)() as session:
        cuts = session.scalar(select(func.count()).select_from(Bulletin))
        run = session.scalars(select(JobRun)).one()
        assert cuts == 13 and run.job == "monthly_bulletin"  # province, 11 cities, leadership; one run
    engine.dispose()
