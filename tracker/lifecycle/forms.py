"""Reading the official Excel forms as people fill them: the city summary table (附件1/2 汇总表) and
the application form (附件3 申报表), and importing them all-or-nothing.

Headers and labels are found by meaning (captions with spaces, line breaks and bracketed hints
removed), never by fixed cell positions, so a re-typed or re-merged copy still reads.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import Action, Level, PermissionDenied, require, require_act, visible_pilots
from tracker.core.errors import TrackerError
from tracker.core.messages import Label, Listed, Message
from tracker.core.spreadsheets import open_workbook
from tracker.core.validation import Problem, ValidationFailed, clean_text, squeeze
from tracker.lifecycle.applications import (
    EDITABLE,
    ApplicationData,
    check_category_and_product,
    check_texts,
    data_from_application,
    save_application,
)
from tracker.lifecycle.workflow import advance_application
from tracker.models import Application, ApplicationStatus, Batch, City, Organisation, Pilot, PilotStatus, User

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

SUMMARY_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (field, header words in order of preference); matched on the caption without brackets
    ("serial", ("序号",)),
    ("organisation_name", ("申报单位", "单位名称")),
    ("category_text", ("试点类别", "类别")),
    ("product_text", ("产品名称", "试点产品")),
    ("summary_advantages", ("工作优势", "优势")),
    ("summary_plan", ("计划简介", "工作计划")),
    ("contact_name", ("联系人",)),
    ("contact_phone", ("联系电话", "电话")),
)
SUMMARY_REQUIRED = tuple(key for key, _words in SUMMARY_COLUMNS if key != "serial")
SUMMARY_TEXT_KEYS = ("organisation_name", "product_text", "summary_advantages", "summary_plan",
                     "contact_name", "contact_phone")  # fmt: skip
_BRACKETS = re.compile(r"[(（][^)）]*[)）]")
_MAX_FILE_BYTES = 10 * 1024 * 1024
ListRow = dict[str, str | int | dt.date | None]  # one published pilot: text, ids and its publication day


def caption(value: object) -> str:
    """A header caption reduced to its words: no spaces, no line breaks, no bracketed hints."""
    return _BRACKETS.sub("", squeeze(value)).rstrip(":：")


class FormError(ValidationFailed):
    """The file cannot be read as the form at all (not Excel, no header row, missing columns)."""


def _load(content: bytes) -> Workbook:
    if len(content) > _MAX_FILE_BYTES:
        raise FormError([Problem("file", Message("文件超过10MB"))])
    try:
        return open_workbook(content)  # bounded: a spreadsheet bomb is refused before parsing
    except ValidationFailed as refused:
        raise FormError(refused.problems) from None


# --- summary table (附件1/2) ------------------------------------------------------------------------


@dataclass
class SummaryRow:
    row: int  # the Excel row number
    data: ApplicationData
    columns: dict[str, str]  # field → Excel column letter, for messages


@dataclass
class SummaryTable:
    filler: str  # the 填报单位（盖章） line's text after the colon (may be empty)
    rows: list[SummaryRow]
    warnings: list[Message] = field(default_factory=list)


def _match_header(cells: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, value in enumerate(cells):
        text = caption(value)
        if not text:
            continue
        for key, words in SUMMARY_COLUMNS:
            if key not in found and any(word in text for word in words):
                found[key] = index
                break
    return found


def read_summary_table(content: bytes) -> SummaryTable:
    """Rows of a filled summary table; the header row is the first that names most of the columns."""
    book = _load(content)
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header_index, columns = -1, {}
    for index, cells in enumerate(rows[:30]):
        columns = _match_header(cells)
        if len(columns) >= 5:
            header_index = index
            break
    if header_index < 0:
        raise FormError([Problem("file", Message("找不到汇总表的表头行（序号、试点申报单位、试点类别……）"))])  # fmt: skip
    missing = [key for key in SUMMARY_REQUIRED if key not in columns]
    if missing:
        names = {"organisation_name": "试点申报单位", "category_text": "试点类别", "product_text": "试点产品名称",
                 "summary_advantages": "试点工作优势", "summary_plan": "试点工作计划简介", "contact_name": "联系人",
                 "contact_phone": "联系电话"}  # fmt: skip
        raise FormError([Problem("file", Message("表头缺少列：{missing}", missing=Listed(Label(names[k], k) for k in missing)), row=header_index + 1, column="-")])  # fmt: skip
    filler = ""
    for cells in rows[:header_index]:
        for value in cells:
            text = clean_text(value)
            if "填报单位" in text:
                filler = re.split(r"[:：]", text, maxsplit=1)[-1].strip() if re.search(r"[:：]", text) else ""
    letters = {key: get_column_letter(index + 1) for key, index in columns.items()}
    table = SummaryTable(filler=filler, rows=[])
    for offset, cells in enumerate(rows[header_index + 1 :], start=header_index + 2):
        values = {key: cells[index] if index < len(cells) else None for key, index in columns.items()}
        first = next((clean_text(v) for v in cells if clean_text(v)), "")
        if first.startswith(("备注", "注：", "说明")):
            break
        if not any(clean_text(values[key]) for key in SUMMARY_REQUIRED):
            if clean_text(values.get("serial")):
                table.warnings.append(Message("第{row}行只有序号，已按空行跳过", row=offset))
            continue
        data = ApplicationData(
            category_text=clean_text(values["category_text"]),
            texts={key: clean_text(values[key]) for key in SUMMARY_TEXT_KEYS},
        )
        table.rows.append(SummaryRow(offset, data, letters))
    return table


def _locate(problems: list[Problem], row: SummaryRow) -> list[Problem]:
    column_of = {"category": "category_text"}
    return [
        Problem(p.field, p.message, row=row.row,
                column=row.columns.get(column_of.get(p.field, p.field), "-"))
        for p in problems
    ]  # fmt: skip


def check_summary_table(session: Session, table: SummaryTable, city: City) -> list[Problem]:
    """Every problem of every row, with its Excel row and column (nothing is written here)."""
    problems: list[Problem] = []
    if table.filler and city.short_zh not in table.filler and "XX" not in table.filler.upper():
        problems.append(Problem("file", Message("填报单位“{filler}”与所选城市{name}不符", filler=table.filler, name=Label(city.name_zh, city.name_en)), row=None))  # fmt: skip
    if not table.rows:
        problems.append(Problem("file", Message("表中没有申报数据行")))
    seen: dict[tuple[str, str], int] = {}
    for row in table.rows:
        found = check_texts(row.data, SUMMARY_TEXT_KEYS)
        found += check_category_and_product(session, row.data)[2]
        problems += _locate(found, row)
        key = (squeeze(row.data.text("organisation_name")), squeeze(row.data.text("product_text")))
        if key in seen:
            problems.append(Problem("organisation_name", Message("与第{value}行重复（同一单位、同一产品）", value=seen[key]), row=row.row,
                                    column=row.columns["organisation_name"]))  # fmt: skip
        seen.setdefault(key, row.row)
    return problems


# --- application form (附件3) -----------------------------------------------------------------------

FORM_LABELS = {
    "申报单位": "organisation_name",
    "申报单位名称": "organisation_name",
    "统一社会信用代码": "credit_code",
    "试点类别": "category_text",
    "试点产品": "product_text",
    "试点创建总体目标": "overall_goal",
    "试点任务": "tasks_summary",
    "试点单位情况简介": "unit_intro",
    "符合试点条件的说明": "eligibility",
    "试点工作优势": "advantages",
    "未来计划": "future_plan",
}
PERSON_LABELS = {"单位负责人": "leader", "工作联系人": "contact"}
PERSON_FIELDS = {"职务": "title", "联系电话": "phone", "电话": "phone", "电子邮箱": "email", "邮箱": "email"}
SECTION_TITLES = {"申报单位基本信息", "申报产品/专业化服务信息", "申报材料真实性承诺"}
_INSTRUCTION = re.compile(r"(不超过\d+字|^填“.*”或“.*”。?$|^对照通知要求|^试点单位基本情况。|^符合申报要求的情况。"
                          r"|^简述开展试点工作的核心优势。|^未来拟开展的试点工作)")  # fmt: skip


def _is_label(text: str) -> bool:
    key = caption(text)
    return key in FORM_LABELS or key in PERSON_LABELS or key in PERSON_FIELDS or key in SECTION_TITLES


def looks_like_application_form(content: bytes) -> bool:
    book = _load(content)
    texts = {caption(v) for r in book.worksheets[0].iter_rows(values_only=True) for v in r if v is not None}
    return "单位负责人" in texts and "工作联系人" in texts


def read_application_form(content: bytes) -> tuple[ApplicationData, dict[str, str]]:
    """The filled form's values, and where each was found (field → cell), for messages."""
    book = _load(content)
    sheet = book.worksheets[0]
    texts: dict[str, str] = {}
    where: dict[str, str] = {}
    category = ""
    person = "leader"
    for row in sheet.iter_rows():
        cells = [(c.coordinate, c.value) for c in row]
        for index, (coordinate, value) in enumerate(cells):
            label = caption(value)
            if not label:
                continue
            key: str | None = None
            if label in PERSON_LABELS:
                person = PERSON_LABELS[label]
                key = f"{person}_name"
            elif label in PERSON_FIELDS:
                key = f"{person}_{PERSON_FIELDS[label]}"
            elif label in FORM_LABELS:
                key = FORM_LABELS[label]
            if key is None or key in where:
                continue
            value_cell = next(
                ((coord, v) for coord, v in cells[index + 1 :]
                 if clean_text(v) and not _is_label(clean_text(v)) and not _INSTRUCTION.search(squeeze(v))),
                None,
            )  # fmt: skip
            # The value is the next filled cell to the right that is neither a label nor the form's hint.
            if value_cell is None:
                where[key] = coordinate
                continue
            where[key] = value_cell[0]
            if key == "category_text":
                category = clean_text(value_cell[1])
            else:
                texts[key] = clean_text(value_cell[1])
    if "organisation_name" not in where:
        raise FormError(
            [
                Problem(
                    "file",
                    Message("找不到“申报单位”一栏，不像是附件3申报表"),
                )
            ]
        )
    return ApplicationData(category_text=category, texts=texts), where


# --- importing --------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    kind: str  # "summary" | "form"
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    dry_run: bool = False

    @property
    def summary(self) -> Message:
        """What the import did (or, checked only, would do), in the reader's language."""
        counts = {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }
        if self.dry_run:
            return Message("将新增{created}条，将更新{updated}条，未变{unchanged}条", **counts)
        return Message("已新增{created}条，已更新{updated}条，未变{unchanged}条", **counts)


def _existing(session: Session, city: City, batch: Batch, name: str) -> list[Application]:
    return list(session.scalars(
        select(Application).join(Application.organisation)
        .where(Application.city_id == city.id, Application.batch_id == batch.id, Organisation.name == name)
    ))  # fmt: skip


def _same(application: Application, data: ApplicationData, keys: tuple[str, ...]) -> bool:
    stored = data_from_application(application)
    if squeeze(stored.category_text) != squeeze(data.category_text):
        return False
    return all(stored.text(key) == data.text(key) for key in keys)


def _merge(application: Application, data: ApplicationData, keys: tuple[str, ...]) -> ApplicationData:
    """The stored application with the imported fields laid over it (the rest is kept)."""
    merged = data_from_application(application)
    merged.category_text = data.category_text
    for key in keys:
        merged.texts[key] = data.text(key)
    merged.milestones = merged.participants = None
    return merged


def _import_one(session: Session, user: User, data: ApplicationData, keys: tuple[str, ...], *, city: City,
                batch: Batch, now: dt.datetime, tz: ZoneInfo, result: ImportResult) -> None:  # fmt: skip
    name = data.text("organisation_name")
    product = squeeze(data.text("product_text"))
    matches = [a for a in _existing(session, city, batch, name) if squeeze(a.product_text) == product]
    if not matches:
        application = save_application(session, user, data, city=city, batch=batch)
        advance_application(session, user, application.id, "submit", now=now, tz=tz)
        result.created.append(name)
        return
    application = matches[0]
    if _same(application, data, keys):
        result.unchanged.append(name)
        return
    if application.status not in EDITABLE:
        raise ValidationFailed([Problem("organisation_name", Message("{name}的申报已进入后续环节，不能再用导入修改", name=name))])  # fmt: skip
    save_application(
        session, user, _merge(application, data, keys), city=city, batch=batch, application=application
    )
    if application.status in (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED):
        advance_application(session, user, application.id, "submit", now=now, tz=tz)
    result.updated.append(name)


def import_applications(
    session: Session,
    user: User,
    content: bytes,
    *,
    city: City,
    batch: Batch,
    now: dt.datetime,
    tz: ZoneInfo,
    dry_run: bool = False,
) -> ImportResult:
    """Import a summary table or an application form for ``city`` and ``batch`` as ``user``.

    All or nothing: every problem of every row is collected first; if there is any, nothing is
    written and ValidationFailed lists them. New applications are recorded as submitted to the city
    (the deadline applies); unchanged rows are left alone, so re-importing a file changes nothing.
    The caller's transaction is rolled back on any error; ``dry_run`` checks everything, then rolls back.
    """
    require_act(user, Level.CITY, city)
    savepoint = session.begin_nested()
    try:
        if looks_like_application_form(content):
            data, where = read_application_form(content)
            result = ImportResult("form", dry_run=dry_run)
            found = check_texts(data) + check_category_and_product(session, data)[2]
            if found:
                raise ValidationFailed([_at_cell(p, where) for p in found])
            _import_one(session, user, data, tuple(k for k in where if k != "category_text"), city=city,
                        batch=batch, now=now, tz=tz, result=result)  # fmt: skip
        else:
            table = read_summary_table(content)
            result = ImportResult("summary", warnings=table.warnings, dry_run=dry_run)
            problems = check_summary_table(session, table, city)
            if problems:
                raise ValidationFailed(problems)
            errors: list[Problem] = []
            for row in table.rows:
                try:
                    with session.begin_nested():
                        _import_one(session, user, row.data, SUMMARY_TEXT_KEYS, city=city, batch=batch, now=now,
                                    tz=tz, result=result)  # fmt: skip
                except ValidationFailed as error:
                    errors += _locate(error.problems, row)
                except (TrackerError, PermissionDenied) as error:  # a refused step: report it on its row
                    errors.append(Problem("organisation_name", error.message, row=row.row,
                                          column=row.columns["organisation_name"]))  # fmt: skip
            if errors:
                raise ValidationFailed(errors)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return result


def _at_cell(problem: Problem, where: dict[str, str]) -> Problem:
    cell = where.get("category_text" if problem.field == "category" else problem.field)
    if cell is None:
        return problem
    match = re.match(r"([A-Z]+)(\d+)", cell)
    assert match
    return Problem(problem.field, problem.message, row=int(match.group(2)), column=match.group(1))


# --- rows for the exported forms (reports.forms writes them) ------------------------------------------

SUMMARY_EXCLUDED = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.RETURNED})
LISTED = frozenset(
    {PilotStatus.PUBLISHED, PilotStatus.IN_IMPLEMENTATION, PilotStatus.EXTENDED, PilotStatus.COMPLETED}
)


def form_values(application: Application) -> dict[str, str]:
    """An application's fields keyed as the forms name them."""
    data = data_from_application(application)
    return {**data.texts, "category_text": data.category_text}


def summary_table_rows(session: Session, user: User, city: City, batch: Batch) -> list[dict[str, str]]:
    """The city's applications of a batch that it received (drafts and returned ones are not listed)."""
    require(user, Action.EXPORT, city)
    applications = session.scalars(
        select(Application).where(Application.city_id == city.id, Application.batch_id == batch.id,
                                  Application.direct_to_province.is_(False),
                                  Application.status.not_in(SUMMARY_EXCLUDED))
        .order_by(Application.id)
    )  # fmt: skip
    return [form_values(a) for a in applications]


def published_list_rows(session: Session, user: User, batch: Batch | None = None) -> list[ListRow]:
    """The published pilots (名单) the user may see, by category, city and name."""
    require(user, Action.VIEW)
    stmt = visible_pilots(user).where(Pilot.status.in_(LISTED), Pilot.published_on.is_not(None))
    if batch is not None:
        stmt = stmt.where(Pilot.batch_id == batch.id)
    pilots = session.scalars(stmt.join(Pilot.city).order_by(Pilot.category, City.code, Pilot.id))
    return [
        {"category": p.category.value, "city": p.city.short_zh, "organisation": p.organisation.name,
         "product": p.product.name_zh if p.product else None, "batch": p.batch.name_zh,
         "published_on": p.published_on, "pilot_id": p.id, "status": p.status.value}
        for p in pilots
    ]  # fmt: skip
