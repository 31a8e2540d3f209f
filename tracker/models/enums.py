"""Enumerated values stored by their (English, stable) value; labels live in tracker.models.labels."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


class PilotCategory(StrEnum):
    PRODUCT = "product"  # 产品碳足迹管理试点
    SERVICE = "service"  # 产品碳足迹专业化服务试点


class QuotaScope(StrEnum):
    PER_PRODUCT = "per_product"
    TOTAL = "total"


class OrganisationKind(StrEnum):
    ENTERPRISE = "enterprise"
    INSTITUTION = "institution"
    ASSOCIATION = "association"


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # submitted to the city bureau (or the province, for direct service pilots)
    RETURNED = "returned"
    CITY_PASSED = "city_passed"
    FORWARDED = "forwarded"
    UNDER_REVIEW = "under_review"
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"


class FileKind(StrEnum):
    """附件4 §六 相关材料."""

    BUSINESS = "business"  # 企业生产经营相关文件
    CARBON_MANAGEMENT = "carbon_management"  # 碳排放管理职能部门设置文件和规章制度
    OTHER_PILOT = "other_pilot"  # 获批其他国家级或省级相关试点文件
    OTHER = "other"  # 其他相关材料


class PilotStatus(StrEnum):
    SELECTED = "selected"
    PUBLISHED = "published"
    IN_IMPLEMENTATION = "in_implementation"
    COMPLETED = "completed"
    EXTENDED = "extended"
    WITHDRAWN = "withdrawn"


class UpdateStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


class Role(StrEnum):
    PROVINCE_ADMIN = "province_admin"
    PROVINCE_STAFF = "province_staff"
    CITY_STAFF = "city_staff"
    LEADER = "leader"


class DepartmentDuty(StrEnum):
    LEAD = "lead"  # 牵头
    RESPONSIBLE = "responsible"  # 按职责分工负责
    PARTICIPATE = "participate"  # 参与


class ProductSource(StrEnum):
    NOTICE = "notice"  # named by 晋环函〔2025〕344号
    NATIONAL_KEY = "national_key"  # national key product added by the work plan
    BOTH = "both"


class Subject(StrEnum):
    """What a workflow step or a flag is about (``WorkflowStep.subject_type``, ``Flag.subject_type``)."""

    APPLICATION = "application"
    PILOT = "pilot"
    UPDATE = "update"  # a pilot's periodic progress update
    WORK_PLAN = "workplan"  # a department's update on a work-plan task
    FLAG = "flag"
    CLAIM = "claim"  # a carbon-label claim (flags only)


def subject_column() -> Enum:
    """The subject as VARCHAR(32) without a CHECK constraint (the column predates the enum; every
    value written goes through ``Subject``)."""
    return Enum(Subject, native_enum=False, length=32, create_constraint=False, validate_strings=True,
                values_callable=_values)  # fmt: skip


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR(32) plus a named CHECK constraint, storing values."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        length=32,
        create_constraint=True,
        validate_strings=True,
        values_callable=_values,
    )


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]
