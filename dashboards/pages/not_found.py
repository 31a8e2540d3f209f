"""The page shown for an unknown address inside the dashboard (Dash's own 404 page is English)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html
from dash.development.base_component import Component

from tracker.core.i18n import N_, _

PATH = "/404"
NAME = N_("页面不存在")
MODULE = "not_found_404"  # the module name Dash pages uses for unknown paths


def layout(**_query: str) -> Component:
    return dbc.Alert([html.H2(_("页面不存在"), className="h5"), html.P(_("您访问的页面不存在，请从上方导航进入。"))],
                     color="secondary", className="mt-4", id="not-found")  # fmt: skip
