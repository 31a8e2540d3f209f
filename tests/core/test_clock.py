"""tracker.core.clock: the one clock, set by code or by TRACKER_CLOCK_NOW (also in a child process)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from tracker.core import clock
from tracker.core.db import utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_pinned_clock_is_what_every_reader_sees_and_is_restored() -> None:
    before = clock.is_set()
    with clock.pinned("2027-01-01T07:30+08:00") as instant:
        assert instant == dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
        assert clock.now_utc() == utcnow() == instant  # tracker.core.db.utcnow reads the same clock
        assert clock.local_today(SHANGHAI) == dt.date(2027, 1, 1)
        assert clock.local_today(dt.UTC) == dt.date(2026, 12, 31)
        assert clock.now_in(SHANGHAI).hour == 7
        with clock.pinned(dt.datetime(2028, 2, 29, 12, tzinfo=SHANGHAI)):
            assert clock.local_today(SHANGHAI) == dt.date(2028, 2, 29)
        assert clock.now_utc() == instant  # the outer setting is back
    assert clock.is_set() is before


def test_the_wall_clock_when_not_set() -> None:
    with clock.pinned("2030-06-01"):
        clock.set_now(None)
        wall = dt.datetime.now(dt.UTC)
        assert abs((clock.now_utc() - wall).total_seconds()) < 5
        assert not clock.is_set()


def test_a_bare_date_is_noon_in_china_and_bad_text_is_refused_in_both_languages() -> None:
    assert clock.parse_instant("2027-03-31") == dt.datetime(2027, 3, 31, 4, tzinfo=dt.UTC)
    assert clock.parse_instant("2027-03-31T01:00Z") == dt.datetime(2027, 3, 31, 1, tzinfo=dt.UTC)
    for bad in ("2027-03-31T09:00", "tomorrow", "2027-02-30"):
        with pytest.raises(clock.ClockError, match=r"不是带时区的时刻.*is not an instant"):
            clock.parse_instant(bad)
    with pytest.raises(clock.ClockError):
        clock.set_now(dt.datetime(2027, 1, 1))  # naive


def test_the_environment_variable_sets_the_clock_of_a_child_process() -> None:
    code = "from tracker.core import clock; print(clock.now_utc().isoformat(), clock.is_set())"
    env = {**os.environ, clock.ENV: "2028-02-29T09:00+08:00"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2028-02-29T01:00:00+00:00", "True"]
    env[clock.ENV] = ""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[1] == "False"


def test_from_environment_reads_the_variable() -> None:
    with clock.pinned("2026-01-01"):
        clock.from_environment({clock.ENV: "2027-01-01T09:00+08:00"})
        assert clock.now_utc() == dt.datetime(2027, 1, 1, 1, tzinfo=dt.UTC)
        clock.from_environment({})
        assert not clock.is_set()


def test_a_tracker_command_in_a_child_process_lives_on_the_set_day(cli_database: str) -> None:
    """``tracker jobs list`` works out the next runs from the clock: set to New Year's Day 2027,
    the next monthly bulletin is on 8 January 2027 and the next quarterly one too."""
    env = {**os.environ, clock.ENV: "2027-01-01T09:00+08:00", "TRACKER_DATABASE_URL": cli_database,
           "TRACKER_TIMEZONE": "Asia/Shanghai"}  # fmt: skip
    for name in ("TRACKER_SCHEDULE_MONTHLY_BULLETIN", "TRACKER_SCHEDULE_QUARTERLY_BULLETIN"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, "-m", "tracker_cli.main", "jobs", "list"], env=env, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()}
    assert rows["monthly_bulletin"][3].startswith("2027年1月8日"), out
    assert rows["quarterly_bulletin"][3].startswith("2027年1月8日"), out
    assert rows["flag_scan"][3].startswith("2027年1月2日"), out  # 01:30 on 1 January has passed
