"""The schema comes from Alembic migrations that agree with the models; `tracker init` is idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text

from tests.conftest import fresh_database
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.migrate import alembic_config, check_database, upgrade_database
from tracker.models import Base, BatchDeadline, City


def test_upgrade_on_an_empty_database_creates_every_table_and_check_is_clean(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        upgrade_database(url)
        engine = make_engine(url)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        engine.dispose()
        check_database(url)  # raises if models and migrations disagree


def test_downgrade_to_base_and_back_up(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        upgrade_database(url)
        command.downgrade(alembic_config(url), "base")
        engine = make_engine(url)
        assert "pilots" not in inspect(engine).get_table_names()
        engine.dispose()
        upgrade_database(url)
        check_database(url)


def _catalogue_fingerprint(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {
            table: conn.execute(select(func.count()).select_from(Base.metadata.tables[table])).scalar_one()
            for table in Base.metadata.tables
        }
    engine.dispose()
    return counts


def test_tracker_init_twice_changes_nothing_and_keeps_edits(empty_cli_database: str) -> None:
    from tracker_cli.main import cli

    url = empty_cli_database
    runner = CliRunner()
    first = runner.invoke(cli, ["init"])
    assert first.exit_code == 0, first.output
    assert "cities: 11" in first.output
    # The provincial admin moves 太原's first-batch deadline; init must not put it back.
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        taiyuan = session.scalars(select(City).where(City.short_zh == "太原")).one()
        row = session.scalars(select(BatchDeadline).where(BatchDeadline.city_id == taiyuan.id)).first()
        assert row is not None
        row.source = "edited by admin"
    before_second = _catalogue_fingerprint(url)
    second = runner.invoke(cli, ["init"])
    assert second.exit_code == 0, second.output
    assert "catalogue rows added: 0" in second.output
    assert _catalogue_fingerprint(url) == before_second
    with transaction(factory) as session:
        assert session.scalar(select(func.count()).where(BatchDeadline.source == "edited by admin")) == 1
    factory.kw["bind"].dispose()


def test_audit_events_are_append_only_in_the_database(db) -> None:  # type: ignore[no-untyped-def]
    from tracker.audit import trail as audit

    audit.record(db, "test", "nothing", summary="kept")
    db.flush()
    with pytest.raises(Exception, match="append-only"), db.begin_nested():
        db.execute(text("UPDATE audit_events SET summary = 'changed'"))
    with pytest.raises(Exception, match="append-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_events"))


def test_revision_0021_splits_composite_triggers_into_kind_and_user(tmp_path: Path) -> None:
    """Runs recorded as "manual:admin" before 0021 keep who asked, in their own column."""
    with fresh_database(tmp_path) as url:
        command.upgrade(alembic_config(url), "0020")
        engine = make_engine(url)
        rows = {"manual:admin1": ("manual", "admin1"), "forced:guanli": ("forced", "guanli"),
                "forced:cli": ("forced", None), "manual": ("manual", None), "cli:demo": ("demo", None),
                "scheduled": ("scheduled", None), "takeover": ("takeover", None)}  # fmt: skip
        with engine.begin() as conn:
            for n, trigger in enumerate(rows):
                conn.execute(text("INSERT INTO job_runs (job, period, state, attempt, trigger, worker, started_at, "
                                  "heartbeat_at) VALUES (:job, '2026-10', 'succeeded', 1, :trigger, 'h:1', "
                                  "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"job": f"job{n}", "trigger": trigger})  # fmt: skip
        upgrade_database(url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT job, trigger, triggered_by FROM job_runs")).all()
        found = {job: (kind, who) for job, kind, who in stored}
        engine.dispose()
        assert found == {f"job{n}": split for n, split in enumerate(rows.values())}
        check_database(url)
