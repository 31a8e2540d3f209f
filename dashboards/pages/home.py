"""概览: headline figures for the user's scope (province or city)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, html
from flask import current_app

from dashboards.access import db_session, guarded_layout
from tracker.clock import local_today
from tracker.i18n import _
from tracker.labels import format_date_zh
from tracker.models import User
from tracker.permissions import Action
from tracker.registry import RegistryFilters, registry_rows

PATH = "/"
NAME = _("概览")
ORDER = 0
REQUIRED_ACTION = Action.VIEW


def _card(title: str, value: int, color: str, card_id: str) -> Any:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(title, className="text-muted small"),
        html.Div(str(value), className=f"fs-2 fw-bold text-{color}", id=card_id),
    ])), md=2)  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: Any) -> Any:
    today = local_today(current_app.config["TRACKER_SETTINGS"].timezone)
    with db_session() as session:
        rows = registry_rows(session, user, RegistryFilters(), today)
    by_status = Counter(row["status"] for row in rows)
    by_progress = Counter(row["progress_status"] for row in rows)
    return html.Div([
        html.H2(_("概览"), className="h4"),
        html.P(_("截至{date}。进度按序时进度与最近一次已采纳的调度报送比较；已退出的试点不评估进度。").format(
            date=format_date_zh(today)), className="text-muted small"),
        dbc.Row([
            _card(_("试点总数"), len(rows), "primary", "home-total"),
            _card(_("实施中（含延期）"), by_status[_("实施中")] + by_status[_("延期实施")], "primary", "home-active"),
            _card(_("进度正常"), by_progress[_("正常")], "success", "home-on-track"),
            _card(_("进度滞后"), by_progress[_("滞后")], "warning", "home-behind"),
            _card(_("进度严重滞后"), by_progress[_("严重滞后")], "danger", "home-serious"),
            _card(_("任务全部完成"), by_progress[_("全部完成")], "secondary", "home-finished"),
        ], className="g-3 mb-4"),
        dbc.Button(_("查看试点名录"), href="/pilots", color="primary"),
    ])  # fmt: skip


def register_callbacks(app: Dash) -> None:
    """The overview has no callbacks yet: its figures are computed per visit in ``layout``."""
