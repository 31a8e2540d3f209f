"""The frame around every page: navigation by role, the user's name, logout."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboards.auth import csrf_token, current_user
from dashboards.language import HTML_LANG, other_locale
from tracker.i18n import LOCALES, _
from tracker.labels import label
from tracker.permissions import may


def _logout_form() -> Any:
    """A real POST with the CSRF token: logging out cannot be triggered by another site's link."""
    return html.Form(
        [
            dcc.Input(type="hidden", name="csrf", value=csrf_token(), id="logout-csrf"),
            html.Button(_("退出登录"), type="submit", id="logout-button", className="btn btn-outline-light btn-sm"),
        ],
        method="post", action="/logout", className="d-inline", id="logout-form",
    )  # fmt: skip


def _language_switch() -> Any:
    """A plain link (a full page load): the server sets the language cookie and comes back here."""
    other = other_locale()
    return html.A(LOCALES[other], href=f"/lang/{other}", id="language-switch", lang=HTML_LANG[other],
                  className="navbar-text text-light me-3 small text-nowrap")  # fmt: skip


def _nav_links() -> list[Any]:
    user = current_user()
    links = []
    for page in dash.page_registry.values():
        action = page.get("required_action")
        if not page.get("in_nav", True):
            continue  # a detail page, reached from the lists
        if user is not None and action is not None and may(user, action):
            name = page["name"]  # registered in Chinese; shown in the reader's language
            links.append(dbc.NavItem(dbc.NavLink(_(name), href=page["path"], active="exact")))
    return links


def serve_layout() -> Any:
    """Built per request (so the menu follows the user's role); pages render inside it."""
    user = current_user()
    who = f"{user.display_name} · {label(user.role)}" if user else ""
    navbar = dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand(_("碳足迹试点监管平台"), href="/"),
            dbc.Nav(_nav_links(), navbar=True, className="me-auto"),
            html.Div([  # who, the language and logout stay together, on the right, when the menu wraps
                html.Span(who, className="navbar-text text-light me-3 small", id="shell-user"),
                _language_switch(),
                _logout_form(),
            ], className="d-flex align-items-center ms-auto"),
        ], fluid=True),
        color="primary", dark=True, className="mb-3",
    )  # fmt: skip
    return html.Div([navbar, dbc.Container(dash.page_container, fluid=True)])
