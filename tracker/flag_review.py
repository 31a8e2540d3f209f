"""Reviewing flags (风险线索): one lifecycle for progress-report checks and carbon-label claims.

open → under review (assigned to a person) → confirmed or dismissed (a reason is required) →
resolved. A city bureau reviews its own city's flags, the province every flag; leaders only read.
Each step is a ``WorkflowStep`` (subject "flag") and, like every change, in the audit trail. A
dismissed flag stays dismissed on later scans while its data is unchanged (the scans do that: a
changed subject is a different finding); a flag closed by a scan because the data was corrected
carries the scan's note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tracker.audit import actor_fields
from tracker.errors import TrackerError
from tracker.i18n import N_
from tracker.models import Flag, FlagStatus, User, WorkflowStep
from tracker.permissions import Action, PermissionDenied, can, require

FS = FlagStatus
REASON_LIMIT = 1000


@dataclass(frozen=True)
class FlagStep:
    key: str
    label_zh: str
    label_en: str
    sources: frozenset[FlagStatus]
    target: FlagStatus
    needs_reason: bool = False


FLAG_STEPS = {step.key: step for step in (
    FlagStep("assign", "分派核查", "Assign for review", frozenset({FS.OPEN, FS.UNDER_REVIEW}), FS.UNDER_REVIEW),
    FlagStep("confirm", "确认问题", "Confirm", frozenset({FS.OPEN, FS.UNDER_REVIEW}), FS.CONFIRMED, needs_reason=True),
    FlagStep("dismiss", "排除（非问题）", "Dismiss", frozenset({FS.OPEN, FS.UNDER_REVIEW, FS.CONFIRMED}), FS.DISMISSED,
             needs_reason=True),
    FlagStep("resolve", "已整改办结", "Resolve", frozenset({FS.CONFIRMED}), FS.RESOLVED, needs_reason=True),
)}  # fmt: skip
STATUS_ZH = {FS.OPEN: N_("待核查"), FS.UNDER_REVIEW: N_("核查中"), FS.CONFIRMED: N_("已确认"),
             FS.DISMISSED: N_("已排除"), FS.RESOLVED: N_("已办结")}  # fmt: skip


def review_flag(session: Session, user: User, flag_id: int, step_key: str, *, now: dt.datetime,
                reason: str | None = None, assignee: User | None = None) -> Flag:  # fmt: skip
    """Take one review step on a flag the user may review; refused with a reason otherwise."""
    step = FLAG_STEPS.get(step_key)
    if step is None:
        raise TrackerError(f"未知的核查步骤：{step_key}", f"Unknown review step: {step_key}")
    flag = session.get(Flag, flag_id, with_for_update=True)
    if flag is None or not can(user, Action.VIEW, flag):
        raise TrackerError("风险线索不存在", "No such flag")
    require(user, Action.EDIT, flag)
    if flag.status not in step.sources:
        raise TrackerError(f"该线索{STATUS_ZH[flag.status]}，不能{step.label_zh}",
                           f"The flag is {flag.status.value}; it cannot be {step.key}ed")  # fmt: skip
    text = (reason or "").strip()
    if step.needs_reason and not text:
        raise TrackerError(f"{step.label_zh}须填写理由", f"{step.label_en} needs a reason")
    if len(text) > REASON_LIMIT:
        raise TrackerError(
            f"理由不能超过{REASON_LIMIT}字", f"The reason is longer than {REASON_LIMIT} characters"
        )
    if step.key == "assign":
        flag.assigned_to_id = _assignee(user, flag, assignee).id
    before = flag.status
    flag.status = step.target
    if text:
        flag.reason = text
    flag.closed_at = now if step.target in (FS.DISMISSED, FS.RESOLVED) else None
    session.flush()
    actor = actor_fields(session)
    session.add(WorkflowStep(subject_type="flag", subject_id=flag.id, city_id=flag.city_id, step=step.key,
                             from_status=before.value, to_status=flag.status.value, reason=text or None,
                             actor_id=actor["actor_id"], actor_name=actor["actor_name"], at=now))  # fmt: skip
    return flag


def _assignee(user: User, flag: Flag, assignee: User | None) -> User:
    """The person who checks the flag: the reviewer themself, or someone else who may review it."""
    person = assignee or user
    if not person.is_active or not can(person, Action.EDIT, flag):
        raise PermissionDenied(
            "只能分派给有权核查该线索的在职人员", "Assign only to an active user who may review the flag"
        )
    return person
