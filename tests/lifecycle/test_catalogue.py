"""The reference catalogue matches the seed documents."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tracker.models import (
    Batch,
    BatchDeadline,
    CategoryQuota,
    City,
    PilotCategory,
    Product,
    QuotaScope,
    TaskTemplate,
    WorkPlanTask,
)


def test_eleven_cities_with_division_codes(db) -> None:  # type: ignore[no-untyped-def]
    cities = {c.short_zh: c.code for c in db.scalars(select(City))}
    assert len(cities) == 11
    assert cities["长治"] == "140400" and cities["吕梁"] == "141100"


def test_products_are_the_notice_list_plus_national_key_products(db) -> None:  # type: ignore[no-untyped-def]
    names = set(db.scalars(select(Product.name_zh)))
    notice = {"电力", "煤炭", "天然气", "焦炭", "法兰", "电解铝", "水泥", "氢", "石灰", "玻璃", "合成氨", "电石",
              "甲醇", "电子电器", "白酒", "陈醋"}  # fmt: skip
    assert notice | {"钢铁", "锂电池", "新能源汽车", "光伏组件"} == names


def test_quotas_three_per_product_and_two_service_pilots(db) -> None:  # type: ignore[no-untyped-def]
    quotas = {q.category: (q.scope, q.quota) for q in db.scalars(select(CategoryQuota))}
    assert quotas[PilotCategory.PRODUCT] == (QuotaScope.PER_PRODUCT, 3)
    assert quotas[PilotCategory.SERVICE] == (QuotaScope.TOTAL, 2)


def test_changzhi_deadlines_come_from_its_notice_others_default_to_the_province(db) -> None:  # type: ignore[no-untyped-def]
    rows = db.execute(
        select(City.short_zh, Batch.number, BatchDeadline.deadline)
        .join(BatchDeadline.city)
        .join(BatchDeadline.batch)
    ).all()
    deadlines = {(city, number): deadline for city, number, deadline in rows}
    assert len(deadlines) == 33
    assert deadlines[("长治", 1)] == dt.date(2025, 6, 28)
    assert deadlines[("长治", 3)] == dt.date(2025, 12, 29)
    assert deadlines[("太原", 2)] == dt.date(2025, 9, 30)


def test_standard_tasks_per_category_and_twelve_work_plan_tasks(db) -> None:  # type: ignore[no-untyped-def]
    templates = db.scalars(select(TaskTemplate)).all()
    assert len([t for t in templates if t.category is PilotCategory.PRODUCT]) == 4
    assert len([t for t in templates if t.category is PilotCategory.SERVICE]) == 4
    tasks = db.scalars(select(WorkPlanTask).order_by(WorkPlanTask.number)).all()
    assert [t.number for t in tasks] == list(range(1, 13))
    task3 = tasks[2]
    leads = {link.department.short_zh for link in task3.departments if link.duty.value == "lead"}
    assert leads == {"省市场监管局"}
