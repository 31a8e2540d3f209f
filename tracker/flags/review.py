"""Reviewing flags (风险线索): one lifecycle for progress-report checks and carbon-label claims.

open → under review (assigned to a person) → confirmed or dismissed (a reason is required) →
resolved. Two levels, and the province decides: a city bureau assigns its own city's flags within
the city and *proposes* a dismissal (排除) or a resolution (办结) with its reason; the province
(provincial staff and admin) confirms, dismisses and resolves directly, and accepts a city's
proposal (its outcome applies) or rejects it (with a reason). A flag the province confirmed can
only be resolved by the province; its city may propose that once the problem is fixed. Leaders
only read. Who may take which step is ``tracker.access.permissions.may_review_flag``.

A pending proposal sits on the flag (``proposal``, ``proposal_reason``, ``proposed_by_id``,
``proposed_at``) until the province decides; a direct decision by the province settles it too.
Each step is a ``WorkflowStep`` (subject "flag") and, like every change, in the audit trail. A
dismissed flag stays dismissed on later scans while its data is unchanged (the scans do that: a
changed subject is a different finding); a flag closed by a scan because the data was corrected
carries the scan's note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tracker.access.permissions import (
    Action,
    PermissionDenied,
    can,
    may_assign_flag_to,
    may_review_flag,
    require_review_flag,
)
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_
from tracker.core.messages import Label, Message
from tracker.delivery.notices import tell_flag_decision, tell_flag_proposal
from tracker.models import Closure, Flag, FlagStatus, Subject, User, WorkflowStep
from tracker.models.labels import FLAG_STATUS_ZH
from tracker.review.cycle import Cycle, Step, locked, record_step

FS = FlagStatus
REASON_LIMIT = 1000
LIVE = frozenset({FS.OPEN, FS.UNDER_REVIEW, FS.CONFIRMED})  # where a proposal can wait


@dataclass(frozen=True)
class FlagStep(Step[FlagStatus]):
    """A flag's step; ``target`` None: the status stays (a proposal, a rejection) or is the proposal's
    (accept)."""

    proposes: str | None = None  # the province's step a city proposes ("dismiss" | "resolve")
    decides: bool = False  # accept or reject the pending proposal


FLAG_STEPS: Cycle[FlagStatus, FlagStep] = Cycle(Subject.FLAG, (
    FlagStep("assign", "分派核查", "Assign for review", frozenset({FS.OPEN, FS.UNDER_REVIEW}), FS.UNDER_REVIEW),
    FlagStep("confirm", "确认问题", "Confirm", frozenset({FS.OPEN, FS.UNDER_REVIEW}), FS.CONFIRMED, needs_reason=True),
    FlagStep("dismiss", "排除（非问题）", "Dismiss", frozenset({FS.OPEN, FS.UNDER_REVIEW, FS.CONFIRMED}), FS.DISMISSED,
             needs_reason=True),
    FlagStep("resolve", "已整改办结", "Resolve", frozenset({FS.CONFIRMED}), FS.RESOLVED, needs_reason=True),
    FlagStep("propose_dismiss", "市级建议排除", "Propose to dismiss", frozenset({FS.OPEN, FS.UNDER_REVIEW}), None,
             needs_reason=True, proposes="dismiss"),
    FlagStep("propose_resolve", "市级建议办结", "Propose to resolve", frozenset({FS.CONFIRMED}), None,
             needs_reason=True, proposes="resolve"),
    FlagStep("accept", "省级采纳市级建议", "Accept the proposal", LIVE, None, decides=True),
    FlagStep("reject", "省级驳回市级建议", "Reject the proposal", LIVE, None, needs_reason=True, decides=True),
), noun_zh="该线索", noun_en="flag", status_zh=lambda status: FLAG_STATUS_ZH[status])  # fmt: skip
STATUS_ZH = FLAG_STATUS_ZH
PROPOSAL_ZH = {"dismiss": N_("待省级审核：市级建议排除"), "resolve": N_("待省级审核：市级建议办结")}
PROPOSAL_EN = {"dismiss": "awaiting the province: the city proposes to dismiss",
               "resolve": "awaiting the province: the city proposes to resolve"}  # fmt: skip


def step_open(flag: Flag, step: FlagStep) -> bool:
    """Whether the flag's state allows the step (whoever takes it)."""
    if flag.status not in step.sources:
        return False
    if step.decides:
        return (
            flag.proposal is not None
            and flag.proposal in FLAG_STEPS
            and flag.status in FLAG_STEPS[flag.proposal].sources
        )
    return step.proposes is None or flag.proposal is None


def available_steps(user: User, flag: Flag) -> list[str]:
    """The steps this user may take on this flag now (the buttons the page enables)."""
    return [
        key for key, step in FLAG_STEPS.items() if may_review_flag(user, key, flag) and step_open(flag, step)
    ]


def review_flag(session: Session, user: User, flag_id: int, step_key: str, *, now: dt.datetime,
                reason: str | None = None, assignee: User | None = None) -> Flag:  # fmt: skip
    """Take one review step on a flag the user may review; refused with a reason otherwise."""
    step = FLAG_STEPS.step(step_key)  # an unknown key is refused by the cycle
    flag = locked(session, Flag, flag_id, Message("风险线索不存在"))
    if not can(user, Action.VIEW, flag):
        raise TrackerError(Message("风险线索不存在"))
    require_review_flag(user, step.key, flag)
    text = _checked_reason(flag, step, reason)
    before = flag.status
    _apply(flag, step, user, text, assignee, now)
    session.flush()
    # The step is the reviewer's, whoever runs the session (the audit trail names the session's actor).
    logged = record_step(session, Subject.FLAG, flag.id, step=step.key, city_id=flag.city_id, before=before,
                         after=flag.status, reason=text, actor=user, at=now)  # fmt: skip
    _tell(session, flag, step, logged, now)
    return flag


def _checked_reason(flag: Flag, step: FlagStep, reason: str | None) -> str:
    """The step's reason, trimmed, once the flag's state and any pending proposal allow the step."""
    FLAG_STEPS.check(step, flag.status, reason)
    if step.proposes and flag.proposal:
        raise TrackerError(Message("该线索已有待省级审核的建议（{proposal}）", proposal=Label(PROPOSAL_ZH.get(flag.proposal, flag.proposal), PROPOSAL_EN.get(flag.proposal, flag.proposal))))  # fmt: skip
    if step.decides and not step_open(flag, step):
        raise TrackerError(Message("该线索没有待省级审核的市级建议"))
    text = (reason or "").strip()
    if len(text) > REASON_LIMIT:
        raise TrackerError(Message("理由不能超过{reason_limit}字", reason_limit=REASON_LIMIT))
    return text


def _apply(
    flag: Flag, step: FlagStep, user: User, text: str, assignee: User | None, now: dt.datetime
) -> None:
    if step.key == "assign":
        flag.assigned_to_id = _assignee(user, flag, assignee).id
    if step.proposes:
        flag.proposal, flag.proposal_reason, flag.proposed_by_id, flag.proposed_at = (
            step.proposes, text, user.id, now)  # fmt: skip
    elif step.key == "accept":
        _decide(flag, FLAG_STEPS[str(flag.proposal)].target, flag.proposal_reason, now)
    elif step.key == "reject":
        _clear_proposal(flag)
    elif step.target is not None:
        _decide(flag, step.target, text or None, now)


def _tell(session: Session, flag: Flag, step: FlagStep, logged: WorkflowStep, now: dt.datetime) -> None:
    """The other level hears of the step, in this same transaction: a city's proposal goes to the
    province, the province's decision to the flag's city (an assignment tells nobody)."""
    if step.proposes:
        tell_flag_proposal(session, flag, logged, label=step.label, now=now)
    elif step.key != "assign":
        tell_flag_decision(session, flag, logged, label=step.label, now=now)


def _decide(flag: Flag, target: FlagStatus | None, reason: str | None, now: dt.datetime) -> None:
    """Move the flag to ``target``; a decision of the province settles any pending proposal."""
    assert target is not None
    flag.status = target
    if reason:
        flag.reason = reason
    closed = target in (FS.DISMISSED, FS.RESOLVED)
    flag.closed_at, flag.closed_by = (now, Closure.REVIEW) if closed else (None, None)
    if target is not FS.UNDER_REVIEW:
        _clear_proposal(flag)


def _clear_proposal(flag: Flag) -> None:
    flag.proposal = flag.proposal_reason = None
    flag.proposed_by_id = flag.proposed_at = None


def _assignee(user: User, flag: Flag, assignee: User | None) -> User:
    """The person who checks the flag: the reviewer themself, or someone else who may review it
    (within the city, when a city bureau assigns)."""
    person = assignee or user
    if not may_assign_flag_to(user, person, flag):
        raise PermissionDenied(
            Message("只能分派给有权核查该线索的在职人员（市级仅限本市）"),
        )
    return person
