"""用户管理: the accounts of the province (provincial admin only; changes via `tracker users`). No
callbacks: the list is read per visit."""

from __future__ import annotations

from dash import html
from dash.development.base_component import Component
from sqlalchemy.orm import joinedload

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.grid import data_grid
from tracker.access.permissions import Action, manageable_users
from tracker.core.i18n import N_, _, format_datetime, name_of
from tracker.models import User
from tracker.models.labels import label

PATH = "/users"
NAME = N_("用户管理")
ORDER = 9
REQUIRED_ACTION = Action.MANAGE_USERS


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    tz = app_settings().timezone
    with db_session(read_only=True) as session:
        users = session.scalars(manageable_users(user).options(joinedload(User.city)).order_by(User.id)).all()
        rows = [{
            "username": u.username, "display_name": u.display_name, "role": label(u.role),
            "city": name_of(u.city) if u.city else _("全省"), "active": _("启用") if u.is_active else _("停用"),
            "last_login": format_datetime(u.last_login_at, tz),
        } for u in users]  # fmt: skip
    columns = [("username", _("用户名")), ("display_name", _("姓名/单位")), ("role", _("角色")),
               ("city", _("范围")), ("active", _("状态")), ("last_login", _("最近登录"))]  # fmt: skip
    return html.Div([
        html.H2(_("用户管理"), className="h4"),
        html.P(_("新增、改密、停用账户请使用命令 tracker users（均记入审计日志）。"), className="text-muted small"),
        data_grid("users-grid", [{"field": k, "headerName": c} for k, c in columns], rows, height="60vh"),
    ])  # fmt: skip
