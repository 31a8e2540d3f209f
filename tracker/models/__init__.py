"""All models, importable from one place (Alembic's autogenerate reads ``Base.metadata`` here)."""

from tracker.db import Base
from tracker.models.accounts import ApiToken, LoginAttempt, User, UserSession
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
from tracker.models.claims import Boundary, Claim, ClaimImport, LabelType
from tracker.models.enums import (
    ApplicationStatus,
    DepartmentDuty,
    FileKind,
    OrganisationKind,
    PilotCategory,
    PilotStatus,
    ProductSource,
    QuotaScope,
    Role,
    UpdateStatus,
)
from tracker.models.flags import Flag, FlagStatus, Severity
from tracker.models.geography import City, Department, Province
from tracker.models.jobs import JobRun, MessageState, OutboxMessage, RunState
from tracker.models.library import Certifier, EmissionFactor, ProductBenchmark
from tracker.models.lifecycle import (
    ApplicationFile,
    DeadlineException,
    ExpertScore,
    PilotParticipant,
    PlanMilestone,
    PlanParticipant,
    WorkflowStep,
)
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
from tracker.models.updates import UpdateFile, UpdateMilestone, UpdateWindowException
from tracker.models.workplan import WorkPlanUpdate

__all__ = [
    "ApiToken",
    "Application",
    "ApplicationFile",
    "ApplicationStatus",
    "AuditEvent",
    "Audited",
    "Base",
    "Batch",
    "BatchDeadline",
    "Boundary",
    "CategoryQuota",
    "Certifier",
    "City",
    "Claim",
    "ClaimImport",
    "DeadlineException",
    "Department",
    "DepartmentDuty",
    "EmissionFactor",
    "ExpertScore",
    "FileKind",
    "Flag",
    "FlagStatus",
    "JobRun",
    "LabelType",
    "LoginAttempt",
    "MessageState",
    "Milestone",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "Pilot",
    "PilotCategory",
    "PilotParticipant",
    "PilotStatus",
    "PlanMilestone",
    "PlanParticipant",
    "Product",
    "ProductBenchmark",
    "ProductSource",
    "ProgressUpdate",
    "Province",
    "QuotaScope",
    "Role",
    "RunState",
    "Severity",
    "Task",
    "TaskProgress",
    "TaskTemplate",
    "UpdateFile",
    "UpdateMilestone",
    "UpdateStatus",
    "UpdateWindowException",
    "User",
    "UserSession",
    "WorkPlanTask",
    "WorkPlanTaskDepartment",
    "WorkPlanUpdate",
    "WorkflowStep",
]
