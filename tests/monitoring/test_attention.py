"""需关注的试点: which pilots are listed, for which reasons, in which order, for whom; and the reasons'
labels in both languages."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.factories import MONTHLY, NOV
from tracker.core.i18n import use_locale
from tracker.models import (
    Flag,
    FlagStatus,
    Milestone,
    ProgressUpdate,
    Role,
    Severity,
    TaskProgress,
    UpdateStatus,
)
from tracker.monitoring.attention import Reason, needing_attention
from tracker.monitoring.figures import scope_figures
from tracker.progress.expected import ProgressStatus, Thresholds

ON = dt.date(2025, 12, 10)  # November's updates were due on 5 December
OCT_START, OCT_END = dt.date(2025, 10, 1), dt.date(2025, 10, 31)
SUBMITTED = dt.datetime(2025, 12, 3, 2, tzinfo=dt.UTC)


def update(db: Any, pilot: Any, status: UpdateStatus, percent: str, *, late: bool = False,
           start: dt.date = NOV.start, end: dt.date = NOV.end) -> None:  # fmt: skip
    row = ProgressUpdate(pilot_id=pilot.id, period_start=start, period_end=end, status=status, is_late=late,
                         submitted_at=SUBMITTED + dt.timedelta(days=5 if late else 0))  # fmt: skip
    row.task_progress.append(TaskProgress(task_id=pilot.tasks[0].id, percent=Decimal(percent)))
    db.add(row)


def flag(db: Any, pilot: Any, severity: Severity, status: FlagStatus = FlagStatus.OPEN) -> None:
    db.add(Flag(fingerprint=uuid.uuid4().hex, rule_id="PROGRESS_BACKWARDS", severity=severity, subject_type="update",
                subject_id=1, city_id=pilot.city_id, pilot_id=pilot.id, message_zh="进度倒退",
                message_en="progress went backwards", evidence={}, status=status))  # fmt: skip


@pytest.fixture
def world(db, factory):  # type: ignore[no-untyped-def]
    fine = factory.pilot("长治", name="正常")
    everything = factory.pilot("长治", name="三项")  # nothing reported, a milestone overdue
    older = factory.pilot("长治", name="较早", start=dt.date(2025, 7, 1))  # nothing reported, larger gap
    taiyuan = factory.pilot("太原", name="太原")  # nothing reported
    overdue = factory.pilot("长治", name="逾期里程碑")
    flagged = factory.pilot("长治", name="高风险")
    returned = factory.pilot("长治", name="退回")
    late = factory.pilot("长治", name="迟报")
    update(db, fine, UpdateStatus.ACCEPTED, "30")
    update(db, overdue, UpdateStatus.ACCEPTED, "30")
    update(db, flagged, UpdateStatus.ACCEPTED, "30")
    update(db, returned, UpdateStatus.ACCEPTED, "30", start=OCT_START, end=OCT_END)
    update(db, returned, UpdateStatus.RETURNED, "31")
    update(db, late, UpdateStatus.ACCEPTED, "30", late=True)
    for pilot in (everything, overdue):
        db.add(Milestone(pilot_id=pilot.id, title="建成系统", due_date=dt.date(2025, 11, 30)))
    db.add(
        Milestone(
            pilot_id=fine.id,
            title="已达成",
            due_date=dt.date(2025, 11, 30),
            achieved_on=dt.date(2025, 11, 28),
        )
    )
    flag(db, flagged, Severity.HIGH)
    flag(db, flagged, Severity.HIGH, FlagStatus.UNDER_REVIEW)
    flag(db, fine, Severity.MEDIUM)  # not high: no reason
    flag(db, fine, Severity.HIGH, FlagStatus.DISMISSED)  # closed: no reason
    db.commit()
    names = ("fine", "everything", "older", "taiyuan", "overdue", "flagged", "returned", "late")
    pilots = dict(
        zip(names, (fine, everything, older, taiyuan, overdue, flagged, returned, late), strict=True)
    )
    return {"pilots": pilots, "province": factory.user(Role.PROVINCE_STAFF, None, username="sheng"),
            "changzhi": factory.user(Role.CITY_STAFF, "长治", username="czu")}  # fmt: skip


def attention(db: Any, user: Any) -> list[Any]:
    figures = scope_figures(db, user, on=ON, period=NOV, reporting=MONTHLY, thresholds=Thresholds())
    return needing_attention(figures)


def test_pilots_are_listed_for_their_reasons_most_urgent_first(db, world) -> None:  # type: ignore[no-untyped-def]
    p = world["pilots"]
    rows = attention(db, world["province"])
    assert [(r.pilot.id, r.reasons) for r in rows] == [
        (
            p["everything"].id,
            (Reason.SERIOUSLY_BEHIND, Reason.OVERDUE_MILESTONE, Reason.LATE),
        ),  # most reasons
        (p["older"].id, (Reason.SERIOUSLY_BEHIND, Reason.LATE)),  # as many reasons: the larger gap first
        (p["taiyuan"].id, (Reason.SERIOUSLY_BEHIND, Reason.LATE)),
        (p["flagged"].id, (Reason.HIGH_FLAG,)),  # one reason each: by the reason's severity
        (p["overdue"].id, (Reason.OVERDUE_MILESTONE,)),
        (p["returned"].id, (Reason.RETURNED,)),
        (p["late"].id, (Reason.LATE,)),
    ]
    assert rows[1].gap > rows[2].gap and rows[0].status is ProgressStatus.SERIOUSLY_BEHIND
    flagged = next(r for r in rows if r.pilot.id == p["flagged"].id)
    assert flagged.high_flags == 2  # open and under review count; medium and dismissed do not
    with use_locale("zh_CN"):
        assert [m.text() for m in flagged.reason_messages()] == ["高风险线索未办结（2）"]
        assert [m.text() for m in rows[0].reason_messages()] == ["严重滞后", "里程碑逾期", "逾期报送"]
    with use_locale("en"):
        assert [m.text() for m in rows[0].reason_messages()] == ["Seriously behind", "Overdue milestone",
                                                                "Reported late"]  # fmt: skip


def test_a_city_bureau_sees_only_its_own_pilots(db, world) -> None:  # type: ignore[no-untyped-def]
    province = {r.pilot.id for r in attention(db, world["province"])}
    city = {r.pilot.id for r in attention(db, world["changzhi"])}
    assert world["pilots"]["taiyuan"].id in province and world["pilots"]["taiyuan"].id not in city
    assert city == province - {world["pilots"]["taiyuan"].id}


def test_before_the_due_day_nothing_reported_is_not_late(db, world) -> None:  # type: ignore[no-untyped-def]
    figures = scope_figures(db, world["province"], on=dt.date(2025, 12, 4), period=NOV, reporting=MONTHLY,
                            thresholds=Thresholds())  # fmt: skip
    rows = {r.pilot.id: r.reasons for r in needing_attention(figures)}
    assert Reason.LATE not in rows[world["pilots"]["taiyuan"].id]
    assert rows[world["pilots"]["late"].id] == (Reason.LATE,)  # submitted after the due day stays late
