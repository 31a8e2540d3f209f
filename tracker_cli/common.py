"""What every ``tracker`` command shares: the database from the settings, a bilingual refusal, acting
``--as`` a named account (its permissions apply) or as the operator for read-only use, and the
reporting period given as an option. The command modules import this, never each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from tracker.access import accounts
from tracker.core.clock import local_today
from tracker.core.config import SettingsError, get_settings
from tracker.core.db import TrackerSession, make_engine, make_session_factory, transaction
from tracker.core.errors import Refusal
from tracker.core.messages import Message, both
from tracker.core.periods import Period, parse_period, reporting_period
from tracker.core.validation import ValidationFailed
from tracker.models import City, Role, User

AS_OPTION = click.option(
    "--as", "username", required=True, help="以哪个账户的身份操作（权限按该账户）/ act as this account"
)
AS_OPTIONAL = click.option(
    "--as", "username", help="以哪个账户的身份导出（默认省级管理员）/ export as this account"
)
PERIOD_HELP = "报告期，如 2026-11、2026年11月、2026Q4；默认当前应填报的报告期 / period (default: the one being reported now)"


def fail(message: Message) -> NoReturn:
    """Stop the command with the message in both languages, one per line."""
    raise click.ClickException(f"{message.zh}\n{message.en}")


def database_url(explicit: str | None = None) -> str:
    try:
        return explicit or get_settings().database_url
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def session_factory(url: str | None = None) -> sessionmaker[TrackerSession]:
    return make_session_factory(make_engine(database_url(url)))


@contextmanager
def acting(username: str | None, label: str) -> Iterator[tuple[TrackerSession, User | None]]:
    """A transaction as the named account (its permissions apply), or as the operator for read-only use."""
    try:
        with transaction(session_factory(), actor=label) as session:
            user = accounts.get_user(session, username) if username else None
            if user is not None:
                if not user.is_active:
                    fail(Message("账户已停用：{username}", username=username))
                session.info["actor"] = user
            yield session, user
    except ValidationFailed as error:
        click.echo("发现以下问题，未写入任何数据： / Problems found; nothing was written:", err=True)
        for problem in error.problems:
            click.echo(f"  - {both(problem)}", err=True)
        raise click.ClickException(
            f"共{len(error.problems)}个问题 / {len(error.problems)} problem(s)"
        ) from None
    except Refusal as error:  # TrackerError and PermissionDenied alike
        fail(error.message)


def find_city(session: TrackerSession, name: str) -> City:
    return accounts.find_city(session, name)


def as_operator(session: TrackerSession, user: User | None) -> User:
    """Exports without --as run as the province's first active administrator (read-only use)."""
    if user is not None:
        return user
    admin = session.scalars(
        select(User).where(User.role == Role.PROVINCE_ADMIN, User.is_active.is_(True)).order_by(User.id)
    ).first()
    if admin is None:
        fail(Message("请用 --as 指定账户"))
    return admin


def period_option(text: str | None) -> Period:
    """The period named by ``--period``, or the one being reported now."""
    settings = get_settings()
    if text:
        return parse_period(text, settings.reporting.frequency)
    return reporting_period(local_today(settings.timezone), settings.reporting)
