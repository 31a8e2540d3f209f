"""How pages and callbacks ask the permission module (tracker.access.permissions) on the server."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dash_bootstrap_components as dbc
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboards.auth import current_user
from tracker.access.permissions import Action, may
from tracker.core.config import Settings
from tracker.core.db import TrackerSession, transaction
from tracker.core.i18n import _
from tracker.models import User


def app_settings() -> Settings:
    """This app's settings (``create_app`` put them on the Flask app): the one typed way to them."""
    configured = current_app.config["TRACKER_SETTINGS"]
    if not isinstance(configured, Settings):
        raise TypeError("TRACKER_SETTINGS is not a Settings")
    return configured


def request_user(action: Action) -> User:
    """The current user if their role allows ``action``; otherwise the callback returns nothing."""
    user = current_user()
    if user is None or not may(user, action):
        raise PreventUpdate
    return user


def request_user_or_none(action: Action) -> User | None:
    """The current user if their role allows ``action`` (for plain routes, which answer 404)."""
    user = current_user()
    return user if user is not None and may(user, action) else None


def forbidden_page() -> Component:
    return dbc.Alert(_("您没有访问此页面的权限。"), color="warning", className="mt-4")


def guarded_layout(action: Action) -> Callable[[Callable[..., Component]], Callable[..., Component]]:
    """Wrap a page's ``layout(user, **query)``: it runs only for a user whose role allows ``action``.

    The app refuses to register a page whose layout is not wrapped (see dashboards.app).
    """

    def decorate(layout: Callable[..., Component]) -> Callable[..., Component]:
        @functools.wraps(layout)
        def guarded(**query: str) -> Component:
            user = current_user()
            if user is None or not may(user, action):
                return forbidden_page()
            query.pop("user", None)  # a ?user= in the address must not collide with the argument
            return layout(user, **query)

        guarded.required_action = action  # type: ignore[attr-defined]
        return guarded

    return decorate


@contextmanager
def db_session(*, read_only: bool = False) -> Iterator[TrackerSession]:
    """A transaction for this request, with the current user as the audit actor.

    ``read_only=True`` for what only reads (see tracker.core.db.transaction): it never waits for writers.
    """
    factory = current_app.config["TRACKER_SESSION_FACTORY"]
    with transaction(factory, actor=current_user(), read_only=read_only) as session:
        yield session
