"""Per-city batch deadlines can be changed, within the province's date, and every change is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tracker.core.errors import TrackerError
from tracker.lifecycle.deadlines import parse_chinese_or_iso_date, set_deadline
from tracker.models import AuditEvent


@pytest.mark.parametrize("text", ["2025-06-27", "2025年6月27日", " 2025年06月27日 "])
def test_dates_in_iso_or_chinese_form(text: str) -> None:
    assert parse_chinese_or_iso_date(text) == dt.date(2025, 6, 27)


def test_a_deadline_change_is_audited_with_before_and_after(db) -> None:  # type: ignore[no-untyped-def]
    row = set_deadline(
        db, batch_number=1, city="太原", deadline=dt.date(2025, 6, 27), source="并环函〔2025〕1号"
    )
    db.commit()
    event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "batch_deadlines",
                                                AuditEvent.entity_id == str(row.id))).all()[-1]  # fmt: skip
    assert event.before["deadline"] == "2025-06-30" and event.after["deadline"] == "2025-06-27"


def test_a_city_deadline_after_the_provinces_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TrackerError, match="不能晚于全省截止日期"):
        set_deadline(db, batch_number=1, city="太原", deadline=dt.date(2025, 7, 1), source=None)


@pytest.mark.usefixtures("cli_database")
def test_deadlines_cli() -> None:
    from tracker_cli.main import cli

    run = CliRunner().invoke
    listed = run(cli, ["deadlines", "list"])
    assert (
        "长治" in listed.output and "2025年6月28日" in listed.output and "长环函〔2025〕36号" in listed.output
    )
    changed = run(cli, ["deadlines", "set", "--batch", "2", "--city", "大同", "2025年9月26日"])
    assert changed.exit_code == 0, changed.output
    assert "2025年9月26日" in run(cli, ["deadlines", "list"]).output
    bad = run(cli, ["deadlines", "set", "--batch", "2", "--city", "大同", "9/26"])
    assert bad.exit_code != 0 and "日期格式不正确" in bad.output and "Not a date" in bad.output
