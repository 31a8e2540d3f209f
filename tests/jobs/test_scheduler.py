"""The scheduler: triggers in the configured zone whatever the server clock's zone, a missed run
caught up once, fixed job ids with coalescing and a grace time of hours, schedules from settings,
and the jobs CLI (a finished period is not run again)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner

from jobs.schedule import JOB_BY_ID, JOBS
from jobs.scheduler import GRACE, catch_up, last_due, register
from tracker.core.config import SettingsError, load_settings
from tracker.core.db import make_engine, make_session_factory
from tracker_cli.main import cli

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCAN = JOB_BY_ID["flag_scan"]


@pytest.fixture
def settings(tmp_path):  # type: ignore[no-untyped-def]
    return load_settings({"TRACKER_INSTANCE_DIR": str(tmp_path), "TRACKER_SECRET_KEY": "x" * 40})


def test_a_utc_server_fires_at_shanghai_time(settings) -> None:  # type: ignore[no-untyped-def]
    utc_noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    fire = SCAN.trigger(settings).get_next_fire_time(None, utc_noon)
    assert fire.astimezone(dt.UTC) == dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 24th
    assert SCAN.period(fire.astimezone(SHANGHAI)) == "2026-11-24"


def test_a_missed_fire_is_due_within_the_grace_time_only(settings) -> None:  # type: ignore[no-untyped-def]
    three_am = dt.datetime(2026, 11, 24, 3, 0, tzinfo=SHANGHAI)
    assert last_due(SCAN, settings, three_am) == dt.datetime(2026, 11, 24, 1, 30, tzinfo=SHANGHAI)
    assert last_due(SCAN, settings, three_am + GRACE) is None  # 09:00: too late, the next night runs


def test_schedules_come_from_settings_and_a_bad_line_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = {"TRACKER_INSTANCE_DIR": str(tmp_path), "TRACKER_SECRET_KEY": "x" * 40}
    moved = load_settings({**base, "TRACKER_SCHEDULE_FLAG_SCAN": "0 2 * * *"})
    assert SCAN.cron(moved) == "0 2 * * *"
    with pytest.raises(SettingsError, match="TRACKER_SCHEDULE_FLAG_SCAN"):
        SCAN.trigger(load_settings({**base, "TRACKER_SCHEDULE_FLAG_SCAN": "every night"}))


def test_jobs_register_with_fixed_ids_zone_coalescing_and_grace(settings) -> None:  # type: ignore[no-untyped-def]
    scheduler = BackgroundScheduler(timezone=settings.timezone)
    scheduler.start(paused=True)
    register(scheduler, None, settings)  # type: ignore[arg-type]
    register(scheduler, None, settings)  # type: ignore[arg-type]  # registering again replaces, not adds
    jobs = scheduler.get_jobs()
    scheduler.shutdown(wait=False)
    assert sorted(j.id for j in jobs) == sorted(spec.id for spec in JOBS)
    assert all(j.coalesce and j.misfire_grace_time == 6 * 3600 and j.max_instances == 1 for j in jobs)
    assert all(str(j.trigger.timezone) == "Asia/Shanghai" for j in jobs)


def test_a_missed_run_is_caught_up_once(cli_database: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(settings, database_url=cli_database)
    engine = make_engine(cli_database)
    factory = make_session_factory(engine)
    three_am = dt.datetime(2026, 11, 24, 3, 0, tzinfo=SHANGHAI)
    (first,) = catch_up(factory, settings, three_am)
    assert first.ran and first.period == "2026-11-24" and "声明核查" in first.message_zh
    (again,) = catch_up(factory, settings, three_am + dt.timedelta(minutes=5))  # a restart
    assert not again.ran
    engine.dispose()


def test_the_jobs_cli_runs_a_period_once_and_keeps_the_history(cli_database: str) -> None:
    run = CliRunner().invoke
    listed = run(cli, ["jobs", "list"])
    assert listed.exit_code == 0 and "flag_scan" in listed.output and "夜间风险核查" in listed.output
    first = run(cli, ["jobs", "run", "flag_scan", "--period", "2026-11-24"])
    assert first.exit_code == 0 and "完成" in first.output, first.output
    second = run(cli, ["jobs", "run", "flag_scan", "--period", "2026-11-24"])
    assert second.exit_code == 0 and "未重复运行" in second.output and "not run again" in second.output
    dry = run(cli, ["jobs", "run", "flag_scan", "--period", "2026-11-25", "--dry-run"])
    assert dry.exit_code == 0 and "未记录" in dry.output
    history = run(cli, ["jobs", "history"])
    assert history.output.count("flag_scan") == 1 and "succeeded" in history.output
    unknown = run(cli, ["jobs", "run", "nightly", "--period", "2026-11-24"])
    assert unknown.exit_code != 0 and "没有名为 nightly 的任务" in unknown.output


@pytest.mark.parametrize(
    ("utc", "job", "period"),
    [
        # 16:30 UTC on the last day of a month is already 00:30 on the 1st in Shanghai
        (dt.datetime(2026, 2, 28, 16, 30, tzinfo=dt.UTC), "monthly_bulletin", "2026-02"),  # 28-day February
        (dt.datetime(2024, 2, 29, 16, 30, tzinfo=dt.UTC), "monthly_bulletin", "2024-02"),  # leap year
        (dt.datetime(2026, 2, 28, 15, 30, tzinfo=dt.UTC), "monthly_bulletin", "2026-01"),  # 23:30 on 28 Feb
        (dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC), "monthly_bulletin", "2025-12"),  # year end
        (dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC), "quarterly_bulletin", "2025Q4"),
        (dt.datetime(2026, 3, 31, 15, 59, tzinfo=dt.UTC), "quarterly_bulletin", "2025Q4"),  # 23:59 on 31 Mar
        (dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.UTC), "quarterly_bulletin", "2026Q1"),  # midnight, 1 Apr
        (dt.datetime(2025, 9, 30, 16, 30, tzinfo=dt.UTC), "reminders", "2025-10-01"),  # National Day
    ],
)
def test_the_period_of_a_fire_is_taken_in_shanghai_time_across_month_and_quarter_ends(
    utc, job, period
) -> None:  # type: ignore[no-untyped-def]
    assert JOB_BY_ID[job].period(utc.astimezone(SHANGHAI)) == period


def test_bulletin_fires_land_on_the_8th_in_shanghai_whatever_the_server_zone(settings) -> None:  # type: ignore[no-untyped-def]
    monthly, quarterly = JOB_BY_ID["monthly_bulletin"], JOB_BY_ID["quarterly_bulletin"]
    fire = monthly.trigger(settings).get_next_fire_time(None, dt.datetime(2026, 1, 31, 20, 0, tzinfo=dt.UTC))
    assert fire.astimezone(dt.UTC) == dt.datetime(2026, 2, 8, 1, 0, tzinfo=dt.UTC)  # 09:00 Shanghai
    assert monthly.period(fire.astimezone(SHANGHAI)) == "2026-01"
    fire = quarterly.trigger(settings).get_next_fire_time(None, dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    assert fire.astimezone(SHANGHAI) == dt.datetime(2026, 4, 8, 10, 0, tzinfo=SHANGHAI)
    assert quarterly.period(fire.astimezone(SHANGHAI)) == "2026Q1"


@pytest.mark.parametrize(("job", "text", "canonical"), [
    ("monthly_bulletin", "2025-10", "2025-10"), ("monthly_bulletin", "2025年10月", "2025-10"),
    ("quarterly_bulletin", "2025年第3季度", "2025Q3"), ("reminders", "2026年2月14日", "2026-02-14"),
])  # fmt: skip
def test_periods_typed_by_hand_are_read_in_either_form(job, text, canonical) -> None:  # type: ignore[no-untyped-def]
    assert JOB_BY_ID[job].normalize_period(text) == canonical


@pytest.mark.parametrize(("job", "text"), [("monthly_bulletin", "2025Q3"), ("monthly_bulletin", "2025-13"),
                                           ("quarterly_bulletin", "2025-10"), ("reminders", "2026-02-30")])  # fmt: skip
def test_a_wrong_period_is_refused_in_both_languages(cli_database: str, job, text) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["jobs", "run", job, "--period", text])
    assert result.exit_code == 1 and text in result.output
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.output) and "Not a" in result.output
    assert not CliRunner().invoke(cli, ["jobs", "history"]).output.strip()  # nothing was run
