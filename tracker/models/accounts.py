"""Users, their server-side login sessions, and login attempts (for rate limiting)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, intpk, utcnow
from tracker.models.enums import Role, enum_column
from tracker.models.geography import City, Province


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # A city user is bound to exactly one city; provincial roles have none.
        CheckConstraint("role <> 'city_staff' OR city_id IS NOT NULL", name="city_staff_has_city"),
        CheckConstraint(
            "role NOT IN ('province_admin', 'province_staff') OR city_id IS NULL",
            name="province_roles_have_no_city",
        ),
    )

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"))
    email: Mapped[str | None] = mapped_column(String(128))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    province: Mapped[Province] = relationship()
    city: Mapped[City | None] = relationship()


class UserSession(Base):
    """A login session; the cookie holds only a random token whose hash is stored here."""

    __tablename__ = "user_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        # Rate limiting counts recent failures per user name and per address.
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    succeeded: Mapped[bool]


class ApiToken(Base):
    """A user's token for the JSON API (city systems); only its hash is stored, like sessions."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
