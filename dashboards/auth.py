"""Login, logout and the guard in front of every route and Dash endpoint.

The signed, HttpOnly, SameSite=Lax cookie carries only a random session token; the session itself
lives in the database (``tracker.access.accounts``), so logging out ends it on every worker at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, current_app, g, jsonify, redirect, render_template, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import sessionmaker

from dashboards.health import PROBE_ENDPOINTS
from tracker.access import accounts
from tracker.audit import trail as audit
from tracker.core.config import Settings
from tracker.core.db import TrackerSession, transaction
from tracker.core.i18n import _
from tracker.core.messages import message_of
from tracker.models import User

PUBLIC_ENDPOINTS = frozenset(
    {"login", "_dash_assets.static", "api-docs.openapi_json", "switch_language"} | PROBE_ENDPOINTS
)
API_PREFIX = "/api/"
API_BLUEPRINT = "api_v1"  # dashboards.api
# The libraries' files (Dash's bundles, plotly.js, /assets): the same for every user, kept by the
# browser under their fingerprinted names. Their answers leave the cookie alone: a renewed cookie,
# and the "Vary: Cookie" that comes with it, would make the browser fetch every bundle again on every
# page (the cookie it sends changes with each answer), some 2.5 MB of scripts.
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")


class _CookieSession(SecureCookieSessionInterface):
    """Flask's signed cookie, not written (nor renewed) by the answer for a library's file; the guard
    still reads it there."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.path.startswith(STATIC_PREFIXES):
            return
        super().save_session(app, session, response)


def current_user() -> User | None:
    """The logged-in user of this request (a detached row: read its columns, not its relations)."""
    user = g.get("user")
    return user if isinstance(user, User) else None


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def client_ip() -> str:
    return request.remote_addr or "unknown"


def _wants_json() -> bool:
    return (
        request.path.startswith("/_dash-")
        or request.method != "GET"
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or request.accept_mimetypes.best == "application/json"
    )


def csrf_token() -> str:
    """The form token: derived from the login session (no cookie writes, so parallel Dash requests
    cannot race it away); before login, a random value kept in the cookie for the login form."""
    token = session.get("token")
    if token:
        key = current_app.secret_key
        assert isinstance(key, str)
        return hmac.new(key.encode(), f"csrf:{token}".encode(), hashlib.sha256).hexdigest()
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent.encode(), csrf_token().encode()):
        abort(400, description=_("表单已过期，请刷新页面后重试"))


def install_auth(server: Flask, settings: Settings, factory: sessionmaker[TrackerSession]) -> None:
    """Configure cookies and register the guard and the login/logout routes on the Flask server."""
    server.secret_key = settings.secret_key
    server.session_interface = _CookieSession()
    server.config.update(
        SESSION_COOKIE_NAME="cfp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_hours),
    )
    limits = accounts.LoginLimits(settings.login_max_failures, settings.login_window_minutes)
    server.jinja_env.globals["csrf_token"] = csrf_token
    server.before_request(_make_guard(factory))
    server.add_url_rule("/login", "login", _make_login(factory, settings, limits), methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", _make_logout(factory), methods=["POST"])


def _make_guard(factory: sessionmaker[TrackerSession]) -> Callable[[], ResponseReturnValue | None]:
    def guard() -> ResponseReturnValue | None:
        if request.endpoint in PROBE_ENDPOINTS:
            return None  # no session lookup: a probe must not depend on, or fail with, the database
        if request.path.startswith(API_PREFIX):
            return _api_guard(factory)
        token = session.get("token")
        if token:
            with transaction(factory, read_only=True) as db:
                g.user = accounts.user_for_session(db, token)
        if g.get("user") is not None or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if _wants_json():
            response = jsonify(error="unauthenticated", message=_("请先登录"), message_en="Login required")
            response.status_code = 401
            return response
        return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))

    return guard


def _api_guard(factory: sessionmaker[TrackerSession]) -> ResponseReturnValue | None:
    """The API answers to a bearer token only (no cookie: a page cannot be tricked into writing
    through it). Its description is public; it holds no data."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.routing_exception is not None:
        return None  # no such route or method: the JSON 404 or 405 of dashboards.errors
    if request.blueprint != API_BLUEPRINT:
        # Only the pages' catch-all matched (it would answer with the app's HTML): a JSON 404.
        response = jsonify(error=404, message=_("接口不存在"), message_en="No such API endpoint")
        response.status_code = 404
        return response
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        with transaction(factory, read_only=True) as db:
            row = accounts.find_api_token(db, token.strip())
            g.user = row.user if row is not None else None
        if row is not None and accounts.token_use_is_stale(row):
            with transaction(factory) as db:  # a write at most once a minute per token
                accounts.mark_api_token_used(db, row.id)
    if g.get("user") is not None:
        return None
    response = jsonify(
        error=401, message=_("请提供有效的 API 令牌"), message_en="A valid API token is required"
    )
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="cfp-tracker"'
    return response


def _make_login(
    factory: sessionmaker[TrackerSession], settings: Settings, limits: accounts.LoginLimits
) -> Callable[[], ResponseReturnValue]:
    def login() -> ResponseReturnValue:
        next_url = safe_next(request.values.get("next"))
        if request.method == "GET":
            return render_template("login.html", next=next_url, error=None)
        _check_csrf()
        username = request.form.get("username", "")
        refused: accounts.LoginRefused | None = None
        password = request.form.get("password", "")
        # The slow part (argon2) runs in a read-only transaction, so logins do not hold the write lock.
        with transaction(factory, read_only=True) as db:
            checked = accounts.check_password(db, username, password)
        with transaction(factory, actor="anonymous") as db:
            try:
                user = accounts.authenticate(db, username, password, client_ip(), limits, checked=checked)
            except accounts.LoginRefused as error:
                # Committed, not rolled back: the failed attempt must count towards the limit.
                refused = error
                if not isinstance(error, accounts.LoginRateLimited):
                    # A name that is no account may be a password typed in the wrong box: not kept.
                    tried = username.strip()[:64] if error.known_user else "（非现有账户）"
                    audit.record(db, "login_failed", "users", summary=f"{tried}: {error.message_en}")
            else:
                if previous := session.get("token"):
                    accounts.end_session(db, previous)  # one browser, one live session
                db.info["actor"] = user
                token = accounts.start_session(db, user, hours=settings.session_hours, ip=client_ip(),
                                               user_agent=request.user_agent.string)  # fmt: skip
                audit.record(db, "login", "users", user.id, summary=user.username, city_id=user.city_id)
        if refused is not None:
            # The same page for an unknown name and a wrong password (the name typed is kept either
            # way), so the answer does not tell which accounts exist.
            page = render_template(
                "login.html", next=next_url, error=message_of(refused), username=username.strip()[:64]
            )
            if isinstance(refused, accounts.LoginRateLimited):
                return page, 429, {"Retry-After": str(refused.retry_after)}
            return page, 401
        session.clear()  # a fresh cookie on login: no session fixation
        session.permanent = True
        session["token"] = token
        return redirect(next_url)

    return login


def _make_logout(factory: sessionmaker[TrackerSession]) -> Callable[[], Response]:
    def logout() -> Response:
        _check_csrf()
        token = session.get("token")
        if token:
            with transaction(factory, actor=current_user()) as db:
                accounts.end_session(db, token)
                user = current_user()
                audit.record(db, "logout", "users", user.id if user else None,
                             city_id=user.city_id if user else None)  # fmt: skip
        session.clear()
        return current_app.make_response(redirect("/login"))

    return logout
