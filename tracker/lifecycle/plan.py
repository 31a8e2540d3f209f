"""Refining a pilot's plan after selection: tasks, milestones and responsibilities, under
optimistic locking, audited, with every problem listed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from tracker.access.permissions import Level, require_act
from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.core.validation import Problem, ValidationFailed
from tracker.models import (
    Milestone,
    Pilot,
    PilotParticipant,
    PilotStatus,
    Task,
    User,
)

PS = PilotStatus


@dataclass(frozen=True)
class TaskEdit:
    """A task's plan; no id for a custom task the pilot adds (its title is then required; a custom
    task's title may change, a standard task's title is the category template's)."""

    task_id: int | None
    weight: Decimal
    planned_start: dt.date
    planned_end: dt.date
    responsible_unit: str | None
    title: str | None = None


@dataclass(frozen=True)
class MilestoneEdit:
    """A milestone's details; no id for a new milestone (its title is then required)."""

    milestone_id: int | None
    due_date: dt.date
    indicator: str | None
    target_value: str | None
    evidence_required: bool
    title: str | None = None


@dataclass(frozen=True)
class ParticipantEdit:
    """A participating unit and its share of the work; no id for a new unit."""

    participant_id: int | None
    unit_name: str
    responsibility: str


def refine_plan(session: Session, user: User, pilot_id: int, *, version: int, tasks: list[TaskEdit],
                milestones: list[MilestoneEdit], participants: list[ParticipantEdit] | None = None) -> Pilot:  # fmt: skip
    """The city bureau (or the province) adjusts task weights and spans, milestone details and the
    participating units' responsibilities (``participants`` None: unchanged; a unit left out of the
    list is removed).

    ``version`` is the pilot version the editor loaded: if someone else saved in between, the change
    is refused rather than silently overwriting theirs. Every problem is reported at once.
    """
    pilot = session.get(Pilot, pilot_id)
    if pilot is None:
        raise TrackerError(Message("试点不存在"))
    require_act(user, Level.EITHER, pilot)
    if pilot.status in (PS.COMPLETED, PS.WITHDRAWN):
        raise TrackerError(Message("试点已结束，计划不能再修改"))
    if pilot.version != version:
        raise TrackerError(
            Message("该试点计划已被他人修改，请刷新后重新编辑"),
        )
    by_task = {t.id: t for t in pilot.tasks}
    by_milestone = {m.id: m for m in pilot.milestones}
    problems: list[Problem] = []
    for index, edit in enumerate(tasks, start=1):
        where = Message("任务第{index}行", index=index)
        if edit.task_id is not None and edit.task_id not in by_task:
            problems.append(Problem("tasks", Message("{where}不属于该试点", where=where)))
        known = by_task.get(edit.task_id) if edit.task_id is not None else None
        custom = edit.task_id is None or (known is not None and known.template_id is None)
        if custom and not 0 < len((edit.title or "").strip()) <= 200:
            problems.append(Problem("tasks", Message("{where}（自定义任务）须填写任务名称（200字以内）", where=where)))  # fmt: skip
        if edit.weight < 0 or edit.weight > 1000:
            problems.append(Problem("tasks", Message("{where}权重应在0–1000之间", where=where)))
        if edit.planned_end < edit.planned_start:
            problems.append(Problem("tasks", Message("{where}计划结束早于开始", where=where)))
    if tasks and sum((e.weight for e in tasks), Decimal(0)) <= 0:
        problems.append(Problem("tasks", Message("任务权重合计须大于0")))
    for index, medit in enumerate(milestones, start=1):
        if medit.milestone_id is None and not 0 < len((medit.title or "").strip()) <= 200:
            problems.append(Problem("milestones", Message("阶段性目标第{index}行（新增）须填写名称（200字以内）", index=index)))  # fmt: skip
        if medit.milestone_id is not None and medit.milestone_id not in by_milestone:
            problems.append(
                Problem(
                    "milestones",
                    Message("阶段性目标第{index}行不属于该试点", index=index),
                )
            )
        if not pilot.start_date <= medit.due_date <= pilot.end_date + dt.timedelta(days=366):
            problems.append(Problem("milestones", Message("阶段性目标第{index}行到期日不在试点期内", index=index)))  # fmt: skip
    problems += _participant_problems(pilot, participants or [])
    if problems:
        raise ValidationFailed(problems)
    if participants is not None:
        _apply_participants(session, pilot, participants)
    for edit in tasks:
        task = by_task[edit.task_id] if edit.task_id is not None else _custom_task(pilot)
        task.weight, task.planned_start, task.planned_end = edit.weight, edit.planned_start, edit.planned_end
        task.responsible_unit = (edit.responsible_unit or "").strip() or None
        if task.template_id is None and task.title != (edit.title or "").strip():
            task.title = (edit.title or "").strip()
    for medit in milestones:
        if medit.milestone_id is None:
            milestone = Milestone(title=(medit.title or "").strip())
            pilot.milestones.append(milestone)
        else:
            milestone = by_milestone[medit.milestone_id]
        milestone.due_date, milestone.evidence_required = medit.due_date, medit.evidence_required
        milestone.indicator = (medit.indicator or "").strip() or None
        milestone.target_value = (medit.target_value or "").strip() or None
    added = any(e.task_id is None for e in tasks) or any(m.milestone_id is None for m in milestones)
    if (
        added
        or participants is not None
        or any(session.is_modified(row) for row in [*pilot.tasks, *pilot.milestones])
    ):
        flag_modified(pilot, "name")  # the pilot's version moves with its plan (optimistic locking)
    session.flush()
    return pilot


def _custom_task(pilot: Pilot) -> Task:
    """A new task of the pilot's own (no template), numbered after the others."""
    numbers = [int(t.number) for t in pilot.tasks if t.number.isdigit()]
    task = Task(position=max((t.position for t in pilot.tasks), default=0) + 1,
                number=str(max(numbers, default=0) + 1), title="")  # fmt: skip
    pilot.tasks.append(task)
    return task


def _participant_problems(pilot: Pilot, participants: list[ParticipantEdit]) -> list[Problem]:
    known = {p.id for p in pilot.participants}
    problems = []
    for index, edit in enumerate(participants, start=1):
        if edit.participant_id is not None and edit.participant_id not in known:
            problems.append(Problem("participants", Message("参与单位第{index}行不属于该试点", index=index)))  # fmt: skip
        if not edit.unit_name.strip() or len(edit.unit_name.strip()) > 200:
            problems.append(Problem("participants", Message("参与单位第{index}行的单位名称应为1–200字", index=index)))  # fmt: skip
        if len(edit.responsibility.strip()) > 1000:
            problems.append(Problem("participants", Message("参与单位第{index}行的分工超过1000字", index=index)))  # fmt: skip
    return problems


def _apply_participants(session: Session, pilot: Pilot, participants: list[ParticipantEdit]) -> None:
    """Change rows in place, add new ones after the others, delete those left out (each change
    audited). Positions of kept rows do not move: renumbering in place would collide on the
    (pilot, position) constraint within one flush."""
    rows: dict[int, PilotParticipant] = {p.id: p for p in pilot.participants}
    kept = {e.participant_id for e in participants if e.participant_id is not None}
    for row_id, gone in rows.items():
        if row_id not in kept:
            pilot.participants.remove(gone)
            session.delete(gone)
    session.flush()
    next_position = max((p.position for p in pilot.participants), default=0) + 1
    for edit in participants:
        values = {"unit_name": edit.unit_name.strip(), "responsibility": edit.responsibility.strip()}
        row = rows.get(edit.participant_id) if edit.participant_id is not None else None
        if row is None:
            pilot.participants.append(PilotParticipant(position=next_position, **values))
            next_position += 1
            continue
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
