"""Reviewing flags: open → under review → confirmed or dismissed (reason) → resolved, by the flag's
city bureau or the province; leaders and other cities are refused; each step is recorded."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tracker.errors import TrackerError
from tracker.flag_review import review_flag
from tracker.models import Flag, FlagStatus, Role, Severity, WorkflowStep
from tracker.permissions import PermissionDenied

NOW = dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC)


@pytest.fixture
def flagged(factory, db):  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    flag = Flag(fingerprint=uuid.uuid4().hex, rule_id="PROGRESS_BACKWARDS", severity=Severity.HIGH,
                subject_type="update", subject_id=1, city_id=pilot.city_id, pilot_id=pilot.id,
                message_zh="进度倒退", message_en="progress went backwards", evidence={"task": "1"})  # fmt: skip
    db.add(flag)
    db.commit()
    return {
        "flag": flag,
        "city": factory.user(Role.CITY_STAFF, "长治", username="czr"),
        "colleague": factory.user(Role.CITY_STAFF, "长治", username="czr2"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyr"),
        "province": factory.user(Role.PROVINCE_STAFF, username="shr"),
        "leader": factory.user(Role.LEADER, username="ldr"),
    }


def test_the_whole_lifecycle_with_reasons(db, flagged) -> None:  # type: ignore[no-untyped-def]
    flag, city = flagged["flag"], flagged["city"]
    review_flag(db, city, flag.id, "assign", now=NOW, assignee=flagged["colleague"])
    assert (flag.status, flag.assigned_to_id) == (FlagStatus.UNDER_REVIEW, flagged["colleague"].id)
    with pytest.raises(TrackerError, match="须填写理由"):
        review_flag(db, city, flag.id, "confirm", now=NOW, reason="  ")
    review_flag(db, city, flag.id, "confirm", now=NOW, reason="现场核实，数据倒填")
    assert flag.status is FlagStatus.CONFIRMED and flag.closed_at is None
    review_flag(db, flagged["province"], flag.id, "resolve", now=NOW, reason="已责令整改并重新报送")
    assert flag.status is FlagStatus.RESOLVED and flag.closed_at == NOW
    with pytest.raises(TrackerError, match="已办结"):
        review_flag(db, city, flag.id, "dismiss", now=NOW, reason="晚了")
    steps = db.scalars(select(WorkflowStep.step).where(WorkflowStep.subject_type == "flag",
                                                       WorkflowStep.subject_id == flag.id)).all()  # fmt: skip
    assert steps == ["assign", "confirm", "resolve"]


def test_a_dismissal_needs_a_reason_and_closes_the_flag(db, flagged) -> None:  # type: ignore[no-untyped-def]
    flag = flagged["flag"]
    with pytest.raises(TrackerError, match="排除（非问题）须填写理由"):
        review_flag(db, flagged["city"], flag.id, "dismiss", now=NOW)
    review_flag(db, flagged["city"], flag.id, "dismiss", now=NOW, reason="企业补充了佐证材料，进度属实")
    assert (flag.status, flag.reason, flag.closed_at) == (
        FlagStatus.DISMISSED,
        "企业补充了佐证材料，进度属实",
        NOW,
    )


def test_only_the_flags_city_and_the_province_review(db, flagged) -> None:  # type: ignore[no-untyped-def]
    flag = flagged["flag"]
    with pytest.raises(TrackerError, match="风险线索不存在"):
        review_flag(db, flagged["other"], flag.id, "confirm", now=NOW, reason="x")
    with pytest.raises(PermissionDenied):
        review_flag(db, flagged["leader"], flag.id, "confirm", now=NOW, reason="x")
    with pytest.raises(PermissionDenied, match="只能分派"):
        review_flag(db, flagged["city"], flag.id, "assign", now=NOW, assignee=flagged["other"])
    with pytest.raises(TrackerError, match="未知的核查步骤"):
        review_flag(db, flagged["city"], flag.id, "delete", now=NOW)
    db.refresh(flag)
    assert flag.status is FlagStatus.OPEN and flag.assigned_to_id is None
