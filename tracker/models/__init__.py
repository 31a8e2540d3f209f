"""All models, importable from one place (Alembic's autogenerate reads ``Base.metadata`` here)."""

from tracker.db import Base
from tracker.models.accounts import LoginAttempt, User, UserSession
from tracker.models.audit import AuditEvent
from tracker.models.catalogue import (
    Batch,
    BatchDeadline,
    CategoryQuota,
    Product,
    TaskTemplate,
    WorkPlanTask,
    WorkPlanTaskDepartment,
)
from tracker.models.enums import (
    ApplicationStatus,
    DepartmentDuty,
    OrganisationKind,
    PilotCategory,
    PilotStatus,
    ProductSource,
    QuotaScope,
    Role,
    UpdateStatus,
)
from tracker.models.geography import City, Department, Province
from tracker.models.pilots import (
    Application,
    Audited,
    Milestone,
    Organisation,
    Pilot,
    ProgressUpdate,
    Task,
    TaskProgress,
)

__all__ = [
    "Application",
    "ApplicationStatus",
    "AuditEvent",
    "Audited",
    "Base",
    "Batch",
    "BatchDeadline",
    "CategoryQuota",
    "City",
    "Department",
    "DepartmentDuty",
    "LoginAttempt",
    "Milestone",
    "Organisation",
    "OrganisationKind",
    "Pilot",
    "PilotCategory",
    "PilotStatus",
    "Product",
    "ProductSource",
    "ProgressUpdate",
    "Province",
    "QuotaScope",
    "Role",
    "Task",
    "TaskProgress",
    "TaskTemplate",
    "UpdateStatus",
    "User",
    "UserSession",
    "WorkPlanTask",
    "WorkPlanTaskDepartment",
]
