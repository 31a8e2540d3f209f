"""Settings, read once from the environment (and a ``.env`` file, if present)."""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from dotenv import load_dotenv

from tracker.core.periods import Frequency, Reporting

MailSecurity = Literal["none", "starttls", "ssl"]
LogFormat = Literal["text", "json"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))

#: Every setting the application reads, with its default, documented in README.md
#: (tests/core/test_docs.py fails when one is missing there).
SETTING_NAMES = (
    "TRACKER_DATABASE_URL",
    "TRACKER_SECRET_KEY",
    "TRACKER_TIMEZONE",
    "TRACKER_INSTANCE_DIR",
    "TRACKER_COOKIE_SECURE",
    "TRACKER_PROXY_HOPS",
    "TRACKER_SESSION_HOURS",
    "TRACKER_LOGIN_MAX_FAILURES",
    "TRACKER_LOGIN_WINDOW_MINUTES",
    "TRACKER_MAIL_HOST",
    "TRACKER_MAIL_PORT",
    "TRACKER_MAIL_SECURITY",
    "TRACKER_MAIL_USERNAME",
    "TRACKER_MAIL_PASSWORD",
    "TRACKER_MAIL_FROM",
    "TRACKER_REPORTING_FREQUENCY",
    "TRACKER_UPDATE_DUE_DAYS",
    "TRACKER_UPDATE_WINDOW_DAYS",
    "TRACKER_BEHIND_GAP",
    "TRACKER_SERIOUSLY_BEHIND_GAP",
    "TRACKER_LOG_FORMAT",
    "TRACKER_METRICS_ALLOW",
    # one TRACKER_SCHEDULE_<JOB> per scheduled job (jobs/schedule.py)
    "TRACKER_SCHEDULE_FLAG_SCAN",
    "TRACKER_SCHEDULE_REMINDERS",
    "TRACKER_SCHEDULE_MONTHLY_BULLETIN",
    "TRACKER_SCHEDULE_QUARTERLY_BULLETIN",
    "TRACKER_SCHEDULE_AUDIT_VERIFY",
)
SCHEDULE_PREFIX = "TRACKER_SCHEDULE_"


class SettingsError(ValueError):
    """A setting has a value the application cannot use."""


@dataclass(frozen=True)
class MailSettings:
    host: str | None
    port: int
    security: MailSecurity
    username: str | None
    password: str | None
    sender: str


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    timezone: ZoneInfo
    instance_dir: Path
    cookie_secure: bool
    proxy_hops: int
    session_hours: int
    login_max_failures: int
    login_window_minutes: int
    mail: MailSettings
    reporting: Reporting = field(default_factory=Reporting)
    # 序时进度 gap (expected − actual, percentage points) from which a pilot is behind / seriously behind.
    behind_gap: Decimal = Decimal(5)
    seriously_behind_gap: Decimal = Decimal(20)
    # A task rising more than this (percentage points) in one period: a progress flag (JUMP_WITHOUT_MILESTONE)
    # and a warning the reviewer must acknowledge before accepting the update.
    jump_points: Decimal = Decimal(50)
    # Cron lines ("minute hour day month weekday", in ``timezone``) replacing a job's default, by job id.
    schedules: Mapping[str, str] = field(default_factory=dict)
    log_format: LogFormat = "text"  # "json": one JSON object per line, with the request id
    # Client networks that may read /metrics (the client address as TRACKER_PROXY_HOPS makes it).
    metrics_allow: tuple[Network, ...] = LOOPBACK


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} 必须是整数 / must be an integer: {raw!r}") from None


def log_format(env: Mapping[str, str]) -> LogFormat:
    raw = env.get("TRACKER_LOG_FORMAT", "").strip().lower()
    if raw in ("", "text"):
        return "text"
    if raw == "json":
        return "json"
    raise SettingsError(f"TRACKER_LOG_FORMAT 必须是 text 或 json / must be text or json: {raw!r}")


def metrics_allow(env: Mapping[str, str]) -> tuple[Network, ...]:
    """TRACKER_METRICS_ALLOW: comma-separated networks (CIDR, or one address); loopback when unset."""
    raw = env.get("TRACKER_METRICS_ALLOW", "").strip()
    if not raw:
        return LOOPBACK
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()
        )
    except ValueError:
        raise SettingsError(
            f"TRACKER_METRICS_ALLOW 须为逗号分隔的网段 / must be comma-separated networks (CIDR): {raw!r}"
        ) from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} 必须是 true 或 false / must be true or false: {raw!r}")


def _decimal(env: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise SettingsError(f"{name} 必须是数字 / must be a number: {raw!r}") from None
    if not Decimal(0) <= value <= Decimal(100):
        raise SettingsError(f"{name} 应在0–100之间 / must be between 0 and 100: {raw!r}")
    return value


def _reporting(env: Mapping[str, str]) -> Reporting:
    raw = (env.get("TRACKER_REPORTING_FREQUENCY") or "monthly").strip().lower()
    try:
        frequency = Frequency(raw)
    except ValueError:
        raise SettingsError(
            f"TRACKER_REPORTING_FREQUENCY 只能是 monthly 或 quarterly / must be monthly or quarterly: {raw!r}"
        ) from None
    due_days = _int(env, "TRACKER_UPDATE_DUE_DAYS", 5)
    window_days = _int(env, "TRACKER_UPDATE_WINDOW_DAYS", 10)
    if not 0 <= due_days <= 60 or not 0 <= window_days <= 90:
        raise SettingsError("TRACKER_UPDATE_DUE_DAYS 应在0–60之间，TRACKER_UPDATE_WINDOW_DAYS 应在0–90之间 / "
                            "due days must be 0–60 and window days 0–90")  # fmt: skip
    return Reporting(frequency, due_days, window_days)


def _timezone(env: Mapping[str, str]) -> ZoneInfo:
    name = env.get("TRACKER_TIMEZONE", "").strip() or "Asia/Shanghai"
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        raise SettingsError(f"TRACKER_TIMEZONE 不是有效时区 / is not a valid time zone: {name!r}") from None


def _mail(env: Mapping[str, str]) -> MailSettings:
    security = env.get("TRACKER_MAIL_SECURITY", "").strip().lower() or "starttls"
    if security not in ("none", "starttls", "ssl"):
        raise SettingsError(
            f"TRACKER_MAIL_SECURITY 只能是 none、starttls 或 ssl / must be none, starttls or ssl: {security!r}"
        )
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
    return MailSettings(
        host=env.get("TRACKER_MAIL_HOST") or None,
        port=_int(env, "TRACKER_MAIL_PORT", default_port),
        security=security,  # type: ignore[arg-type]  # checked against the Literal above
        username=env.get("TRACKER_MAIL_USERNAME") or None,
        password=env.get("TRACKER_MAIL_PASSWORD") or None,
        sender=env.get("TRACKER_MAIL_FROM") or "cfp-tracker@localhost",
    )


def read_or_create_secret_key(instance_dir: Path) -> str:
    """Return the key kept in the instance folder, creating it (mode 0600) on first use.

    Safe when several worker processes start at once: the key is written to a private temporary
    file and linked into place, so a reader never sees a half-written key and only one key wins.
    """
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=instance_dir, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32))
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            os.unlink(temporary)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise SettingsError(f"{path} 中的密钥过短 / the secret key in {path} is too short")
    return key


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build settings from a mapping of environment variables."""
    instance_dir = Path(env.get("TRACKER_INSTANCE_DIR") or "var").resolve()
    database_url = env.get("TRACKER_DATABASE_URL") or f"sqlite:///{instance_dir / 'tracker.sqlite3'}"
    secret_key = env.get("TRACKER_SECRET_KEY") or read_or_create_secret_key(instance_dir)
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        timezone=_timezone(env),
        instance_dir=instance_dir,
        cookie_secure=_bool(env, "TRACKER_COOKIE_SECURE", False),
        proxy_hops=_int(env, "TRACKER_PROXY_HOPS", 0),
        session_hours=_int(env, "TRACKER_SESSION_HOURS", 8),
        login_max_failures=_int(env, "TRACKER_LOGIN_MAX_FAILURES", 5),
        login_window_minutes=_int(env, "TRACKER_LOGIN_WINDOW_MINUTES", 15),
        mail=_mail(env),
        reporting=_reporting(env),
        behind_gap=_decimal(env, "TRACKER_BEHIND_GAP", Decimal(5)),
        seriously_behind_gap=_decimal(env, "TRACKER_SERIOUSLY_BEHIND_GAP", Decimal(20)),
        jump_points=_decimal(env, "TRACKER_JUMP_POINTS", Decimal(50)),
        schedules={
            name.removeprefix(SCHEDULE_PREFIX).lower(): value.strip()
            for name, value in env.items()
            if name.startswith(SCHEDULE_PREFIX) and value.strip()
        },
        log_format=log_format(env),
        metrics_allow=metrics_allow(env),
    )


@cache
def get_settings() -> Settings:
    """The process-wide settings: ``.env`` is honoured, real environment variables win."""
    load_dotenv(Path.cwd() / ".env", override=False)
    return load_settings(os.environ)
