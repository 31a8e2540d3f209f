"""Progress-report consistency checks: each rule flags its case and not a clean twin; scans are
idempotent; dismissed flags stay dismissed; corrected data closes its flag by itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tracker.core.i18n import catalogue
from tracker.flags.store import AUTO_CLOSED
from tracker.models import (
    Flag,
    FlagStatus,
    Milestone,
    Pilot,
    ProgressUpdate,
    TaskProgress,
    UpdateFile,
    UpdateMilestone,
    UpdateStatus,
)
from tracker.progress.consistency import RULES, scan_progress

NOW = dt.datetime(2026, 1, 10, 2, tzinfo=dt.UTC)
SEP, OCT = (dt.date(2025, 9, 1), dt.date(2025, 9, 30)), (dt.date(2025, 10, 1), dt.date(2025, 10, 31))
TEXT_A = "完成了焦炉煤气回收环节的数据采集，建立了原料运输台账并开展了第一轮核算"
TEXT_B = "组织白酒酿造车间能源计量改造，完成包装材料供应商碳数据问卷的发放与回收"


def report(db, pilot: Pilot, period: tuple[dt.date, dt.date], percent: str, *, text: str = "",
           milestone: tuple[Milestone, bool, str | None] | None = None, evidence: bool = False,
           status: UpdateStatus = UpdateStatus.ACCEPTED) -> ProgressUpdate:  # type: ignore[no-untyped-def]  # fmt: skip
    update = ProgressUpdate(pilot_id=pilot.id, period_start=period[0], period_end=period[1], status=status,
                            work_done=text or None)  # fmt: skip
    update.task_progress.append(TaskProgress(task_id=pilot.tasks[0].id, percent=Decimal(percent)))
    if milestone is not None:
        m, reached, value = milestone
        update.milestone_reports.append(UpdateMilestone(milestone_id=m.id, reached=reached,
                                                        indicator_value=Decimal(value) if value else None))  # fmt: skip
    db.add(update)
    db.flush()
    if evidence:
        db.add(UpdateFile(update_id=update.id, task_id=pilot.tasks[0].id, filename="台账.pdf", content_type="application/pdf",
                          size_bytes=10, sha256="0" * 64))  # fmt: skip
    db.commit()
    return update


def with_milestone(db, pilot: Pilot) -> Milestone:  # type: ignore[no-untyped-def]
    milestone = Milestone(pilot=pilot, task_id=pilot.tasks[0].id, title="建成数据采集系统", due_date=dt.date(2025, 12, 31),
                          indicator="覆盖阶段数", target_value="6", evidence_required=True)  # fmt: skip
    db.add(milestone)
    db.commit()
    return milestone


# rule id → (a case that must be flagged, its clean twin); each builds data for one or two pilots.
Case = Callable[[Any, Any], None]


def backwards(clean: bool) -> Case:
    def build(db, factory) -> None:  # type: ignore[no-untyped-def]
        pilot = factory.pilot()
        report(db, pilot, SEP, "40")
        report(db, pilot, OCT, "45" if clean else "30")

    return build


def jump(clean: bool) -> Case:
    def build(db, factory) -> None:  # type: ignore[no-untyped-def]
        pilot = factory.pilot()
        m = with_milestone(db, pilot)
        report(db, pilot, SEP, "10")
        report(db, pilot, OCT, "70", milestone=(m, True, None) if clean else None)

    return build


def no_evidence(clean: bool) -> Case:
    def build(db, factory) -> None:  # type: ignore[no-untyped-def]
        pilot = factory.pilot()
        m = with_milestone(db, pilot)
        report(db, pilot, SEP, "60", milestone=(m, True, None))
        report(db, pilot, OCT, "100", evidence=clean)

    return build


def copied_previous(clean: bool) -> Case:
    def build(db, factory) -> None:  # type: ignore[no-untyped-def]
        pilot = factory.pilot()
        report(db, pilot, SEP, "10", text="9月" + TEXT_A)
        report(db, pilot, OCT, "20", text=TEXT_B if clean else "10月" + TEXT_A + "。")

    return build


def copied_other(clean: bool) -> Case:
    def build(db, factory) -> None:  # type: ignore[no-untyped-def]
        one, two = factory.pilot("长治"), factory.pilot("太原", product="钢铁")
        report(db, one, OCT, "20", text=TEXT_A)
        report(db, two, OCT, "20", text=TEXT_B if clean else TEXT_A)

    return build


def indicator(clean: bool) -> Case:
    def build(db, factory) -> None:  # type: ignore[no-untyped-def]
        pilot = factory.pilot()
        m = with_milestone(db, pilot)
        report(db, pilot, SEP, "10", milestone=(m, False, "4"))
        report(db, pilot, OCT, "20", milestone=(m, False, "5" if clean else "3"))

    return build


CASES = {
    "PROGRESS_BACKWARDS": backwards,
    "JUMP_WITHOUT_MILESTONE": jump,
    "DONE_WITHOUT_EVIDENCE": no_evidence,
    "TEXT_COPIED_FROM_PREVIOUS": copied_previous,
    "TEXT_COPIED_FROM_OTHER_PILOT": copied_other,
    "INDICATOR_DECREASED": indicator,
}


def test_every_rule_is_documented_and_has_a_flagging_and_a_clean_case() -> None:
    for rule in RULES:
        assert len(rule.reason) > 40, f"{rule.id} needs a docstring giving its regulatory reason"
        assert rule.id in CASES, f"{rule.id} has no test case"
        assert "{" in rule.message and "{" in catalogue("en")[rule.message]  # a template, translated


@pytest.mark.parametrize("rule_id", list(CASES))
def test_the_rule_flags_its_case(db, factory, rule_id: str) -> None:  # type: ignore[no-untyped-def]
    CASES[rule_id](False)(db, factory)
    result = scan_progress(db, now=NOW)
    assert rule_id in {db.get(Flag, flag_id).rule_id for flag_id in result.new}


@pytest.mark.parametrize("rule_id", list(CASES))
def test_the_rule_leaves_the_clean_twin_alone(db, factory, rule_id: str) -> None:  # type: ignore[no-untyped-def]
    CASES[rule_id](True)(db, factory)
    result = scan_progress(db, now=NOW)
    assert rule_id not in {db.get(Flag, flag_id).rule_id for flag_id in result.new}


def test_drafts_are_not_checked(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot()
    report(db, pilot, SEP, "40")
    report(db, pilot, OCT, "30", status=UpdateStatus.DRAFT)
    assert not scan_progress(db, now=NOW).new


def test_rescans_are_idempotent_dismissals_stick_and_corrections_close_flags(db, factory) -> None:  # type: ignore[no-untyped-def]
    backwards(False)(db, factory)
    first = scan_progress(db, now=NOW)
    db.commit()
    (flag_id,) = first.new
    flag = db.get(Flag, flag_id)
    assert flag.message_zh.startswith("任务“1 数据采集”进度从40%降至30%") and flag.severity.value == "medium"
    assert flag.evidence["previous"] == "40" and flag.city_id is not None
    again = scan_progress(db, now=NOW + dt.timedelta(days=1))
    db.commit()
    assert again.new == [] and again.seen_again == 1
    # Read back from the database (NUMERIC gives 40.00, not 40): still the same finding.
    flag_id = flag.id
    db.expunge_all()
    assert scan_progress(db, now=NOW + dt.timedelta(days=1)).new == []
    db.commit()
    flag = db.get(Flag, flag_id)
    assert db.scalars(select(Flag)).one().last_seen > flag.first_seen
    flag.status, flag.reason = FlagStatus.DISMISSED, "市局核实：上期填报笔误"
    db.commit()
    scan_progress(db, now=NOW + dt.timedelta(days=2))
    db.commit()
    db.refresh(flag)
    assert flag.status is FlagStatus.DISMISSED
    # Another finding, then the data is corrected: its open flag closes itself with a note.
    pilot = factory.pilot("太原", product="钢铁")
    report(db, pilot, SEP, "50")
    october = report(db, pilot, OCT, "20")
    (opened_id,) = scan_progress(db, now=NOW).new
    db.commit()
    opened = db.get(Flag, opened_id)
    october.task_progress[0].percent = Decimal(55)
    db.commit()
    result = scan_progress(db, now=NOW + dt.timedelta(days=3))
    db.commit()
    db.refresh(opened)
    assert result.closed == 1 and opened.status is FlagStatus.RESOLVED and opened.reason == AUTO_CLOSED.zh
