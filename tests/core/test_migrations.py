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


def test_revision_0023_keeps_a_notices_names_in_both_languages_as_one_parameter(tmp_path: Path) -> None:
    """A notice stored with ``period_zh``/``period_en`` before 0023 reads the same afterwards, in
    each language, and a downgrade gives the pair back."""
    from tests.conftest import initialise
    from tests.factories import Factory
    from tracker.core.i18n import use_locale
    from tracker.delivery.notices import notice_text
    from tracker.models import Notice, Role

    with fresh_database(tmp_path) as url:
        initialise(url)
        factory = make_session_factory(make_engine(url))
        old = {
            "pilot": "长治焦炭试点",
            "period_zh": "2025年11月",
            "period_en": "November 2025",
            "reason": "缺附件",
        }
        with transaction(factory, actor="test") as session:
            user = Factory(session).user(Role.CITY_STAFF)
            session.add(Notice(user_id=user.id, event_key="step/1", kind="update_returned", params={}, link="/",
                               object_type="update", object_id=1, city_id=user.city_id))  # fmt: skip
        command.downgrade(alembic_config(url), "0022")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE notices SET params = :p"),
                {"p": __import__("json").dumps(old, ensure_ascii=False)},
            )
        upgrade_database(url)
        with factory() as session:
            notice = session.scalars(select(Notice)).one()
            assert notice.params == {
                "pilot": "长治焦炭试点",
                "reason": "缺附件",
                "period": {"label": ["2025年11月", "November 2025"]},
            }
            with use_locale("zh_CN"):
                assert notice_text(notice) == "长治焦炭试点的2025年11月调度更新被省级退回"
            with use_locale("en"):
                assert "November 2025" in notice_text(notice) and "2025年" not in notice_text(notice)
        command.downgrade(alembic_config(url), "0022")
        with engine.connect() as conn:
            (params,) = conn.execute(text("SELECT params FROM notices")).one()
        assert (params if isinstance(params, dict) else __import__("json").loads(params)) == old
        engine.dispose()


def test_revision_0026_gives_the_loaded_departments_and_tasks_their_english_names(tmp_path: Path) -> None:
    """A catalogue loaded before 0026 gets the English names of the shipped files; a row edited since
    (its Chinese no longer the file's) keeps none, and is shown in Chinese."""
    from tests.conftest import initialise
    from tracker.models import Department, WorkPlanTask

    with fresh_database(tmp_path) as url:
        initialise(url)
        command.downgrade(alembic_config(url), "0025")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE departments SET name_zh = '山西省教育厅（改）' WHERE code = 'jyt'"))
        upgrade_database(url)
        engine.dispose()
        with make_session_factory(make_engine(url))() as session:
            names = {d.code: d.name_en for d in session.scalars(select(Department))}
            tasks = {t.number: (t.group_title_en, t.title_en) for t in session.scalars(select(WorkPlanTask))}
        assert names["sthjt"] == "Department of Ecology and Environment" and names["jyt"] is None
        assert len(names) == 20 and sum(name is None for name in names.values()) == 1
        assert tasks[3] == ("Build the carbon footprint management system faster",
                            "Put the product carbon label certification system into practice")  # fmt: skip
        assert len(tasks) == 12 and all(group and title for group, title in tasks.values())
        check_database(url)


def test_a_city_cannot_be_deleted_or_renumbered_now_that_claims_hold_its_id_without_a_key(db) -> None:  # type: ignore[no-untyped-def]
    """Revision 0027 took the per-row foreign key off claims.city_id; what it guarded against, a
    claim left pointing at no city, the database refuses at the city's end."""
    city_id = db.scalars(select(City.id).order_by(City.id)).first()
    assert city_id is not None
    assert not [
        key
        for key in inspect(db.connection()).get_foreign_keys("claims")
        if key["referred_table"] == "cities"
    ]
    with pytest.raises(Exception, match="reference rows"), db.begin_nested():
        db.execute(text("DELETE FROM cities WHERE id = :id"), {"id": city_id})
    with pytest.raises(Exception, match="reference rows"), db.begin_nested():
        db.execute(text("UPDATE cities SET id = 999 WHERE id = :id"), {"id": city_id})
    db.execute(text("UPDATE cities SET phone_area_code = phone_area_code WHERE id = :id"), {"id": city_id})
    db.execute(
        text("UPDATE cities SET id = id WHERE id = :id"), {"id": city_id}
    )  # the same id: no renumbering
    assert db.get(City, city_id) is not None
