"""The reader's language: Chinese first, English on request.

The choice is a cookie set by ``GET /lang/<locale>`` (the switch in the navigation bar and on the
login page), which goes back to the page it came from. Every request sets
``tracker.core.i18n.current_locale`` from the cookie before anything renders, and resets it afterwards:
the app runs in several threads and workers, so nothing about a reader is kept in module globals.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, g, redirect, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from dashboards.access import app_settings
from dashboards.auth import safe_next
from tracker.core.i18n import DEFAULT_LOCALE, LOCALES, _, current_locale

COOKIE = "tracker_lang"
ONE_YEAR = 365 * 24 * 3600
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def chosen_locale() -> str:
    wanted = request.cookies.get(COOKIE, DEFAULT_LOCALE)
    return wanted if wanted in LOCALES else DEFAULT_LOCALE


def other_locale() -> str:
    """The language the switch offers: the one not in use."""
    return "en" if current_locale.get() == DEFAULT_LOCALE else DEFAULT_LOCALE


def html_lang() -> str:
    return HTML_LANG.get(current_locale.get(), "zh-CN")


def _back_to(referrer: str | None) -> str:
    """Back to the page the switch was clicked on: a path on this site, never another host."""
    parts = urlsplit(referrer or "/")
    if parts.netloc and parts.netloc != request.host:
        return "/"
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def _switch(locale: str) -> ResponseReturnValue:
    if locale not in LOCALES:
        raise NotFound()
    response = redirect(_back_to(request.referrer), code=303)
    secure = app_settings().cookie_secure or request.is_secure  # as the login cookie
    response.set_cookie(COOKIE, locale, max_age=ONE_YEAR, httponly=True, samesite="Lax", secure=secure)
    return response


def install_language(server: Flask) -> None:
    def set_locale() -> None:
        g.locale_token = current_locale.set(chosen_locale())

    def reset_locale(_error: BaseException | None) -> None:
        token = g.pop("locale_token", None)
        if token is not None:
            current_locale.reset(token)

    server.before_request(set_locale)
    server.teardown_request(reset_locale)
    server.add_url_rule("/lang/<locale>", "switch_language", _switch, methods=["GET"])
    server.jinja_env.globals.update(_=_, html_lang=html_lang, other_locale=other_locale, locale_names=LOCALES)
