"""Exactly once per job and period: a run is claimed in the database before any work; a second
claimant, a manual run of a finished period, two processes at the same instant, and a process killed
mid-run followed by a restart each leave one completed run. A run whose heartbeat is over two
minutes old is taken over (one of two takers wins); the keep-alive thread renews this process's runs."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker.core import clock
from tracker.core.db import make_engine, make_session_factory
from tracker.core.messages import Day, Message
from tracker.delivery.job_runs import (
    STALE_AFTER,
    Claim,
    Outcome,
    add_note,
    claim_run,
    finish_run,
    heartbeat,
    run_job,
    run_reason,
)
from tracker.models import JobRun, RunState

T0 = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


@pytest.fixture
def sessions(cli_database: str):  # type: ignore[no-untyped-def]
    engine = make_engine(cli_database)
    yield make_session_factory(engine)
    engine.dispose()


def runs(sessions) -> list[JobRun]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_a_run_is_claimed_once_and_a_finished_period_is_not_run_again(sessions) -> None:  # type: ignore[no-untyped-def]
    done: list[str] = []

    def work(claim: Claim) -> Outcome:
        done.append("bulletin")
        return Outcome(RunState.SUCCEEDED, Message("通报已生成"))

    first = run_job(sessions, "monthly_bulletin", "2026-10", work, now=lambda: T0, trigger="scheduled")
    again = run_job(sessions, "monthly_bulletin", "2026-10", work, now=lambda: T0, trigger="manual")
    assert (first.ran, first.state, again.ran, again.state) == (
        True,
        RunState.SUCCEEDED,
        False,
        RunState.SUCCEEDED,
    )
    assert "已完成，未重复运行" in again.message_zh and done == ["bulletin"]
    assert run_job(sessions, "monthly_bulletin", "2026-11", work, now=lambda: T0, trigger="manual").ran
    assert [(r.period, r.state, r.attempt) for r in runs(sessions)] == [
        ("2026-10", RunState.SUCCEEDED, 1), ("2026-11", RunState.SUCCEEDED, 1)]  # fmt: skip


def test_a_failed_run_keeps_its_error_and_the_next_attempt_retries_it(sessions) -> None:  # type: ignore[no-untyped-def]
    def broken(claim: Claim) -> Outcome:
        raise ConnectionRefusedError("SMTP 127.0.0.1:2525 refused")

    failed = run_job(sessions, "monthly_bulletin", "2026-10", broken, now=lambda: T0, trigger="scheduled")
    (run,) = runs(sessions)
    assert failed.state is RunState.FAILED and "ConnectionRefusedError" in (run.error or "")
    retried = run_job(sessions, "monthly_bulletin", "2026-10", lambda c: Outcome(RunState.SUCCEEDED, Message("ok")),
                      now=lambda: T0 + dt.timedelta(hours=1), trigger="scheduled")  # fmt: skip
    (run,) = runs(sessions)
    assert retried.ran and (run.state, run.attempt) == (RunState.SUCCEEDED, 2)


def test_a_skipped_run_says_why_in_the_readers_language(sessions) -> None:  # type: ignore[no-untyped-def]
    why = Message("{day}没有需要提醒的事项", day=Day(dt.date(2026, 11, 24)))
    report = run_job(sessions, "reminders", "2026-11-24", lambda c: Outcome(RunState.SKIPPED, why),
                     now=lambda: T0, trigger="scheduled")  # fmt: skip
    (run,) = runs(sessions)
    assert report.state is RunState.SKIPPED and run.reason == "2026年11月24日没有需要提醒的事项"  # the record
    assert run_reason(run, "zh_CN") == run.reason
    assert run_reason(run, "en") == "Nothing to remind on Nov 24, 2026"
    # A later run's note is one more line, in each language; the same note twice is kept once.
    note = Message(
        "{day}{how}：{note}", day=Day(dt.date(2026, 11, 25)), how=Message("补跑"), note=Message("完好")
    )
    add_note(sessions, "reminders", "2026-11-24", note)
    add_note(sessions, "reminders", "2026-11-24", note)
    (run,) = runs(sessions)
    assert run_reason(run, "zh_CN").splitlines() == [
        "2026年11月24日没有需要提醒的事项",
        "2026年11月25日补跑：完好",
    ]
    assert run_reason(run, "en").splitlines()[0] == "Nothing to remind on Nov 24, 2026"
    assert "Nov 25, 2026" in run_reason(run, "en").splitlines()[1]


def test_a_run_recorded_before_its_reason_was_kept_as_messages_shows_its_text(sessions) -> None:  # type: ignore[no-untyped-def]
    run_job(sessions, "reminders", "2026-11-24", lambda c: Outcome(RunState.SKIPPED, Message("没有收件人")),
            now=lambda: T0, trigger="scheduled")  # fmt: skip
    with sessions() as session:
        stored = session.scalars(select(JobRun)).one()
        stored.reason_data = None  # as migration 0022 leaves an older row
        session.commit()
    add_note(sessions, "reminders", "2026-11-24", Message("完好"))
    (run,) = runs(sessions)
    assert run_reason(run, "en").splitlines() == ["没有收件人", "Intact"]


def test_a_stuck_run_is_taken_over_after_the_timeout_and_the_old_worker_cannot_overwrite_it(sessions) -> None:  # type: ignore[no-untyped-def]
    stale = dt.timedelta(minutes=30)
    old = claim_run(sessions, "flag_scan", "2026-11-24", now=T0, trigger="scheduled", stale_after=stale)
    assert old is not None
    assert claim_run(sessions, "flag_scan", "2026-11-24", now=T0 + dt.timedelta(minutes=10),
                     trigger="scheduled", stale_after=stale) is None  # still alive  # fmt: skip
    assert heartbeat(sessions, old, now=T0 + dt.timedelta(minutes=20))
    assert claim_run(sessions, "flag_scan", "2026-11-24", now=T0 + dt.timedelta(minutes=45),
                     trigger="scheduled", stale_after=stale) is None  # heartbeat 25 minutes ago  # fmt: skip
    new = claim_run(sessions, "flag_scan", "2026-11-24", now=T0 + dt.timedelta(minutes=51),
                    trigger="scheduled", stale_after=stale)  # fmt: skip
    assert new is not None and new.attempt == 2
    assert not finish_run(sessions, old, RunState.SUCCEEDED, now=T0 + dt.timedelta(minutes=52))
    assert not heartbeat(sessions, old, now=T0 + dt.timedelta(minutes=52))  # told to stop
    assert finish_run(
        sessions, new, RunState.SUCCEEDED, now=T0 + dt.timedelta(minutes=53), reason=Message("done")
    )
    (run,) = runs(sessions)
    assert (run.state, run.attempt, run.reason) == (RunState.SUCCEEDED, 2, "done")
    assert "超时无响应" in (run.error or "")


# --- other processes -------------------------------------------------------------------------------


def _racer(url: str, ledger: str, start: float, hang: bool) -> None:  # runs in a child process
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    while time.time() < start:  # both processes reach the claim at the same instant
        time.sleep(0.001)

    def work(claim: Claim) -> Outcome:
        with open(ledger, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} attempt {claim.attempt}\n")
        if hang:
            time.sleep(600)  # killed here
        return Outcome(RunState.SUCCEEDED, Message("通报已发送"))

    run_job(
        sessions,
        "monthly_bulletin",
        "2026-10",
        work,
        now=lambda: dt.datetime.now(dt.UTC),
        trigger="scheduled",
    )
    engine.dispose()


def _spawn(url: str, ledger: Path, start: float, hang: bool = False) -> multiprocessing.process.BaseProcess:
    process = multiprocessing.get_context("spawn").Process(
        target=_racer, args=(url, str(ledger), start, hang)
    )
    process.start()
    return process


def test_two_scheduler_processes_at_the_same_fire_time_make_one_bulletin(
    cli_database: str, sessions, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    ledger = tmp_path / "ledger.txt"
    start = time.time() + 3
    processes = [_spawn(cli_database, ledger, start) for _ in range(2)]
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0]
    assert len(ledger.read_text().splitlines()) == 1
    assert [(r.state, r.attempt) for r in runs(sessions)] == [(RunState.SUCCEEDED, 1)]


def test_a_process_killed_mid_run_is_completed_once_after_a_restart(
    cli_database: str, sessions, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    ledger = tmp_path / "ledger.txt"
    victim = _spawn(cli_database, ledger, time.time(), hang=True)
    deadline = time.time() + 60
    while not (ledger.exists() and ledger.read_text()) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
    victim.join(10)
    restarted = run_job(sessions, "monthly_bulletin", "2026-10", lambda c: Outcome(RunState.SUCCEEDED, Message("通报已发送")),
                        now=lambda: dt.datetime.now(dt.UTC), trigger="scheduled")  # fmt: skip
    assert not restarted.ran  # within the timeout the dead worker still holds the run
    assert (
        f"正由 {socket.gethostname()}:{victim.pid} 运行" in restarted.message_zh
        and "将被接管" in restarted.message_zh
    )
    later = run_job(sessions, "monthly_bulletin", "2026-10", lambda c: Outcome(RunState.SUCCEEDED, Message("通报已发送")),
                    now=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=3), trigger="scheduled")  # fmt: skip
    again = run_job(sessions, "monthly_bulletin", "2026-10", lambda c: Outcome(RunState.SUCCEEDED, Message("x")),
                    now=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=4), trigger="manual")  # fmt: skip
    assert later.ran and later.state is RunState.SUCCEEDED and not again.ran
    assert [(r.state, r.attempt) for r in runs(sessions)] == [(RunState.SUCCEEDED, 2)]


# --- heartbeats and takeover -----------------------------------------------------------------------


def _left_running(sessions, job: str, period: str, *, beat: dt.datetime, worker: str) -> None:  # type: ignore[no-untyped-def]
    """A run row as a process leaves it when it is killed: ``running``, its last heartbeat at ``beat``."""
    with sessions() as session:
        session.add(JobRun(job=job, period=period, state=RunState.RUNNING, attempt=1, trigger="scheduled",
                           worker=worker, started_at=beat, heartbeat_at=beat))  # fmt: skip
        session.commit()


def test_a_run_whose_heartbeat_is_stale_is_taken_over_and_a_fresh_one_is_not(
    cli_database: str, sessions, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from jobs.scheduler import take_over_stale
    from tests.conftest import make_settings

    settings = make_settings(cli_database, tmp_path)
    now = clock.now_utc()  # what the takeover's claim will read
    _left_running(sessions, "flag_scan", "2026-11-20", beat=now - STALE_AFTER - dt.timedelta(seconds=1),
                  worker="gone-host:4242")  # fmt: skip
    _left_running(sessions, "flag_scan", "2026-11-21", beat=now - STALE_AFTER + dt.timedelta(seconds=20),
                  worker="busy-host:4343")  # fmt: skip
    (report,) = take_over_stale(sessions, settings, now=now)
    assert (report.period, report.ran, report.state) == ("2026-11-20", True, RunState.SUCCEEDED)
    taken, fresh = runs(sessions)
    assert (taken.state, taken.attempt, taken.trigger) == (RunState.SUCCEEDED, 2, "takeover")
    assert "gone-host:4242" in (taken.error or "") and "超时无响应" in (taken.error or "")
    assert (fresh.state, fresh.attempt, fresh.worker) == (RunState.RUNNING, 1, "busy-host:4343")
    assert take_over_stale(sessions, settings, now=now) == []  # nothing stale left


def test_the_keep_alive_thread_renews_this_processes_runs_and_its_scheduler_row(sessions) -> None:  # type: ignore[no-untyped-def]
    from tracker.delivery.job_runs import KeepAlive, is_alive, register_scheduler, schedulers_seen

    taken: list[dt.datetime] = []

    def clock() -> dt.datetime:  # each beat asks it once; 15 s further each time
        taken.append(T0 + dt.timedelta(seconds=15 * (len(taken) + 1)))
        return taken[-1]

    mine = claim_run(sessions, "flag_scan", "2026-11-24", now=T0, trigger="scheduled")
    assert mine is not None
    _left_running(sessions, "reminders", "2026-11-24", beat=T0, worker="other-host:1")
    register_scheduler(sessions, now=T0 - dt.timedelta(days=40))  # long gone: dropped at the next start
    process_id = register_scheduler(sessions, now=T0)
    with KeepAlive(sessions, process_id=process_id, every=dt.timedelta(milliseconds=20), clock=clock):
        deadline = time.monotonic() + 60  # a loaded machine beats slowly: wait for the beats, not a time
        while len(taken) < 6 and time.monotonic() < deadline:  # the 6th asked: the 5th is written
            time.sleep(0.02)
    beats = {r.job: r.heartbeat_at for r in runs(sessions)}
    assert beats["flag_scan"] > T0 + dt.timedelta(minutes=1) and beats["reminders"] == T0  # others' untouched
    with sessions() as session:
        (process,) = schedulers_seen(session)
    assert (process.pid, process.started_at) == (os.getpid(), T0) and process.last_beat == beats["flag_scan"]
    assert is_alive(process, process.last_beat + dt.timedelta(seconds=59))
    assert not is_alive(process, process.last_beat + dt.timedelta(minutes=1))


def _taker(url: str, ledger: str, start: float) -> None:  # runs in a child process
    engine = make_engine(url)
    while time.time() < start:
        time.sleep(0.001)
    claim = claim_run(make_session_factory(engine), "monthly_bulletin", "2026-10", now=dt.datetime.now(dt.UTC),
                      trigger="takeover")  # fmt: skip
    if claim is not None:
        with open(ledger, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} attempt {claim.attempt}\n")
    engine.dispose()


def test_two_schedulers_taking_over_one_dead_run_at_the_same_instant_one_wins(
    cli_database: str, sessions, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _left_running(sessions, "monthly_bulletin", "2026-10", beat=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
                  worker="gone-host:4242")  # fmt: skip
    ledger, start = tmp_path / "ledger.txt", time.time() + 3
    spawn = multiprocessing.get_context("spawn")
    takers = [spawn.Process(target=_taker, args=(cli_database, str(ledger), start)) for _ in range(2)]
    for taker in takers:
        taker.start()
    for taker in takers:
        taker.join(60)
    assert [t.exitcode for t in takers] == [0, 0]
    assert [line.split()[-1] for line in ledger.read_text().splitlines()] == ["2"]
    (run,) = runs(sessions)
    assert (run.state, run.attempt, run.trigger) == (RunState.RUNNING, 2, "takeover")
