"""审计日志: who changed what and when (the latest events in the user's scope)."""

from __future__ import annotations

import json
from typing import Any

from dash import Dash, html
from flask import current_app

from dashboards.access import db_session, guarded_layout
from dashboards.audit_words import action_word, entity_word
from dashboards.grid import data_grid
from tracker.i18n import N_, _, format_datetime
from tracker.models import AuditEvent, User
from tracker.permissions import Action, visible_audit_events

PATH = "/audit"
NAME = N_("审计日志")
ORDER = 8
REQUIRED_ACTION = Action.VIEW_AUDIT
LIMIT = 1000


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: Any) -> Any:
    tz = current_app.config["TRACKER_SETTINGS"].timezone
    with db_session() as session:
        events = session.scalars(visible_audit_events(user).order_by(AuditEvent.id.desc()).limit(LIMIT)).all()
        rows = [{
            "at": format_datetime(e.at, tz), "actor": e.actor_name, "action": action_word(e),
            "entity": entity_word(e), "summary": e.summary or "",
            "before": _json(e.before), "after": _json(e.after),
        } for e in events]  # fmt: skip
    columns = [("at", _("时间")), ("actor", _("操作人")), ("action", _("操作")), ("entity", _("对象")),
               ("summary", _("说明")), ("before", _("修改前")), ("after", _("修改后"))]  # fmt: skip
    return html.Div([
        html.H2(_("审计日志"), className="h4"),
        html.P(_("显示最近 {n} 条记录（最多 {limit} 条）；审计记录只增不改。").format(n=len(rows), limit=LIMIT),
               className="text-muted small"),
        data_grid("audit-grid", [{"field": k, "headerName": c} for k, c in columns], rows, height="70vh"),
    ])  # fmt: skip


def register_callbacks(app: Dash) -> None:
    """No callbacks: the log is read per visit."""
