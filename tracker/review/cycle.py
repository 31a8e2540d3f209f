"""Steps of a review cycle, the check before one is taken, and the record once it is.

Each subject (an application, a pilot, a periodic update, a work-plan update, a flag) declares its
``Cycle``: its steps, each with the statuses it may be taken from and the status it leads to. A step
is checked (``Cycle.check``: the status allows it, a reason is given where one is needed) after the
row was ``locked`` and the permission module said yes, and recorded (``record_step``) as a
``WorkflowStep`` in the same transaction as the change, alongside the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import Level
from tracker.audit.trail import actor_fields
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_
from tracker.core.messages import Label, Message
from tracker.models import Subject, User, WorkflowStep

S = TypeVar("S", bound=StrEnum)
# A step is read only (frozen), so a Step[FlagStatus] is a Step[StrEnum].
S_co = TypeVar("S_co", bound=StrEnum, covariant=True)
T = TypeVar("T")


@dataclass(frozen=True)
class Step(Generic[S_co]):
    """One step: from which statuses, to which (None: the status stays), and who takes it."""

    key: str
    label_zh: str
    label_en: str
    sources: frozenset[S_co]
    target: S_co | None
    level: Level | None = None  # whose step it is, where the level decides (applications, pilots)
    needs_reason: bool = False

    @property
    def label(self) -> Label:
        """The step's name in both languages, as a message's parameter."""
        return Label(self.label_zh, self.label_en)


StepT = TypeVar("StepT", bound=Step[StrEnum])


class Cycle(Mapping[str, StepT], Generic[S, StepT]):
    """The steps of one kind of subject (statuses ``S``, steps ``StepT``, a ``Step[S]`` or a subclass),
    by key (a read-only mapping), and how a refusal reads: ``refusal_zh`` with ``{noun}``, ``{status}``
    and ``{step}`` (该更新已采纳，不能修改)."""

    def __init__(self, subject: Subject, steps: Iterable[StepT], *, noun_zh: str, noun_en: str,
                 status_zh: Callable[[S], str], refusal: type[TrackerError] = TrackerError,
                 refusal_zh: str = N_("{noun}{status}，不能{step}")) -> None:  # fmt: skip
        self.subject = subject
        self._steps: dict[str, StepT] = {}
        for step in steps:
            if step.key in self._steps:
                raise ValueError(f"step {step.key} declared twice for {subject}")
            self._steps[step.key] = step
        self.noun_zh, self.noun_en, self.status_zh = noun_zh, noun_en, status_zh
        self.refusal = refusal  # what a step the status does not allow raises (a 409 for updates)
        self.refusal_zh = refusal_zh

    def __getitem__(self, key: str) -> StepT:
        return self._steps[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._steps)

    def __len__(self) -> int:
        return len(self._steps)

    def step(self, key: str) -> StepT:
        """The step by its key; an unknown key is refused (it comes from a form, a file or the CLI)."""
        found = self._steps.get(key)
        if found is None:
            raise TrackerError(Message("未知操作：{key}", key=key))
        return found

    def allows(self, key: str, status: S) -> bool:
        step = self._steps.get(key)
        return step is not None and status in step.sources

    def check(self, step: StepT | str, status: S, reason: str | None = None) -> StepT:
        """The step, if it may be taken from ``status`` with this reason; a refusal saying why otherwise."""
        if isinstance(step, str):
            step = self.step(step)
        if status not in step.sources:
            raise self.refusal(Message(self.refusal_zh, noun=Label(self.noun_zh, self.noun_en),
                                       status=Label(self.status_zh(status), status.value),
                                       step=Label(step.label_zh, step.label_en.lower())))  # fmt: skip
        if step.needs_reason and not (reason or "").strip():
            raise TrackerError(Message("{label}须填写理由", label=step.label))
        return step

    def history(self, session: Session, subject_id: int) -> list[WorkflowStep]:
        """Every step recorded for one subject, oldest first."""
        return list(session.scalars(
            select(WorkflowStep).where(WorkflowStep.subject_type == self.subject, WorkflowStep.subject_id == subject_id)
            .order_by(WorkflowStep.at, WorkflowStep.id)
        ))  # fmt: skip


def record_step(session: Session, subject: Subject, subject_id: int, *, step: str, city_id: int | None,
                before: StrEnum | None, after: StrEnum, reason: str | None = None, actor: User | str | None = None,
                at: dt.datetime | None = None) -> WorkflowStep:  # fmt: skip
    """Record one step taken (in the caller's transaction). The actor is the session's (the audit
    trail's) unless the step is someone else's to name: a flag's reviewer, whoever runs the session,
    or a name without an account (the demo's history)."""
    if isinstance(actor, User):
        who: dict[str, int | str | None] = {"actor_id": actor.id, "actor_name": actor.username}
    elif isinstance(actor, str):
        who = {"actor_id": None, "actor_name": actor}
    else:
        who = actor_fields(session)
    logged = WorkflowStep(subject_type=subject, subject_id=subject_id, city_id=city_id, step=step,
                          from_status=before.value if before is not None else None, to_status=after.value,
                          reason=(reason or "").strip() or None, **who)  # fmt: skip
    if at is not None:
        logged.at = at
    session.add(logged)
    return logged


def locked(session: Session, model: type[T], row_id: int, missing: Message) -> T:
    """The row, locked for this transaction and read afresh (``SELECT … FOR UPDATE`` on PostgreSQL;
    SQLite's writers already hold the database's one write lock from ``BEGIN IMMEDIATE``), so a step
    is checked against what another session committed; refused when it does not exist."""
    row = session.get(model, row_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise TrackerError(missing)
    return row
