"""How pages and callbacks ask the permission module (tracker.permissions) on the server."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import dash_bootstrap_components as dbc
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboards.auth import current_user
from tracker.db import TrackerSession, transaction
from tracker.i18n import _
from tracker.models import User
from tracker.permissions import Action, may

P = ParamSpec("P")
R = TypeVar("R")


def request_user(action: Action) -> User:
    """The current user if their role allows ``action``; otherwise the callback returns nothing."""
    user = current_user()
    if user is None or not may(user, action):
        raise PreventUpdate
    return user


def secured(action: Action) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a Dash callback: refuse (no update, no data) unless the user may do ``action``."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            request_user(action)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def forbidden_page() -> Any:
    return dbc.Alert(_("您没有访问此页面的权限。"), color="warning", className="mt-4")


def page_user(action: Action) -> User | None:
    """For a page layout function: the user if allowed, else None (show ``forbidden_page``)."""
    user = current_user()
    return user if user is not None and may(user, action) else None


@contextmanager
def db_session() -> Iterator[TrackerSession]:
    """A transaction for this request, with the current user as the audit actor."""
    with transaction(current_app.config["TRACKER_SESSION_FACTORY"], actor=current_user()) as session:
        yield session
