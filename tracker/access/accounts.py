"""Accounts: password hashing (argon2id), login with rate limiting, server-side sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, false, func, select, update
from sqlalchemy.orm import Session, joinedload

from tracker.audit import trail as audit
from tracker.core.db import utcnow
from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.models import ApiToken, City, LoginAttempt, Province, Role, User, UserSession

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
MIN_PASSWORD_LENGTH = 10
API_TOKEN_PREFIX = "cfp_"  # recognisable in logs and secret scanners


class AccountError(TrackerError):
    """Bad account input."""


class LoginRefused(AccountError):
    """Wrong credentials, a disabled account, or too many recent failures."""

    def __init__(self, message: Message, *, known_user: bool = False) -> None:
        super().__init__(message)
        self.known_user = known_user  # False: the typed name is no account (perhaps a mistyped password)


class LoginRateLimited(LoginRefused):
    """Too many recent failures for this user name and address, or this address: wait a while."""

    def __init__(self, message: Message, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginLimits:
    """Failed logins slow further attempts down, they never lock an account.

    Failures are counted per (user name, address) and per address within the window. From
    ``max_failures`` failures of a pair (and ``4 × max_failures`` of an address) on, the next attempt
    of that pair (or address) must wait ``first_delay_seconds`` after the latest failure, doubling
    with every further failure, up to the window. A stranger guessing at the admin's account slows
    only their own address; the admin, from theirs, logs in at once."""

    max_failures: int = 5
    window_minutes: int = 15
    first_delay_seconds: int = 2

    def delay(self, failures: int, threshold: int) -> float:
        """Seconds to wait after the latest failure, having had ``failures`` of them."""
        if failures < threshold:
            return 0.0
        return float(
            min(self.first_delay_seconds * 2 ** min(failures - threshold, 20), self.window_minutes * 60)
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    """Refuse passwords that are too short or all of one kind of character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            Message("密码至少{min_password_length}个字符", min_password_length=MIN_PASSWORD_LENGTH),
        )
    if password.isdigit() or password.isalpha():
        raise AccountError(Message("密码须同时包含字母和数字或符号"))


def find_city(session: Session, name_or_code: str) -> City:
    """A city by code (140400), full name (长治市) or short name (长治)."""
    text = name_or_code.strip()
    city = session.scalars(
        select(City).where((City.code == text) | (City.name_zh == text) | (City.short_zh == text))
    ).first()
    if city is None:
        raise AccountError(Message("未知城市：{text}", text=text))
    return city


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    city: str | None = None,
    email: str | None = None,
) -> User:
    """Create an account; city users (and city-level leaders) name their city."""
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            Message("用户名只能包含字母、数字、点、下划线和连字符（3–64位）"),
        )
    if session.scalars(select(User).where(User.username == username)).first():
        raise AccountError(Message("用户名已存在：{username}", username=username))
    check_password_rules(password)
    city_row = find_city(session, city) if city else None
    if role is Role.CITY_STAFF and city_row is None:
        raise AccountError(Message("市级用户必须指定城市"))
    if role in (Role.PROVINCE_ADMIN, Role.PROVINCE_STAFF) and city_row is not None:
        raise AccountError(Message("省级用户不能绑定城市"))
    province_id = city_row.province_id if city_row else _only_province_id(session)
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        province_id=province_id,
        city_id=city_row.id if city_row else None,
        email=email,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user_create", "users", user.id, summary=f"{username} ({role.value})",
                 city_id=user.city_id)  # fmt: skip
    return user


def _only_province_id(session: Session) -> int:
    ids = session.scalars(select(Province.id)).all()
    if len(ids) != 1:
        raise AccountError(Message("请先运行 tracker init 载入目录"))
    return ids[0]


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise AccountError(Message("用户不存在：{username}", username=username))
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change a password and end every session of the account."""
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    revoke_sessions(session, user)
    audit.record(session, "password_change", "users", user.id, summary=user.username, city_id=user.city_id)


def disable_user(session: Session, user: User) -> None:
    """Disable an account (accounts are never deleted: the audit trail names them)."""
    user.is_active = False
    revoke_sessions(session, user)
    revoke_api_tokens(session, user)
    audit.record(session, "user_disable", "users", user.id, summary=user.username, city_id=user.city_id)


def issue_api_token(session: Session, user: User, label: str | None = None) -> str:
    """A new API token for an active user; shown once, only its hash is kept. Earlier tokens stay
    valid until revoked (a city may run more than one system)."""
    if not user.is_active:
        raise AccountError(Message("账户已停用，不能签发令牌"))
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=_token_hash(token), user_id=user.id, label=(label or "").strip()[:64] or None)
    session.add(row)
    session.flush()
    audit.record(
        session, "api_token_issue", "api_tokens", row.id, summary=user.username, city_id=user.city_id
    )
    return token


def revoke_api_tokens(session: Session, user: User) -> int:
    """Revoke every live API token of a user; returns how many were live."""
    live = list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    )
    for row in live:
        row.revoked_at = utcnow()
    if live:
        audit.record(session, "api_token_revoke", "users", user.id, summary=f"{user.username}: {len(live)}",
                     city_id=user.city_id)  # fmt: skip
    return len(live)


def user_for_api_token(session: Session, token: str) -> User | None:
    """The active user behind an API token, or None. Marks the token used (at most once a minute)."""
    row = find_api_token(session, token)
    if row is None:
        return None
    if token_use_is_stale(row):
        row.last_used_at = utcnow()
    return row.user


def find_api_token(session: Session, token: str) -> ApiToken | None:
    """The live token row (its account active), or None; reads only."""
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 128 or not token.isascii():
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    return row


def token_use_is_stale(row: ApiToken) -> bool:
    """Whether the token's last use is unrecorded or over a minute old (worth a write)."""
    return row.last_used_at is None or utcnow() - row.last_used_at > dt.timedelta(minutes=1)


def mark_api_token_used(session: Session, token_id: int) -> None:
    """Record a token's use; a conditional update, so concurrent requests write it once a minute."""
    now = utcnow()
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .where((ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < now - dt.timedelta(minutes=1)))
        .values(last_used_at=now)
    )


def revoke_sessions(session: Session, user: User) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _recent_failures(
    session: Session, since: dt.datetime, *conditions: ColumnElement[bool]
) -> tuple[int, dt.datetime | None]:
    """How many failed attempts match since ``since``, and when the latest was."""
    count, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.at))
        .select_from(LoginAttempt)
        .where(*conditions, LoginAttempt.at >= since, LoginAttempt.succeeded == false())
    ).one()
    return int(count or 0), latest


def login_wait(session: Session, username: str, ip: str, limits: LoginLimits, now: dt.datetime) -> float:
    """Seconds before this user name may try again from this address (0: now)."""
    since = now - dt.timedelta(minutes=limits.window_minutes)
    wait = 0.0
    for conditions, threshold in (
        ((LoginAttempt.username == username, LoginAttempt.ip == ip), limits.max_failures),
        ((LoginAttempt.ip == ip,), limits.max_failures * 4),
    ):
        failures, latest = _recent_failures(session, since, *conditions)
        if latest is not None and failures >= threshold:
            latest = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC
            wait = max(wait, (latest - now).total_seconds() + limits.delay(failures, threshold))
    return wait


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of verifying a password against the stored hash (the slow, argon2 part of a login)."""

    username: str
    password_hash: str | None  # the hash it was checked against; None: no such account
    ok: bool


def _login_name(username: str) -> str:
    return username.replace("\x00", "").strip()[:64]


def check_password(session: Session, username: str, password: str) -> PasswordCheck:
    """Verify a password; reads only, so it can run outside the write transaction of the login.

    An unknown name is verified against a dummy hash, so both paths take the same time.
    """
    username = _login_name(username)
    stored = session.scalar(select(User.password_hash).where(User.username == username))
    ok = _verify(stored or _DUMMY_HASH, password) and stored is not None
    return PasswordCheck(username, stored, ok)


def authenticate(
    session: Session,
    username: str,
    password: str,
    ip: str,
    limits: LoginLimits = LoginLimits(),
    *,
    checked: PasswordCheck | None = None,
) -> User:
    """Check a login; every attempt is recorded, and too many recent failures refuse even a good one.

    ``checked`` is the password verified beforehand (``check_password``, in a read-only transaction);
    it counts only if the stored hash is still the one it was verified against.
    """
    now = utcnow()
    username = _login_name(username)
    wait = login_wait(session, username, ip, limits, now)
    if wait > 0:
        # Not recorded: an attempt refused for coming too soon does not lengthen the wait.
        seconds = math.ceil(wait)
        raise LoginRateLimited(
            Message("登录失败次数过多，请{seconds}秒后再试", seconds=seconds),
            retry_after=seconds,
        )
    user = session.scalars(select(User).where(User.username == username)).first()
    current_hash = user.password_hash if user else None
    if checked is None or checked.username != username or checked.password_hash != current_hash:
        checked = PasswordCheck(username, current_hash, _verify(current_hash or _DUMMY_HASH, password))
    ok = checked.ok and user is not None
    session.add(LoginAttempt(username=username, ip=ip, at=now, succeeded=ok and user.is_active))  # type: ignore[union-attr]
    if not ok or user is None:
        raise LoginRefused(Message("用户名或密码错误"), known_user=user is not None)
    if not user.is_active:
        raise LoginRefused(Message("账户已停用，请联系管理员"), known_user=True)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(
    session: Session, user: User, *, hours: int, ip: str | None = None, user_agent: str | None = None
) -> str:
    """Open a login session; returns the random token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            expires_at=utcnow() + dt.timedelta(hours=hours),
            ip=ip,
            user_agent=(user_agent or "")[:256] or None,
        )
    )
    return token


def user_for_session(session: Session, token: str) -> User | None:
    """The active user behind a session token, or None if it is unknown, ended or expired."""
    if not token or len(token) > 128 or not token.isascii():
        return None
    row = session.scalars(  # on every request: one query, the account with it
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.token_hash == _token_hash(token))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row.user


def end_session(session: Session, token: str) -> None:
    """Log out: the token stops working at once, on every worker."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
