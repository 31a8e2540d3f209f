"""Upgrades (issue 23 point 4): a database made by an older release — migrated only to revision 0010
(pilots, updates, flags, claims and their imports; before job runs, the outbox, bulletins, notices and
the audit chain) and filled with plain SQL as that release's tables were — is brought to head by
``tracker init`` with its rows intact and readable through today's models; and a backup of such a
database is restored into an empty one and upgraded the same way.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import select, text

from tests.conftest import BACKEND, fresh_database
from tracker.audit.chain import combined, verify_all
from tracker.core.config import get_settings
from tracker.core.db import TrackerSession, make_engine, make_session_factory, transaction
from tracker.core.migrate import alembic_config, head_revision
from tracker.demo.province import make_credit_code
from tracker.models import (
    Application,
    ApplicationStatus,
    AuditEvent,
    Claim,
    Flag,
    FlagStatus,
    Pilot,
    PilotStatus,
    ProgressUpdate,
    UpdateStatus,
    User,
)
from tracker.models.flags import Closure
from tracker.ops.backup import create_backup
from tracker.ops.databases import count_rows
from tracker.ops.restore import restore_backup
from tracker_cli.main import cli

OLD = "0010"
# PostgreSQL reads a bare timestamp in the session's zone; SQLite keeps what SQLAlchemy would write.
TS = "2025-11-05 02:00:00+00:00" if BACKEND == "postgresql" else "2025-11-05 02:00:00.000000"
CODE = make_credit_code(random.Random(1), "140402")
ROWS: list[tuple[str, dict[str, object]]] = [
    ("provinces", {"id": 1, "code": "140000", "name_zh": "山西省", "short_zh": "山西", "name_en": "Shanxi"}),
    ("cities", {"id": 1, "province_id": 1, "code": "140400", "name_zh": "长治市", "short_zh": "长治",
                "name_en": "Changzhi", "phone_area_code": "0355", "climate_finance_pilot": False}),
    ("products", {"id": 1, "name_zh": "焦炭", "name_en": "coke", "declared_unit": "t", "source": "notice",
                  "first_batch_priority": None}),
    ("batches", {"id": 1, "province_id": 1, "number": 1, "name_zh": "第一批", "provincial_deadline": "2025-06-30",
                 "priority_note": None}),
    ("organisations", {"id": 1, "name": "示例长治焦化有限公司", "credit_code": CODE, "city_id": 1,
                       "kind": "enterprise", "created_at": TS}),
    ("users", {"id": 1, "username": "oldadmin", "display_name": "省厅管理员", "password_hash": "x",
               "role": "province_admin", "province_id": 1, "city_id": None, "email": None, "is_active": True,
               "created_at": TS, "password_changed_at": TS, "last_login_at": TS}),
    ("users", {"id": 2, "username": "oldcity", "display_name": "长治市局", "password_hash": "x",
               "role": "city_staff", "province_id": 1, "city_id": 1, "email": "cz@example.cn", "is_active": True,
               "created_at": TS, "password_changed_at": TS, "last_login_at": None}),
    ("applications", {"id": 1, "organisation_id": 1, "city_id": 1, "batch_id": 1, "category": "product",
                      "product_id": 1, "product_text": "焦炭", "status": "selected", "direct_to_province": False,
                      "is_chain_leader": False, "is_label_pilot_unit": False, "has_green_title": True,
                      "overall_goal": "建立焦炭碳足迹管理体系", "created_at": TS, "submitted_at": TS}),
    ("pilots", {"id": 1, "application_id": 1, "organisation_id": 1, "city_id": 1, "batch_id": 1,
                "category": "product", "product_id": 1, "name": "示例焦炭碳足迹试点", "status": "in_implementation",
                "start_date": "2025-09-01", "end_date": "2026-08-31", "published_on": "2025-08-20", "version": 3}),
    ("tasks", {"id": 1, "pilot_id": 1, "template_id": None, "position": 1, "number": "1", "title": "数据采集",
               "weight": "1.00", "planned_start": "2025-09-01", "planned_end": "2026-08-31"}),
    ("milestones", {"id": 1, "pilot_id": 1, "task_id": 1, "title": "建成数据采集系统", "due_date": "2025-12-01",
                    "evidence_required": True, "achieved_on": "2025-11-20"}),
    ("progress_updates", {"id": 1, "pilot_id": 1, "period_start": "2025-10-01", "period_end": "2025-10-31",
                          "status": "accepted", "work_done": "完成数据采集方案", "submitted_at": TS,
                          "submitted_by_id": 2, "reviewed_at": TS, "reviewed_by_id": 1, "is_late": False,
                          "version": 2, "last_submitted_at": TS, "entered_by_id": 2}),
    ("task_progress", {"id": 1, "update_id": 1, "task_id": 1, "percent": "40.00", "note": None}),
    ("flags", {"id": 1, "fingerprint": "f" * 64, "rule_id": "P01", "severity": "medium", "subject_type": "update",
               "subject_id": 1, "city_id": 1, "pilot_id": 1, "message_zh": "进度倒退", "message_en": "Progress fell",
               "evidence": "{}", "status": "dismissed", "reason": "已核实", "first_seen": TS, "last_seen": TS,
               "closed_at": TS}),
    ("claims", {"id": 1, "claim_key": "C-1", "version": 1, "is_current": True, "content_hash": "a" * 64,
                "source": "csv", "imported_at": TS, "company_name": "示例长治焦化有限公司", "credit_code": CODE,
                "city_id": 1, "pilot_id": 1, "product": "焦炭", "product_id": 1, "declared_unit": "t",
                "footprint": "420.5", "boundary": "cradle_to_gate", "standard": "ISO 14067",
                "period_start": "2024-01-01", "period_end": "2024-12-31", "label_type": "self_declared",
                "published_on": "2025-03-01"}),
    ("audit_events", {"id": 1, "at": TS, "actor_id": 1, "actor_name": "oldadmin", "action": "update",
                      "entity_type": "pilots", "entity_id": "1", "city_id": 1, "summary": "旧版本的记录"}),
]  # fmt: skip
OWN_TABLES = ["organisations", "users", "applications", "pilots", "tasks", "milestones", "progress_updates",
              "task_progress", "flags", "claims"]  # fmt: skip


def build_old_database(url: str) -> None:
    """Alembic to revision 0010 only, then the rows an operator of that release had, in plain SQL."""
    command.upgrade(alembic_config(url), OLD)
    engine = make_engine(url)
    with engine.begin() as connection:
        for table, row in ROWS:
            columns = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
        if BACKEND == "postgresql":  # rows given with ids: move the sequences past them
            for table in {table for table, _row in ROWS}:
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"))
    engine.dispose()


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        build_old_database(url)
        assert count_rows(url).revision == OLD
        yield url


def assert_old_rows_readable(url: str) -> None:
    """Every kind of row the old release wrote, read through today's models."""
    engine = make_engine(url)
    with transaction(make_session_factory(engine), actor="test") as session:
        _check_people_and_plan(session)
        _check_progress_flags_and_claims(session)
        assert combined(verify_all(session)).whole  # events before the chain began are in none
    engine.dispose()


def _check_people_and_plan(session: TrackerSession) -> None:
    users = {u.username: u for u in session.scalars(select(User))}
    assert users["oldcity"].city is not None and users["oldcity"].city.short_zh == "长治"
    assert users["oldadmin"].last_login_at == dt.datetime(2025, 11, 5, 2, tzinfo=dt.UTC)
    application = session.get_one(Application, 1)
    assert application.status is ApplicationStatus.SELECTED and application.has_green_title
    pilot = session.get_one(Pilot, 1)
    assert (pilot.name, pilot.status, pilot.version) == (
        "示例焦炭碳足迹试点",
        PilotStatus.IN_IMPLEMENTATION,
        3,
    )
    assert pilot.organisation.credit_code == CODE and pilot.product is not None
    assert [t.title for t in pilot.tasks] == ["数据采集"]
    assert pilot.milestones[0].achieved_on == dt.date(2025, 11, 20)


def _check_progress_flags_and_claims(session: TrackerSession) -> None:
    update = session.get_one(ProgressUpdate, 1)
    assert update.status is UpdateStatus.ACCEPTED and update.task_progress[0].percent == Decimal("40.00")
    flag = session.get_one(Flag, 1)
    assert (flag.status, flag.reason, flag.closed_by) == (
        FlagStatus.DISMISSED,
        "已核实",
        Closure.REVIEW,
    )  # 0019
    claim = session.get_one(Claim, 1)
    assert claim.footprint == Decimal("420.5") and claim.pilot_id == 1
    event = session.get_one(AuditEvent, 1)
    assert (event.actor_name, event.summary) == ("oldadmin", "旧版本的记录")


def own_counts(url: str) -> dict[str, int]:
    counts = count_rows(url).row_counts
    return {table: counts[table] for table in OWN_TABLES}


def test_tracker_init_upgrades_an_old_database_with_its_data(
    old_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = own_counts(old_database)
    monkeypatch.setenv("TRACKER_DATABASE_URL", old_database)
    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["init"])
        again = CliRunner().invoke(cli, ["init"])  # a second run changes nothing
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert count_rows(old_database).revision == head_revision() != OLD
    assert own_counts(old_database) == before
    assert_old_rows_readable(old_database)
    assert again.exit_code == 0, again.output


def test_a_backup_of_an_old_database_is_restored_and_upgraded(old_database: str, tmp_path: Path) -> None:
    report = create_backup(old_database, tmp_path / "old-instance", tmp_path)
    assert report.manifest.schema_revision == OLD
    with fresh_database(tmp_path) as url:
        restored = restore_backup(url, tmp_path / "new-instance", report.path)
        assert restored.revision == head_revision() == count_rows(url).revision
        assert own_counts(url) == own_counts(old_database)
        assert_old_rows_readable(url)


def test_the_old_schema_predates_what_the_upgrade_adds(old_database: str) -> None:
    """The test means something: revision 0010 really lacks the later tables."""
    tables = set(count_rows(old_database).row_counts)
    assert {"pilots", "claims", "flags"} <= tables
    assert not {"job_runs", "outbox", "bulletins", "notices", "audit_chain"} & tables
