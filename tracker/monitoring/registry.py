"""The pilot registry (试点名录): plain rows for the registry page, its Excel export and reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from tracker.access.permissions import visible_cities, visible_pilots
from tracker.core.i18n import N_, _, batch_name, english, name_of
from tracker.core.json_types import JsonRow, Option
from tracker.core.periods import Frequency, Period, period_of
from tracker.models import Batch, City, Organisation, Pilot, PilotCategory, PilotStatus, Product
from tracker.models.labels import label
from tracker.progress.expected import (
    STATUS_LABELS,
    PilotProgress,
    ProgressStatus,
    Thresholds,
    load_progress,
    overdue_milestones,
)
from tracker.progress.owed import owing_pilots_query

T = TypeVar("T")
V = TypeVar("V")
OVERDUE = "yes"  # the overdue filter's one value
MAX_CHOICES = 500  # more filter values than any page offers: the rest is ignored


@dataclass(frozen=True)
class RegistryFilters:
    """Filters chosen on the page; empty means "all". Values are ids or stored enum values."""

    city_ids: Sequence[int] = field(default_factory=tuple)
    product_ids: Sequence[int] = field(default_factory=tuple)
    categories: Sequence[str] = field(default_factory=tuple)
    statuses: Sequence[str] = field(default_factory=tuple)
    batch_numbers: Sequence[int] = field(default_factory=tuple)
    # The overview's counts, drilled down: pilots measured for the reporting period (纳入调度) whose
    # progress status is one of these, or (``overdue``) that have a milestone overdue.
    progress: Sequence[str] = field(default_factory=tuple)
    overdue: Sequence[str] = field(default_factory=tuple)  # ("yes",) or empty

    @property
    def measured_only(self) -> bool:
        """Whether only the pilots the figures measure are kept (a drill-down from a count)."""
        return bool(self.progress or self.overdue)

    @classmethod
    def from_inputs(cls, **values: object) -> RegistryFilters:
        """Build from untrusted page inputs: anything not a list of the right type is dropped."""

        def clean(raw: object, kind: type[V], allowed: AbstractSet[V] | None = None) -> tuple[V, ...]:
            items = raw if isinstance(raw, list | tuple) else ([] if raw in (None, "") else [raw])
            return tuple(
                v for v in items[:MAX_CHOICES] if isinstance(v, kind) and _acceptable(v, kind, allowed)
            )

        return cls(
            city_ids=clean(values.get("city_ids"), int),
            product_ids=clean(values.get("product_ids"), int),
            categories=clean(values.get("categories"), str, {c.value for c in PilotCategory}),
            statuses=clean(values.get("statuses"), str, {s.value for s in PilotStatus}),
            batch_numbers=clean(values.get("batch_numbers"), int),
            progress=clean(values.get("progress"), str, {s.value for s in ProgressStatus}),
            overdue=clean(values.get("overdue"), str, {OVERDUE}),
        )


def _acceptable(value: object, kind: type, allowed: AbstractSet[object] | None) -> bool:
    if isinstance(value, bool) or not isinstance(value, kind):
        return False
    if isinstance(value, int) and not 0 < value < 2**31:
        return False  # no database id looks like this; SQLite would overflow on it
    return allowed is None or value in allowed


# The monitoring figures come right after the pilot, so they are on screen without scrolling.
REGISTRY_COLUMNS = [
    ("name", N_("试点名称")),
    ("city", N_("城市")),
    ("product", N_("试点产品")),
    ("expected", N_("序时进度(%)")),
    ("actual", N_("实际进度(%)")),
    ("gap", N_("滞后(百分点)")),
    ("progress_status", N_("进度状态")),
    ("status", N_("试点状态")),
    ("batch", N_("批次")),
    ("category", N_("试点类别")),
    ("start_date", N_("开始日期")),
    ("end_date", N_("结束日期")),
    ("organisation", N_("试点单位")),
    ("credit_code", N_("统一社会信用代码")),
]
NOT_ASSESSED = N_("不评估（已退出）")


def apply_filters(stmt: Select[T], filters: RegistryFilters) -> Select[T]:
    """Keep the pilots the filters keep (any statement over ``Pilot``)."""
    if filters.city_ids:
        stmt = stmt.where(Pilot.city_id.in_(filters.city_ids))
    if filters.product_ids:
        stmt = stmt.where(Pilot.product_id.in_(filters.product_ids))
    if filters.categories:
        stmt = stmt.where(Pilot.category.in_([PilotCategory(c) for c in filters.categories]))
    if filters.statuses:
        stmt = stmt.where(Pilot.status.in_([PilotStatus(s) for s in filters.statuses]))
    if filters.batch_numbers:
        stmt = stmt.where(Pilot.batch_id.in_(select(Batch.id).where(Batch.number.in_(filters.batch_numbers))))
    return stmt


def registry_rows(session: Session, user: object, filters: RegistryFilters, on: dt.date, *,
                  thresholds: Thresholds | None = None, period: Period | None = None) -> list[JsonRow]:  # fmt: skip
    """One row per pilot the user may see and the filters keep, with its progress on ``on`` (judged
    by ``thresholds``, the figures' own). A drill-down (``filters.measured_only``) keeps, like the
    overview's counts, only the pilots owing an update for ``period`` and matching its status or
    overdue filter, so the list holds exactly the pilots the count counted."""
    stmt = (
        visible_pilots(user)
        .join(Pilot.organisation)
        .join(Pilot.city)
        .join(Pilot.batch)
        .outerjoin(Pilot.product)
        .add_columns(  # city and product named in the reader's language (the catalogue has both)
            Organisation.name,
            Organisation.credit_code,
            City.name_en if english() else City.short_zh,
            Batch.number,
            Product.name_en if english() else Product.name_zh,
        )
        .order_by(City.code, Pilot.id)
    )
    if filters.measured_only:
        stmt = stmt.where(owing_pilots_query(period or period_of(on, Frequency.MONTHLY)))
    found = session.execute(apply_filters(stmt, filters)).all()
    ids = [row[0].id for row in found]
    progress = load_progress(session, ids, on, thresholds or Thresholds())
    if filters.progress:
        found = [row for row in found if progress[row[0].id].status.value in filters.progress]
    if filters.overdue:
        late = overdue_milestones(session, ids, on)
        found = [row for row in found if late.get(row[0].id)]
    return [_row(row, progress[row[0].id]) for row in found]


def _row(row: Row[Pilot, str, str | None, str, int, str | None], progress: PilotProgress) -> JsonRow:
    pilot, organisation, credit_code, city, batch, product = row
    return {
        "id": pilot.id,
        "name": pilot.name,
        "organisation": organisation,
        "credit_code": credit_code,
        "city": city,
        "category": label(pilot.category),
        "product": (product[:1].upper() + product[1:]) if product else "",
        "batch": batch,
        "status": label(pilot.status),
        "start_date": pilot.start_date.isoformat(),
        "end_date": pilot.end_date.isoformat(),
        **_figures(pilot, progress),
    }


def _figures(pilot: Pilot, progress: PilotProgress) -> JsonRow:
    """Progress figures; a withdrawn pilot is no longer measured against its plan."""
    if pilot.status is PilotStatus.WITHDRAWN:
        return {
            "expected": None,
            "actual": float(progress.actual),
            "gap": None,
            "progress_status": _(NOT_ASSESSED),
            "progress_key": None,
        }
    return {
        "expected": float(progress.expected),
        "actual": float(progress.actual),
        "gap": float(progress.gap),
        "progress_status": _(STATUS_LABELS[progress.status]),
        "progress_key": progress.status.value,  # for colours and filters that must not depend on the language
    }


def filter_options(session: Session, user: object) -> dict[str, list[Option]]:
    """Choices for the registry filters, limited to what the user may see."""
    cities = session.scalars(visible_cities(user)).all()
    products = session.scalars(select(Product).order_by(Product.id)).all()
    batches = session.scalars(select(Batch).order_by(Batch.number)).all()
    return {
        "cities": [{"label": name_of(c, short=True), "value": c.id} for c in cities],
        "products": [{"label": name_of(p), "value": p.id} for p in products],
        "categories": [{"label": label(c), "value": c.value} for c in PilotCategory],
        "statuses": [{"label": label(s), "value": s.value} for s in PilotStatus],
        "batches": [{"label": batch_name(b), "value": b.number} for b in batches],
        "progress": [{"label": _(STATUS_LABELS[s]), "value": s.value} for s in ProgressStatus],
        "overdue": [{"label": _("有逾期里程碑"), "value": OVERDUE}],
    }
