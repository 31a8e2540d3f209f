"""`tracker jobs run --force` and `tracker jobs correct-bulletin`: the CLI's side of bulletins that wait
for their updates and can be corrected; it shows what it would do, asks, audits, and refuses others."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tracker.core import clock
from tracker.core.db import make_engine, make_session_factory
from tracker.delivery.bulletin_archive import archive_bulletin
from tracker.models import AuditEvent, Bulletin, City, JobRun, RunState, Trigger
from tracker_cli.main import cli

PASSWORDS = "Good-pass-2025\nGood-pass-2025\n"
EARLY = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC)  # November's updates are due on 5 December


@pytest.fixture
def factory(cli_database: str) -> Any:
    for name, role in (("adm", "province_admin"), ("shg", "province_staff")):
        result = CliRunner().invoke(cli, ["users", "add", name, "--role", role], input=PASSWORDS)
        assert result.exit_code == 0, result.output
    return make_session_factory(make_engine(cli_database))


def test_an_early_bulletin_waits_and_is_forced_only_when_confirmed(factory) -> None:  # type: ignore[no-untyped-def]
    run = CliRunner().invoke
    with clock.pinned(EARLY):
        waits = run(cli, ["jobs", "run", "monthly_bulletin", "--period", "2026-11"])
        refused = run(cli, ["jobs", "run", "monthly_bulletin", "--period", "2026-11", "--force"], input="n\n")
        with factory() as session:
            assert session.scalars(select(JobRun)).one().state is RunState.DEFERRED
            assert session.scalars(select(AuditEvent).where(AuditEvent.action == "force_run")).all() == []
        forced = run(cli, ["jobs", "run", "monthly_bulletin", "--period", "2026-11", "--force", "--yes"])
    assert waits.exit_code == 0 and "更新截止2026年12月5日，尚未到期" in waits.output, waits.output
    assert refused.exit_code != 0 and "完整率" in refused.output
    assert forced.exit_code == 0, forced.output
    with factory() as session:
        run_row = session.scalars(select(JobRun)).one()
        assert (run_row.trigger, run_row.triggered_by) == (
            Trigger.FORCED,
            None,
        ) and run_row.state is not RunState.DEFERRED
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "force_run"))
        assert "monthly_bulletin 2026-11" in (event.summary or "")


def test_the_admin_corrects_an_issued_bulletin_and_no_one_else(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as session:
        province_id = session.scalars(select(City.province_id)).first()
        archive_bulletin(session, province_id=province_id, kind="monthly", period="2026-10", cut="province",
                         city_id=None, number=1, issued_on=dt.date(2026, 11, 8), title="山西省调度通报（第1期）",
                         summary="原件", file_name="原件.xlsx", content_type="application/octet-stream",
                         content=b"original", run_id=None, now=EARLY)  # fmt: skip
        session.commit()
    run = CliRunner().invoke
    args = ["jobs", "correct-bulletin", "monthly", "2026-10", "--reason", "长治数据有误"]
    with clock.pinned(EARLY):
        staff = run(cli, [*args, "--as", "shg", "--yes"])
        not_issued = run(
            cli, ["jobs", "correct-bulletin", "monthly", "2026-09", "--reason", "x", "--as", "adm"]
        )
        admin = run(cli, [*args, "--as", "adm", "--yes"])
    assert staff.exit_code != 0 and "仅省级管理员" in staff.output
    assert not_issued.exit_code != 0 and "尚未印发" in not_issued.output
    assert admin.exit_code == 0 and "第1期（更正）" in admin.output, admin.output
    with factory() as session:
        rows = session.scalars(select(Bulletin).where(Bulletin.cut == "province").order_by(Bulletin.id)).all()
        assert [(b.correction, b.number) for b in rows] == [(0, 1), (1, 1)] and rows[
            1
        ].reason == "长治数据有误"
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "request_correction"))
        assert event.actor_name == "adm"
