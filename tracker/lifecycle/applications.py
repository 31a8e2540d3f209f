"""Applications: their fields and limits (附件3/附件4/附件1), and saving them with validation.

The workflow (steps, deadlines, quotas, pilots) is in ``tracker.lifecycle.workflow``; the Excel forms are read
in ``tracker.lifecycle.forms``. Every path (web form, Excel import, CLI) saves through ``save_application``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import Level, require_act
from tracker.core.creditcode import validate_credit_code
from tracker.core.db import Base
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_
from tracker.core.messages import Label, Message
from tracker.core.validation import (
    CONTROL_MESSAGE,
    FIELD_LABELS,
    Problem,
    ValidationFailed,
    clean_text,
    count_chars,
    has_control_characters,
    squeeze,
)
from tracker.models import (
    Application,
    ApplicationStatus,
    Batch,
    City,
    Organisation,
    OrganisationKind,
    PilotCategory,
    PlanMilestone,
    PlanParticipant,
    Product,
    User,
)

CATEGORY_TEXT = {
    "产品碳足迹管理试点": PilotCategory.PRODUCT,
    "碳足迹专业化服务试点": PilotCategory.SERVICE,
    # The notice's own long name of the service category (344号 一).
    "产品碳足迹专业化服务试点": PilotCategory.SERVICE,
}
CATEGORY_NAME = {
    PilotCategory.PRODUCT: N_("产品碳足迹管理试点"),
    PilotCategory.SERVICE: N_("碳足迹专业化服务试点"),
}
EDITABLE = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED})
TEXT_CAP = 5000  # fields for which the notice sets no limit still get a sane one


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label_zh: str
    label_en: str
    limit: int
    required: bool = False


# Every text field of an application, in the order of the forms. Limits are the notice's, counted in
# characters (a Chinese character counts one), after trimming spaces at both ends.
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("organisation_name", "申报单位", "Applicant", 200, required=True),
    FieldSpec("credit_code", "统一社会信用代码", "Unified social credit code", 18),
    FieldSpec("leader_name", "单位负责人", "Head of the unit", 64),
    FieldSpec("leader_title", "单位负责人职务", "Head's position", 64),
    FieldSpec("leader_phone", "单位负责人联系电话", "Head's telephone", 32),
    FieldSpec("leader_email", "单位负责人电子邮箱", "Head's e-mail", 128),
    FieldSpec("contact_name", "工作联系人", "Contact person", 64, required=True),
    FieldSpec("contact_title", "工作联系人职务", "Contact's position", 64),
    FieldSpec("contact_phone", "工作联系人联系电话", "Contact's telephone", 32, required=True),
    FieldSpec("contact_email", "工作联系人电子邮箱", "Contact's e-mail", 128),
    FieldSpec("product_text", "试点产品", "Pilot product", 200),
    FieldSpec("overall_goal", "试点创建总体目标", "Overall goal", TEXT_CAP),
    FieldSpec("tasks_summary", "试点任务", "Pilot tasks", TEXT_CAP),
    FieldSpec("unit_intro", "试点单位情况简介", "About the unit", 1000),
    FieldSpec("eligibility", "符合试点条件的说明", "How the unit meets the conditions", 2000),
    FieldSpec("advantages", "试点工作优势", "Strengths", 2000),
    FieldSpec("future_plan", "未来计划", "Future plan", 1000),
    FieldSpec("summary_advantages", "试点工作优势（汇总表）", "Strengths (summary table)", 500),
    FieldSpec("summary_plan", "试点工作计划简介（汇总表）", "Plan in brief (summary table)", 500),
    FieldSpec("plan_basis", "工作基础", "Groundwork", TEXT_CAP),
    FieldSpec("plan_indicators", "技术指标", "Technical indicators", TEXT_CAP),
    FieldSpec("plan_main_tasks", "主要任务", "Main tasks", TEXT_CAP),
    FieldSpec("plan_schedule", "阶段性实施计划", "Staged plan", TEXT_CAP),
    FieldSpec("safeguard_organisation", "组织领导", "Leadership", TEXT_CAP),
    FieldSpec("safeguard_mechanism", "工作机制", "Working mechanism", TEXT_CAP),
    FieldSpec("safeguard_funding", "资金保障", "Funding", TEXT_CAP),
    FieldSpec("safeguard_technical", "技术保障", "Technical support", TEXT_CAP),
    FieldSpec("safeguard_publicity", "宣传推广", "Publicity", TEXT_CAP),
)
FIELD_BY_KEY = {spec.key: spec for spec in FIELDS}
FIELD_LABELS.update({spec.key: (spec.label_zh, spec.label_en) for spec in FIELDS})
APPLICATION_TEXT_KEYS = tuple(
    spec.key for spec in FIELDS if spec.key not in ("organisation_name", "credit_code")
)
FLAG_KEYS = ("is_chain_leader", "is_label_pilot_unit", "has_green_title")
FLAG_LABELS = {
    "is_chain_leader": ("链主企业", "Chain-leader enterprise"),
    "is_label_pilot_unit": ("碳标识认证试点单位", "Carbon-label certification pilot unit"),
    "has_green_title": ("绿色工厂/零碳工厂称号", "Green-factory or zero-carbon-factory title"),
}
_PHONE = re.compile(r"^[0-9+()（）\-－—\s转]{5,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class PlanMilestoneData:
    title: str
    month: int
    indicator: str = ""
    target_value: str = ""


@dataclass
class PlanParticipantData:
    unit_name: str
    responsibility: str


@dataclass
class ApplicationData:
    """What a form, an Excel row or the CLI supplies for one application, before validation."""

    category_text: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    milestones: list[PlanMilestoneData] | None = None  # None: leave the stored ones alone
    participants: list[PlanParticipantData] | None = None

    def text(self, key: str) -> str:
        return clean_text(self.texts.get(key))


def check_texts(data: ApplicationData, keys: tuple[str, ...] | None = None) -> list[Problem]:
    """Length limits, required fields and the shape of phone numbers and e-mail addresses."""
    problems: list[Problem] = []
    for spec in FIELDS:
        if keys is not None and spec.key not in keys:
            continue
        value = data.text(spec.key)
        if has_control_characters(value):
            problems.append(Problem(spec.key, CONTROL_MESSAGE))
        elif spec.required and not value:
            problems.append(Problem(spec.key, Message("必填")))
        elif count_chars(value) > spec.limit:
            problems.append(Problem(spec.key, Message("超过{limit}字（现有{count_chars_value}字）", limit=spec.limit, count_chars_value=count_chars(value))))  # fmt: skip
        elif value and spec.key.endswith("_phone") and not _PHONE.match(value):
            problems.append(Problem(spec.key, Message("电话号码格式不正确：{value}", value=value)))
        elif value and spec.key.endswith("_email") and not _EMAIL.match(value):
            problems.append(Problem(spec.key, Message("电子邮箱格式不正确：{value}", value=value)))
    return problems


def parse_category(text: str) -> PilotCategory | None:
    return CATEGORY_TEXT.get(squeeze(text))


def find_product(session: Session, text: str) -> Product | None:
    """A catalogue product by its Chinese name, ignoring spaces."""
    name = squeeze(text)
    if not name:
        return None
    return session.scalars(select(Product).where(Product.name_zh == name)).first()


def product_names(session: Session) -> list[str]:
    return list(session.scalars(select(Product.name_zh).order_by(Product.id)))


def check_category_and_product(
    session: Session, data: ApplicationData
) -> tuple[PilotCategory | None, Product | None, list[Problem]]:
    category = parse_category(data.category_text)
    problems: list[Problem] = []
    if category is None:
        shown = data.category_text or "（空）"
        problems.append(Problem("category", Message("试点类别“{shown}”无效，应填“产品碳足迹管理试点”或“碳足迹专业化服务试点”", shown=shown)))  # fmt: skip
    product = find_product(session, data.text("product_text"))
    if category is PilotCategory.PRODUCT:
        if not data.text("product_text"):
            problems.append(Problem("product_text", Message("产品碳足迹管理试点须填写试点产品")))
        elif product is None:
            problems.append(Problem("product_text",
                                    Message("试点产品“{text}”不在试点产品目录中（可选：{join}）", text=data.text('product_text'), join='、'.join(product_names(session)))))  # fmt: skip
    return category, product, problems


def check_plan(data: ApplicationData) -> list[Problem]:
    problems: list[Problem] = []
    for index, item in enumerate(data.milestones or [], start=1):
        if not clean_text(item.title):
            problems.append(Problem("milestones", Message("第{index}个阶段性目标缺少名称", index=index)))
        if not 1 <= item.month <= 36:
            problems.append(Problem("milestones", Message("第{index}个阶段性目标的月份应为1–36的整数", index=index)))  # fmt: skip
    for index, item in enumerate(data.milestones or [], start=1):
        if any(
            has_control_characters(clean_text(t)) for t in (item.title, item.indicator, item.target_value)
        ):
            problems.append(
                Problem(
                    "milestones",
                    Message("第{index}个阶段性目标{control}", index=index, control=CONTROL_MESSAGE),
                )
            )
    for index, part in enumerate(data.participants or [], start=1):
        if has_control_characters(clean_text(part.unit_name)) or has_control_characters(
            clean_text(part.responsibility)
        ):
            problems.append(
                Problem(
                    "participants",
                    Message("第{index}个参与单位{control}", index=index, control=CONTROL_MESSAGE),
                )
            )
        if not clean_text(part.unit_name) or not clean_text(part.responsibility):
            problems.append(Problem("participants", Message("第{index}个参与单位须填写单位名称和职责", index=index)))  # fmt: skip
    return problems


ModelT = TypeVar("ModelT", bound=Base)


def _month(value: object) -> int | None:
    """A month offset typed in a form or a grid: 3, "3", "3.0", "第3个月" all mean 3."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    digits = re.fullmatch(r"第?\s*(\d{1,2})(?:\.0+)?\s*(?:个?月)?", clean_text(value))
    return int(digits.group(1)) if digits else None


def plan_from_rows(
    milestone_rows: Sequence[Mapping[str, object]], participant_rows: Sequence[Mapping[str, object]]
) -> tuple[list[PlanMilestoneData], list[PlanParticipantData]]:
    """The plan's milestones and participating units from table rows (a form's grid, an API body).

    Rows left entirely blank are skipped. A month that is not a whole number becomes 0, which
    ``check_plan`` then reports with the milestone's position, like every other problem.
    """
    keys = ("title", "month", "indicator", "target_value")
    milestones = [
        PlanMilestoneData(clean_text(row.get("title")), _month(row.get("month")) or 0,
                          clean_text(row.get("indicator")), clean_text(row.get("target_value")))
        for row in milestone_rows if any(clean_text(row.get(key)) for key in keys)
    ]  # fmt: skip
    participants = [
        PlanParticipantData(clean_text(row.get("unit_name")), clean_text(row.get("responsibility")))
        for row in participant_rows if clean_text(row.get("unit_name")) or clean_text(row.get("responsibility"))
    ]  # fmt: skip
    return milestones, participants


def validate(session: Session, data: ApplicationData) -> tuple[PilotCategory, Product | None]:
    """Every problem at once, or the category and product the data names."""
    category, product, problems = check_category_and_product(session, data)
    problems = check_texts(data) + problems + check_plan(data)
    code = data.text("credit_code")
    if code and not validate_credit_code(code).valid:
        problems.append(Problem("credit_code", Message("统一社会信用代码无效（校验位不符）")))
    if problems:
        raise ValidationFailed(problems)
    assert category is not None
    return category, product


def _organisation(
    session: Session, data: ApplicationData, city: City, category: PilotCategory
) -> Organisation:
    """The applicant: by credit code when given, else by name within the city (created if new)."""
    name = data.text("organisation_name")
    code = data.text("credit_code")
    org = None
    if code:
        code = validate_credit_code(code).code
        org = session.scalars(select(Organisation).where(Organisation.credit_code == code)).first()
    if org is None:
        org = session.scalars(
            select(Organisation).where(Organisation.name == name, Organisation.city_id == city.id)
        ).first()
    if org is None:
        kind = (
            OrganisationKind.ENTERPRISE if category is PilotCategory.PRODUCT else OrganisationKind.INSTITUTION
        )
        org = Organisation(name=name, credit_code=code or None, city_id=city.id, kind=kind)
        session.add(org)
    else:
        if org.city_id != city.id:
            raise ValidationFailed([Problem("credit_code", Message("该单位登记在{name}", name=Label(org.city.name_zh, org.city.name_en)))])  # fmt: skip
        org.name = name
        if code and org.credit_code != code:
            org.credit_code = code
    return org


def apply_data(application: Application, data: ApplicationData, category: PilotCategory,
               product: Product | None) -> None:  # fmt: skip
    application.category = category
    application.product = product if category is PilotCategory.PRODUCT else None
    for key in APPLICATION_TEXT_KEYS:
        value = data.text(key) or None
        if getattr(application, key) != value:
            setattr(application, key, value)
    for key in FLAG_KEYS:
        if key in data.flags and getattr(application, key) != bool(data.flags[key]):
            setattr(application, key, bool(data.flags[key]))
    if data.milestones is not None:
        _replace_rows(application.plan_milestones, PlanMilestone, [
            {"position": i, "title": clean_text(m.title), "month": m.month,
             "indicator": clean_text(m.indicator) or None, "target_value": clean_text(m.target_value) or None}
            for i, m in enumerate(data.milestones, start=1)
        ])  # fmt: skip
    if data.participants is not None:
        _replace_rows(application.plan_participants, PlanParticipant, [
            {"position": i, "unit_name": clean_text(p.unit_name), "responsibility": clean_text(p.responsibility)}
            for i, p in enumerate(data.participants, start=1)
        ])  # fmt: skip


def _replace_rows(rows: list[ModelT], model: type[ModelT], values: list[dict[str, object]]) -> None:
    """Make ``rows`` hold ``values`` in order, changing rows in place: positions are unique per
    application, and the unit of work inserts before it deletes, so swapping the list would clash.
    Only what really changed reaches the audit log."""
    for row, wanted in zip(rows, values, strict=False):
        for key, value in wanted.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
    del rows[len(values) :]
    rows.extend(model(**wanted) for wanted in values[len(rows) :])


def save_application(
    session: Session,
    user: User,
    data: ApplicationData,
    *,
    city: City,
    batch: Batch,
    application: Application | None = None,
    direct_to_province: bool = False,
) -> Application:
    """Create or change an application as ``user``; refused unless it is theirs to edit and valid.

    New applications start as drafts. Only drafts, submitted and returned applications can change:
    once the city has passed one, its content is what the city vouched for.
    """
    category, product = validate(session, data)
    if application is None:
        if direct_to_province and category is not PilotCategory.SERVICE:
            raise TrackerError(
                Message("只有专业化服务试点可直接向省厅申报"),
            )
        application = Application(city_id=city.id, city=city, batch=batch, status=ApplicationStatus.DRAFT,
                                  direct_to_province=direct_to_province, category=category)  # fmt: skip
        require_act(user, Level.CITY, application)
        application.organisation = _organisation(session, data, city, category)
        session.add(application)
    else:
        require_act(user, Level.CITY, application)
        if application.status not in EDITABLE:
            raise TrackerError(Message("该申报已通过市级初审，不能再修改"))
        application.organisation = _organisation(session, data, application.city, category)
        if application.batch_id != batch.id:
            application.batch = batch
    apply_data(application, data, category, product)
    session.flush()
    return application


def data_from_application(application: Application) -> ApplicationData:
    """The stored application as form data (for editing and for export)."""
    texts = {key: getattr(application, key) or "" for key in APPLICATION_TEXT_KEYS}
    texts["organisation_name"] = application.organisation.name
    texts["credit_code"] = application.organisation.credit_code or ""
    return ApplicationData(
        category_text=CATEGORY_NAME[application.category],
        texts=texts,
        flags={key: getattr(application, key) for key in FLAG_KEYS},
        milestones=[PlanMilestoneData(m.title, m.month, m.indicator or "", m.target_value or "")
                    for m in application.plan_milestones],
        participants=[PlanParticipantData(p.unit_name, p.responsibility) for p in application.plan_participants],
    )  # fmt: skip
