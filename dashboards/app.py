"""The application factory: a Flask server with the login guard, and the Dash pages on it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import dash
from dash import Dash
from flask import Flask, request
from sqlalchemy.orm import sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

import tracker.audit.trail  # noqa: F401  (installs the audit hooks on every session)
from dashboards import cache, shell
from dashboards.api import install_api
from dashboards.auth import install_auth
from dashboards.callbacks import register_page_callbacks
from dashboards.downloads import install_downloads
from dashboards.errors import install_content_security_policy, install_error_pages
from dashboards.grid_export import install_grid_export
from dashboards.health import install_health
from dashboards.language import html_lang, install_language
from dashboards.metrics import install_metrics
from dashboards.pages import (
    application_form,
    applications,
    audit_log,
    bulletins,
    city,
    flags,
    home,
    jobs,
    library,
    not_found,
    notices,
    pilot,
    pilot_list,
    recipients,
    registry,
    summary,
    update_form,
    updates,
    users,
    work_plan,
)
from dashboards.plotly_bundle import fingerprinted_address, install_partial_plotly
from dashboards.polyfill import install_runtime_for_polyfill, runtime_address
from dashboards.request_log import install_request_log
from dashboards.requests import install_callback_request_checks, install_request_limits
from dashboards.shell import serve_layout
from tracker.core.config import Settings, get_settings
from tracker.core.db import TrackerSession, make_engine, make_session_factory
from tracker.core.i18n import _
from tracker.core.logs import configure_logging

HERE = Path(__file__).parent
PAGES = (
    home,
    summary,
    city,
    registry,
    applications,
    application_form,
    pilot_list,
    updates,
    work_plan,
    flags,
    bulletins,
    library,
    audit_log,
    jobs,
    recipients,
    users,
    notices,
    pilot,
    update_form,
)


# dcc.Graph fetches plotly.js only once a chart is on screen, after the layout and the page's
# callbacks, and at an address without fingerprint (the server is asked on every page). Pages opened
# with charts load it themselves, deferred (it runs while the layout is fetched), under its
# fingerprinted address, which the browser keeps for a year; assets/plotlyOnce.js makes dcc.Graph wait
# for that script rather than add its own, so plotly.js runs once.
CHART_PAGES = frozenset({"/", "/summary", "/pilot"})


def _page_title(name: str, **_path_variables: object) -> str:
    """The browser tab's title, in the reader's language (Dash calls it per request)."""
    return f"{_(name)} · {_('碳足迹试点监管平台')}"


def create_app(settings: Settings | None = None, factory: sessionmaker[TrackerSession] | None = None) -> Dash:
    """Build the app; every asset is served from this package (the network may have no internet)."""
    settings = settings or get_settings()
    configure_logging(settings.log_format)  # redacted: no webhook key or password in a log line
    cache.clear()  # a new app may sit on a database whose audit ids an earlier one already used
    factory = factory or make_session_factory(make_engine(settings.database_url))
    server = Flask("dashboards", template_folder=str(HERE / "templates"), static_folder=None)
    server.config["TRACKER_SETTINGS"] = settings
    server.config["TRACKER_SESSION_FACTORY"] = factory
    if settings.proxy_hops:
        # Behind nginx: take the client address from X-Forwarded-For so login limits count real
        # clients, not the proxy (trust exactly the configured number of hops).
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    install_request_log(server)  # every log line of the request carries its id
    install_metrics(server, factory, settings.metrics_allow, [page.PATH for page in PAGES])
    install_request_limits(server)  # no body is read before its size is limited
    install_language(server)  # the login page and error pages speak the reader's language too
    install_auth(server, settings, factory)
    install_health(server, factory)
    install_error_pages(server)
    install_api(server)
    install_downloads(server)
    install_grid_export(server)
    install_partial_plotly(server)
    install_runtime_for_polyfill(server)
    summary.install_summary_downloads(server)
    # Dash's own annotations are narrower than what it takes (a Flask server, no update title).
    app = Dash(
        __name__,
        server=server,  # type: ignore[arg-type]
        use_pages=True,
        pages_folder="",
        assets_folder=str(HERE / "assets"),
        serve_locally=True,
        title=_("碳足迹试点监管平台"),
        update_title=None,  # type: ignore[arg-type]
        suppress_callback_exceptions=True,
    )
    for page in PAGES:
        if getattr(page.layout, "required_action", None) is not page.REQUIRED_ACTION:
            raise TypeError(f"{page.__name__}.layout must be wrapped in guarded_layout(REQUIRED_ACTION)")
        dash.register_page(  # type: ignore[no-untyped-call]
            page.__name__,
            path=page.PATH,
            name=page.NAME,
            order=page.ORDER,
            title=partial(_page_title, page.NAME),
            layout=page.layout,
            required_action=page.REQUIRED_ACTION,
            nav_action=getattr(page, "NAV_ACTION", page.REQUIRED_ACTION),
            in_nav=getattr(page, "IN_NAV", True),
            nav_count=getattr(page, "NAV_COUNT", None),
        )
    # the pages' callbacks, and the menu button's
    with_menu = [page.__name__ for page in PAGES] + [shell.__name__]
    register_page_callbacks(app, with_menu)
    dash.register_page(  # type: ignore[no-untyped-call]
        not_found.MODULE,
        path=not_found.PATH,
        name=not_found.NAME,
        layout=not_found.layout,
        title=partial(_page_title, not_found.NAME),
    )
    app.layout = serve_layout
    plain_index: Callable[..., str] = app.interpolate_index

    def interpolate_index(**kwargs: object) -> str:  # <html lang=…>: screen readers, fonts, the grids' dates
        page = plain_index(**kwargs).replace("<html>", f'<html lang="{html_lang()}">', 1)
        if request.path in CHART_PAGES:
            script = f'<script defer src="{fingerprinted_address()}" data-plotly></script>'
            page = page.replace("</head>", script + "</head>", 1)
        return runtime_address(page)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign, assignment]
    install_callback_request_checks(app)
    install_content_security_policy(app)  # last: it hashes the inline scripts every page has
    return app
