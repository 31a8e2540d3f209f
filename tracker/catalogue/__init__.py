"""The reference catalogue shipped with the package, loaded idempotently by ``tracker init``.

Loading inserts what is missing and never overwrites a row that exists: deadlines and quotas
edited by the provincial admin survive a second ``tracker init``.

May import: ``core``, ``models`` (``tests/core/test_layers.py`` holds the rule).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db import Base
from tracker.core.i18n import english
from tracker.models import (
    Batch,
    BatchDeadline,
    CategoryQuota,
    City,
    Department,
    DepartmentDuty,
    EmissionFactor,
    PilotCategory,
    Product,
    ProductBenchmark,
    ProductSource,
    Province,
    QuotaScope,
    TaskTemplate,
    WorkPlanTask,
    WorkPlanTaskDepartment,
)


def read_rows(name: str) -> Iterator[dict[str, str]]:
    """Rows of a catalogue CSV file shipped inside this package."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    yield from csv.DictReader(text.splitlines())


@cache
def english_place_names() -> dict[str, str]:
    """The catalogue's province and city names, Chinese → English, full and short (太原市 and 太原 →
    Taiyuan; 山西省 and 山西 → Shanxi): for text that carries a place's Chinese name (a bulletin's lines,
    a figure's group) shown to an English reader."""
    names: dict[str, str] = {}
    for name in ("provinces.csv", "cities.csv"):
        for row in read_rows(name):
            names[row["name_zh"]] = names[row["short_zh"]] = row["name_en"]
    return names


def place_name(name: str) -> str:
    """A province's or city's name in the reader's language; a name the catalogue does not know as given."""
    return english_place_names().get(name, name) if english() else name


def _yes(value: str) -> bool:
    return value.strip().lower() in {"yes", "true", "1"}


def _insert_missing(
    session: Session, model: type[Base], key: Mapping[str, object], values: Mapping[str, object]
) -> bool:
    """Insert ``model(**key, **values)`` unless a row with ``key`` exists; True when inserted."""
    exists = session.scalars(select(model).filter_by(**key)).first()
    if exists is not None:
        return False
    session.add(model(**key, **values))
    session.flush()
    return True


def load_catalogue(session: Session) -> Counter[str]:
    """Load every catalogue file; returns how many rows were inserted per table."""
    inserted: Counter[str] = Counter()
    for loader in (
        _load_provinces,
        _load_cities,
        _load_departments,
        _load_products,
        _load_quotas,
        _load_batches,
        _load_city_deadlines,
        _load_task_templates,
        _load_work_plan,
        _load_benchmarks,
        _load_emission_factors,
    ):
        inserted.update(loader(session))
    return inserted


def _province_ids(session: Session) -> dict[str, int]:
    return {code: pid for code, pid in session.execute(select(Province.code, Province.id))}


def _load_provinces(session: Session) -> Counter[str]:
    done = Counter[str]()
    for row in read_rows("provinces.csv"):
        code = row.pop("code")
        done["provinces"] += _insert_missing(session, Province, {"code": code}, row)
    return done


def _load_cities(session: Session) -> Counter[str]:
    done = Counter[str]()
    provinces = _province_ids(session)
    for row in read_rows("cities.csv"):
        values = {
            "province_id": provinces[row["province_code"]],
            "name_zh": row["name_zh"],
            "short_zh": row["short_zh"],
            "name_en": row["name_en"],
            "phone_area_code": row["phone_area_code"],
            "climate_finance_pilot": _yes(row["climate_finance_pilot"]),
        }
        done["cities"] += _insert_missing(session, City, {"code": row["code"]}, values)
    return done


def _load_departments(session: Session) -> Counter[str]:
    done = Counter[str]()
    provinces = _province_ids(session)
    for row in read_rows("departments.csv"):
        key = {"province_id": provinces[row["province_code"]], "code": row["code"]}
        values = {"name_zh": row["name_zh"], "short_zh": row["short_zh"], "name_en": row["name_en"] or None,
                  "signatory": _yes(row["signatory"])}  # fmt: skip
        done["departments"] += _insert_missing(session, Department, key, values)
    return done


def _load_products(session: Session) -> Counter[str]:
    done = Counter[str]()
    for row in read_rows("products.csv"):
        values = {
            "name_en": row["name_en"],
            "declared_unit": row["declared_unit"],
            "source": ProductSource(row["source"]),
            "first_batch_priority": row["first_batch_priority"] or None,
        }
        done["products"] += _insert_missing(session, Product, {"name_zh": row["name_zh"]}, values)
    return done


def _load_quotas(session: Session) -> Counter[str]:
    done = Counter[str]()
    provinces = _province_ids(session)
    for row in read_rows("category_quotas.csv"):
        key = {"province_id": provinces[row["province_code"]], "category": PilotCategory(row["category"])}
        values = {"name_zh": row["name_zh"], "scope": QuotaScope(row["scope"]), "quota": int(row["quota"])}
        done["category_quotas"] += _insert_missing(session, CategoryQuota, key, values)
    return done


def _load_batches(session: Session) -> Counter[str]:
    """Batches, and one deadline per (batch, city) defaulting to the provincial date."""
    done = Counter[str]()
    provinces = _province_ids(session)
    for row in read_rows("batches.csv"):
        province_id = provinces[row["province_code"]]
        deadline = dt.date.fromisoformat(row["provincial_deadline"])
        key = {"province_id": province_id, "number": int(row["number"])}
        values = {
            "name_zh": row["name_zh"],
            "provincial_deadline": deadline,
            "priority_note": row["priority_note"] or None,
        }
        done["batches"] += _insert_missing(session, Batch, key, values)
    return done


def _load_city_deadlines(session: Session) -> Counter[str]:
    done = Counter[str]()
    overrides = {(r["city_code"], int(r["batch_number"])): r for r in read_rows("city_deadlines.csv")}
    batches = session.scalars(select(Batch)).all()
    cities = session.scalars(select(City)).all()
    for batch in batches:
        for city in cities:
            if city.province_id != batch.province_id:
                continue
            override = overrides.get((city.code, batch.number))
            values = {
                "deadline": dt.date.fromisoformat(override["deadline"])
                if override
                else batch.provincial_deadline,
                "source": override["source"] if override else None,
            }
            key = {"batch_id": batch.id, "city_id": city.id}
            done["batch_deadlines"] += _insert_missing(session, BatchDeadline, key, values)
    return done


def _load_task_templates(session: Session) -> Counter[str]:
    done = Counter[str]()
    for row in read_rows("task_templates.csv"):
        key = {"category": PilotCategory(row["category"]), "number": row["number"]}
        values = {
            "title_zh": row["title_zh"],
            "description_zh": row["description_zh"],
            "default_weight": int(row["default_weight"]),
        }
        done["task_templates"] += _insert_missing(session, TaskTemplate, key, values)
    return done


def _load_work_plan(session: Session) -> Counter[str]:
    done = Counter[str]()
    provinces = _province_ids(session)
    departments = {(d.province_id, d.code): d.id for d in session.scalars(select(Department))}
    for row in read_rows("work_plan_tasks.csv"):
        province_id = provinces[row["province_code"]]
        key = {"province_id": province_id, "number": int(row["number"])}
        values = {
            "group_number": int(row["group_number"]),
            "group_title_zh": row["group_title_zh"],
            "group_title_en": row["group_title_en"] or None,
            "title_zh": row["title_zh"],
            "title_en": row["title_en"] or None,
            "responsibility_text_zh": row["responsibility_text_zh"],
        }
        done["work_plan_tasks"] += _insert_missing(session, WorkPlanTask, key, values)
        task_id = session.scalars(select(WorkPlanTask.id).filter_by(**key)).one()
        for duty in DepartmentDuty:
            for code in row[duty.value].split():
                link = {"task_id": task_id, "department_id": departments[(province_id, code)]}
                done["work_plan_task_departments"] += _insert_missing(
                    session, WorkPlanTaskDepartment, link, {"duty": duty}
                )
    return done


def _load_benchmarks(session: Session) -> Counter[str]:
    """Version 1 of each product's benchmark (public figures, DOMAIN.md reference); a product that
    already has one keeps it, edits included."""
    done = Counter[str]()
    products = {name: pid for name, pid in session.execute(select(Product.name_zh, Product.id))}
    for row in read_rows("benchmarks.csv"):
        if row["product"] not in products:
            continue
        values = {"version": 1, "is_current": True, "declared_unit": row["declared_unit"],
                  "plausible_low": Decimal(row["plausible_low"]), "typical": Decimal(row["typical"]),
                  "plausible_high": Decimal(row["plausible_high"]), "physical_floor": Decimal(row["physical_floor"]),
                  "confidence": row["confidence"], "basis": row["basis"]}  # fmt: skip
        done["product_benchmarks"] += _insert_missing(session, ProductBenchmark,
                                                      {"product_id": products[row["product"]]}, values)  # fmt: skip
    return done


def _load_emission_factors(session: Session) -> Counter[str]:
    done = Counter[str]()
    for row in read_rows("emission_factors.csv"):
        values = {"version": 1, "is_current": True, "scope": row["scope"], "year": int(row["year"]),
                  "kind": row["kind"], "value": Decimal(row["value"]), "unit": row["unit"],
                  "confidence": row["confidence"], "source": row["source"]}  # fmt: skip
        done["emission_factors"] += _insert_missing(
            session, EmissionFactor, {"factor_key": row["factor_id"]}, values
        )
    return done
