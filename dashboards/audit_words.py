"""The audit trail in words: Chinese names for actions, tables and fields (the audit log page and
the pilot page's 操作记录 read events the same way)."""

from __future__ import annotations

from typing import Any

from tracker.i18n import _

ACTIONS = {"create": _("新增"), "update": _("修改"), "delete": _("删除"), "login": _("登录"),
           "login_failed": _("登录失败"), "logout": _("退出"), "export": _("导出"), "download": _("下载"),
           "user_create": _("新增用户"), "password_change": _("修改密码"), "user_disable": _("停用用户"),
           "api_token_issue": _("签发API令牌"), "api_token_revoke": _("吊销API令牌"),
           "library_import": _("导入参考数据"), "library_reason": _("说明理由"), "request_run": _("手动运行"),
           "requeue": _("重新发送")}  # fmt: skip
ENTITIES = {"pilots": _("试点"), "tasks": _("任务"), "milestones": _("阶段性目标"), "progress_updates": _("调度报送"),
            "task_progress": _("任务进度"), "update_milestones": _("阶段性目标报送"), "update_files": _("佐证材料"),
            "pilot_participants": _("参与单位"), "flags": _("风险线索"), "applications": _("申报"),
            "organisations": _("单位"), "users": _("用户"), "api_tokens": _("API令牌"),
            "product_benchmarks": _("产品基准"), "emission_factors": _("电力排放因子"), "certifiers": _("认证机构"),
            "recipients": _("发送对象"), "bulletins": _("调度通报"), "grid": _("表格"), "job_requests": _("手动运行请求"),
            "outbox": _("发送消息")}  # fmt: skip
FIELDS = {"title": _("名称"), "weight": _("权重"), "planned_start": _("计划开始"), "planned_end": _("计划完成"),
          "responsible_unit": _("责任单位"), "due_date": _("到期日"), "indicator": _("指标"), "target_value": _("目标值"),
          "evidence_required": _("需佐证材料"), "achieved_on": _("达成日期"), "status": _("状态"), "percent": _("进度"),
          "work_done": _("工作进展"), "problems": _("存在问题"), "next_steps": _("下步计划"),
          "return_reason": _("退回理由"), "unit_name": _("单位名称"), "responsibility": _("职责分工"),
          "start_date": _("开始日期"), "end_date": _("结束日期"), "closed_on": _("结束日"), "is_late": _("逾期"),
          "audience": _("对象类型"), "channel": _("发送方式"), "address": _("地址"), "name": _("名称"),
          "active": _("启用")}  # fmt: skip


def action_word(event: Any) -> str:
    return ACTIONS.get(event.action, event.action)


def entity_word(event: Any) -> str:
    """The object of an event: its kind in Chinese and its number."""
    return ENTITIES.get(event.entity_type, event.entity_type) + (
        f" #{event.entity_id}" if event.entity_id else ""
    )
