"""Bulk entry of periodic updates in Excel: what the template holds, and reading a filled one back.

The template (written by ``reports.update_template``) has three sheets: 任务进度 (one row per task),
工作进展 (one row per pilot: narratives and the update's version at download) and 阶段性目标 (one row
per milestone). Key columns are protected; columns are found by their captions, not positions.

Import is all-or-nothing: every problem is listed with its sheet, row and column, and nothing is
written unless there are none. A pilot whose figures in the file equal what is stored is left
untouched, so uploading the same file twice changes nothing. A pilot whose update another person
changed after the template was downloaded (its version moved, and the audit trail names someone
else) is refused rather than overwritten; the uploader's own changes since (a draft uploaded from
the same workbook, now corrected) are not a conflict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import Action, PermissionDenied, can
from tracker.core.errors import TrackerError
from tracker.core.messages import Label, Listed, Message
from tracker.core.periods import Period, Reporting, parse_period
from tracker.core.spreadsheets import open_workbook
from tracker.core.validation import FIELD_LABELS, Problem, ValidationFailed, clean_text, squeeze
from tracker.lifecycle.deadlines import parse_chinese_or_iso_date
from tracker.models import AuditEvent, Pilot, ProgressUpdate, User
from tracker.progress.expected import expected_task_progress
from tracker.progress.owed import owing_pilots
from tracker.progress.updates import (
    EDITABLE,
    NARRATIVE_LIMIT,
    MilestoneReport,
    UpdateEntry,
    find_update,
    is_blank,
    last_reported_many,
    news_only,
    parse_number,
    save_update,
    stored_entry,
    submit_update,
    updates_for,
)

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

TASK_SHEET, NARRATIVE_SHEET, MILESTONE_SHEET = "任务进度", "工作进展", "阶段性目标"
# (key, caption, editable); the order is the template's.
TASK_COLUMNS = (
    ("pilot_id", "试点编号", False), ("organisation", "试点单位", False), ("period", "报告期", False),
    ("task_id", "任务编码", False), ("task_number", "任务序号", False), ("task_title", "任务", False),
    ("planned_start", "计划开始", False), ("planned_end", "计划完成", False),
    ("expected", "序时进度（%）", False), ("last", "上期进度（%）", False),
    ("percent", "本期进度（%）", True),
)  # fmt: skip
NARRATIVE_COLUMNS = (
    ("pilot_id", "试点编号", False), ("organisation", "试点单位", False), ("period", "报告期", False),
    ("version", "版本", False), ("work_done", "本期工作进展", True), ("problems", "存在问题", True),
    ("next_steps", "下步计划", True),
)  # fmt: skip
MILESTONE_COLUMNS = (
    ("pilot_id", "试点编号", False), ("organisation", "试点单位", False), ("milestone_id", "目标编码", False),
    ("title", "阶段性目标", False), ("due_date", "计划完成日期", False), ("indicator", "指标", False),
    ("target_value", "目标值", False), ("reached", "是否完成", True), ("achieved_on", "完成日期", True),
    ("indicator_value", "指标值", True), ("note", "说明", True),
)  # fmt: skip
YES, NO = "是", "否"
_MAX_FILE_BYTES = 10 * 1024 * 1024


# --- what the template holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateTask:
    task_id: int
    number: str
    title: str
    planned_start: dt.date
    planned_end: dt.date
    expected: Decimal
    last: Decimal | None
    current: Decimal | None


@dataclass(frozen=True)
class TemplateMilestone:
    milestone_id: int
    title: str
    due_date: dt.date
    indicator: str
    target_value: str
    reached: bool
    achieved_on: dt.date | None
    indicator_value: Decimal | None
    note: str


@dataclass(frozen=True)
class TemplatePilot:
    pilot_id: int
    organisation: str
    version: int | None
    status: str | None
    work_done: str
    problems: str
    next_steps: str
    tasks: list[TemplateTask]
    milestones: list[TemplateMilestone]


@dataclass(frozen=True)
class Template:
    city: str
    period: Period
    pilots: list[TemplatePilot]


def template_data(session: Session, user: User, period: Period, city_id: int | None = None) -> Template:
    """The pilots the user may see that owe an update for the period, with their tasks, milestones
    and current figures: this period's draft if there is one, else the last reported values."""
    pilots = owing_pilots(session, user, period, city_id)
    updates = updates_for(session, [p.id for p in pilots], period)
    last_figures = last_reported_many(session, [p.id for p in pilots], period.start)
    rows = []
    for pilot in pilots:
        update = updates.get(pilot.id)
        entry = stored_entry(update) if update else UpdateEntry()
        last = last_figures[pilot.id]
        reports = {r.milestone_id: r for r in entry.milestones}
        tasks = [
            TemplateTask(t.id, t.number, t.title, t.planned_start, t.planned_end,
                         expected_task_progress(t.planned_start, t.planned_end, period.end).quantize(Decimal("0.1")),
                         last.get(t.id), entry.task_percents.get(t.id, last.get(t.id)))
            for t in sorted(pilot.tasks, key=lambda t: t.position)
        ]  # fmt: skip
        milestones = []
        for m in pilot.milestones:
            report = reports.get(m.id)
            reached = report.reached if report else m.achieved_on is not None
            milestones.append(TemplateMilestone(
                m.id, m.title, m.due_date, m.indicator or "", m.target_value or "", reached,
                (report.achieved_on if report else m.achieved_on), report.indicator_value if report else None,
                report.note if report else ""))  # fmt: skip
        rows.append(TemplatePilot(pilot.id, pilot.organisation.name, update.version if update else None,
                                  update.status.value if update else None, entry.work_done, entry.problems,
                                  entry.next_steps, tasks, milestones))  # fmt: skip
    city = pilots[0].city.name_zh if pilots and len({p.city_id for p in pilots}) == 1 else "全省"
    return Template(city, period, rows)


# --- reading a filled template ---------------------------------------------------------------------


@dataclass
class _Cell:
    sheet: str
    row: int
    column: str

    def problem(self, field_key: str, message: Message) -> Problem:
        return Problem(field_key, message, row=self.row, column=self.column, sheet=self.sheet)


@dataclass
class _PilotInFile:
    pilot_id: int
    where: _Cell
    version: int | None = None
    version_cell: _Cell | None = None
    entry: UpdateEntry = field(default_factory=UpdateEntry)
    cells: dict[str, _Cell] = field(default_factory=dict)  # field → where it is (the narrative cells)

    def cell_for(self, field_key: str) -> _Cell:
        """Where a problem with ``field_key`` points: its own cell when known, else the pilot's row."""
        return self.cells.get(field_key, self.where)


@dataclass
class UpdateImportResult:
    period: Period
    saved: int = 0
    unchanged: int = 0
    submitted: int = 0
    untouched: int = 0  # rows left as downloaded, for pilots with no update yet
    dry_run: bool = False

    @property
    def summary(self) -> Message:
        """What the import did, in the reader's language."""
        return Message("{head}{period}：保存{saved}个试点的更新，{unchanged}个与系统中一致未改动{submitted}{untouched}",
                       head=Message("检查通过（未写入）：") if self.dry_run else "", period=self.period.label, saved=self.saved,
                       unchanged=self.unchanged,
                       submitted=Message("，提交{n}个", n=self.submitted) if self.submitted else "",
                       untouched=Message("，{n}个试点未填写（保持原样，未导入）", n=self.untouched) if self.untouched else "")  # fmt: skip


def _rows(book: Workbook, name: str, columns: tuple[tuple[str, str, bool], ...],
          problems: list[Problem]) -> list[tuple[int, dict[str, object], dict[str, str]]]:  # fmt: skip
    """(Excel row number, values by key, column letters by key) for each non-empty row of a sheet."""
    if name not in book.sheetnames:
        problems.append(Problem("file", Message("缺少工作表“{name}”，请使用系统下载的模板", name=name)))
        return []
    sheet = book[name]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    wanted = {squeeze(caption): key for key, caption, _editable in columns}
    for index, cells in enumerate(rows[:10]):
        found = {wanted[squeeze(v)]: i for i, v in enumerate(cells) if squeeze(v) in wanted}
        if "pilot_id" in found:
            missing = [caption for key, caption, _e in columns if key not in found]
            if missing:
                problems.append(Problem("file", Message("工作表“{name}”缺少列：{missing}", name=name, missing=Listed(missing)), row=index + 1,
                                        column="-", sheet=name))  # fmt: skip
                return []
            letters = {key: get_column_letter(i + 1) for key, i in found.items()}
            out: list[tuple[int, dict[str, object], dict[str, str]]] = []
            for number, cells_ in enumerate(rows[index + 1 :], start=index + 2):
                values: dict[str, object] = {
                    key: cells_[i] if i < len(cells_) else None for key, i in found.items()
                }
                if any(clean_text(v) for v in values.values()):
                    out.append((number, values, letters))
            return out
    problems.append(Problem("file", Message("工作表“{name}”找不到表头（试点编号……）", name=name)))
    return []


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = clean_text(value)
    return int(text) if text.isdigit() else None


def _date(value: object) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_chinese_or_iso_date(str(value))


def read_update_sheet(session: Session, user: User, content: bytes) -> tuple[Period, dict[int, _PilotInFile]]:
    """The period and each pilot's entry from a filled template; every problem at once."""
    if len(content) > _MAX_FILE_BYTES:
        raise ValidationFailed([Problem("file", Message("文件超过10MB"))])
    book = open_workbook(content)  # bounded: a spreadsheet bomb is refused before parsing
    problems: list[Problem] = []
    task_rows = _rows(book, TASK_SHEET, TASK_COLUMNS, problems)
    text_rows = _rows(book, NARRATIVE_SHEET, NARRATIVE_COLUMNS, problems)
    milestone_rows = _rows(book, MILESTONE_SHEET, MILESTONE_COLUMNS, problems)
    if problems:
        raise ValidationFailed(problems)
    reader = _SheetReader(session, user)
    for number, values, letters in text_rows:
        reader.narrative(number, values, letters)
    for number, values, letters in task_rows:
        reader.task(number, values, letters)
    for number, values, letters in milestone_rows:
        reader.milestone(number, values, letters)
    return reader.result()


Row = dict[str, Any]
Letters = dict[str, str]
NARRATIVE_FIELDS = ("work_done", "problems", "next_steps")


class _SheetReader:
    """Reads the rows of a filled template into each pilot's entry, collecting every problem; a pilot
    the user may not edit is named once per sheet, not once per row."""

    def __init__(self, session: Session, user: User) -> None:
        self.session, self.user = session, user
        self.problems: list[Problem] = []
        self.periods: dict[Period, _Cell] = {}
        self.pilots: dict[int, _PilotInFile] = {}
        self.refused: set[tuple[str, int | None]] = set()

    def pilot_of(self, sheet: str, number: int, values: Row, letters: Letters) -> _PilotInFile | None:
        where = _Cell(sheet, number, letters["pilot_id"])
        pilot_id = _int(values["pilot_id"])
        pilot = self.session.get(Pilot, pilot_id) if pilot_id is not None else None
        if pilot is None or not can(self.user, Action.EDIT, pilot):
            if (sheet, pilot_id) not in self.refused:
                self.refused.add((sheet, pilot_id))
                self.problems.append(where.problem("pilot", Message("试点编号“{clean_text}”不存在或不属于您负责的城市", clean_text=clean_text(values['pilot_id']))))  # fmt: skip
            return None
        if "period" in values:
            cell = _Cell(sheet, number, letters["period"])
            try:
                self.periods.setdefault(parse_period(clean_text(values["period"])), cell)
            except TrackerError as error:
                self.problems.append(cell.problem("period", error.message))
        return self.pilots.setdefault(pilot.id, _PilotInFile(pilot.id, where))

    def refuse(self, sheet: str, number: int, letter: str, key: str, message: Message) -> None:
        self.problems.append(_Cell(sheet, number, letter).problem(key, message))

    def narrative(self, number: int, values: Row, letters: Letters) -> None:
        found = self.pilot_of(NARRATIVE_SHEET, number, values, letters)
        if found is None:
            return
        raw_version = values["version"]
        found.version = _int(raw_version)
        found.version_cell = _Cell(NARRATIVE_SHEET, number, letters["version"])
        if clean_text(raw_version) and found.version is None:
            self.problems.append(found.version_cell.problem("version", Message("版本号被改动，请勿修改受保护的列")))  # fmt: skip
        for key in NARRATIVE_FIELDS:
            text = clean_text(values[key])
            found.cells[key] = _Cell(NARRATIVE_SHEET, number, letters[key])
            if len(text) > NARRATIVE_LIMIT:
                self.refuse(NARRATIVE_SHEET, number, letters[key], key, Message(
                    "{label}超过{narrative_limit}字（现有{n_text}字）", label=Label(*FIELD_LABELS[key]),
                    narrative_limit=NARRATIVE_LIMIT, n_text=len(text)))  # fmt: skip
            setattr(found.entry, key, text)

    def _pilot(self, found: _PilotInFile) -> Pilot:
        pilot = self.session.get(Pilot, found.pilot_id)
        assert pilot is not None
        return pilot

    def task(self, number: int, values: Row, letters: Letters) -> None:
        found = self.pilot_of(TASK_SHEET, number, values, letters)
        if found is None:
            return
        task_id = _int(values["task_id"])
        if task_id is None or task_id not in {t.id for t in self._pilot(found).tasks}:
            self.refuse(TASK_SHEET, number, letters["task_id"], "tasks", Message("任务编码“{clean_text}”不是该试点的任务，请勿修改受保护的列", clean_text=clean_text(values['task_id'])))  # fmt: skip
            return
        try:
            percent = parse_number(values["percent"])
        except ValueError:
            self.refuse(TASK_SHEET, number, letters["percent"], "tasks", Message("本期进度“{clean_text}”不是数字", clean_text=clean_text(values['percent'])))  # fmt: skip
            return
        if percent is not None and not Decimal(0) <= percent <= Decimal(100):
            self.refuse(TASK_SHEET, number, letters["percent"], "tasks", Message("本期进度应在0–100之间（填了{percent}）", percent=percent))  # fmt: skip
        elif percent is not None:
            found.entry.task_percents[task_id] = percent.quantize(Decimal("0.1"))

    def milestone(self, number: int, values: Row, letters: Letters) -> None:
        found = self.pilot_of(MILESTONE_SHEET, number, values, letters)
        if found is None:
            return
        milestone_id = _int(values["milestone_id"])
        if milestone_id is None or milestone_id not in {m.id for m in self._pilot(found).milestones}:
            self.refuse(MILESTONE_SHEET, number, letters["milestone_id"], "milestones", Message("目标编码不是该试点的阶段性目标，请勿修改受保护的列"))  # fmt: skip
            return
        reached_text = squeeze(values["reached"])
        if reached_text not in ("", YES, NO):
            self.refuse(MILESTONE_SHEET, number, letters["reached"], "milestones", Message("“是否完成”只能填“是”或“否”（填了“{reached_text}”）", reached_text=reached_text))  # fmt: skip
            return
        try:
            achieved_on = _date(values["achieved_on"])
        except (TrackerError, ValueError):
            self.refuse(MILESTONE_SHEET, number, letters["achieved_on"], "milestones", Message("完成日期“{clean_text}”无法识别（如 2026年11月28日）", clean_text=clean_text(values['achieved_on'])))  # fmt: skip
            return
        try:
            value = parse_number(values["indicator_value"])
        except ValueError:
            self.refuse(MILESTONE_SHEET, number, letters["indicator_value"], "milestones", Message("指标值“{clean_text}”不是数字", clean_text=clean_text(values['indicator_value'])))  # fmt: skip
            return
        note = clean_text(values["note"])
        if reached_text or value is not None or note:
            reached = reached_text == YES
            found.entry.milestones.append(MilestoneReport(milestone_id, reached, achieved_on if reached else None, value, note))  # fmt: skip

    def result(self) -> tuple[Period, dict[int, _PilotInFile]]:
        for cell in list(self.periods.values())[1:]:
            self.problems.append(cell.problem("period", Message("文件中有多个报告期，一个文件只能填报一个报告期")))  # fmt: skip
        if not self.pilots and not self.problems:
            self.problems.append(Problem("file", Message("文件中没有任何试点的数据")))
        if self.problems:
            raise ValidationFailed(self.problems)
        return next(iter(self.periods)), self.pilots


def _same(update: ProgressUpdate, entry: UpdateEntry) -> bool:
    stored = stored_entry(update)
    mine = {m.milestone_id: (m.reached, m.achieved_on if m.reached else None, m.indicator_value, m.note)
            for m in entry.milestones}  # fmt: skip
    theirs = {m.milestone_id: (m.reached, m.achieved_on if m.reached else None, m.indicator_value, m.note)
              for m in stored.milestones}  # fmt: skip
    # A reached milestone with no date is stored with the period's end; compare it that way.
    mine = {k: (r, d or (update.period_end if r else None), v, n) for k, (r, d, v, n) in mine.items()}
    return (
        {k: Decimal(v) for k, v in stored.task_percents.items()} == entry.task_percents
        and (stored.work_done, stored.problems, stored.next_steps) == (entry.work_done, entry.problems, entry.next_steps)
        and all(theirs.get(k) == v for k, v in mine.items())
    )  # fmt: skip


def _changed_by_others(session: Session, update: ProgressUpdate, since: int | None, user: User) -> bool:
    """Whether anyone but ``user`` changed the update after the version the template was built from
    (``since``; None: the update did not exist yet). The user's own changes since (a draft uploaded
    earlier and now corrected) are not a conflict; another person's are, and so is a change whose
    version the trail does not say."""
    changes = session.execute(select(AuditEvent.actor_id, AuditEvent.after).where(
        AuditEvent.entity_type == ProgressUpdate.__tablename__, AuditEvent.entity_id == str(update.id)))  # fmt: skip
    for actor_id, after in changes:
        version = (after or {}).get("version")
        later = not isinstance(version, int) or version > (since or 0)
        if later and actor_id != user.id:
            return True
    return False


def import_update_sheet(
    session: Session,
    user: User,
    content: bytes,
    *,
    reporting: Reporting,
    now: dt.datetime,
    tz: ZoneInfo,
    submit: bool = False,
    dry_run: bool = False,
) -> UpdateImportResult:
    """Save (and with ``submit``, submit) every pilot's update in a filled template, or nothing."""
    period, pilots = read_update_sheet(session, user, content)
    today = now.astimezone(tz).date()
    result = UpdateImportResult(period, dry_run=dry_run)
    problems: list[Problem] = []
    savepoint = session.begin_nested()
    last = last_reported_many(session, list(pilots), period.start)
    for found in pilots.values():
        where = found.where
        existing = find_update(session, found.pilot_id, period)
        pilot = session.get(Pilot, found.pilot_id)
        assert pilot is not None
        found.entry = news_only(pilot, found.entry, period)
        if existing is None and is_blank(found.entry, last[found.pilot_id]):
            result.untouched += 1  # left as downloaded: not an update, not a problem
            continue
        try:
            if existing is not None and _same(existing, found.entry):
                result.unchanged += 1
                update = existing
            else:
                if (
                    existing is not None
                    and found.version != existing.version
                    and _changed_by_others(session, existing, found.version, user)
                ):
                    problems.append((found.version_cell or where).problem("version",
                                                  Message("下载模板后该试点的更新已被修改（现为版本{version}），为避免覆盖未导入，请重新下载模板", version=existing.version)))  # fmt: skip
                    continue
                update = save_update(session, user, found.pilot_id, period, found.entry, reporting=reporting,
                                     today=today, version=existing.version if existing else None)  # fmt: skip
                result.saved += 1
            if submit and update.status in EDITABLE:
                submit_update(
                    session, user, update.id, version=update.version, reporting=reporting, now=now, tz=tz
                )
                result.submitted += 1
        except ValidationFailed as error:
            problems.extend(found.cell_for(p.field).problem(p.field, p.message) for p in error.problems)
        except (TrackerError, PermissionDenied) as error:
            problems.append(where.problem("pilot", error.message))
    if problems:
        savepoint.rollback()
        raise ValidationFailed(sorted(problems, key=lambda p: (p.sheet or "", p.row or 0)))
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return result
