"""The frame around every page: navigation by role, the user's notices (the unread count, and what
is unread summed up under the menu bar), the user's name, logout."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component

from dashboards.access import db_session
from dashboards.auth import csrf_token, current_user
from dashboards.callbacks import page_clientside
from dashboards.language import HTML_LANG, other_locale
from tracker.access.permissions import may
from tracker.core.i18n import LOCALES, _
from tracker.delivery.notices import summary_lines, unread_by_kind
from tracker.models import User
from tracker.models.labels import label

NOTICES = "/notices"
BADGE, LINE = "shell-notice-count", "shell-notice-line"  # also written when notices are marked read
TOGGLER, MENU = "shell-menu-toggler", "shell-menu"  # on a narrow screen the menu opens from the button


def _logout_form() -> Component:
    """A real POST with the CSRF token: logging out cannot be triggered by another site's link."""
    return html.Form(
        [
            dcc.Input(type="hidden", name="csrf", value=csrf_token(), id="logout-csrf"),
            html.Button(_("退出登录"), type="submit", id="logout-button", className="btn btn-outline-light btn-sm"),
        ],
        method="post", action="/logout", className="d-inline", id="logout-form",
    )  # fmt: skip


def _language_switch() -> Component:
    """A plain link (a full page load): the server sets the language cookie and comes back here."""
    other = other_locale()
    return html.A(LOCALES[other], href=f"/lang/{other}", id="language-switch", lang=HTML_LANG[other],
                  className="navbar-text text-light me-3 small text-nowrap")  # fmt: skip


def nav_count_badge(count: int) -> Component | None:
    """What waits for the user on a page (待审核 3 beside 调度填报); nothing when nothing waits."""
    if not count:
        return None
    return dbc.Badge([str(count), html.Span(_("待审核"), className="visually-hidden")], color="warning",
                     text_color="dark", pill=True, className="ms-1", title=_("待审核 {count} 份").format(count=count))  # fmt: skip


def nav_count_id(path: str) -> str:
    """The id of the count beside a page's name in the menu (``/updates`` → ``nav-count-updates``)."""
    return "nav-count-" + path.strip("/")


def _nav_links() -> list[Component]:
    user = current_user()
    links: list[Component] = []
    for page in dash.page_registry.values():
        # A page is in the menu of those who can use it (NAV_ACTION: a work page that leaders may
        # read when a link leads there, but have no work on), and open to those it requires.
        action = page.get("nav_action", page.get("required_action"))
        if not page.get("in_nav", True):
            continue  # a detail page, reached from the lists
        if user is not None and action is not None and may(user, action):
            name = page["name"]  # registered in Chinese; shown in the reader's language
            label: list[Component | str] = [_(name)]
            counter = page.get("nav_count")  # what waits for this user there (one COUNT, scoped)
            if callable(counter):
                with db_session(read_only=True) as session:
                    badge = nav_count_badge(counter(session, user))
                label.append(
                    html.Span(badge, id=nav_count_id(page["path"]))
                )  # the page updates it after a step
            named = {"id": "nav-" + page["path"].strip("/")} if callable(counter) else {}
            links.append(dbc.NavItem(dbc.NavLink(label, href=page["path"], active="exact", **named)))
    return links


def badge_content(count: int) -> Component | None:
    """The unread count beside 通知 (nothing when all is read)."""
    return dbc.Badge(str(count), color="danger", pill=True, className="ms-1") if count else None


def notice_line(lines: list[str]) -> Component | None:
    """What is unread, summed up ("未读通知：2条更新被退回"), linking to the list; nothing when all is read."""
    if not lines:
        return None
    return dbc.Container(html.Div(
        dcc.Link([_("未读通知："), "；".join(lines)], href=NOTICES, className="alert-link"),
        className="alert alert-info py-1 small mb-2",
    ), fluid=True)  # fmt: skip


def _notices(user: User | None) -> tuple[Component | None, Component | None]:
    """The menu bar's link to /notices with the user's own unread count, and the line under it
    (read for the current user only, per request)."""
    if user is None:
        return None, None
    with db_session(read_only=True) as session:
        kinds = unread_by_kind(session, user)
    count, lines = sum(kinds.values()), summary_lines(kinds)
    link = html.A([_("通知"), html.Span(badge_content(count), id=BADGE)], href=NOTICES, id="shell-notices",
                  className="navbar-text text-light me-3 small text-nowrap")  # fmt: skip
    return link, html.Div(notice_line(lines), id=LINE)  # marking read on /notices updates both


def _toggler_aria() -> dict[str, Any]:
    """What a screen reader says of the menu button, and which element it opens."""
    return {"aria-label": _("菜单"), "aria-controls": MENU}


def serve_layout() -> Component:
    """Built per request (so the menu follows the user's role); pages render inside it."""
    user = current_user()
    who = f"{user.display_name} · {label(user.role)}" if user else ""
    notices, line = _notices(user)
    navbar = dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand(_("碳足迹试点监管平台"), href="/"),
            html.Button(html.Span(className="navbar-toggler-icon"), id=TOGGLER, type="button", className="navbar-toggler",
                        title=_("菜单"), **_toggler_aria()),
            dbc.Collapse([
                dbc.Nav(_nav_links(), navbar=True, className="me-auto"),
                html.Div([  # who, the language and logout stay together, on the right, when the menu wraps
                    notices,
                    html.Span(who, className="navbar-text text-light me-3 small", id="shell-user"),
                    _language_switch(),
                    _logout_form(),
                ], className="d-flex align-items-center ms-auto shell-account"),
            ], id=MENU, is_open=False, navbar=True),
        ], fluid=True),
        color="primary", dark=True, expand="lg", className="mb-3",
    )  # fmt: skip
    return html.Div([navbar, line, dbc.Container(dash.page_container, fluid=True)])


# The menu button (narrow screens): opens and closes the menu; a new page closes it again.
page_clientside(
    """function(clicks, path, open) {
        var click = dash_clientside.callback_context.triggered[0];
        return Boolean(click && click.prop_id.endsWith(".n_clicks") && !open);
    }""",
    Output(MENU, "is_open"), Input(TOGGLER, "n_clicks"), Input("_pages_location", "pathname"), State(MENU, "is_open"),
    prevent_initial_call=True,
)  # fmt: skip
