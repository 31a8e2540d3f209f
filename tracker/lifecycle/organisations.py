"""Organisations (applicants and pilot units), registered by their unified social credit code."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.accounts import find_city
from tracker.core.creditcode import validate_credit_code
from tracker.core.errors import TrackerError
from tracker.core.messages import Joined, Message
from tracker.models import Organisation, OrganisationKind


def register_organisation(
    session: Session, *, name: str, credit_code: str, city: str, kind: OrganisationKind
) -> tuple[Organisation, list[Message]]:
    """Add an organisation; returns it with warnings (e.g. a code registered in another city).

    An invalid code, an unknown city or a code already registered is refused and nothing is written.
    """
    city_row = find_city(session, city)
    check = validate_credit_code(credit_code, city_row.code)
    if not check.valid:
        raise TrackerError(Message("统一社会信用代码无效：{join_errors}", join_errors=Joined(check.problems)))
    existing = session.scalars(select(Organisation).where(Organisation.credit_code == check.code)).first()
    if existing is not None:
        raise TrackerError(
            Message("该统一社会信用代码已登记为：{name}", name=existing.name),
        )
    name = name.strip()
    if not name:
        raise TrackerError(Message("单位名称不能为空"))
    organisation = Organisation(name=name, credit_code=check.code, city_id=city_row.id, kind=kind)
    session.add(organisation)
    session.flush()
    return organisation, check.cautions
