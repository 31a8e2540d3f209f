"""tracker jobs / tracker scheduler — 定时任务 / scheduled jobs."""

from __future__ import annotations

import click
from sqlalchemy.orm import sessionmaker

from tracker.core.clock import now_in
from tracker.core.config import Settings, get_settings
from tracker.core.db import TrackerSession
from tracker.core.messages import Listed, Message, both
from tracker.models import Trigger
from tracker.models.labels import format_datetime_zh
from tracker_cli.common import acting, fail, session_factory


@click.group()
def jobs() -> None:
    """定时任务：列表、手动运行、运行记录。 / Scheduled jobs: list, run by hand, history."""


@jobs.command("list")
def jobs_list() -> None:
    """列出全部定时任务及其排程、下次运行时间和最近一次结果。 / Every job with its schedule, next run and last result."""
    from jobs.schedule import JOBS
    from tracker.delivery.job_runs import run_history

    settings = get_settings()
    now = now_in(settings.timezone)
    with session_factory()() as session:
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
@click.option("--force", is_flag=True, help="更新未到期也生成通报（先显示完整率并确认，记入审计）"
              " / build a bulletin before its updates are due (shows the completeness, asks, audited)")  # fmt: skip
@click.option("--yes", is_flag=True, help="不再询问 / do not ask")
def jobs_run(name: str, period: str, dry_run: bool, force: bool, yes: bool) -> None:
    """手动运行一个任务的某一期；已完成的期次不会重复运行；调度通报在更新截止日之后才生成（--force 提前）。
    / Run one job for a period by hand; a finished period is not run again; a bulletin waits for its due day."""
    from jobs.context import JobContext
    from jobs.runner import run_now
    from jobs.schedule import RUNNABLE

    spec = RUNNABLE.get(name)
    if spec is None:
        fail(
            Message(
                "没有名为 {name} 的任务（可用：{runnable}）",
                name=name,
                runnable=Listed(RUNNABLE),
            ),
        )
    from tracker.core.errors import TrackerError

    try:
        period = spec.normalize_period(period)
    except TrackerError as error:
        fail(error.message)
    settings = get_settings()
    if dry_run:
        outcome = spec.work(JobContext(session_factory(), settings, period, dry_run=True))
        click.echo(
            f"演算（未记录）/ dry run, nothing recorded: {outcome.state.value}: {both(outcome.reason)}"
        )
        return
    from tracker.delivery.job_runs import KeepAlive

    factory = session_factory()
    forced = force and _confirm_early(factory, settings, spec.id, period, yes)
    with KeepAlive(factory):  # the run's heartbeat, so a scheduler does not take it over while it runs
        report = run_now(
            spec,
            factory,
            settings,
            period,
            trigger=Trigger.FORCED if forced else Trigger.MANUAL,
            force=forced,
        )
    click.echo(both(report.message))
    if report.state is not None and report.state.value == "failed":
        raise SystemExit(1)


def _confirm_early(
    factory: sessionmaker[TrackerSession], settings: Settings, job: str, period: str, yes: bool
) -> bool:
    """For --force: whether the bulletin is early at all; if so show its completeness, ask, and audit."""
    from jobs.bulletins import readiness
    from jobs.schedule import BULLETIN_JOBS
    from tracker.audit import trail as audit
    from tracker.core.clock import local_today
    from tracker.core.db import transaction
    from tracker.core.periods import parse_period

    frequency = BULLETIN_JOBS.get(job)
    if frequency is None:
        return False
    with factory() as session:
        ready = readiness(session, settings, parse_period(period, frequency), local_today(settings.timezone))
    if ready.is_due:
        return False
    click.echo(both(ready.not_due()))
    if not yes:
        click.confirm("确认强制提前生成吗？ / Build it now anyway?", abort=True)
    with transaction(factory, actor="tracker jobs run --force") as session:
        audit.record(session, "force_run", "job_runs", summary=Message("强制运行 {job} {period}（完整率{completeness}）", job=job, period=period, completeness=ready.completeness()).zh,
                     after={"job": job, "period": period, "submitted": ready.submitted, "expected": ready.expected})  # fmt: skip
    return True


@jobs.command("correct-bulletin")
@click.argument("kind", type=click.Choice(["monthly", "quarterly"]))
@click.argument("period")
@click.option(
    "--reason",
    required=True,
    help="更正原因（写入通报、邮件和审计）/ why (in the bulletin, the message, the audit)",
)
@click.option(
    "--as", "username", required=True, help="以哪个账户的身份操作（须为省级管理员）/ act as this account"
)
@click.option("--yes", is_flag=True, help="不再询问 / do not ask")
def jobs_correct_bulletin(kind: str, period: str, reason: str, username: str, yes: bool) -> None:
    """更正已印发的调度通报：按今天的数据重新生成第N期（更正），与原件一并存档，发送给原通报的发送对象各一次；
    再次更正为（更正2）。 / Correct an issued bulletin: rebuilt from today's data as 第N期（更正）, archived beside the
    original, sent once to the original's recipients; a second correction is （更正2）."""
    from jobs.control import plan_correction, request_correction, take_request
    from tracker.core.clock import now_utc
    from tracker.delivery.job_runs import KeepAlive

    settings = get_settings()
    with acting(username, "tracker jobs correct-bulletin") as (session, user):
        assert user is not None
        plan = plan_correction(session, user, kind, period, now=now_utc(), settings=settings)
        click.echo(both(plan.message))
        click.echo(f"更正原因 / reason: {reason}")
        if not yes:
            click.confirm("确认发布更正吗？ / Issue the correction?", abort=True)
        request_id = request_correction(
            session, user, kind, period, reason, now=now_utc(), settings=settings
        ).id
    factory = session_factory()
    with KeepAlive(factory):
        report = take_request(factory, settings, request_id, now=now_utc())
    if report is None:  # a scheduler took it first: it runs there
        click.echo(
            "调度进程已接手此更正，结果见 tracker jobs history / the scheduler took it; see jobs history"
        )
        return
    click.echo(both(report.message))
    if report.state is not None and report.state.value == "failed":
        raise SystemExit(1)


@jobs.command("history")
@click.option("--job", help="只看这个任务 / one job only")
@click.option("--limit", default=50, show_default=True, help="条数 / how many")
def jobs_history(job: str | None, limit: int) -> None:
    """定时任务的运行记录（最新在前），含失败原因。 / Runs, newest first, with the error of each failure."""
    from tracker.delivery.job_runs import run_history, run_record

    settings = get_settings()
    with session_factory()() as session:
        for run in run_history(session, job, limit):
            click.echo(f"{run.job}\t{run.period}\t{run.state.value}\t第{run.attempt}次\t{run.trigger.value}{':' + run.triggered_by if run.triggered_by else ''}\t"
                       f"{format_datetime_zh(run.started_at, settings.timezone)}\t{both(run_record(run))}")  # fmt: skip
            if run.error:
                click.echo("    " + run.error.strip().splitlines()[-1])


@click.command("scheduler")
def scheduler() -> None:
    """运行定时任务进程（独立进程，不在网站进程内）；停机期间错过的任务启动时补跑一次。
    / Run the scheduler process (its own process, never in a web worker); missed runs are caught up once."""
    from jobs.scheduler import serve
    from tracker.core.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format)  # redacted: no webhook key or password in a log line
    serve(session_factory(), settings)
