"""The audit trail in words: Chinese names for actions, tables and fields (the audit log page and
the pilot page's 操作记录 read events the same way)."""

from __future__ import annotations

from tracker.core.i18n import N_, translated
from tracker.models import AuditEvent

ACTIONS = {"create": N_("新增"), "update": N_("修改"), "delete": N_("删除"), "login": N_("登录"),
           "login_failed": N_("登录失败"), "logout": N_("退出"), "export": N_("导出"), "download": N_("下载"),
           "user_create": N_("新增用户"), "password_change": N_("修改密码"), "user_disable": N_("停用用户"),
           "api_token_issue": N_("签发API令牌"), "api_token_revoke": N_("吊销API令牌"),
           "library_import": N_("导入参考数据"), "library_reason": N_("说明理由"), "request_run": N_("手动运行"),
           "requeue": N_("重新发送"), "scan": N_("扫描核查"), "archive": N_("归档"),
           "review_acknowledged": N_("核实审核提示后采纳")}  # fmt: skip
ENTITIES = {"pilots": N_("试点"), "tasks": N_("任务"), "milestones": N_("阶段性目标"), "progress_updates": N_("调度报送"),
            "task_progress": N_("任务进度"), "update_milestones": N_("阶段性目标报送"), "update_files": N_("佐证材料"),
            "pilot_participants": N_("参与单位"), "flags": N_("风险线索"), "applications": N_("申报"),
            "organisations": N_("单位"), "users": N_("用户"), "api_tokens": N_("API令牌"),
            "product_benchmarks": N_("产品基准"), "emission_factors": N_("电力排放因子"), "certifiers": N_("认证机构"),
            "recipients": N_("发送对象"), "bulletins": N_("调度通报"), "grid": N_("表格"), "job_requests": N_("手动运行请求"),
            "outbox": N_("发送消息")}  # fmt: skip
FIELDS = {"title": N_("名称"), "weight": N_("权重"), "planned_start": N_("计划开始"), "planned_end": N_("计划完成"),
          "responsible_unit": N_("责任单位"), "due_date": N_("到期日"), "indicator": N_("指标"), "target_value": N_("目标值"),
          "evidence_required": N_("需佐证材料"), "achieved_on": N_("达成日期"), "status": N_("状态"), "percent": N_("进度"),
          "work_done": N_("工作进展"), "problems": N_("存在问题"), "next_steps": N_("下步计划"),
          "return_reason": N_("退回理由"), "unit_name": N_("单位名称"), "responsibility": N_("职责分工"),
          "start_date": N_("开始日期"), "end_date": N_("结束日期"), "closed_on": N_("结束日"), "is_late": N_("逾期"),
          "audience": N_("对象类型"), "channel": N_("发送方式"), "address": N_("地址"), "name": N_("名称"),
          "active": N_("启用")}  # fmt: skip


def action_word(event: AuditEvent) -> str:
    return translated(ACTIONS, event.action)


def field_word(field: str) -> str:
    return translated(FIELDS, field)


def entity_word(event: AuditEvent) -> str:
    """The object of an event: its kind in Chinese and its number."""
    kind = translated(ENTITIES, event.entity_type)
    return kind + (f" #{event.entity_id}" if event.entity_id else "")
