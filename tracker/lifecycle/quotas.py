"""Quotas (名额): places per category and product, counted as applications are selected."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.core.errors import TrackerError
from tracker.core.i18n import _, name_of
from tracker.core.messages import Label, Message
from tracker.models import (
    Application,
    ApplicationStatus,
    CategoryQuota,
    City,
    Pilot,
    PilotCategory,
    PilotStatus,
    Product,
    QuotaScope,
)

AS = ApplicationStatus
PS = PilotStatus


@dataclass(frozen=True)
class QuotaLine:
    category: PilotCategory
    product_id: int | None
    product_name: str  # in the reader's language
    quota: int
    taken: int
    candidates: int  # applications under expert review for this line

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.taken)


def _taken(session: Session, province_id: int, category: PilotCategory, product_id: int | None) -> int:
    """Pilots holding a place: every pilot of the province in the line except withdrawn ones (a
    withdrawn pilot gives its place back), across all batches (the quota is overall)."""
    stmt = (
        select(func.count(Pilot.id))
        .join(Pilot.city)
        .where(City.province_id == province_id, Pilot.category == category, Pilot.status != PS.WITHDRAWN)
    )
    if product_id is not None:
        stmt = stmt.where(Pilot.product_id == product_id)
    return int(session.scalar(stmt) or 0)


def quota_board(session: Session, province_id: int) -> list[QuotaLine]:
    """Remaining places per product and for service pilots."""
    quotas = {
        q.category: q
        for q in session.scalars(select(CategoryQuota).where(CategoryQuota.province_id == province_id))
    }
    taken_rows = session.execute(
        select(Pilot.category, Pilot.product_id, func.count(Pilot.id)).join(Pilot.city)
        .where(City.province_id == province_id, Pilot.status != PS.WITHDRAWN)
        .group_by(Pilot.category, Pilot.product_id)
    ).all()  # fmt: skip
    review_rows = session.execute(
        select(Application.category, Application.product_id, func.count(Application.id)).join(Application.city)
        .where(City.province_id == province_id, Application.status == AS.UNDER_REVIEW)
        .group_by(Application.category, Application.product_id)
    ).all()  # fmt: skip
    taken = {(c, p): n for c, p, n in taken_rows}
    review = {(c, p): n for c, p, n in review_rows}
    lines = []
    product_quota = quotas.get(PilotCategory.PRODUCT)
    if product_quota is not None:
        for product in session.scalars(select(Product).order_by(Product.id)):
            key = (PilotCategory.PRODUCT, product.id)
            lines.append(QuotaLine(PilotCategory.PRODUCT, product.id, name_of(product), product_quota.quota,
                                   taken.get(key, 0), review.get(key, 0)))  # fmt: skip
    service_quota = quotas.get(PilotCategory.SERVICE)
    if service_quota is not None:
        lines.append(QuotaLine(PilotCategory.SERVICE, None, _("专业化服务试点"), service_quota.quota,
                               sum(n for (c, _p), n in taken.items() if c is PilotCategory.SERVICE),
                               sum(n for (c, _p), n in review.items() if c is PilotCategory.SERVICE)))  # fmt: skip
    return lines


def claim_quota_place(session: Session, application: Application) -> None:
    """Refuse selection beyond the quota. The quota row is locked (SELECT … FOR UPDATE) so two staff
    selecting at the same moment are serialised; on SQLite the single writer does the same."""
    province_id = application.city.province_id
    quota = session.scalars(
        select(CategoryQuota)
        .where(CategoryQuota.province_id == province_id, CategoryQuota.category == application.category)
        .with_for_update()
    ).first()
    if quota is None:
        return
    product_id = application.product_id if quota.scope is QuotaScope.PER_PRODUCT else None
    taken = _taken(session, province_id, application.category, product_id)
    if taken >= quota.quota:
        what: Label | str = (  # the product in the reader's language
            Label(application.product.name_zh, application.product.name_en)
            if product_id is not None and application.product
            else quota.name_zh
        )
        raise TrackerError(
            Message(
                "名额已满：{what}最多{quota}个试点，已入选{taken}个",
                what=what,
                quota=quota.quota,
                taken=taken,
            ),
        )
