"""tracker jobs / tracker scheduler — 定时任务 / scheduled jobs."""

from __future__ import annotations

import logging

import click

from tracker.clock import now_in
from tracker.config import get_settings
from tracker.labels import format_datetime_zh


def _factory():  # type: ignore[no-untyped-def]
    from tracker_cli.main import _factory as factory

    return factory()


@click.group()
def jobs() -> None:
    """定时任务：列表、手动运行、运行记录。 / Scheduled jobs: list, run by hand, history."""


@jobs.command("list")
def jobs_list() -> None:
    """列出全部定时任务及其排程、下次运行时间和最近一次结果。 / Every job with its schedule, next run and last result."""
    from jobs.schedule import JOBS
    from tracker.job_runs import run_history

    settings = get_settings()
    now = now_in(settings.timezone)
    with _factory()() as session:
        for spec in JOBS:
            following = spec.trigger(settings).get_next_fire_time(None, now)
            last = next(iter(run_history(session, spec.id, limit=1)), None)
            done = f"{last.period} {last.state.value}" if last else "—"
            click.echo(f"{spec.id}\t{spec.name_zh}\t{spec.cron(settings)}\t"
                       f"{format_datetime_zh(following, settings.timezone) if following else '—'}\t{done}")  # fmt: skip


@jobs.command("run")
@click.argument("name")
@click.option("--period", required=True, help="期次，如 2025-10 或 2026-11-24 / the period, e.g. 2025-10")
@click.option("--dry-run", is_flag=True, help="只演算，不记录、不发送 / work it out, record and send nothing")
def jobs_run(name: str, period: str, dry_run: bool) -> None:
    """手动运行一个任务的某一期；已完成的期次不会重复运行。 / Run one job for a period by hand; a finished period is not run again."""
    from jobs.schedule import JOB_BY_ID, JobContext
    from jobs.scheduler import run_now
    from tracker_cli.main import fail

    spec = JOB_BY_ID.get(name)
    if spec is None:
        fail(
            f"没有名为 {name} 的任务（可用：{'、'.join(JOB_BY_ID)}）",
            f"no job named {name} (have: {', '.join(JOB_BY_ID)})",
        )
        return
    from tracker.errors import TrackerError

    try:
        period = spec.normalize_period(period)
    except TrackerError as error:
        fail(error.message_zh, error.message_en)
        return
    settings = get_settings()
    if dry_run:
        outcome = spec.work(JobContext(_factory(), settings, period, dry_run=True))
        click.echo(f"演算（未记录）/ dry run, nothing recorded: {outcome.state.value}: {outcome.reason}")
        return
    from tracker.job_runs import KeepAlive

    factory = _factory()
    with KeepAlive(factory):  # the run's heartbeat, so a scheduler does not take it over while it runs
        report = run_now(spec, factory, settings, period, trigger="manual")
    click.echo(f"{report.message_zh} / {report.message_en}")
    if report.state is not None and report.state.value == "failed":
        raise SystemExit(1)


@jobs.command("history")
@click.option("--job", help="只看这个任务 / one job only")
@click.option("--limit", default=50, show_default=True, help="条数 / how many")
def jobs_history(job: str | None, limit: int) -> None:
    """定时任务的运行记录（最新在前），含失败原因。 / Runs, newest first, with the error of each failure."""
    from tracker.job_runs import run_history

    settings = get_settings()
    with _factory()() as session:
        for run in run_history(session, job, limit):
            click.echo(f"{run.job}\t{run.period}\t{run.state.value}\t第{run.attempt}次\t{run.trigger}\t"
                       f"{format_datetime_zh(run.started_at, settings.timezone)}\t{run.reason or ''}")  # fmt: skip
            if run.error:
                click.echo("    " + run.error.strip().splitlines()[-1])


@click.command("scheduler")
def scheduler() -> None:
    """运行定时任务进程（独立进程，不在网站进程内）；停机期间错过的任务启动时补跑一次。
    / Run the scheduler process (its own process, never in a web worker); missed runs are caught up once."""
    from jobs.scheduler import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    serve(_factory(), get_settings())
