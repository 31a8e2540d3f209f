"""Chinese labels for stored values, and dates written the way Chinese documents write them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from zoneinfo import ZoneInfo

from tracker.i18n import _
from tracker.models import ApplicationStatus, OrganisationKind, PilotCategory, PilotStatus, Role, UpdateStatus

_LABELS: dict[StrEnum, str] = {
    PilotCategory.PRODUCT: _("产品碳足迹管理试点"),
    PilotCategory.SERVICE: _("碳足迹专业化服务试点"),
    PilotStatus.SELECTED: _("已入选"),
    PilotStatus.PUBLISHED: _("已公布"),
    PilotStatus.IN_IMPLEMENTATION: _("实施中"),
    PilotStatus.COMPLETED: _("已完成"),
    PilotStatus.EXTENDED: _("延期实施"),
    PilotStatus.WITHDRAWN: _("已退出"),
    ApplicationStatus.DRAFT: _("草稿"),
    ApplicationStatus.SUBMITTED: _("已提交"),
    ApplicationStatus.RETURNED: _("已退回"),
    ApplicationStatus.CITY_PASSED: _("市级初审通过"),
    ApplicationStatus.FORWARDED: _("已报送省厅"),
    ApplicationStatus.UNDER_REVIEW: _("专家评审中"),
    ApplicationStatus.SELECTED: _("入选"),
    ApplicationStatus.NOT_SELECTED: _("未入选"),
    UpdateStatus.DRAFT: _("草稿"),
    UpdateStatus.SUBMITTED: _("待审核"),
    UpdateStatus.RETURNED: _("已退回"),
    UpdateStatus.ACCEPTED: _("已采纳"),
    Role.PROVINCE_ADMIN: _("省级管理员"),
    Role.PROVINCE_STAFF: _("省级业务人员"),
    Role.CITY_STAFF: _("市级业务人员"),
    Role.LEADER: _("领导（只读）"),
    OrganisationKind.ENTERPRISE: _("企业"),
    OrganisationKind.INSTITUTION: _("机构"),
    OrganisationKind.ASSOCIATION: _("协会"),
}


def label(value: StrEnum) -> str:
    """The Chinese (or current-locale) label of a stored enum value."""
    return _LABELS.get(value, value.value)


def format_date_zh(value: dt.date | None) -> str:
    """2025-06-28 → 2025年6月28日 (empty for None)."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def format_datetime_zh(value: dt.datetime | None, tz: ZoneInfo) -> str:
    """A stored UTC datetime shown in the local zone: 2025年6月28日 14:05."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    return f"{format_date_zh(local.date())} {local:%H:%M}"
