"""审计日志: who changed what and when (the latest events in the user's scope)."""

from __future__ import annotations

import json
from typing import Any

from dash import Dash, html
from flask import current_app

from dashboards.access import db_session, guarded_layout
from dashboards.grid import data_grid
from tracker.i18n import _
from tracker.labels import format_datetime_zh
from tracker.models import AuditEvent, User
from tracker.permissions import Action, visible_audit_events

PATH = "/audit"
NAME = _("审计日志")
ORDER = 8
REQUIRED_ACTION = Action.VIEW_AUDIT
LIMIT = 1000
ACTIONS = {"create": _("新增"), "update": _("修改"), "delete": _("删除"), "login": _("登录"),
           "login_failed": _("登录失败"), "logout": _("退出"), "export": _("导出"), "download": _("下载"),
           "user_create": _("新增用户"), "password_change": _("修改密码"), "user_disable": _("停用用户"),
           "api_token_issue": _("签发API令牌"), "api_token_revoke": _("吊销API令牌")}  # fmt: skip
ENTITIES = {"pilots": _("试点"), "tasks": _("任务"), "milestones": _("阶段性目标"), "progress_updates": _("调度报送"),
            "task_progress": _("任务进度"), "update_milestones": _("阶段性目标报送"), "update_files": _("佐证材料"),
            "pilot_participants": _("参与单位"), "flags": _("风险线索"), "applications": _("申报"),
            "organisations": _("单位"), "users": _("用户"), "api_tokens": _("API令牌")}  # fmt: skip
FIELDS = {"title": _("名称"), "weight": _("权重"), "planned_start": _("计划开始"), "planned_end": _("计划完成"),
          "responsible_unit": _("责任单位"), "due_date": _("到期日"), "indicator": _("指标"), "target_value": _("目标值"),
          "evidence_required": _("需佐证材料"), "achieved_on": _("达成日期"), "status": _("状态"), "percent": _("进度"),
          "work_done": _("工作进展"), "problems": _("存在问题"), "next_steps": _("下步计划"),
          "return_reason": _("退回理由"), "unit_name": _("单位名称"), "responsibility": _("职责分工"),
          "start_date": _("开始日期"), "end_date": _("结束日期"), "closed_on": _("结束日"), "is_late": _("逾期")}  # fmt: skip


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: Any) -> Any:
    tz = current_app.config["TRACKER_SETTINGS"].timezone
    with db_session() as session:
        events = session.scalars(visible_audit_events(user).order_by(AuditEvent.id.desc()).limit(LIMIT)).all()
        rows = [{
            "at": format_datetime_zh(e.at, tz), "actor": e.actor_name, "action": ACTIONS.get(e.action, e.action),
            "entity": ENTITIES.get(e.entity_type, e.entity_type) + (f" #{e.entity_id}" if e.entity_id else ""), "summary": e.summary or "",
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
