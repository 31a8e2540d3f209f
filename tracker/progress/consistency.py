"""Consistency checks on progress updates (进展报告一致性核查), recorded as flags.

The notice asks the authorities to crack down on falsified reporting; on the progress side that means
reports that go backwards, leap to completion without evidence, or copy texts between periods and
pilots. Each rule is a small documented function over the submitted and accepted updates; its
docstring gives the regulatory reason. Thresholds are configuration (``Checks``), not literals.

Scanning is idempotent: a finding is identified by rule, update and evidence (its fingerprint), so the
same finding is never recorded twice; a dismissed flag stays dismissed while the data is unchanged;
an open flag whose finding is gone (the update was corrected) closes itself with a note.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.core.i18n import N_
from tracker.core.json_types import JsonRow
from tracker.flags.store import sync_flags
from tracker.models import (
    Milestone,
    ProgressUpdate,
    Severity,
    Subject,
    UpdateFile,
    UpdateStatus,
)
from tracker.models.labels import finding_message

REPORTED = (UpdateStatus.SUBMITTED, UpdateStatus.ACCEPTED)


@dataclass(frozen=True)
class Checks:
    """Thresholds of the progress checks."""

    jump_points: Decimal = Decimal(50)  # a task rising more than this in one period needs a milestone
    similarity: float = 0.9  # texts at least this similar (0–1) count as copied
    min_text_chars: int = 20  # shorter texts ("无", "同上") are not compared


DEFAULT_CHECKS = Checks()


def checks_from(settings: object) -> Checks:
    """The thresholds configured in settings (TRACKER_JUMP_POINTS); the others are the defaults."""
    return Checks(jump_points=getattr(settings, "jump_points", Checks.jump_points))


@dataclass(frozen=True)
class Finding:
    rule_id: str
    update: ProgressUpdate
    evidence: JsonRow

    @property
    def fingerprint(self) -> str:
        key = json.dumps([self.rule_id, "update", self.update.id, self.evidence], ensure_ascii=False, sort_keys=True,
                         default=str)  # fmt: skip
        return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Reports:
    """The reported updates, oldest first per pilot, with what the rules need."""

    by_pilot: dict[int, list[ProgressUpdate]]
    evidence_for: dict[int, set[tuple[str, int]]]  # pilot → {("task", id), ("milestone", id)} with files
    milestones_of_task: dict[int, list[Milestone]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    message: str  # its message id: a template over the evidence (English in the catalogue)
    check: Callable[[Reports, Checks], Iterator[Finding]]

    @property
    def reason(self) -> str:
        return (self.check.__doc__ or "").strip()


def _pairs(reports: Reports) -> Iterator[tuple[ProgressUpdate | None, ProgressUpdate]]:
    for updates in reports.by_pilot.values():
        previous = None
        for update in updates:
            yield previous, update
            previous = update


def _number(value: Decimal | float | str) -> Decimal:
    """The same number whatever its scale: a NUMERIC column gives 40.00 when read back and 40 while
    the object is still in memory, and a fingerprint must not depend on which one a scan sees."""
    number = Decimal(value)
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def _percents(update: ProgressUpdate | None) -> dict[int, Decimal]:
    return {row.task_id: _number(row.percent) for row in update.task_progress} if update else {}


def _task_name(update: ProgressUpdate, task_id: int) -> str:
    task = next((t for t in update.pilot.tasks if t.id == task_id), None)
    return f"{task.number} {task.title}" if task else str(task_id)


def progress_backwards(reports: Reports, checks: Checks) -> Iterator[Finding]:
    """A task's reported progress falls below what the previous report said. Work done does not
    undo itself; a fall means one of the two reports is wrong (虚报 in the earlier one, or a slip)."""
    for previous, update in _pairs(reports):
        before = _percents(previous)
        for task_id, now in _percents(update).items():
            if task_id in before and now < before[task_id]:
                yield Finding("PROGRESS_BACKWARDS", update, {
                    "task": _task_name(update, task_id), "previous_period": str(previous.period_start if previous else ""),
                    "previous": str(before[task_id]), "current": str(now)})  # fmt: skip


def jump_without_milestone(reports: Reports, checks: Checks) -> Iterator[Finding]:
    """A task leaps by more than the configured points in one period while the same report names no
    milestone reached. Large real progress comes with a staged goal met; a leap without one is the
    typical sign of progress written up to catch 序时进度."""
    for previous, update in _pairs(reports):
        if any(report.reached for report in update.milestone_reports):
            continue
        before = _percents(previous)
        for task_id, now in _percents(update).items():
            jump = now - before.get(task_id, Decimal(0))
            if jump > checks.jump_points:
                yield Finding("JUMP_WITHOUT_MILESTONE", update, {
                    "task": _task_name(update, task_id), "previous": str(before.get(task_id, Decimal(0))),
                    "current": str(now), "jump": str(jump)})  # fmt: skip


def done_without_evidence(reports: Reports, checks: Checks) -> Iterator[Finding]:
    """A task is reported complete (100%) but a milestone of that task that requires evidence has
    none on file in any of the pilot's updates. Completion claims must be backed by documents
    (台账、报告、证书); without them the figure cannot be verified. Judged on the report that first
    claims completion; evidence filed later closes the flag at the next scan."""
    for previous, update in _pairs(reports):
        files = reports.evidence_for.get(update.pilot_id, set())
        before = _percents(previous)
        for task_id, now in _percents(update).items():
            if now < 100 or before.get(task_id, Decimal(0)) >= 100:
                continue  # judged once, on the report that first claims completion
            missing = [m.title for m in reports.milestones_of_task.get(task_id, [])
                       if m.evidence_required and ("milestone", m.id) not in files and ("task", task_id) not in files]  # fmt: skip
            if missing:
                yield Finding("DONE_WITHOUT_EVIDENCE", update,
                              {"task": _task_name(update, task_id), "milestones": "、".join(missing)})  # fmt: skip


def _normal(text: str | None) -> str:
    return re.sub(r"[\s\d\u3000，。、；：,.;:（）()]+", "", text or "")


def _similar(a: str, b: str, checks: Checks) -> float | None:
    if len(a) < checks.min_text_chars or len(b) < checks.min_text_chars:
        return None
    ratio = 1.0 if a == b else SequenceMatcher(None, a, b, autojunk=False).ratio()
    return ratio if ratio >= checks.similarity else None


def copied_ratio(text: str | None, earlier: str | None, checks: Checks) -> float | None:
    """How similar a work-done text is to an earlier one (ignoring numbers, spaces and punctuation),
    when it is at least ``checks.similarity``; None otherwise, or when either is too short to compare."""
    return _similar(_normal(text), _normal(earlier), checks)


def text_copied_from_previous(reports: Reports, checks: Checks) -> Iterator[Finding]:
    """The work-done text repeats the previous period's (identical or nearly so, ignoring numbers,
    spaces and punctuation). A report that says the same thing every month reports nothing."""
    for previous, update in _pairs(reports):
        if previous is None:
            continue
        ratio = copied_ratio(update.work_done, previous.work_done, checks)
        if ratio is not None:
            yield Finding("TEXT_COPIED_FROM_PREVIOUS", update,
                          {"previous_period": str(previous.period_start), "similarity": f"{ratio:.2f}"})  # fmt: skip


def text_copied_from_other_pilot(reports: Reports, checks: Checks) -> Iterator[Finding]:
    """The work-done text is identical or nearly so to another pilot's for the same period. Copied
    reports (套写) suggest the figures were not gathered from the pilot itself. Identical texts are
    found across the province; near-identical ones within a city (keeps the comparison cheap)."""
    by_period: dict[tuple[dt.date, int], list[ProgressUpdate]] = defaultdict(list)
    for _previous, update in _pairs(reports):
        by_period[(update.period_start, update.pilot.city_id)].append(update)
    exact: dict[tuple[dt.date, str], list[ProgressUpdate]] = defaultdict(list)
    for (period, _city), updates in by_period.items():
        for update in updates:
            text = _normal(update.work_done)
            if len(text) >= checks.min_text_chars:
                exact[(period, text)].append(update)
        for i, update in enumerate(updates):
            for other in updates[i + 1 :]:
                a, b = _normal(update.work_done), _normal(other.work_done)
                ratio = _similar(a, b, checks) if a != b else None  # identical ones are found below
                if ratio is not None:
                    for one, two in ((update, other), (other, update)):
                        yield Finding("TEXT_COPIED_FROM_OTHER_PILOT", one,
                                      {"other_pilot": two.pilot.name, "similarity": f"{ratio:.2f}"})  # fmt: skip
    for group in exact.values():
        for update in group:
            for other in group:
                if other.pilot_id != update.pilot_id:
                    yield Finding("TEXT_COPIED_FROM_OTHER_PILOT", update,
                                  {"other_pilot": other.pilot.name, "similarity": "1.00"})  # fmt: skip


def indicator_decreased(reports: Reports, checks: Checks) -> Iterator[Finding]:
    """A milestone's indicator value is lower than the pilot reported before. The plans' indicators
    are cumulative counts (stages covered, standards set up, reports issued); they can only grow."""
    for _previous, update in _pairs(reports):
        earlier: dict[int, Decimal] = {}
        for other in reports.by_pilot[update.pilot_id]:
            if other.period_start >= update.period_start:
                break
            for report in other.milestone_reports:
                if report.indicator_value is not None:
                    earlier[report.milestone_id] = _number(report.indicator_value)
        for report in update.milestone_reports:
            before = earlier.get(report.milestone_id)
            if (
                before is not None
                and report.indicator_value is not None
                and Decimal(report.indicator_value) < before
            ):
                yield Finding("INDICATOR_DECREASED", update, {
                    "milestone": report.milestone.title, "indicator": report.milestone.indicator or "",
                    "previous": str(before), "current": str(_number(report.indicator_value))})  # fmt: skip


RULES: tuple[Rule, ...] = (
    Rule("PROGRESS_BACKWARDS", Severity.MEDIUM, N_("任务“{task}”进度从{previous}%降至{current}%"), progress_backwards),
    Rule("JUMP_WITHOUT_MILESTONE", Severity.MEDIUM, N_("任务“{task}”一期内从{previous}%跃升至{current}%，但未报告完成任何阶段性目标"), jump_without_milestone),
    Rule("DONE_WITHOUT_EVIDENCE", Severity.HIGH, N_("任务“{task}”报100%完成，但阶段性目标（{milestones}）缺少证明材料"), done_without_evidence),
    Rule("TEXT_COPIED_FROM_PREVIOUS", Severity.LOW, N_("本期工作进展与上期（{previous_period}）几乎相同（相似度{similarity}）"), text_copied_from_previous),
    Rule("TEXT_COPIED_FROM_OTHER_PILOT", Severity.MEDIUM, N_("本期工作进展与“{other_pilot}”同期报告几乎相同（相似度{similarity}）"), text_copied_from_other_pilot),
    Rule("INDICATOR_DECREASED", Severity.MEDIUM, N_("阶段性目标“{milestone}”的指标{indicator}从{previous}降至{current}"), indicator_decreased),
)  # fmt: skip
RULE_BY_ID = {rule.id: rule for rule in RULES}


def load_reports(session: Session, pilot_ids: list[int] | None = None) -> Reports:
    stmt = (
        select(ProgressUpdate)
        .where(ProgressUpdate.status.in_(REPORTED))
        .options(selectinload(ProgressUpdate.task_progress), selectinload(ProgressUpdate.milestone_reports))
        .order_by(ProgressUpdate.pilot_id, ProgressUpdate.period_start)
    )
    if pilot_ids is not None:
        stmt = stmt.where(ProgressUpdate.pilot_id.in_(pilot_ids))
    by_pilot: dict[int, list[ProgressUpdate]] = defaultdict(list)
    for update in session.scalars(stmt):
        by_pilot[update.pilot_id].append(update)
    evidence: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for pilot_id, milestone_id, task_id in session.execute(
        select(ProgressUpdate.pilot_id, UpdateFile.milestone_id, UpdateFile.task_id).join(UpdateFile.update)
    ):
        if milestone_id is not None:
            evidence[pilot_id].add(("milestone", milestone_id))
        if task_id is not None:
            evidence[pilot_id].add(("task", task_id))
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in session.scalars(select(Milestone).where(Milestone.task_id.is_not(None))):
        assert milestone.task_id is not None
        milestones[milestone.task_id].append(milestone)
    return Reports(by_pilot, evidence, milestones)


def findings(reports: Reports, checks: Checks = Checks()) -> list[Finding]:
    """Every rule's findings, each once (a rule may meet the same pair twice)."""
    found: dict[str, Finding] = {}
    for rule in RULES:
        for finding in rule.check(reports, checks):
            found.setdefault(finding.fingerprint, finding)
    return list(found.values())


@dataclass
class ScanResult:
    new: list[int] = field(default_factory=list)  # ids of the flags added
    seen_again: int = 0
    closed: int = 0


def scan_progress(session: Session, *, now: dt.datetime, checks: Checks = Checks()) -> ScanResult:
    """Run every progress rule over all reported updates and bring the flags up to date."""
    found: dict[str, Callable[[], JsonRow]] = {}
    for finding in findings(load_reports(session), checks):
        found.setdefault(finding.fingerprint, partial(_flag, finding))
    synced = sync_flags(session, Subject.UPDATE, found, now=now)
    return ScanResult(synced.new, synced.seen_again, synced.closed)


def _flag(finding: Finding) -> JsonRow:
    rule = RULE_BY_ID[finding.rule_id]
    message = finding_message(rule.message, finding.evidence)
    return dict(rule_id=rule.id, severity=rule.severity, subject_id=finding.update.id,
                city_id=finding.update.pilot.city_id, pilot_id=finding.update.pilot_id,
                message_id=rule.message, message_zh=message.zh, message_en=message.en, evidence=finding.evidence)  # fmt: skip
