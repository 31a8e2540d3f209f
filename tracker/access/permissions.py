"""The one place that answers "may this user see / do this to that?".

Pages, Dash callbacks, Flask routes, the API and the CLI all call these functions; none of them
re-implements a check. Scope: provincial roles see their province; a city user sees their city;
a leader sees the province, or only their city when the account is bound to one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Select, false, select
from sqlalchemy.orm import InstrumentedAttribute

from tracker.core.errors import Refusal
from tracker.core.messages import Message
from tracker.models import (
    Application,
    Audience,
    AuditChainHead,
    AuditEvent,
    Batch,
    Bulletin,
    City,
    Flag,
    Milestone,
    Notice,
    Organisation,
    Pilot,
    ProgressUpdate,
    Recipient,
    Role,
    Task,
    User,
    WorkPlanTask,
    WorkPlanUpdate,
)

T = TypeVar("T")


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    EXPORT = "export"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    VIEW_WORK_PLAN = "view_work_plan"  # the provincial work plan: province-level, not for city users
    VIEW_JOBS = "view_jobs"  # the jobs page (runs, schedule, failed messages): provincial roles
    MANAGE_RECIPIENTS = "manage_recipients"  # who bulletins go to: the admin, and a city its own
    # The provincial administrator's alone (the office that owns the programme):
    MANAGE_ALL_RECIPIENTS = "manage_all_recipients"  # every audience and city, not only one's own
    EDIT_LIBRARY = "edit_library"  # reference benchmarks, factors, certifiers
    REVIEW_WORK_PLAN = "review_work_plan"  # accept or return work-plan updates entered by the staff
    RUN_JOBS = "run_jobs"  # start a job by hand, requeue a failed message
    KEEP_AUDIT = "keep_audit"  # told when the audit trail's hash chain breaks


class PermissionDenied(Refusal):
    """Refused for want of a role or scope; carries the message that says which."""

    def __init__(self, message: Message | None = None) -> None:
        super().__init__(message or Message("无权执行此操作"))


class Level(StrEnum):
    """Who performs a workflow step (tracker.lifecycle.applications declares each step's level)."""

    CITY = "city"  # the city bureau's step (市级初审); the province's for direct service applications
    PROVINCE = "province"  # the provincial bureau's step (省级遴选, publication, closing a pilot)
    EITHER = "either"  # the city bureau of the object's city or the province


PROVINCIAL_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_STAFF})
WRITING_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_STAFF, Role.CITY_STAFF})
ADMIN_ONLY = frozenset({Action.MANAGE_USERS, Action.MANAGE_ALL_RECIPIENTS, Action.EDIT_LIBRARY,
                        Action.REVIEW_WORK_PLAN, Action.RUN_JOBS, Action.KEEP_AUDIT})  # fmt: skip
# Every role question is answered here; the functions below add only scope (province, city, owner).
_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.PROVINCE_ADMIN: frozenset(Action),
    Role.PROVINCE_STAFF: frozenset(Action) - ADMIN_ONLY - {Action.MANAGE_RECIPIENTS},
    Role.CITY_STAFF: frozenset(Action) - ADMIN_ONLY - {Action.VIEW_WORK_PLAN, Action.VIEW_JOBS},
    Role.LEADER: frozenset({Action.VIEW, Action.EXPORT, Action.VIEW_WORK_PLAN}),
}
# Objects whose city is their pilot's city.
_PILOT_CHILDREN = (Task, Milestone, ProgressUpdate)


def is_active_user(user: object) -> bool:
    return isinstance(user, User) and user.is_active


def city_scope(user: User) -> int | None:
    """The single city a user is confined to, or None for the whole province."""
    return None if user.role in PROVINCIAL_ROLES else user.city_id


def system_reader(province_id: int) -> User:
    """A read-only viewer of the whole province for scheduled work (the dispatch bulletins): a
    provincial leader's scope and rights. Never stored, so it cannot log in, and its role writes
    nothing; every query a job makes still goes through the functions of this module."""
    return User(username="system", display_name="系统", password_hash="!", role=Role.LEADER,
                province_id=province_id, city_id=None, is_active=True)  # fmt: skip


def may(user: object, action: Action) -> bool:
    """Whether the user's role allows ``action`` at all (before looking at any object)."""
    return isinstance(user, User) and user.is_active and action in _ALLOWED[user.role]


def _object_place(obj: object) -> tuple[int, int | None]:
    """(province id, city id) of an object; city None means a province-level object."""
    if isinstance(obj, _PILOT_CHILDREN):
        obj = obj.pilot
    if isinstance(obj, WorkPlanUpdate):
        obj = obj.task
    if isinstance(obj, WorkPlanTask):
        return obj.province_id, None
    if isinstance(obj, Pilot | Application | Organisation):
        return obj.city.province_id, obj.city_id
    if isinstance(obj, City):
        return obj.province_id, obj.id
    if isinstance(obj, Batch):
        return obj.province_id, None
    if isinstance(obj, Flag) and obj.city is not None:
        return obj.city.province_id, obj.city_id
    if isinstance(obj, User):
        return obj.province_id, obj.city_id
    raise TypeError(f"no permission rule for {type(obj).__name__}")


def can(user: object, action: Action, obj: object = None) -> bool:
    """Whether ``user`` may do ``action`` to ``obj`` (or in general, when ``obj`` is None)."""
    if not may(user, action):
        return False
    assert isinstance(user, User)
    if obj is None:
        return True
    if isinstance(obj, User):
        return action is Action.MANAGE_USERS and obj.province_id == user.province_id
    province_id, city_id = _object_place(obj)
    if province_id != user.province_id:
        return False
    scope = city_scope(user)
    return scope is None or scope == city_id


def require(user: object, action: Action, obj: object = None) -> None:
    """Raise PermissionDenied unless ``can(user, action, obj)``."""
    if not is_active_user(user):
        raise PermissionDenied(Message("请先登录"))
    if not can(user, action, obj):
        raise PermissionDenied()


def may_edit_library(user: object) -> bool:
    """Whether the user may change the reference library: the provincial administrator only.

    Everyone who may view reads it (tracker.claims.library): the figures are public and the claim rules
    judge every city's claims against them.
    """
    return may(user, Action.EDIT_LIBRARY)


def require_library_admin(user: object) -> None:
    """The reference library (benchmarks, factors, certifiers) is the provincial administrator's."""
    if not is_active_user(user):
        raise PermissionDenied(Message("请先登录"))
    if not may_edit_library(user):
        raise PermissionDenied(Message("参考数据仅限省级管理员修改"))


def scope_to_user(user: object, stmt: Select[T], city_column: InstrumentedAttribute[int]) -> Select[T]:
    """Restrict a query to the rows the user may see, given the column holding each row's city."""
    if not may(user, Action.VIEW):
        return stmt.where(false())
    assert isinstance(user, User)
    scope = city_scope(user)
    if scope is not None:
        return stmt.where(city_column == scope)
    province_cities = select(City.id).where(City.province_id == user.province_id)
    return stmt.where(city_column.in_(province_cities))


def visible_pilots(user: object) -> Select[Pilot]:
    """The pilots the user may see."""
    return scope_to_user(user, select(Pilot), Pilot.city_id)


def visible_flags(user: object) -> Select[Flag]:
    """Flags of the user's scope: a city user's city, or the whole province."""
    if not may(user, Action.VIEW):
        return select(Flag).where(false())
    assert isinstance(user, User)
    stmt = select(Flag).join(City, Flag.city_id == City.id).where(City.province_id == user.province_id)
    scope = city_scope(user)
    return stmt if scope is None else stmt.where(Flag.city_id == scope)


def visible_cities(user: object) -> Select[City]:
    """The cities the user may see (their own, or every city of their province)."""
    return scope_to_user(user, select(City).order_by(City.code), City.id)


def visible_audit_events(user: object) -> Select[AuditEvent]:
    """Audit events the user may read: a city's own trail, or the whole province's."""
    if not may(user, Action.VIEW_AUDIT):
        return select(AuditEvent).where(false())
    assert isinstance(user, User)
    stmt = select(AuditEvent)
    scope = city_scope(user)
    if scope is not None:
        return stmt.where(AuditEvent.city_id == scope)
    province_cities = select(City.id).where(City.province_id == user.province_id)
    return stmt.where(AuditEvent.city_id.in_(province_cities) | AuditEvent.city_id.is_(None))


def manageable_users(user: object) -> Select[User]:
    """Accounts the user may list and manage."""
    if not may(user, Action.MANAGE_USERS):
        return select(User).where(false())
    assert isinstance(user, User)
    return select(User).where(User.province_id == user.province_id)


def may_act(user: object, level: Level, obj: object) -> bool:
    """Whether ``user`` may perform a workflow step of ``level`` on ``obj`` (an application or pilot).

    The object must be in the user's scope and their role must write. City steps belong to the city
    bureau, except for a service application filed directly with the province (344号 四(一)),
    whose city steps the province performs. Leaders never act.
    """
    if not can(user, Action.EDIT, obj):
        return False
    assert isinstance(user, User)
    provincial = user.role in PROVINCIAL_ROLES
    if level is Level.PROVINCE:
        return provincial
    if level is Level.CITY:
        if isinstance(obj, Application) and obj.direct_to_province:
            return provincial
        return user.role is Role.CITY_STAFF
    return True


def require_act(user: object, level: Level, obj: object) -> None:
    """Raise PermissionDenied unless ``may_act(user, level, obj)``, saying whose step it is."""
    if not is_active_user(user):
        raise PermissionDenied(Message("请先登录"))
    if not may_act(user, level, obj):
        if level is Level.PROVINCE:
            raise PermissionDenied(Message("此操作仅限省级生态环境部门"))
        raise PermissionDenied(Message("此操作仅限申报单位所在市的生态环境部门"))


def may_review_updates(user: object, update: ProgressUpdate | None = None) -> bool:
    """Whether the user accepts or returns pilots' periodic updates (this one, or any): the
    provincial bureau's staff and admin, within their province. Their menu shows the 待审核 count."""
    return may_act(user, Level.PROVINCE, update)


def visible_updates(user: object) -> Select[ProgressUpdate]:
    """The pilots' periodic updates the user may see (their pilots' city, or the whole province)."""
    return scope_to_user(
        user, select(ProgressUpdate).join(Pilot, ProgressUpdate.pilot_id == Pilot.id), Pilot.city_id
    )


def visible_applications(user: object) -> Select[Application]:
    """The applications the user may see."""
    return scope_to_user(user, select(Application), Application.city_id)


# --- the provincial work plan (晋环发〔2024〕31号) ---------------------------------------------------
# Province-level work: provincial staff enter each lead department's progress (the departments are
# not users), the provincial admin reviews it, leaders of the whole province read it. City users
# neither read nor write it (their role lacks VIEW_WORK_PLAN), nor do leaders bound to a city: it
# is not their city's business, and a work-plan task belongs to no city.


def may_read_work_plan(user: object, obj: WorkPlanTask | WorkPlanUpdate | None = None) -> bool:
    """Whether the user may read the work plan's tasks and updates (provincial roles, leaders)."""
    return can(user, Action.VIEW_WORK_PLAN, obj) and isinstance(user, User) and city_scope(user) is None


def may_enter_work_plan(user: object, obj: WorkPlanTask | WorkPlanUpdate | None = None) -> bool:
    """Whether the user may enter (save, submit) work-plan updates: provincial staff and admin."""
    return may_act(user, Level.PROVINCE, obj)


def may_review_work_plan(user: object, obj: WorkPlanTask | WorkPlanUpdate | None = None) -> bool:
    """Whether the user may accept or return a work-plan update: the provincial admin only.

    The staff who enter the updates should not also approve them; the admin account stands for
    the office that owns the programme (应对气候变化处), as the province's reviewer does for cities.
    """
    return may_act(user, Level.PROVINCE, obj) and may(user, Action.REVIEW_WORK_PLAN)


def require_read_work_plan(user: object, obj: WorkPlanTask | WorkPlanUpdate | None = None) -> None:
    if not is_active_user(user):
        raise PermissionDenied(Message("请先登录"))
    if not may_read_work_plan(user, obj):
        raise PermissionDenied(Message("省级工作方案仅限省级用户和省级领导查看"))


def require_enter_work_plan(user: object, obj: WorkPlanTask | WorkPlanUpdate) -> None:
    require_read_work_plan(user, obj)
    if not may_enter_work_plan(user, obj):
        raise PermissionDenied(Message("省级工作方案进展仅限省级业务人员填报"))


def require_review_work_plan(user: object, obj: WorkPlanTask | WorkPlanUpdate) -> None:
    require_read_work_plan(user, obj)
    if not may_review_work_plan(user, obj):
        raise PermissionDenied(Message("省级工作方案进展仅限省级管理员审核"))


def visible_work_plan_tasks(user: object) -> Select[WorkPlanTask]:
    """The work plan's tasks the user may read (their province's, for provincial users and leaders)."""
    if not may_read_work_plan(user):
        return select(WorkPlanTask).where(false())
    assert isinstance(user, User)
    return select(WorkPlanTask).where(WorkPlanTask.province_id == user.province_id)


# --- scheduled jobs, their recipients and the bulletin archive --------------------------------------
# The jobs page (history, next runs, failed messages) is the provincial bureau's; only its
# administrator starts a run by hand or requeues a failed message. Recipients: the provincial
# administrator manages all of them; a city bureau's staff manage their own city's. Bulletins are
# read by scope: the province and provincial leaders every cut, a city user (or a city's leader)
# only their city's cut.


def may_run_jobs(user: object) -> bool:
    return may(user, Action.RUN_JOBS)


def require_run_jobs(user: object) -> None:
    if not is_active_user(user):
        raise PermissionDenied(Message("请先登录"))
    if not may_run_jobs(user):
        raise PermissionDenied(Message("仅省级管理员可手动运行任务或重发消息"))  # fmt: skip


def may_manage_recipients(user: object, audience: Audience | None = None, city: City | None = None) -> bool:
    """Whether the user may add or change recipients at all, or of this audience and city."""
    if not may(user, Action.MANAGE_RECIPIENTS):
        return False
    assert isinstance(user, User)
    if city is not None and city.province_id != user.province_id:
        return False
    if may(user, Action.MANAGE_ALL_RECIPIENTS):
        return True
    if user.city_id is not None:
        return audience is None or (
            audience is Audience.CITY and city is not None and city.id == user.city_id
        )
    return False


def require_manage_recipients(
    user: object, audience: Audience | None = None, city: City | None = None
) -> None:
    if not is_active_user(user):
        raise PermissionDenied(Message("请先登录"))
    if not may_manage_recipients(user, audience, city):
        raise PermissionDenied(Message("无权管理这些发送对象（市级用户仅可管理本市的）"))  # fmt: skip


def visible_recipients(user: object) -> Select[Recipient]:
    """Recipients the user may list: all of the province for its administrator, a city's own for
    its staff, none for anyone else."""
    if not may_manage_recipients(user):
        return select(Recipient).where(false())
    assert isinstance(user, User)
    stmt = select(Recipient).where(Recipient.province_id == user.province_id)
    if may(user, Action.MANAGE_ALL_RECIPIENTS):
        return stmt
    return stmt.where(Recipient.audience == Audience.CITY, Recipient.city_id == user.city_id)


def visible_bulletins(user: object) -> Select[Bulletin]:
    """Archived bulletins the user may read and download."""
    if not may(user, Action.VIEW):
        return select(Bulletin).where(false())
    assert isinstance(user, User)
    stmt = select(Bulletin).where(Bulletin.province_id == user.province_id)
    scope = city_scope(user)
    return stmt if scope is None else stmt.where(Bulletin.city_id == scope)


# --- reviewing flags (风险线索): two levels, the province decides ---------------------------------------
# A city bureau works on its own city's flags: it assigns them within the city and proposes a dismissal
# or a resolution with its reason; the province (staff and admin) confirms, dismisses and resolves,
# and accepts or rejects a city's proposal. Leaders read only. tracker.flags.review holds the cycle
# (which step from which status); who may take each step is answered here.

FLAG_STEP_LEVELS: dict[str, Level] = {
    "assign": Level.EITHER,
    "confirm": Level.PROVINCE,
    "dismiss": Level.PROVINCE,
    "resolve": Level.PROVINCE,
    "propose_dismiss": Level.CITY,
    "propose_resolve": Level.CITY,
    "accept": Level.PROVINCE,
    "reject": Level.PROVINCE,
}


def may_review_flag(user: object, step: str, flag: Flag | None = None) -> bool:
    """Whether the user may take review ``step`` on ``flag`` (or on some flag, when None)."""
    level = FLAG_STEP_LEVELS.get(step)
    return level is not None and may_act(user, level, flag)


def require_review_flag(user: object, step: str, flag: Flag) -> None:
    """Raise PermissionDenied unless ``may_review_flag``, saying whose step it is."""
    if not is_active_user(user):
        raise PermissionDenied(Message("请先登录"))
    if may_review_flag(user, step, flag):
        return
    level = FLAG_STEP_LEVELS.get(step)
    if not can(user, Action.EDIT, flag) or level is None:
        raise PermissionDenied()
    if level is Level.PROVINCE:
        raise PermissionDenied(Message("确认、排除、办结和审核市级建议由省级生态环境部门决定；市级可提出排除或办结建议"))  # fmt: skip
    raise PermissionDenied(Message("排除或办结建议由线索所在市的生态环境部门提出，省级直接决定"))  # fmt: skip


def may_assign_flag_to(user: object, person: object, flag: Flag) -> bool:
    """Whether ``user`` may hand ``flag`` to ``person`` for checking: an active user who may review
    it; a city bureau assigns within its own city only."""
    if not may_review_flag(user, "assign", flag) or not isinstance(person, User) or not person.is_active:
        return False
    assert isinstance(user, User)
    if not can(person, Action.EDIT, flag):
        return False
    if user.role in PROVINCIAL_ROLES:
        return True
    return person.role is Role.CITY_STAFF and person.city_id == flag.city_id


# --- notices (通知): each user reads and marks only their own ---------------------------------------
# A notice tells one user of an event (tracker.delivery.notices); who is told is who may see the object. Marking
# a notice read is the reader's own business, not a change to the programme's data, so every active
# account may do it, leaders too; nobody reads or marks another's.


def may_be_told(user: object, obj: object) -> bool:
    """Whether ``user`` may be told of an event on ``obj``: only someone who may see it."""
    if isinstance(obj, WorkPlanUpdate):
        return may_read_work_plan(user, obj)
    if isinstance(obj, Bulletin):
        return may_view_bulletin(user, obj)
    if isinstance(obj, AuditChainHead):  # a break in the audit chain: the provincial admins'
        return may(user, Action.KEEP_AUDIT) and getattr(user, "province_id", None) == obj.province_id
    return can(user, Action.VIEW, obj)


def may_view_bulletin(user: object, bulletin: Bulletin) -> bool:
    """One archived bulletin, as ``visible_bulletins`` lists them: a city user only their city's cut."""
    if not may(user, Action.VIEW):
        return False
    assert isinstance(user, User)
    scope = city_scope(user)
    return bulletin.province_id == user.province_id and (scope is None or bulletin.city_id == scope)


def visible_notices(user: object) -> Select[Notice]:
    """The user's own notices (nobody else's, whatever the role)."""
    if not is_active_user(user):
        return select(Notice).where(false())
    assert isinstance(user, User)
    return select(Notice).where(Notice.user_id == user.id)


def may_mark_notice(user: object, notice: Notice) -> bool:
    return is_active_user(user) and isinstance(user, User) and notice.user_id == user.id


def require_mark_notice(user: object, notice: Notice) -> None:
    if not is_active_user(user):
        raise PermissionDenied(Message("请先登录"))
    if not may_mark_notice(user, notice):
        raise PermissionDenied(Message("只能标记自己的通知"))
