"""tracker — 碳足迹试点监管平台命令行 / CFP Pilot Tracker command line."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

import tracker.audit.trail  # noqa: F401  (installs the audit hooks)
from tracker.access import accounts
from tracker.catalogue import load_catalogue
from tracker.core.config import Settings, get_settings
from tracker.core.db import TrackerSession, transaction
from tracker.core.messages import Label, Message, both
from tracker.core.migrate import upgrade_database
from tracker.models import Role, Trigger, User
from tracker.models.labels import format_datetime_zh, label
from tracker_cli.common import database_url, fail, session_factory

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
ROLE_NAMES = {
    "province_admin": Role.PROVINCE_ADMIN, "province_staff": Role.PROVINCE_STAFF,
    "city_staff": Role.CITY_STAFF, "leader": Role.LEADER,
}  # fmt: skip


def initialise(url: str) -> dict[str, int]:
    """Migrate to the newest schema and load the catalogue (idempotent)."""
    upgrade_database(url)
    with transaction(session_factory(url), actor="tracker init") as session:
        return dict(load_catalogue(session))


@click.group(context_settings=CONTEXT)
def cli() -> None:
    """碳足迹试点监管平台命令行。 / CFP Pilot Tracker command line.

    数据库由环境变量 TRACKER_DATABASE_URL 指定（默认 ./var 下的 SQLite 文件）。
    The database comes from TRACKER_DATABASE_URL (default: an SQLite file under ./var).
    """


@cli.command()
def init() -> None:
    """迁移数据库并载入参考目录（可重复运行）。 / Migrate the database and load the catalogue (safe to rerun)."""
    url = database_url()
    inserted = initialise(url)
    total = sum(inserted.values())
    click.echo(
        f"数据库已是最新结构 / schema up to date: {make_url(url).render_as_string(hide_password=True)}"
    )
    click.echo(f"新载入目录记录 {total} 条 / catalogue rows added: {total}")
    for table, count in sorted(inserted.items()):
        if count:
            click.echo(f"  {table}: {count}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 / address to bind")
@click.option("--port", default=8050, show_default=True, type=int, help="端口 / port")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="工作进程数 / worker processes")  # fmt: skip
def serve(host: str, port: int, workers: int) -> None:
    """用生产级 WSGI 服务器（gunicorn）运行仪表板。 / Serve the dashboard with gunicorn."""
    from tracker_cli.serve import serve as run

    require_free_port(host, port)
    database_url()  # read settings (and create the secret key) once, before workers fork

    run(host, port, workers)


def _bind_error(host: str, port: int) -> OSError | None:
    """Why gunicorn could not listen on host:port now (None: it could), tried as gunicorn binds."""
    import socket

    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        return error
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            probe.bind(address)
        except OSError as error:
            return error
    return None


def require_free_port(host: str, port: int) -> None:
    """Refuse, in both languages, a host:port that cannot be listened on (before any URL is printed)."""
    import errno
    import socket

    error = _bind_error(host, port)
    if error is None:
        return
    if isinstance(error, socket.gaierror):
        fail(Message("无法解析监听地址 {host}：{error}", host=host, error=error))
    if error.errno == errno.EADDRINUSE:
        free = next((p for p in range(port + 1, min(port + 50, 65536)) if _bind_error(host, p) is None), None)
        hint_zh, hint_en = (
            (f"，请换用其他端口，如 --port {free}", f"; try --port {free}") if free else ("", "")
        )
        fail(
            Message(
                "端口 {port} 已被占用（{host}）{hint}", port=port, host=host, hint=Label(hint_zh, hint_en)
            )
        )
    fail(Message("无法在 {host}:{port} 上监听：{value}", host=host, port=port, value=error.strerror or error))  # fmt: skip


@cli.command()
@click.option("--no-serve", is_flag=True, help="只生成演示数据库，不启动服务 / only build the demo database")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 / address to bind")
@click.option("--port", default=8050, show_default=True, type=int, help="端口 / port")
def demo(no_serve: bool, host: str, port: int) -> None:
    """新建演示数据库（SQLite）并启动服务，打印网址和演示账户。 / Fresh demo database, then serve.

    演示数据以今天为基准日（可用 TRACKER_CLOCK_NOW 指定）。 / The demo is built as of today (set
    TRACKER_CLOCK_NOW=2027-01-01T09:00+08:00 to build and serve it as of another day).
    """
    from tracker.core import clock
    from tracker.demo.province import DEMO_PASSWORD, build_demo

    if not no_serve:
        require_free_port(host, port)  # before a minute spent building
    settings = get_settings()
    today = clock.local_today(settings.timezone)
    path = settings.instance_dir / "demo.sqlite3"
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    initialise(url)
    factory = session_factory(url)
    with transaction(factory, actor="tracker demo") as session:
        demo_accounts = build_demo(session, today=today)
    bulletin = _demo_bulletin(factory, settings, today, url)
    click.echo(f"演示数据库 / demo database: {path}")
    click.echo(f"基准日 / reference day: {today.isoformat()}")
    click.echo(f"最近报送月份的调度通报 / the last reported month's bulletin: {bulletin}")
    click.echo(f"演示账户（密码均为 / every password is: {DEMO_PASSWORD}）:")
    for account in demo_accounts:
        scope = account.city_name or "全省 / province"
        click.echo(f"  {account.username:<10} {label(account.role):<10} {scope}")
    click.echo(f"API 令牌 / an API token: TRACKER_DATABASE_URL={url} .venv/bin/tracker users token changzhi")
    if no_serve:
        return
    require_free_port(host, port)  # still free after the build
    click.echo(f"\n请在浏览器打开 / open in a browser: http://{host}:{port}/")
    os.environ["TRACKER_DATABASE_URL"] = url
    get_settings.cache_clear()
    from tracker_cli.serve import serve as run

    run(host, port, 2)


def _demo_bulletin(
    factory: sessionmaker[TrackerSession], settings: Settings, today: dt.date, url: str
) -> str:
    """The dispatch bulletin of the demo's last reported month, built and archived as the scheduled job
    would (so /bulletins, the overview and the summary have one); its messages wait in the outbox for
    ``tracker scheduler``. A failed run says why, and the demo goes on without it."""
    from jobs.runner import run_now
    from jobs.schedule import JOB_BY_ID
    from reports.bulletin_pdf import missing_font
    from tracker.core import clock
    from tracker.demo.province import timeline
    from tracker.models import JobRun, RunState

    spec = JOB_BY_ID["monthly_bulletin"]
    period = timeline(today).history_period.key
    font = missing_font()
    if font is not None:
        click.echo(f"提示 / note: {font[0]}\n  {font[1]}", err=True)
    report = run_now(spec, factory, settings, period, trigger=Trigger.DEMO, now=clock.now_utc)
    text = f"{period} · {both(report.message)}"
    if report.state is RunState.FAILED:
        with factory() as session:
            run = session.scalars(select(JobRun).where(JobRun.job == spec.id, JobRun.period == period)).one()
            lines = [line for line in (run.error or "").strip().splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else "?"
        text += (f"\n  失败原因 / reason: {reason}"
                 f"\n  完整错误 / the full error: TRACKER_DATABASE_URL={url} tracker jobs history --job {spec.id}")  # fmt: skip
    return text


@cli.group()
def users() -> None:
    """管理用户账户。 / Manage user accounts."""


def _role(_ctx: click.Context, _param: click.Parameter, value: str) -> Role:
    return ROLE_NAMES[value]


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLE_NAMES)), callback=_role,
              help="角色 / role")  # fmt: skip
@click.option("--city", help="城市（市级用户必填），如 长治 / city, required for city users")
@click.option("--name", "display_name", help="姓名或单位 / display name")
@click.option("--email", help="电子邮箱 / e-mail")
@click.password_option(help="密码（不少于10位）/ password (10+ characters)")
def users_add(username: str, role: Role, city: str | None, display_name: str | None, email: str | None,
              password: str) -> None:  # fmt: skip
    """新增用户。 / Add a user."""
    try:
        with transaction(session_factory(), actor="tracker users add") as session:
            accounts.create_user(session, username=username, display_name=display_name or username, role=role,
                                 password=password, city=city, email=email)  # fmt: skip
    except accounts.AccountError as error:
        fail(error.message)
    click.echo(f"已新增用户 / user added: {username}")


@users.command("passwd")
@click.argument("username")
@click.password_option(help="新密码 / new password")
def users_passwd(username: str, password: str) -> None:
    """修改密码（同时注销该用户所有会话）。 / Change a password (ends the user's sessions)."""
    try:
        with transaction(session_factory(), actor="tracker users passwd") as session:
            accounts.set_password(session, accounts.get_user(session, username), password)
    except accounts.AccountError as error:
        fail(error.message)
    click.echo(f"密码已修改 / password changed: {username}")


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """停用用户（账户不删除，审计记录保留）。 / Disable a user (kept for the audit trail)."""
    try:
        with transaction(session_factory(), actor="tracker users disable") as session:
            accounts.disable_user(session, accounts.get_user(session, username))
    except accounts.AccountError as error:
        fail(error.message)
    click.echo(f"已停用 / disabled: {username}")


@users.command("token")
@click.argument("username")
@click.option("--label", help="用途说明，如 长治市调度系统 / what the token is for")
@click.option("--revoke", is_flag=True, help="吊销该用户全部令牌 / revoke all of the user's tokens")
def users_token(username: str, label: str | None, revoke: bool) -> None:
    """签发或吊销 API 令牌（令牌只显示一次）。 / Issue or revoke API tokens (shown once)."""
    try:
        with transaction(session_factory(), actor="tracker users token") as session:
            user = accounts.get_user(session, username)
            if revoke:
                count = accounts.revoke_api_tokens(session, user)
            else:
                token = accounts.issue_api_token(session, user, label)
    except accounts.AccountError as error:
        fail(error.message)
    if revoke:
        click.echo(f"已吊销{count}个令牌 / tokens revoked: {count} ({username})")
        return
    click.echo(token)
    click.echo("请妥善保存，令牌不会再次显示；请求时放在 Authorization: Bearer 头中。", err=True)
    click.echo("Keep it safe: it is not shown again. Send it as Authorization: Bearer <token>.", err=True)


@users.command("list")
def users_list() -> None:
    """列出用户。 / List users."""
    settings = get_settings()
    with transaction(session_factory()) as session:
        if not inspect(session.connection()).has_table("users"):
            fail(Message("数据库尚未初始化，请先运行 tracker init"))
        for user in session.scalars(select(User).order_by(User.id)):
            city = user.city.short_zh if user.city else "全省"
            state = "启用/active" if user.is_active else "停用/disabled"
            last = format_datetime_zh(user.last_login_at, settings.timezone) or "-"
            click.echo(f"{user.username:<12} {label(user.role):<10} {city:<6} {state:<14} {last}")


@cli.group()
def deadlines() -> None:
    """查看和修改各市申报截止日期。 / View and change the cities' batch deadlines."""


@deadlines.command("list")
def deadlines_list() -> None:
    """列出各批次各市截止日期。 / List every batch's deadline per city."""
    from tracker.lifecycle.deadlines import list_deadlines
    from tracker.models.labels import format_date_zh

    with transaction(session_factory()) as session:
        for batch, city, row in list_deadlines(session):
            source = row.source or "全省默认 / provincial default"
            click.echo(f"{batch.name_zh}  {city.short_zh:<4} {format_date_zh(row.deadline):<12} {source}")


@deadlines.command("set")
@click.option("--batch", "batch_number", required=True, type=int, help="批次号 / batch number")
@click.option("--city", required=True, help="城市，如 长治 / city")
@click.option("--source", help="依据文件，如 长环函〔2025〕36号 / the notice that sets it")
@click.argument("deadline")
def deadlines_set(batch_number: int, city: str, source: str | None, deadline: str) -> None:
    """修改某市某批次截止日期（记入审计）。 / Change a city's deadline for a batch (audited)."""
    from tracker.core.errors import TrackerError
    from tracker.lifecycle.deadlines import parse_chinese_or_iso_date, set_deadline

    try:
        with transaction(session_factory(), actor="tracker deadlines set") as session:
            row = set_deadline(session, batch_number=batch_number, city=city,
                               deadline=parse_chinese_or_iso_date(deadline), source=source)  # fmt: skip
            click.echo(f"已修改 / changed: 第{batch_number}批 {city} → {row.deadline.isoformat()}")
    except TrackerError as error:
        fail(error.message)


@cli.group()
def audit() -> None:
    """审计日志 / The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """重新计算审计链并指出第一条不符的记录 / Recompute the audit trail's hash chain and name the first
    event that does not match (exit code 1 when the chain is broken)."""
    from tracker.audit.chain import combined, record_verification, verify_all

    with transaction(session_factory(), actor="cli") as session:
        results = verify_all(session)
        record_verification(session, results)
    result = combined(results)
    if not result.whole:
        fail(Message("审计链校验未通过：{problem}（已校验{links}条）", problem=result.problem, links=result.links))  # fmt: skip
    click.echo(f"审计链完好：已校验{result.links}条 / The audit chain is whole: {result.links} links checked")


def _register_groups() -> None:
    from tracker_cli.backup import backup, restore
    from tracker_cli.claims import claims
    from tracker_cli.flag_review import flags_review
    from tracker_cli.jobs import jobs, scheduler
    from tracker_cli.library import library
    from tracker_cli.lifecycle import applications, deadlines_grant, pilots
    from tracker_cli.updates import flags, updates
    from tracker_cli.workplan import workplan

    deadlines.add_command(deadlines_grant)
    cli.add_command(applications)
    cli.add_command(pilots)
    cli.add_command(updates)
    cli.add_command(flags)
    flags.add_command(flags_review)
    cli.add_command(workplan)
    cli.add_command(claims)
    cli.add_command(library)
    cli.add_command(jobs)
    cli.add_command(scheduler)
    cli.add_command(backup)
    cli.add_command(restore)


_register_groups()


def main() -> None:
    cli(prog_name="tracker")


if __name__ == "__main__":
    main()
