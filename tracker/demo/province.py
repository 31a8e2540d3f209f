"""A deterministic demo province a year into the programme. Every unit is fictitious (名称含“示例”).

The whole story is placed relative to one reference day (by default today, from tracker.core.clock): the
last reporting period whose updates are all in (the history end), three batches starting 13, 10 and
7 months before it, their deadlines, the claims' dates, the scans and the work plan's months. So the
demo has the same shape on any day of the year: built on 1 December 2026 the batches are in 2025 and
history runs to the October 2026 period. The same seed and reference day always give the same
database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.accounts import create_user
from tracker.core.clock import local_today
from tracker.core.creditcode import ALPHABET, check_character, organisation_check_character
from tracker.core.periods import Frequency, Period, period_of
from tracker.demo.workplan import build_work_plan_demo
from tracker.models import (
    Application,
    ApplicationStatus,
    Audience,
    Batch,
    BatchDeadline,
    Channel,
    City,
    DeadlineException,
    ExpertScore,
    Milestone,
    Organisation,
    OrganisationKind,
    Pilot,
    PilotCategory,
    PilotStatus,
    PlanMilestone,
    PlanParticipant,
    Product,
    ProgressUpdate,
    Recipient,
    Role,
    Task,
    TaskProgress,
    TaskTemplate,
    UpdateStatus,
    User,
)
from tracker.progress.expected import expected_task_progress

if TYPE_CHECKING:
    import pandas as pd

SEED = 20250630
DEMO_PASSWORD = "Demo-2025-cfp"
DEMO_ACTOR = "演示数据"
DEMO_TZ = ZoneInfo("Asia/Shanghai")  # the reference day's zone when none is given
EXTENSION_MONTHS = 3
DUE_DAYS = 5  # an update is due on the 5th day after its period (tracker.core.periods.Reporting's default)
LATEST_SUBMISSION = 6  # days after the due day: the latest a demo update comes in
# Months from the first day of the history end's month to each batch's start; a batch's provincial
# deadline is the last day two months before its start (as the real 2025 batches were).
BATCH_START_MONTHS = {1: -13, 2: -10, 3: -7}
DEADLINE_MONTHS = 2
CLAIMS_START_MONTHS = -21  # tracker.claims.synth's claims are published from this month on
CLAIM_SYNTH_EPOCH = dt.date(2025, 1, 1)  # … where claim_synth itself starts them
# Products each city is known for (for plausible fictitious pilots).
CITY_PRODUCTS = {
    "140100": ["钢铁", "电力", "陈醋"], "140200": ["煤炭", "电力"], "140300": ["煤炭", "电解铝"],
    "140400": ["焦炭", "氢", "甲醇"], "140500": ["煤炭", "合成氨"], "140600": ["电力", "光伏组件"],
    "140700": ["陈醋", "玻璃"], "140800": ["电解铝", "锂电池"], "140900": ["法兰", "石灰"],
    "141000": ["焦炭", "玻璃", "电石"], "141100": ["白酒", "焦炭"],
}  # fmt: skip
# pace: share of the expected progress a pilot actually achieves.
PACES = {"on_track": 1.1, "behind": 0.8, "seriously_behind": 0.5, "finished": 1.25}
MILESTONES = [
    (3, "建成产品碳足迹数据采集系统", "覆盖生命周期阶段数", "6"),
    (6, "团体标准立项", "立项标准数", "1"),
    (9, "完成试点产品碳足迹核算报告", "核算报告（份）", "1"),
    (12, "取得产品碳标识认证或发布碳足迹信息", "认证/披露产品数", "1"),
]


@dataclass(frozen=True)
class Timeline:
    """Every date of the demo, from its reference day (the day it is built as of)."""

    today: dt.date

    @property
    def history_end(self) -> dt.date:
        """The last day of the last month whose updates are all in: even the latest demo update
        (``LATEST_SUBMISSION`` days after the due day) came before the reference day. So a month's
        updates are in from the 12th of the next month; before that the demo runs to the month
        before (nothing in it is dated after the reference day)."""
        end = self.today.replace(day=1) - dt.timedelta(days=1)
        while end + dt.timedelta(days=DUE_DAYS + LATEST_SUBMISSION) >= self.today:
            end = end.replace(day=1) - dt.timedelta(days=1)
        return end

    @property
    def history_period(self) -> Period:
        """The reporting period that ends on the history end (the demo's bulletin is for it)."""
        return period_of(self.history_end, Frequency.MONTHLY)

    def month(self, offset: int) -> dt.date:
        """The first day of the month ``offset`` months from the history end's month."""
        return add_months(self.history_end.replace(day=1), offset)

    def batch_start(self, number: int) -> dt.date:
        return self.month(BATCH_START_MONTHS[number])

    def batch_deadline(self, number: int) -> dt.date:
        return self.month(BATCH_START_MONTHS[number] - DEADLINE_MONTHS) - dt.timedelta(days=1)

    @property
    def exception_until(self) -> dt.date:
        """Until when 长治 may still submit late batch-3 applications: the end of the second month
        after the history end (after the reference day)."""
        return self.month(3) - dt.timedelta(days=1)

    @property
    def scanned_at(self) -> dt.datetime:
        """When the demo's checks ran: late on the evening before the reference day (local), after
        every demo update came in."""
        evening = dt.datetime.combine(self.today - dt.timedelta(days=1), dt.time(23, 30), DEMO_TZ)
        return evening.astimezone(dt.UTC)

    @property
    def claims_shift(self) -> dt.timedelta:
        """How far the synthetic claims' dates move so they stand where they should."""
        return self.month(CLAIMS_START_MONTHS) - CLAIM_SYNTH_EPOCH


def timeline(today: dt.date | None = None) -> Timeline:
    """The demo's dates for ``today`` (default: today in Asia/Shanghai, from tracker.core.clock)."""
    return Timeline(today or local_today(DEMO_TZ))


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    city: str | None
    display_name: str
    city_name: str | None = None


def demo_accounts(cities: list[City]) -> list[DemoAccount]:
    accounts = [
        DemoAccount("admin", Role.PROVINCE_ADMIN, None, "省厅管理员（示例）"),
        DemoAccount("sheng", Role.PROVINCE_STAFF, None, "省厅业务处（示例）"),
        DemoAccount("lingdao", Role.LEADER, None, "厅领导（示例）"),
    ]
    for city in cities:
        accounts.append(
            DemoAccount(
                city.name_en.lower(),
                Role.CITY_STAFF,
                city.code,
                f"{city.short_zh}市生态环境局（示例）",
                city.name_zh,
            )
        )
    return accounts


def make_credit_code(rng: random.Random, division: str) -> str:
    """A fictitious code with valid check characters (enterprise registered at ``division``)."""
    org8 = "".join(rng.choice(ALPHABET[:10]) for _ in range(8))
    first17 = f"91{division}{org8}{organisation_check_character(org8)}"
    return first17 + check_character(first17)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_periods(start: dt.date, last_end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Calendar-month reporting periods from the month of ``start`` to ``last_end``."""
    periods: list[tuple[dt.date, dt.date]] = []
    first = start.replace(day=1)
    while True:
        end = add_months(first, 1) - dt.timedelta(days=1)
        if end > last_end:
            return periods
        periods.append((first, end))
        first = add_months(first, 1)


def build_demo(session: Session, today: dt.date | None = None) -> list[DemoAccount]:
    """Fill an initialised (catalogue-loaded) database with the demo province as on ``today`` (the
    reference day; default: today from tracker.core.clock)."""
    when = timeline(today)
    rng = random.Random(SEED)
    cities = list(session.scalars(select(City).order_by(City.code)))
    accounts = demo_accounts(cities)
    for account in accounts:
        create_user(session, username=account.username, display_name=account.display_name,
                    role=account.role, password=DEMO_PASSWORD, city=account.city)  # fmt: skip
    caller = session.info.get("actor")
    session.info["actor"] = DEMO_ACTOR  # seed data is not anyone's work
    try:
        _batches(session, when)
        _build_pilots(session, rng, cities, when)
        _pending_applications(session, rng, cities, when)
        build_work_plan_demo(session, random.Random(SEED + 1), DEMO_ACTOR, when.history_end)  # own draws
        _claims_and_flags(session, accounts, when)
        _recipients(session, accounts)
    finally:
        session.info["actor"] = caller
    return accounts


def _batches(session: Session, when: Timeline) -> None:
    """The three batches' deadlines moved to their place before the batch starts; each city's own
    deadline keeps its distance from the province's."""
    for batch in session.scalars(select(Batch).where(Batch.number.in_(BATCH_START_MONTHS))):
        moved = when.batch_deadline(batch.number) - batch.provincial_deadline
        batch.provincial_deadline += moved
        for row in session.scalars(select(BatchDeadline).where(BatchDeadline.batch_id == batch.id)):
            row.deadline += moved
    session.flush()


def _shift_dates(frame: pd.DataFrame, by: dt.timedelta) -> pd.DataFrame:
    """Every date column of the synthetic claims moved by ``by``."""
    import pandas as pd

    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column] + pd.Timedelta(by)
    return frame


def _claims_and_flags(session: Session, accounts: list[DemoAccount], when: Timeline) -> None:
    """Carbon-label claims (some by pilot companies, one in ten with a planted problem) imported by
    the provincial staff account, then both scans, so the flag queue has work in every city."""
    from tracker.claims.registry import import_claims
    from tracker.claims.scan import scan_claims
    from tracker.claims.synth import generate, to_csv
    from tracker.progress.consistency import scan_progress

    frame = _shift_dates(generate(360, seed=SEED, planted_share=0.1, companies=100, key_prefix="DEMO"),
                         when.claims_shift)  # fmt: skip
    pilots = session.execute(
        select(Organisation.credit_code, Organisation.name, City.short_zh, Product.name_zh)
        .join(Pilot, Pilot.organisation_id == Organisation.id).join(City, City.id == Organisation.city_id)
        .join(Product, Product.id == Pilot.product_id).order_by(Pilot.id)
    ).all()  # fmt: skip
    taken: set[str] = set()
    for code, name, city, product in pilots:  # a company of the pilot's city making its product becomes it
        mine = frame.loc[(frame["city"] == city) & (frame["product"] == product) & (frame["issue"] != "bad_credit_code")
                         & ~frame["credit_code"].isin(taken), "credit_code"]  # fmt: skip
        if mine.empty or code is None or code in taken:
            continue
        chosen = (frame["credit_code"] == mine.iloc[0]) & (frame["product"] == product)
        frame.loc[chosen, ["credit_code", "company_name"]] = [code, name]
        taken.add(code)
    staff = next(a for a in accounts if a.role is Role.PROVINCE_STAFF)
    user = session.scalars(select(User).where(User.username == staff.username)).one()
    import_claims(session, user, to_csv(frame), "示例碳标识声明.csv")
    now = when.scanned_at
    scan_claims(session, now=now - dt.timedelta(days=7))
    # A week later the companies whose stages did not add up sent corrected totals: second versions,
    # and the rescan closes those flags by itself with a note.
    stages = [
        "stage_raw_materials",
        "stage_manufacturing",
        "stage_transport",
        "stage_use",
        "stage_end_of_life",
    ]
    corrected = frame[frame["issue"] == "stage_sum"].copy()
    corrected["footprint_kgco2e"] = corrected[stages].sum(axis=1).round(4)
    import_claims(session, user, to_csv(corrected), "示例碳标识声明（更正）.csv")
    scan_claims(session, now=now)
    scan_progress(session, now=now)


def _recipients(session: Session, accounts: list[DemoAccount]) -> None:
    """Where the scheduled jobs send in the demo: the province, leadership and each city bureau, at
    example.com addresses (point TRACKER_MAIL_HOST at a local mail sink to watch them arrive)."""
    province_id = session.scalars(select(City.province_id)).first()
    assert province_id is not None
    session.add_all([
        Recipient(province_id=province_id, audience=Audience.PROVINCE, channel=Channel.EMAIL,
                  address="qihouchu@example.com", name="省厅应对气候变化处"),
        Recipient(province_id=province_id, audience=Audience.LEADERSHIP, channel=Channel.EMAIL,
                  address="lingdao@example.com", name="厅领导"),
    ])  # fmt: skip
    cities = {c.code: c for c in session.scalars(select(City))}
    for account in accounts:
        if account.city is not None and account.role is Role.CITY_STAFF:
            city = cities[account.city]
            session.add(Recipient(province_id=province_id, audience=Audience.CITY, city_id=city.id,
                                  channel=Channel.EMAIL, address=f"{account.username}@example.com",
                                  name=f"{city.name_zh}生态环境局"))  # fmt: skip
    session.flush()


def _build_pilots(session: Session, rng: random.Random, cities: list[City], when: Timeline) -> None:
    products = {p.name_zh: p for p in session.scalars(select(Product))}
    batches = {b.number: b for b in session.scalars(select(Batch))}
    templates = list(session.scalars(select(TaskTemplate).order_by(TaskTemplate.number)))
    per_product: dict[str, int] = {}
    serial = 0
    for city in cities:
        for product_name in CITY_PRODUCTS[city.code]:
            for _ in range(rng.choice([2, 2, 3])):
                serial += 1
                org = _organisation(
                    session, rng, city, f"示例{city.short_zh}{product_name}有限公司{serial:02d}"
                )
                selected = per_product.get(product_name, 0) < 3 and rng.random() < 0.8
                batch = batches[rng.choice([1, 1, 2, 3])]
                application = _application(session, org, batch, PilotCategory.PRODUCT, products[product_name],
                                           selected)  # fmt: skip
                if selected:
                    per_product[product_name] = per_product.get(product_name, 0) + 1
                    _pilot(session, rng, application, templates, serial, when)
    for number, city_code in ((1, "140100"), (2, "140400")):
        city = next(c for c in cities if c.code == city_code)
        org = _organisation(session, rng, city, f"示例{city.short_zh}碳足迹技术服务中心{number:02d}",
                            OrganisationKind.INSTITUTION)  # fmt: skip
        application = _application(session, org, batches[number], PilotCategory.SERVICE, None, True)
        application.direct_to_province = True
        _pilot(session, rng, application, templates, 100 + number, when)


def _organisation(
    session: Session,
    rng: random.Random,
    city: City,
    name: str,
    kind: OrganisationKind = OrganisationKind.ENTERPRISE,
) -> Organisation:
    division = f"{city.code[:4]}{rng.randint(1, 30):02d}"
    org = Organisation(name=name, credit_code=make_credit_code(rng, division), city_id=city.id, kind=kind)
    session.add(org)
    return org


def _application(
    session: Session, org: Organisation, batch: Batch, category: PilotCategory, product: Product | None,
    selected: bool,
) -> Application:  # fmt: skip
    application = Application(
        organisation=org,
        city_id=org.city_id,
        batch=batch,
        category=category,
        product=product,
        product_text=product.name_zh if product else None,
        status=ApplicationStatus.SELECTED if selected else ApplicationStatus.NOT_SELECTED,
        contact_name="张示例",
        contact_phone="0351-6371138",
        submitted_at=dt.datetime.combine(batch.provincial_deadline, dt.time(9), dt.UTC)
        - dt.timedelta(days=10),
        overall_goal="建立覆盖产品全生命周期的碳足迹管理体系（示例）",
    )
    session.add(application)
    return application


def _pilot(
    session: Session, rng: random.Random, application: Application, templates: list[TaskTemplate], serial: int,
    when: Timeline,
) -> None:  # fmt: skip
    start = when.batch_start(application.batch.number)
    end = add_months(start, 12) - dt.timedelta(days=1)
    pace = rng.choices(list(PACES), weights=[5, 3, 2, 2])[0]
    subject = application.product.name_zh if application.product else "专业化服务"
    pilot = Pilot(
        application=application, organisation=application.organisation, city_id=application.city_id,
        batch=application.batch, category=application.category, product=application.product,
        name=f"{application.organisation.name}{subject}碳足迹试点", start_date=start, end_date=end,
        published_on=start - dt.timedelta(days=14), status=_pilot_status(pace, end, serial, when),
    )  # fmt: skip
    session.add(pilot)
    tasks = _tasks(pilot, [t for t in templates if t.category == application.category], start)
    if pilot.status is PilotStatus.EXTENDED:
        _extend(pilot, tasks)
    session.add_all(tasks)
    _milestones(session, pilot, tasks, pace, start, when)
    session.flush()
    _updates(session, rng, pilot, tasks, pace, when)


def _extend(pilot: Pilot, tasks: list[Task]) -> None:
    """延期实施: the province granted more months; the unfinished tasks' plans move with the end."""
    original_end = pilot.end_date
    pilot.end_date = add_months(original_end + dt.timedelta(days=1), EXTENSION_MONTHS) - dt.timedelta(days=1)
    for task in tasks:
        if task.planned_end == original_end:
            task.planned_end = pilot.end_date


def _pilot_status(pace: str, end: dt.date, serial: int, when: Timeline) -> PilotStatus:
    if serial % 17 == 0:
        return PilotStatus.WITHDRAWN
    if end >= when.history_end:
        return PilotStatus.IN_IMPLEMENTATION
    return PilotStatus.COMPLETED if pace in ("finished", "on_track") else PilotStatus.EXTENDED


def _tasks(pilot: Pilot, templates: list[TaskTemplate], start: dt.date) -> list[Task]:
    spans = [(0, 12), (1, 10), (0, 6), (3, 12)]
    tasks = []
    for position, (template, (first, last)) in enumerate(zip(templates, spans, strict=False), start=1):
        tasks.append(Task(
            pilot=pilot, template=template, position=position, number=template.number, title=template.title_zh,
            weight=Decimal(template.default_weight), planned_start=add_months(start, first),
            planned_end=add_months(start, last) - dt.timedelta(days=1), responsible_unit=pilot.organisation.name,
        ))  # fmt: skip
    return tasks


def _milestones(
    session: Session, pilot: Pilot, tasks: list[Task], pace: str, start: dt.date, when: Timeline
) -> None:
    for index, (month, title, indicator, target) in enumerate(MILESTONES):
        due = add_months(start, month) - dt.timedelta(days=1)
        late_by = {"on_track": 0, "finished": 0, "behind": 30, "seriously_behind": 120}[pace]
        reached = due + dt.timedelta(days=late_by - 5)
        session.add(Milestone(
            pilot=pilot, task=tasks[min(index, len(tasks) - 1)], title=title, due_date=due, indicator=indicator,
            target_value=target, achieved_on=reached if reached <= when.history_end else None,
        ))  # fmt: skip


def _updates(
    session: Session, rng: random.Random, pilot: Pilot, tasks: list[Task], pace: str, when: Timeline
) -> None:
    # reports up to two months after its end month (an extension is granted after the end)
    last_end = min(when.history_end, add_months(pilot.end_date.replace(day=1), 3) - dt.timedelta(days=1))
    reported = {task.id: Decimal(0) for task in tasks}
    periods = month_periods(pilot.start_date, last_end)
    if pilot.status is PilotStatus.WITHDRAWN:
        periods = periods[: max(2, len(periods) // 3)]
    if pilot.status in (PilotStatus.WITHDRAWN, PilotStatus.COMPLETED) and periods:
        pilot.closed_on = periods[-1][1] + dt.timedelta(days=1)  # it reported up to the day it closed
    for index, (period_start, period_end) in enumerate(periods):
        newest = index == len(periods) - 1 and period_end == when.history_end
        if newest and rng.random() < 0.15:
            continue  # this city has not reported the latest month yet
        status = _update_status(rng, newest)
        due = period_end + dt.timedelta(days=DUE_DAYS)
        late_by = rng.choice([-3, -2, -1, 0, 0, 2, LATEST_SUBMISSION])
        submitted = dt.datetime.combine(due + dt.timedelta(days=late_by),
                                        dt.time(10), dt.UTC)  # fmt: skip
        update = ProgressUpdate(
            pilot_id=pilot.id, period_start=period_start, period_end=period_end, status=status,
            work_done=f"{period_end.month}月：推进数据采集与核算工作（示例）", problems="无" if pace != "seriously_behind"
            else "数据采集进度慢，缺少专业人员（示例）", next_steps="按计划推进下阶段任务（示例）",
            submitted_at=submitted, is_late=submitted.date() > due,
            return_reason="示例：任务进度与工作进展描述不一致，请核实后重新提交。" if status is UpdateStatus.RETURNED else None,
        )  # fmt: skip
        session.add(update)
        for task in tasks:
            expected = expected_task_progress(task.planned_start, task.planned_end, period_end)
            noise = Decimal(rng.uniform(-3, 3)).quantize(Decimal("0.1"))
            value = min(
                Decimal(100), max(reported[task.id], expected * Decimal(PACES[pace]) + noise, Decimal(0))
            )
            reported[task.id] = value.quantize(Decimal("0.1"))
            update.task_progress.append(TaskProgress(task_id=task.id, percent=reported[task.id]))
    session.flush()


def _update_status(rng: random.Random, newest: bool) -> UpdateStatus:
    if not newest:
        return UpdateStatus.ACCEPTED
    return rng.choices([UpdateStatus.ACCEPTED, UpdateStatus.SUBMITTED, UpdateStatus.RETURNED], [5, 3, 1])[0]


# Applications still on their way (batch 3), so the review and selection pages have work on them,
# and an exception that lets 长治 take late applications for batch 3 (all batches have closed).
PENDING = [
    ("140400", "白酒", ApplicationStatus.SUBMITTED), ("140400", "陈醋", ApplicationStatus.SUBMITTED),
    ("140400", "法兰", ApplicationStatus.CITY_PASSED), ("140800", "水泥", ApplicationStatus.FORWARDED),
    ("140200", "水泥", ApplicationStatus.UNDER_REVIEW), ("140500", "水泥", ApplicationStatus.UNDER_REVIEW),
    ("141100", "白酒", ApplicationStatus.UNDER_REVIEW), ("140700", "天然气", ApplicationStatus.RETURNED),
]  # fmt: skip


def _pending_applications(session: Session, rng: random.Random, cities: list[City], when: Timeline) -> None:
    by_code = {c.code: c for c in cities}
    products = {p.name_zh: p for p in session.scalars(select(Product))}
    batch = session.scalars(select(Batch).where(Batch.number == 3)).one()
    for serial, (code, product_name, status) in enumerate(PENDING, start=1):
        city = by_code[code]
        org = _organisation(
            session, rng, city, f"示例{city.short_zh}{product_name}新材料有限公司{serial:02d}"
        )
        application = _application(session, org, batch, PilotCategory.PRODUCT, products[product_name], False)
        application.status = status
        application.summary_advantages = (
            f"示例：{product_name}生产企业，已建立能源管理中心，具备数据采集基础。"
        )
        application.summary_plan = "示例：一年内建成产品碳足迹数据采集与核算体系，完成碳足迹报告。"
        application.is_chain_leader = serial % 3 == 0
        application.has_green_title = serial % 2 == 0
        application.plan_milestones = [
            PlanMilestone(position=i, title=title, month=month, indicator=indicator, target_value=target)
            for i, (month, title, indicator, target) in enumerate(MILESTONES, start=1)
        ]
        application.plan_participants = [
            PlanParticipant(position=1, unit_name=f"示例{city.short_zh}碳足迹技术服务中心",
                            responsibility="核算方法、数据质量与碳足迹报告编制"),
        ]  # fmt: skip
        if status is ApplicationStatus.RETURNED:
            application.return_reason = "示例：工作方案缺少阶段性目标的技术指标，请补充后重新提交。"
        if status is ApplicationStatus.UNDER_REVIEW:
            for expert in ("专家甲", "专家乙", "专家丙"):
                application.scores.append(ExpertScore(expert_name=expert, score=Decimal(rng.randint(70, 92)),
                                                      comment="示例评审意见"))  # fmt: skip
    session.add(DeadlineException(batch_id=batch.id, city_id=by_code["140400"].id, until=when.exception_until,
                                  reason="演示：长治市申请补报第三批"))  # fmt: skip
    session.flush()
