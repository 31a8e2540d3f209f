"""Reviewing flags in two levels (issue 18.5): open → under review → confirmed or dismissed (reason)
→ resolved. The flag's city bureau assigns within its city and proposes a dismissal or resolution;
the province (staff and admin) confirms, dismisses, resolves and accepts or rejects a proposal;
leaders and other cities are refused; each step is recorded with who and when."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tracker.access.permissions import PermissionDenied
from tracker.core.errors import TrackerError
from tracker.flags.review import FLAG_STEPS, available_steps, review_flag
from tracker.flags.store import AUTO_CLOSED, sync_flags
from tracker.models import Closure, Flag, FlagStatus, Role, Severity, Subject, WorkflowStep

NOW = dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=3)
ROLES = ("admin", "province", "city", "other", "leader")


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
        "admin": factory.user(Role.PROVINCE_ADMIN, username="adr"),
        "leader": factory.user(Role.LEADER, username="ldr"),
    }


def steps_of(db: Any, flag: Flag) -> list[WorkflowStep]:
    return list(db.scalars(select(WorkflowStep).where(WorkflowStep.subject_type == "flag",
                                                      WorkflowStep.subject_id == flag.id).order_by(WorkflowStep.id)))  # fmt: skip


def test_the_province_confirms_and_its_city_cannot_dismiss_it(db, flagged) -> None:  # type: ignore[no-untyped-def]
    """The measured defect: the province confirmed, 晋中's city account then dismissed it."""
    flag, city = flagged["flag"], flagged["city"]
    review_flag(db, flagged["admin"], flag.id, "confirm", now=NOW, reason="现场核实，数据倒填")
    with pytest.raises(PermissionDenied, match="省级"):
        review_flag(db, city, flag.id, "dismiss", now=LATER, reason="本市认为不是问题")
    with pytest.raises(PermissionDenied, match="省级"):
        review_flag(db, city, flag.id, "resolve", now=LATER, reason="已整改")
    with pytest.raises(TrackerError, match="已确认，不能市级建议排除"):
        review_flag(db, city, flag.id, "propose_dismiss", now=LATER, reason="本市认为不是问题")
    db.refresh(flag)
    assert (flag.status, flag.reason, flag.proposal) == (FlagStatus.CONFIRMED, "现场核实，数据倒填", None)
    # Once fixed, the city proposes the resolution and the province decides.
    review_flag(db, city, flag.id, "propose_resolve", now=LATER, reason="企业已重新报送")
    assert (flag.status, flag.proposal, flag.proposal_reason) == (
        FlagStatus.CONFIRMED,
        "resolve",
        "企业已重新报送",
    )
    assert (flag.proposed_by_id, flag.proposed_at) == (city.id, LATER)
    review_flag(db, flagged["province"], flag.id, "accept", now=LATER)
    assert (flag.status, flag.closed_at, flag.proposal) == (FlagStatus.RESOLVED, LATER, None)
    assert [(s.step, s.actor_name, s.at, s.to_status) for s in steps_of(db, flag)] == [
        ("confirm", "adr", NOW, "confirmed"), ("propose_resolve", "czr", LATER, "confirmed"),
        ("accept", "shr", LATER, "resolved")]  # fmt: skip


def test_a_city_cannot_dismiss_a_high_flag_of_its_own_pilot_but_may_propose_it(db, flagged) -> None:  # type: ignore[no-untyped-def]
    flag, city = flagged["flag"], flagged["city"]
    assert flag.severity is Severity.HIGH
    with pytest.raises(PermissionDenied, match="省级"):
        review_flag(db, city, flag.id, "dismiss", now=NOW, reason="企业补充了佐证材料")
    with pytest.raises(TrackerError, match="市级建议排除须填写理由"):
        review_flag(db, city, flag.id, "propose_dismiss", now=NOW, reason="  ")
    review_flag(db, city, flag.id, "propose_dismiss", now=NOW, reason="企业补充了佐证材料，进度属实")
    assert (flag.status, flag.proposal, flag.closed_at) == (FlagStatus.OPEN, "dismiss", None)
    with pytest.raises(TrackerError, match="已有待省级审核的建议"):
        review_flag(db, flagged["colleague"], flag.id, "propose_dismiss", now=NOW, reason="再提一次")
    with pytest.raises(TrackerError, match="驳回市级建议须填写理由"):
        review_flag(db, flagged["province"], flag.id, "reject", now=LATER)
    review_flag(db, flagged["province"], flag.id, "reject", now=LATER, reason="佐证材料不足，请现场核实")
    assert (flag.status, flag.proposal, flag.proposal_reason, flag.proposed_by_id) == (
        FlagStatus.OPEN,
        None,
        None,
        None,
    )
    with pytest.raises(TrackerError, match="没有待省级审核的市级建议"):
        review_flag(db, flagged["province"], flag.id, "accept", now=LATER)
    review_flag(db, city, flag.id, "propose_dismiss", now=LATER, reason="现场核实：进度属实")
    review_flag(db, flagged["admin"], flag.id, "accept", now=LATER, reason="同意")
    assert (flag.status, flag.reason, flag.closed_at, flag.proposal) == (
        FlagStatus.DISMISSED, "现场核实：进度属实", LATER, None)  # fmt: skip
    assert [(s.step, s.actor_name, s.reason) for s in steps_of(db, flag)] == [
        ("propose_dismiss", "czr", "企业补充了佐证材料，进度属实"), ("reject", "shr", "佐证材料不足，请现场核实"),
        ("propose_dismiss", "czr", "现场核实：进度属实"), ("accept", "adr", "同意")]  # fmt: skip


def _prepare(db: Any, flagged: dict[str, Any], step: str) -> None:
    """Put the flag where ``step`` can be taken."""
    flag = flagged["flag"]
    if step in ("resolve", "propose_resolve"):
        review_flag(db, flagged["province"], flag.id, "confirm", now=NOW, reason="属实")
    if step in ("accept", "reject"):
        review_flag(db, flagged["city"], flag.id, "propose_dismiss", now=NOW, reason="非问题")
    db.commit()


# Which role may take which step: the province decides, the city assigns and proposes.
ALLOWED = {
    "assign": {"admin", "province", "city"},
    "confirm": {"admin", "province"},
    "dismiss": {"admin", "province"},
    "resolve": {"admin", "province"},
    "propose_dismiss": {"city"},
    "propose_resolve": {"city"},
    "accept": {"admin", "province"},
    "reject": {"admin", "province"},
}
OUTCOME = {  # status and pending proposal after the step
    "assign": (FlagStatus.UNDER_REVIEW, None), "confirm": (FlagStatus.CONFIRMED, None),
    "dismiss": (FlagStatus.DISMISSED, None), "resolve": (FlagStatus.RESOLVED, None),
    "propose_dismiss": (FlagStatus.OPEN, "dismiss"), "propose_resolve": (FlagStatus.CONFIRMED, "resolve"),
    "accept": (FlagStatus.DISMISSED, None), "reject": (FlagStatus.OPEN, None),
}  # fmt: skip


def test_the_table_covers_every_step() -> None:
    assert set(ALLOWED) == set(OUTCOME) == set(FLAG_STEPS)


@pytest.mark.parametrize("step", list(FLAG_STEPS))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_step(db, flagged, role: str, step: str) -> None:  # type: ignore[no-untyped-def]
    _prepare(db, flagged, step)
    flag, user = flagged["flag"], flagged[role]
    before = (flag.status, flag.proposal, len(steps_of(db, flag)))
    offered = step in available_steps(user, flag)
    if role in ALLOWED[step]:
        assert offered
        review_flag(db, user, flag.id, step, now=LATER, reason="理由")
        assert (flag.status, flag.proposal) == OUTCOME[step]
        last = steps_of(db, flag)[-1]
        assert (last.step, last.actor_id, last.at, last.to_status) == (
            step,
            user.id,
            LATER,
            flag.status.value,
        )
        return
    assert not offered
    refusal = TrackerError if role == "other" else PermissionDenied  # another city's flag: "no such flag"
    with pytest.raises(refusal):
        review_flag(db, user, flag.id, step, now=LATER, reason="理由", assignee=user)
    db.rollback()
    db.refresh(flag)
    assert (flag.status, flag.proposal, len(steps_of(db, flag))) == before


def test_a_city_assigns_within_its_city_only(db, flagged) -> None:  # type: ignore[no-untyped-def]
    flag = flagged["flag"]
    for outsider in (flagged["other"], flagged["province"], flagged["leader"]):
        with pytest.raises(PermissionDenied, match="只能分派"):
            review_flag(db, flagged["city"], flag.id, "assign", now=NOW, assignee=outsider)
    review_flag(db, flagged["city"], flag.id, "assign", now=NOW, assignee=flagged["colleague"])
    assert flag.assigned_to_id == flagged["colleague"].id
    review_flag(db, flagged["admin"], flag.id, "assign", now=NOW, assignee=flagged["province"])
    assert (flag.status, flag.assigned_to_id) == (FlagStatus.UNDER_REVIEW, flagged["province"].id)
    with pytest.raises(PermissionDenied, match="只能分派"):
        review_flag(db, flagged["admin"], flag.id, "assign", now=NOW, assignee=flagged["other"])


def test_a_direct_decision_of_the_province_settles_a_pending_proposal(db, flagged) -> None:  # type: ignore[no-untyped-def]
    flag = flagged["flag"]
    review_flag(db, flagged["city"], flag.id, "propose_dismiss", now=NOW, reason="非问题")
    review_flag(db, flagged["province"], flag.id, "assign", now=NOW, assignee=flagged["colleague"])
    assert flag.proposal == "dismiss"  # assigning decides nothing
    review_flag(db, flagged["province"], flag.id, "confirm", now=LATER, reason="属实")
    assert (flag.status, flag.proposal, flag.proposed_by_id) == (FlagStatus.CONFIRMED, None, None)


def test_a_scan_closing_the_flag_drops_its_proposal(db, flagged) -> None:  # type: ignore[no-untyped-def]
    flag = flagged["flag"]
    review_flag(db, flagged["city"], flag.id, "propose_dismiss", now=NOW, reason="非问题")
    sync_flags(db, "update", {}, now=LATER)  # the finding is gone: the data was corrected
    db.refresh(flag)
    assert (flag.status, flag.reason, flag.proposal) == (FlagStatus.RESOLVED, AUTO_CLOSED.zh, None)


def test_how_a_flag_was_closed_is_a_column_not_its_note(db, flagged) -> None:  # type: ignore[no-untyped-def]
    """Only a flag a scan closed is reopened when its finding comes back; a reviewer's resolution
    stays, even with a reason that reads like the scan's note."""
    flag = flagged["flag"]
    finding = {flag.fingerprint: dict}
    sync_flags(db, Subject.UPDATE, {}, now=NOW)
    db.refresh(flag)
    assert (flag.status, flag.closed_by) == (FlagStatus.RESOLVED, Closure.SCAN)
    sync_flags(db, Subject.UPDATE, finding, now=LATER)  # it came back
    db.refresh(flag)
    assert (flag.status, flag.closed_by, flag.closed_at) == (FlagStatus.OPEN, None, None)
    review_flag(db, flagged["province"], flag.id, "confirm", now=LATER, reason="属实")
    review_flag(db, flagged["province"], flag.id, "resolve", now=LATER, reason=AUTO_CLOSED.zh)
    assert (flag.status, flag.closed_by) == (FlagStatus.RESOLVED, Closure.REVIEW)
    sync_flags(db, Subject.UPDATE, finding, now=LATER)
    db.refresh(flag)
    assert (flag.status, flag.closed_by) == (FlagStatus.RESOLVED, Closure.REVIEW)


def test_unknown_steps_and_missing_flags(db, flagged) -> None:  # type: ignore[no-untyped-def]
    flag = flagged["flag"]
    with pytest.raises(TrackerError, match="未知操作"):
        review_flag(db, flagged["city"], flag.id, "delete", now=NOW)
    with pytest.raises(TrackerError, match="风险线索不存在"):
        review_flag(db, flagged["admin"], 999_999, "confirm", now=NOW, reason="x")
    review_flag(db, flagged["province"], flag.id, "confirm", now=NOW, reason="x")
    review_flag(db, flagged["province"], flag.id, "resolve", now=NOW, reason="x")
    with pytest.raises(TrackerError, match="已办结"):
        review_flag(db, flagged["province"], flag.id, "dismiss", now=NOW, reason="晚了")
    db.refresh(flag)
    assert flag.status is FlagStatus.RESOLVED and flag.assigned_to_id is None


def test_new_flags_written_by_the_driver_on_sqlite_are_stored_as_a_core_insert_stores_them(db) -> None:  # type: ignore[no-untyped-def]
    from typing import cast

    from sqlalchemy import Table, insert, text

    from tracker.flags.store import _insert_sqlite
    from tracker.models import City

    connection = db.connection()
    if connection.dialect.name != "sqlite":
        pytest.skip("the driver's INSERT is SQLite's path (PostgreSQL writes new flags by COPY)")
    table = cast(Table, Flag.__table__)
    city_id = db.scalars(select(City.id)).first()
    now = dt.datetime(2026, 12, 4, 19, 30, 1, 250000, tzinfo=dt.UTC)

    def row(fingerprint: str) -> dict[str, Any]:
        return dict(rule_id="COPIED_FIGURES", severity=Severity.HIGH, subject_id=7, city_id=city_id, pilot_id=None,
                    message_id="数值与{n}家其他企业完全相同", message_zh="数值与2家其他企业完全相同",
                    message_en="Figures identical to 2 other companies'",
                    evidence={"n": 2, "others": [{"claim": "SY-1", "company": "示例“甲”公司"}], "share": 0.5},
                    fingerprint=fingerprint, subject_type=Subject.CLAIM, status=FlagStatus.OPEN,
                    first_seen=now, last_seen=now)  # fmt: skip

    assert _insert_sqlite(connection, table, [row("driver")])
    connection.execute(insert(table), [row("core")])
    stored = {r[0]: r[1:] for r in connection.execute(
        text("SELECT fingerprint, rule_id, severity, subject_type, subject_id, city_id, pilot_id, message_id, message_zh,"
             " message_en, evidence, status, first_seen, last_seen, notified_at FROM flags"
             " WHERE fingerprint IN ('driver', 'core')"))}  # fmt: skip
    assert stored["driver"] == stored["core"]
    flag = db.scalars(select(Flag).where(Flag.fingerprint == "driver")).one()
    assert flag.evidence["others"][0]["company"] == "示例“甲”公司" and flag.severity is Severity.HIGH
    # rows of different columns: left to Core's insert
    assert not _insert_sqlite(connection, table, [row("a"), {**row("b"), "reason": "x"}])
