"""The tables and their enums, importable from one place (Alembic's autogenerate reads ``Base.metadata``
here), and the Chinese labels of stored values (``labels``).

May import: ``core`` (``tests/core/test_layers.py`` holds the rule).
"""

from tracker.core.db import Base
from tracker.models.accounts import ApiToken, LoginAttempt, User, UserSession
from tracker.models.audit import AuditChainHead, AuditChainLink, AuditEvent
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
    Subject,
    UpdateStatus,
)
from tracker.models.flags import Closure, Flag, FlagStatus, Severity
from tracker.models.geography import City, Department, Province
from tracker.models.jobs import (
    Audience,
    Bulletin,
    Channel,
    JobRequest,
    JobRun,
    MessageState,
    OutboxMessage,
    Recipient,
    RunState,
    SchedulerProcess,
    Trigger,
)
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
from tracker.models.notices import Notice
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
    "Audience",
    "AuditChainHead",
    "AuditChainLink",
    "AuditEvent",
    "Audited",
    "Base",
    "Batch",
    "BatchDeadline",
    "Boundary",
    "Bulletin",
    "CategoryQuota",
    "Certifier",
    "Channel",
    "City",
    "Claim",
    "ClaimImport",
    "Closure",
    "DeadlineException",
    "Department",
    "DepartmentDuty",
    "EmissionFactor",
    "ExpertScore",
    "FileKind",
    "Flag",
    "FlagStatus",
    "JobRequest",
    "JobRun",
    "LabelType",
    "LoginAttempt",
    "MessageState",
    "Milestone",
    "Notice",
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
    "Recipient",
    "Role",
    "RunState",
    "SchedulerProcess",
    "Severity",
    "Subject",
    "Task",
    "TaskProgress",
    "TaskTemplate",
    "Trigger",
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
