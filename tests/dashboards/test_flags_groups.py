"""The 风险线索 page grouped (issue 21, points 2 and 4): the same rule on the same subject over several
periods is one row with its count and periods, grouped by the database over the whole filtered
queue; selecting it lists every member; a step taken on a group is taken on each member the user
may take it on, each checked and audited; the rule filter counts in the user's scope; the 无法比对
line counts what its link opens; the export stays one row per flag."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.dashboards.test_flags_page import CZ_1, TY_1, body, claim_rows, page, text, workbook
from tests.web import call_callback, component, login
from tracker.claims.registry import import_claims
from tracker.claims.scan import scan_claims
from tracker.models import AuditEvent, Flag, FlagStatus, Role, WorkflowStep
from tracker.monitoring.flag_queue import DEFAULT_STATUSES, RULE_IDS, FlagFilters, flag_groups, group_count
from tracker.progress.consistency import scan_progress

NOW = dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC)
GRID, DETAIL, MESSAGE, COUNT = "flg-grid", "flg-detail", "flg-message", "flg-count"
BACKWARDS = "PROGRESS_BACKWARDS"
HAN = re.compile(r"[\u4e00-\u9fff]")
# Claims no benchmark can judge: glass (per tonne) declared per piece, one in each city.
CZ_PIECE = {**CZ_1, "claim_id": "CZ-P", "company_name": "示例长治件装玻璃有限公司", "declared_unit": "piece",
            "footprint_kgco2e": "860.8", "stage_raw_materials": "", "stage_manufacturing": "", "stage_transport": "",
            "electricity_factor": ""}  # fmt: skip
TY_PIECE = {**CZ_PIECE, "claim_id": "TY-P", "city": "太原", "company_name": "示例太原件装玻璃有限公司",
            "credit_code": TY_1["credit_code"]}  # fmt: skip


def months(pilot: Any, factory: Any, percents: list[str]) -> None:
    """Monthly accepted reports from September 2025, one per percent given."""
    for i, percent in enumerate(percents):
        start = dt.date(2025 + (8 + i) // 12, (8 + i) % 12 + 1, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        factory.accepted_update(pilot, start, end, percent)


@pytest.fixture
def world(factory, db):  # type: ignore[no-untyped-def]
    users = {
        "province": factory.user(Role.PROVINCE_STAFF, username="shg"),
        "city": factory.user(Role.CITY_STAFF, "长治", username="czg", display_name="长治甲"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyg"),
        "leader": factory.user(Role.LEADER, None, username="ldg"),
    }
    import_claims(db, users["province"], claim_rows([CZ_1, TY_1, CZ_PIECE, TY_PIECE]), "claims.csv")
    scan_claims(db, now=NOW)
    # Progress going backwards three months running in 长治, twice in 太原: one group each.
    months(factory.pilot("长治", name="示例长治焦炭碳足迹试点"), factory, ["40", "30", "20", "10"])
    months(factory.pilot("太原", product="钢铁", name="示例太原钢铁碳足迹试点"), factory, ["50", "40", "30"])
    scan_progress(db, now=NOW)
    db.commit()
    return users


def grid(client: Any, app: Any, **values: Any) -> dict[str, Any]:
    """The queue's callback as the page calls it: the default statuses (as the page opens) unless given."""
    chosen = {"status": list(DEFAULT_STATUSES)} | values
    return body(call_callback(client, app, GRID, {f"flg-{k}": v for k, v in chosen.items()}))


def backwards(db: Any, city: str) -> list[Flag]:
    return [f for f in db.scalars(select(Flag).where(Flag.rule_id == BACKWARDS).order_by(Flag.id))
            if f.city.short_zh == city]  # fmt: skip


def group_row(rows: list[dict[str, Any]], subject: str) -> dict[str, Any]:
    return next(r for r in rows if r["rule_id"] == BACKWARDS and r["subject"] == subject)


def test_one_rule_on_one_pilot_over_several_months_is_one_row_with_its_count_and_periods(
    client, app, db, world
) -> None:  # type: ignore[no-untyped-def]
    login(client, "shg")
    answer = grid(client, app)  # the page opens grouped
    rows = answer[GRID]["rowData"]
    changzhi = group_row(rows, "示例长治焦炭碳足迹试点")
    assert changzhi["count"] == 3 and changzhi["rule"] == "进度倒退 ×3" and changzhi["city"] == "长治"
    assert changzhi["periods"] == "2025年10月、2025年11月、2025年12月"
    assert changzhi["id"] == f"g{backwards(db, '长治')[0].id}" and changzhi["status"] == "待核查"
    assert group_row(rows, "示例太原钢铁碳足迹试点")["count"] == 2
    flat = grid(client, app, view="flat")[GRID]["rowData"]
    assert sum(r["count"] for r in rows) == len(flat)  # every flag in exactly one group
    assert "条数" in json.dumps(answer[GRID]["columnDefs"], ensure_ascii=False)
    assert f"共 {len(flat)} 条风险线索，合为 {len(rows)} 组" in text(answer, COUNT)
    single = next(r for r in rows if r["rule_id"] == "BELOW_PHYSICAL_FLOOR")
    assert single["count"] == 1 and isinstance(single["id"], int)  # a group of one is its flag's row
    assert single["claim_key"] == "CZ-1" and single["periods"]
    # A closed member leaves the group under the default filter, and is one filter away.
    first = backwards(db, "长治")[0]
    first.status, first.reason = FlagStatus.DISMISSED, "企业说明了原因"
    db.commit()
    assert group_row(grid(client, app)[GRID]["rowData"], "示例长治焦炭碳足迹试点")["count"] == 2
    dismissed = grid(client, app, status=["dismissed"])[GRID]["rowData"]
    assert [r["id"] for r in dismissed] == [first.id]


def test_groups_are_counted_over_the_whole_filtered_queue_not_within_a_page(
    client, app, db, world, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from dashboards.pages import flags as page_module

    monkeypatch.setattr(page_module, "SHOWN", 1)  # one row a page: the group still counts all three
    login(client, "shg")
    filters = {"rule": [BACKWARDS], "city": [world["city"].city_id]}
    first = grid(client, app, **filters)
    assert [r["count"] for r in first[GRID]["rowData"]] == [3]
    assert "合为 1 组" in text(first, COUNT)
    assert len(grid(client, app, view="flat", **filters)[GRID]["rowData"]) == 1  # flat: a page of one flag
    # Page by page (all statuses), each group comes once, on one page.
    pages = group_count(db, world["province"], FlagFilters(statuses=()))
    answer, seen = body(call_callback(client, app, GRID, {"flg-view": "grouped"})), []
    assert f"第 1/{pages} 页" in text(answer, COUNT)
    for number in range(1, pages + 1):
        seen += [r["subject"] for r in answer[GRID]["rowData"] if r["rule_id"] == BACKWARDS]
        answer = body(call_callback(client, app, GRID, {"flg-next": number, "flg-page": number - 1}))
    assert sorted(seen) == ["示例太原钢铁碳足迹试点", "示例长治焦炭碳足迹试点"]
    # The same grouping straight from the queue module (the database's GROUP BY).
    groups = flag_groups(db, world["province"], FlagFilters(rule_ids=(BACKWARDS,)))
    assert (
        sorted(g.count for g in groups) == [2, 3] and group_count(db, world["province"], FlagFilters()) >= 2
    )
    assert [len(g.periods) for g in groups if g.count == 3] == [3]


def test_the_rule_filter_counts_in_the_users_scope_under_the_other_filters(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    def counts(answer: dict[str, Any]) -> dict[str, str]:
        return {o["value"]: o["label"] for o in answer["flg-rule"]["options"]}

    login(client, "shg")
    province = counts(grid(client, app))
    assert province[BACKWARDS] == "进度倒退（5）" and province["UNIT_NOT_COMPARABLE"] == "单位无法比对（2）"
    assert set(province) == set(RULE_IDS) and any(
        v.endswith("（0）") for v in province.values()
    )  # every rule
    # Counted under the other filters, never under the rule filter itself.
    assert counts(grid(client, app, city=[world["other"].city_id]))[BACKWARDS] == "进度倒退（2）"
    assert counts(grid(client, app, rule=["UNIT_SLIP"]))[BACKWARDS] == "进度倒退（5）"
    login(client, "czg")
    city = counts(grid(client, app))
    assert city[BACKWARDS] == "进度倒退（3）" and city["UNIT_NOT_COMPARABLE"] == "单位无法比对（1）"
    assert counts(grid(client, app, city=[world["other"].city_id]))[BACKWARDS] == "进度倒退（0）"
    flag = backwards(db, "长治")[0]
    flag.status, flag.reason = FlagStatus.DISMISSED, "x"
    db.commit()
    assert counts(grid(client, app))[BACKWARDS] == "进度倒退（2）"  # the default queue: still open
    assert counts(grid(client, app, status=["dismissed"]))[BACKWARDS] == "进度倒退（1）"


def test_selecting_a_group_lists_every_member_flag(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    members = backwards(db, "长治")
    login(client, "czg")
    shown = body(call_callback(client, app, DETAIL, {GRID: [{"id": f"g{members[0].id}"}]}))
    detail = text(shown, DETAIL)
    assert "进度倒退" in detail and "×3" in detail and "示例长治焦炭碳足迹试点" in detail
    for month in ("2025年10月", "2025年11月", "2025年12月"):
        assert month in detail
    for member in members:
        assert f"/flags?id={member.id}&view=flat" in detail  # each opens alone
    assert shown["flg-group"]["data"] == f"g{members[0].id}" and shown["flg-current"]["data"] is None
    assert shown["flg-propose-dismiss"]["disabled"] is False and shown["flg-confirm"]["disabled"] is True
    assert {o["label"] for o in shown["flg-assignee"]["options"]} >= {"长治甲（本人）"}
    # Another city's group is answered as nothing, like a missing flag.
    login(client, "tyg")
    assert call_callback(client, app, DETAIL, {GRID: [{"id": f"g{members[0].id}"}]}).status_code == 204


def act(client: Any, app: Any, group: object, step: str, reason: str = "", **values: Any) -> Any:
    shown = {"flg-group": group, f"flg-{step.replace('_', '-')}": 1, "flg-reason": reason, **values}
    return call_callback(client, app, MESSAGE, shown)


def steps_of(db: Any, flags: list[Flag]) -> list[tuple[int, str, str]]:
    stmt = select(WorkflowStep).where(WorkflowStep.subject_type == "flag",
                                      WorkflowStep.subject_id.in_([f.id for f in flags]))  # fmt: skip
    return sorted((s.subject_id, s.step, s.actor_name) for s in db.scalars(stmt))


def test_a_step_on_a_group_is_taken_on_each_member_the_user_may_and_each_is_audited(
    client, app, db, world
) -> None:  # type: ignore[no-untyped-def]
    members = backwards(db, "长治")
    login(client, "czg")
    assert "须填写理由" in text(body(act(client, app, f"g{members[0].id}", "propose_dismiss", " ")), MESSAGE)
    assert steps_of(db, members) == []  # refused as a whole: nothing half done
    answer = text(body(act(client, app, f"g{members[0].id}", "propose_dismiss", "企业统计口径调整")), MESSAGE)
    assert "已提交排除建议" in answer and "共 3 条" in answer
    for flag in members:
        db.refresh(flag)
        assert (flag.proposal, flag.proposal_reason) == ("dismiss", "企业统计口径调整")
    assert steps_of(db, members) == sorted((f.id, "propose_dismiss", "czg") for f in members)
    events = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "flags", AuditEvent.action == "update",
                                                 AuditEvent.entity_id.in_([str(f.id) for f in members]))).all()  # fmt: skip
    assert sorted(int(e.entity_id) for e in events) == sorted(f.id for f in members)  # one event per flag
    # The province decides the group: a member already settled by hand is left alone and said so.
    login(client, "shg")
    assert "已采纳" in text(body(call_callback(client, app, MESSAGE, {"flg-current": members[2].id, "flg-accept": 1,
                                                                    "flg-reason": ""})), MESSAGE)  # fmt: skip
    answer = text(
        body(act(client, app, f"g{members[0].id}", "reject", "请补充材料", **{"flg-status": ["proposed"]})),
        MESSAGE,
    )
    assert "已驳回市级建议" in answer and "共 2 条" in answer
    for flag in members:
        db.refresh(flag)
    assert [f.proposal for f in members] == [None, None, None]
    assert [f.status for f in members] == [FlagStatus.OPEN, FlagStatus.OPEN, FlagStatus.DISMISSED]
    # Under all statuses the settled one is in the group but cannot take the step: skipped, said so.
    answer = text(body(act(client, app, f"g{members[0].id}", "confirm", "属实",
                           **{"flg-status": [s.value for s in FlagStatus]})), MESSAGE)  # fmt: skip
    assert "共 2 条" in answer and "另有 1 条不适用此操作" in answer
    for flag in members:
        db.refresh(flag)
    assert [f.status for f in members] == [FlagStatus.CONFIRMED, FlagStatus.CONFIRMED, FlagStatus.DISMISSED]


def test_a_city_user_cannot_touch_another_citys_flags_through_a_group(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    theirs = backwards(db, "太原")
    missing = (
        text(body(act(client, app, "g999999", "propose_dismiss", "x")), MESSAGE)
        if login(client, "czg")
        else ""
    )
    assert "风险线索不存在" in missing
    for step in ("propose_dismiss", "assign", "confirm", "dismiss"):
        answer = act(client, app, f"g{theirs[0].id}", step, "本市认为不是问题",
                     **{"flg-city": [world["other"].city_id], "flg-assignee": world["city"].id})  # fmt: skip
        assert text(body(answer), MESSAGE) == missing  # exactly as for a group that does not exist
    for flag in theirs:
        db.refresh(flag)
        assert (flag.status, flag.proposal, flag.assigned_to_id) == (FlagStatus.OPEN, None, None)
    assert steps_of(db, theirs) == []
    # A leader's write on a group is refused before anything runs.
    login(client, "ldg")
    assert act(client, app, f"g{theirs[0].id}", "confirm", "x").status_code == 204
    assert steps_of(db, theirs) == []


@pytest.mark.parametrize("junk", ["x", "g", "g-1", "g0", "g1.5", "g１２", "G12", 12, True, ["g1"], {"id": 1},
                                  "g99999999999"])  # fmt: skip
def test_a_malformed_group_id_is_refused_with_400(client, app, db, world, junk: object) -> None:  # type: ignore[no-untyped-def]
    login(client, "shg")
    assert act(client, app, junk, "confirm", "x").status_code == 400
    assert call_callback(client, app, DETAIL, {"flg-refresh": 1, "flg-group": junk}).status_code == 400
    if isinstance(junk, str):
        assert call_callback(client, app, DETAIL, {GRID: [{"id": junk}]}).status_code == 400
    assert db.scalar(select(func.count()).select_from(WorkflowStep)) == 0


def test_the_uncomparable_line_counts_what_its_link_opens(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    for who, expected in (("shg", 2), ("czg", 1)):
        login(client, who)
        line = body(call_callback(client, app, "flg-uncomparable", {"flg-refresh": 0}))
        shown = text(line, "flg-uncomparable")
        assert "无法比对" in shown and f"{expected} 条声明" in shown
        assert "/flags?rule=UNIT_NOT_COMPARABLE" in shown
        rendered = page(client, app, "?rule=UNIT_NOT_COMPARABLE")
        assert component(rendered, "flg-rule")["value"] == ["UNIT_NOT_COMPARABLE"]
        queue = grid(client, app, view="flat", rule=["UNIT_NOT_COMPARABLE"])
        assert len(queue[GRID]["rowData"]) == expected and f"共 {expected} 条风险线索" in text(queue, COUNT)
    # A claim looked at and settled is no longer counted, and no longer in the queue the link opens.
    flag = db.scalars(
        select(Flag).where(Flag.rule_id == "UNIT_NOT_COMPARABLE", Flag.city_id == world["city"].city_id)
    ).one()
    flag.status, flag.reason = FlagStatus.DISMISSED, "按件声明，另行核查"
    db.commit()
    assert "0 条声明" in text(
        body(call_callback(client, app, "flg-uncomparable", {"flg-refresh": 1})), "flg-uncomparable"
    )
    assert grid(client, app, view="flat", rule=["UNIT_NOT_COMPARABLE"])[GRID]["rowData"] == []


def test_the_export_stays_one_row_per_flag_from_the_grouped_view(client, app, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "czg")
    sheet = workbook(call_callback(client, app, "flg-download", {"flg-export": 1, "flg-rule": [BACKWARDS]}))
    months_listed = [
        c.value
        for row in sheet.iter_rows()
        for c in row
        if c.value in ("2025年10月", "2025年11月", "2025年12月")
    ]
    assert sorted(months_listed) == ["2025年10月", "2025年11月", "2025年12月"]  # three rows, not one
    assert "逐条" in json.dumps(page(client, app), ensure_ascii=False)  # the page says so


def test_the_grouped_page_in_english_shows_no_chinese_it_made(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    # Data stays as entered (names of cities, pilots, products, tasks); the rest must be English.
    data = sorted({"长治", "太原", "示例长治焦炭碳足迹试点", "示例太原钢铁碳足迹试点", "焦炭", "钢铁", "玻璃", "数据采集"},
                  key=len, reverse=True)  # fmt: skip
    members = backwards(db, "长治")
    login(client, "czg")
    client.get("/lang/en")
    answer = grid(client, app)
    group = group_row(answer[GRID]["rowData"], "示例长治焦炭碳足迹试点")
    assert group["periods"] == "October 2025, November 2025, December 2025" and group["rule"].endswith("×3")
    made = [group["periods"], group["status"], group["rule"], group["message"], text(answer, COUNT)]
    made += [o["label"] for o in answer["flg-rule"]["options"]]
    made += [c["headerName"] for c in answer[GRID]["columnDefs"]]
    made.append(
        text(body(call_callback(client, app, "flg-uncomparable", {"flg-refresh": 0})), "flg-uncomparable")
    )
    panel = text(body(call_callback(client, app, DETAIL, {GRID: [{"id": f"g{members[0].id}"}]})), DETAIL)
    for name in data:
        panel = panel.replace(name, "")
    made.append(panel)
    left = [HAN.findall(t) for t in made if HAN.search(t)]
    assert not left, left
    assert "Not comparable" in made[-2] and "Period" in panel


def test_a_claims_versions_flagged_by_one_rule_are_one_group_with_each_versions_period(
    client, app, db, world
) -> None:  # type: ignore[no-untyped-def]
    """A claim id re-declared for the next year and still below the floor: its two flags (the first
    version's, the second's) are one group, named by the claim id, with both periods."""
    later = {**CZ_1, "footprint_kgco2e": "310", "stage_transport": "60", "period_start": "2024-11-01",
             "period_end": "2025-10-31"}  # fmt: skip
    import_claims(db, world["province"], claim_rows([later, TY_1, CZ_PIECE, TY_PIECE]), "claims.csv")
    scan_claims(db, now=NOW + dt.timedelta(days=1))
    db.commit()
    flags = [
        f for f in db.scalars(select(Flag).where(Flag.rule_id == "BELOW_PHYSICAL_FLOOR").order_by(Flag.id))
    ]
    assert len(flags) == 2 and flags[0].subject_id != flags[1].subject_id  # one per version
    login(client, "czg")
    every = [s.value for s in FlagStatus]
    rows = grid(client, app, status=every, rule=["BELOW_PHYSICAL_FLOOR"])[GRID]["rowData"]
    assert len(rows) == 1 and rows[0]["count"] == 2 and rows[0]["claim_key"] == "CZ-1"
    assert rows[0]["periods"] == "2023年11月1日–2024年10月31日、2024年11月1日–2025年10月31日"
    assert rows[0]["id"] == f"g{flags[0].id}"
    panel = text(
        body(call_callback(client, app, DETAIL, {GRID: [{"id": rows[0]["id"]}], "flg-status": every})), DETAIL
    )
    assert f"/flags?id={flags[0].id}&view=flat" in panel and f"/flags?id={flags[1].id}&view=flat" in panel


def test_anonymous_posts_to_the_new_callbacks_get_nothing(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    first = backwards(db, "长治")[0]
    calls = [(GRID, {"flg-view": "grouped"}), ("flg-uncomparable", {"flg-refresh": 0}),
             (DETAIL, {GRID: [{"id": f"g{first.id}"}]}),
             (MESSAGE, {"flg-group": f"g{first.id}", "flg-confirm": 1, "flg-reason": "x"})]  # fmt: skip
    for output_id, values in calls:
        answer = call_callback(client, app, output_id, values)
        assert answer.status_code == 401, output_id
        assert "示例" not in answer.get_data(as_text=True)
    assert steps_of(db, [first]) == []
