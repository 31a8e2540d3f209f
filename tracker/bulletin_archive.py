"""The archive of dispatch bulletins (调度通报): every file a bulletin run produced, kept as sent.

Issue numbers (第N期) count a kind's bulletins within a year: the first monthly bulletin of 2026 is
第1期, and every cut of one period shares its number. A period already archived keeps its number, so
a retried run numbers (and names) its files as the failed attempt did.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.i18n import N_
from tracker.models import Bulletin

KIND_ZH = {"monthly": N_("月度"), "quarterly": N_("季度")}


def issue_number(session: Session, province_id: int, kind: str, period: str) -> int:
    """The number of this period's bulletin: its own if archived, else one after the year's last."""
    same = select(Bulletin.number).where(Bulletin.province_id == province_id, Bulletin.kind == kind)
    own = session.scalars(same.where(Bulletin.period == period)).first()
    if own is not None:
        return own
    year = period[:4]
    earlier = session.scalar(
        select(func.count(func.distinct(Bulletin.period))).where(
            Bulletin.province_id == province_id, Bulletin.kind == kind,
            Bulletin.period.startswith(year), Bulletin.period < period,
        )
    )  # fmt: skip
    return int(earlier or 0) + 1


def archive_bulletin(session: Session, *, province_id: int, kind: str, period: str, cut: str,
                     city_id: int | None, number: int, issued_on: dt.date, title: str, summary: str,
                     file_name: str, content_type: str, content: bytes, run_id: int | None,
                     now: dt.datetime) -> Bulletin:  # fmt: skip
    """Keep one bulletin file; a file archived by an earlier attempt of the run is kept as it was."""
    found = session.scalars(
        select(Bulletin).where(Bulletin.kind == kind, Bulletin.period == period, Bulletin.cut == cut)
    ).first()
    if found is not None:
        return found
    row = Bulletin(province_id=province_id, kind=kind, period=period, cut=cut, city_id=city_id, number=number,
                   issued_on=issued_on, title=title, summary=summary, file_name=file_name,
                   content_type=content_type, content=content, size=len(content), run_id=run_id,
                   created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    # Audited like every change (the dashboards' cached figures follow the audit trail's last id).
    audit.record(session, "archive", "bulletins", row.id, summary=f"{title} · {file_name}", city_id=city_id)
    return row
