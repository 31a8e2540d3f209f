"""The 风险线索核查 page over HTTP: a city bureau works through its own city's flags, the province
through every city's; the detail shows the benchmark and factor versions a flag was judged on and
the claim's versions; each review step goes through tracker.flags.review and is audited; leaders
and other cities change nothing; the Excel export keeps a leading "=" as text."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.factories import TZ
from tests.fixtures import FIXTURES
from tests.web import call_callback, component, login
from tracker.claims.library import set_benchmark
from tracker.claims.registry import import_claims
from tracker.claims.scan import scan_claims
from tracker.flags.review import FLAG_STEPS
from tracker.models import AuditEvent, Claim, Flag, FlagStatus, Role, WorkflowStep
from tracker.models.labels import RULE_NAMES
from tracker.monitoring.flag_queue import FlagFilters, flag_detail, flag_queue
from tracker.progress.consistency import scan_progress

SAMPLE = FIXTURES / "claims_sample.csv"
NOW = dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC)
EVIL = '=HYPERLINK("http://example.invalid","点击")示例长治玻璃有限公司'
GRID, DETAIL, MESSAGE, DOWNLOAD = "flg-grid", "flg-detail", "flg-message", "flg-download"
ALL_STATUSES = [s.value for s in FlagStatus]
STEP_IDS = [key.replace("_", "-") for key in FLAG_STEPS]  # flg-<step> is the step's button


def claim_rows(changes: list[dict[str, str]]) -> bytes:
    """An exchange file of sample claim CL-10001 (flat glass, 860.8 kg/t) with each row's changes."""
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    header, template = rows[0], dict(zip(rows[0], rows[1], strict=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for change in changes:
        writer.writerow([{**template, **change}[name] for name in header])
    return out.getvalue().encode("utf-8")


# 长治 CZ-1: below the physical floor of glass (400) and a grid factor far under the official one;
# 太原 TY-1: outside the plausible range (600–1500).
CZ_1 = {"claim_id": "CZ-1", "city": "长治", "company_name": EVIL, "credit_code": "91140400068288362P",
        "footprint_kgco2e": "300", "stage_raw_materials": "100", "stage_manufacturing": "150",
        "stage_transport": "50", "electricity_factor": "0.3"}  # fmt: skip
TY_1 = {"claim_id": "TY-1", "city": "太原", "company_name": "示例太原玻璃有限公司", "credit_code": "91140100MA0K3B2C78",
        "footprint_kgco2e": "1700", "stage_raw_materials": "600", "stage_manufacturing": "1000",
        "stage_transport": "100"}  # fmt: skip


def body(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
    return json.loads(response.get_data(as_text=True))["response"]  # type: ignore[no-any-return]


def text(answer: dict[str, Any], output_id: str, prop: str = "children") -> str:
    return json.dumps(answer[output_id][prop], ensure_ascii=False)


def rows(client: Any, app: Any, **filters: Any) -> list[dict[str, Any]]:
    """The queue's rows, one per flag (逐条) unless ``view="grouped"`` is given."""
    values = {"flg-view": "flat"} | {f"flg-{key}": value for key, value in filters.items()}
    return body(call_callback(client, app, GRID, values))[GRID]["rowData"]  # type: ignore[no-any-return]


def flag_of(db: Any, rule_id: str, claim_key: str | None = None) -> Flag:
    stmt = select(Flag).where(Flag.rule_id == rule_id).order_by(Flag.id.desc())
    flags = [f for f in db.scalars(stmt) if claim_key is None or f.evidence.get("claim_id") == claim_key]
    return flags[0]


@pytest.fixture
def world(factory, db):  # type: ignore[no-untyped-def]
    users = {
        "province": factory.user(Role.PROVINCE_STAFF, username="shf"),
        "admin": factory.user(Role.PROVINCE_ADMIN, username="glf"),
        "city": factory.user(Role.CITY_STAFF, "长治", username="czf", display_name="长治甲"),
        "colleague": factory.user(Role.CITY_STAFF, "长治", username="czf2", display_name="长治乙"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyf"),
        "leader": factory.user(Role.LEADER, None, username="ldf"),
    }
    import_claims(db, users["province"], claim_rows([CZ_1, TY_1]), "claims.csv")
    scan_claims(db, now=NOW)
    pilot = factory.pilot("长治", name="示例长治焦炭碳足迹试点")
    factory.accepted_update(pilot, dt.date(2025, 9, 1), dt.date(2025, 9, 30), "40")
    factory.accepted_update(
        pilot, dt.date(2025, 10, 1), dt.date(2025, 10, 31), "20"
    )  # progress went backwards
    scan_progress(db, now=NOW)
    db.commit()
    return users


def test_every_rule_has_a_chinese_name() -> None:
    from tracker.monitoring.flag_queue import RULE_IDS

    assert set(RULE_IDS) == set(RULE_NAMES)


def test_anonymous_posts_to_every_callback_get_nothing(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    calls = [(GRID, {}), (DETAIL, {GRID: [{"id": flag.id}]}), (DOWNLOAD, {"flg-export": 1})]
    calls += [(MESSAGE, {f"flg-{step}": 1, "flg-current": flag.id, "flg-reason": "x"}) for step in STEP_IDS]
    for output_id, values in calls:
        answer = call_callback(client, app, output_id, values)
        assert answer.status_code == 401, output_id
        assert "示例" not in answer.get_data(as_text=True)
    db.refresh(flag)
    assert flag.status is FlagStatus.OPEN


def test_a_city_user_sees_only_their_citys_flags(client, app, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "czf")
    shown = rows(client, app, status=ALL_STATUSES)
    assert {r["city"] for r in shown} == {"长治"}
    assert {r["rule_id"] for r in shown} == {"BELOW_PHYSICAL_FLOOR", "LOW_GRID_FACTOR", "PROGRESS_BACKWARDS"}
    claim = next(r for r in shown if r["rule_id"] == "BELOW_PHYSICAL_FLOOR")
    assert (claim["severity"], claim["rule"], claim["claim_key"], claim["status"]) == (
        "高",
        "低于物理下限",
        "CZ-1",
        "待核查",
    )
    assert (claim["subject"], claim["product"], claim["first_seen"]) == (EVIL, "玻璃", "2026-11-24")
    update = next(r for r in shown if r["rule_id"] == "PROGRESS_BACKWARDS")
    assert (update["subject"], update["product"], update["claim_key"]) == (
        "示例长治焦炭碳足迹试点",
        "焦炭",
        "2025年10月",  # the report's period tells one pilot's progress flags apart
    )
    client.get("/lang/en")  # the city, a pilot's product and the period in the reader's language
    update = next(r for r in rows(client, app, status=ALL_STATUSES) if r["rule_id"] == "PROGRESS_BACKWARDS")
    assert (update["city"], update["product"], update["claim_key"]) == ("Changzhi", "Coke", "October 2025")
    client.get("/lang/zh_CN")
    # Asking for another city's flags by filter gives nothing, not an error.
    assert rows(client, app, city=[world["other"].city_id]) == []


def test_the_province_sees_every_city_and_the_filters_work(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "shf")
    everything = rows(client, app)
    assert {r["city"] for r in everything} == {"长治", "太原"}
    assert everything[0]["severity"] == "高"  # the most severe first
    assert {r["rule_id"] for r in rows(client, app, severity=["high"])} == {"BELOW_PHYSICAL_FLOOR"}
    assert {r["rule_id"] for r in rows(client, app, rule=["OUTSIDE_PLAUSIBLE_RANGE"])} == {
        "OUTSIDE_PLAUSIBLE_RANGE"
    }
    assert {r["city"] for r in rows(client, app, city=[world["other"].city_id])} == {"太原"}
    glass = db.scalars(select(Claim.product_id).where(Claim.claim_key == "CZ-1")).first()
    assert {r["rule_id"] for r in rows(client, app, product=[glass])} == {
        "BELOW_PHYSICAL_FLOOR", "LOW_GRID_FACTOR", "OUTSIDE_PLAUSIBLE_RANGE"}  # fmt: skip
    # Closed flags leave the default queue (open and under review) but are one filter away.
    flag = flag_of(db, "OUTSIDE_PLAUSIBLE_RANGE")
    flag.status, flag.reason = FlagStatus.DISMISSED, "企业补充了检测报告"
    db.commit()
    assert "OUTSIDE_PLAUSIBLE_RANGE" not in {
        r["rule_id"] for r in rows(client, app, status=["open", "under_review"])
    }
    assert {r["rule_id"] for r in rows(client, app, status=["dismissed"])} == {"OUTSIDE_PLAUSIBLE_RANGE"}
    junk = rows(client, app, severity="1 OR 1=1", rule=[{"$ne": 1}], city=[True, 2**53], status=ALL_STATUSES)
    assert len(junk) == 4  # malformed filter values are ignored, not an error


def test_a_long_queue_comes_in_pages_from_the_server_most_severe_first(
    client, app, world, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Every flag is reachable a page at a time (the server counts, orders and cuts); a filter
    change starts again at the first page; the arrows stop at the ends."""
    from dashboards.pages import flags as page_module

    monkeypatch.setattr(page_module, "SHOWN", 3)  # 4 open flags in all: two pages
    login(client, "shf")
    first = body(call_callback(client, app, GRID, {"flg-view": "flat"}))
    assert [r["severity"] for r in first[GRID]["rowData"]][:1] == ["高"] and len(first[GRID]["rowData"]) == 3
    assert "共 4 条风险线索，第 1/2 页" in text(first, "flg-count")
    assert first["flg-previous"]["disabled"] is True and first["flg-next"]["disabled"] is False
    second = body(call_callback(client, app, GRID, {"flg-view": "flat", "flg-next": 1, "flg-page": 0}))
    assert len(second[GRID]["rowData"]) == 1 and second["flg-page"]["data"] == 1
    assert second["flg-next"]["disabled"] is True and "第 2/2 页" in text(second, "flg-count")
    seen = {r["id"] for r in first[GRID]["rowData"]} | {r["id"] for r in second[GRID]["rowData"]}
    assert len(seen) == 4  # no flag on both pages, none left out
    beyond = body(call_callback(client, app, GRID, {"flg-view": "flat", "flg-next": 2, "flg-page": 1}))
    assert beyond["flg-page"]["data"] == 1  # held at the last page
    refiltered = body(
        call_callback(client, app, GRID, {"flg-view": "flat", "flg-severity": ["high"], "flg-page": 1})
    )
    assert refiltered["flg-page"]["data"] == 0 and "共" in text(refiltered, "flg-count")
    junk = body(
        call_callback(
            client, app, GRID, {"flg-view": "flat", "flg-next": 1, "flg-page": "1; DROP TABLE flags"}
        )
    )
    assert junk["flg-page"]["data"] == 1  # a malformed page is taken as the first, then moved by one


def test_the_detail_shows_the_benchmark_and_factor_versions_the_flag_was_judged_on(
    client, app, db, world
) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    assert (flag.evidence["benchmark_version"], flag.evidence["factor_version"]) == (1, 1)
    set_benchmark(db, world["admin"], "玻璃", reason="新的行业数据", physical_floor=Decimal(250))
    db.commit()
    login(client, "czf")
    shown = body(call_callback(client, app, DETAIL, {GRID: [{"id": flag.id}]}))
    detail = text(shown, DETAIL)
    assert "碳足迹300低于该产品的物理下限400" in detail
    assert "产品基准" in detail and "（第1版）" in detail and "已被第2版取代" in detail
    assert '"400"' in detail and '"1500"' in detail and "IPCC process floor" in detail  # version 1, not 250
    assert "电网排放因子" in detail and "0.6361 kgCO2/kWh" in detail and "现行版本" in detail
    assert shown["flg-current"]["data"] == flag.id
    assert (
        shown["flg-confirm"]["disabled"] is True and shown["flg-resolve"]["disabled"] is True
    )  # the province's
    assert (
        shown["flg-propose-dismiss"]["disabled"] is False and shown["flg-propose-resolve"]["disabled"] is True
    )
    assert {o["label"] for o in shown["flg-assignee"]["options"]} >= {"长治甲（本人）", "长治乙"}
    assert "tyf" not in json.dumps(shown["flg-assignee"]["options"], ensure_ascii=False)


def test_the_history_lists_every_version_and_marks_the_one_judged(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    first = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    corrected = {**CZ_1, "footprint_kgco2e": "310", "stage_transport": "60", "standard": "GB/T 24067-2024"}
    import_claims(db, world["province"], claim_rows([corrected, TY_1]), "claims.csv")
    scan_claims(db, now=NOW + dt.timedelta(days=1))
    db.commit()
    second = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    assert second.id != first.id
    detail = flag_detail(db, world["city"], second.id)
    assert detail is not None
    assert [(v.claim.version, v.judged) for v in detail.history] == [(1, False), (2, True)]
    assert set(detail.history[1].changes) == {"footprint", "stage_transport", "standard"}
    login(client, "czf")
    shown = text(body(call_callback(client, app, DETAIL, {GRID: [{"id": first.id}]})), DETAIL)
    assert "声明版本记录" in shown and "第1版" in shown and "第2版" in shown and "核查所依据" in shown
    assert "碳足迹：300 → 310" in shown and "首次导入" in shown


def test_an_update_flag_shows_the_report_it_was_found_in(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "PROGRESS_BACKWARDS")
    login(client, "shf")
    shown = text(body(call_callback(client, app, DETAIL, {GRID: [{"id": flag.id}]})), DETAIL)
    assert "进度倒退" in shown and "示例长治焦炭碳足迹试点" in shown and f"/pilot?id={flag.pilot_id}" in shown
    assert "上期值" in shown and "产品基准" not in shown


def page(client: Any, app: Any, search: str = "") -> Any:
    return call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/flags",
                                                         "_pages_location.search": search}).get_json()  # fmt: skip


def test_the_address_chooses_the_filters_and_opens_one_flag(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "LOW_GRID_FACTOR")
    login(client, "czf")
    shown = page(client, app, f"?id={flag.id}&status=confirmed,bogus&severity=medium&city=140400,140100")
    assert component(shown, "flg-focus")["data"] == flag.id
    assert component(shown, "flg-city")["value"] == [
        world["city"].city_id
    ]  # 长治 by its code; 太原 is not theirs
    assert component(shown, "flg-status")["value"] == ["confirmed"]
    assert component(shown, "flg-severity")["value"] == ["medium"]
    assert component(page(client, app), "flg-status")["value"] == [
        "open",
        "under_review",
        "proposed",
    ]  # the default queue
    opened = body(
        call_callback(client, app, DETAIL, {"flg-refresh": 0, "flg-focus": flag.id})
    )  # the first load
    assert "电网排放因子0.3远低于官方值0.6361" in text(opened, DETAIL)


def act_as(client: Any, app: Any, who: str, flag: Flag, step: str, reason: str = "", **values: Any) -> str:
    """Log in as ``who`` and press the step's button on ``flag``; the message shown."""
    login(client, who)
    shown = {"flg-current": flag.id, f"flg-{step.replace('_', '-')}": 1, "flg-reason": reason, **values}
    return text(body(call_callback(client, app, MESSAGE, shown)), MESSAGE)


@pytest.mark.parametrize(("proposal", "outcome"), [
    ("propose_resolve", FlagStatus.RESOLVED), ("propose_dismiss", FlagStatus.DISMISSED),
])  # fmt: skip
def test_the_city_proposes_the_province_decides_and_every_step_is_audited(
    client, app, db, world, proposal: str, outcome: FlagStatus
) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    assert "已指派" in act_as(client, app, "czf", flag, "assign", **{"flg-assignee": world["colleague"].id})
    db.refresh(flag)
    assert (flag.status, flag.assigned_to_id) == (FlagStatus.UNDER_REVIEW, world["colleague"].id)
    assert "由省级生态环境部门决定" in act_as(client, app, "czf", flag, "confirm", "现场核查属实")
    if proposal == "propose_resolve":
        assert "已确认" in act_as(client, app, "shf", flag, "confirm", "现场核查属实")
    assert "须填写理由" in act_as(client, app, "czf", flag, proposal, " ")
    reason = "企业已整改并重新报送" if proposal == "propose_resolve" else "企业提供了检测报告"
    assert "待省级审核" in act_as(client, app, "czf", flag, proposal, reason)
    db.refresh(flag)
    assert (flag.proposal, flag.proposal_reason, flag.proposed_by_id) == (
        proposal.removeprefix("propose_"), reason, world["city"].id)  # fmt: skip
    # The province finds it with the 待省级审核 filter (also a confirmed flag) and in the column.
    login(client, "glf")
    pending = rows(client, app, status=["proposed"])
    assert [r["id"] for r in pending] == [flag.id]
    assert pending[0]["proposal"].startswith("待省级审核：市级建议")
    shown = body(call_callback(client, app, DETAIL, {GRID: [{"id": flag.id}]}))
    assert shown["flg-accept"]["disabled"] is False and shown["flg-reject"]["disabled"] is False
    assert shown["flg-propose-dismiss"]["disabled"] is True and "长治甲" in text(shown, DETAIL)
    assert "已采纳市级建议" in act_as(client, app, "glf", flag, "accept", "同意")
    db.refresh(flag)
    assert (flag.status, flag.reason, flag.proposal) == (outcome, reason, None) and flag.closed_at is not None
    steps = db.scalars(select(WorkflowStep).where(WorkflowStep.subject_type == "flag", WorkflowStep.subject_id == flag.id)
                       .order_by(WorkflowStep.id)).all()  # fmt: skip
    expected = [("assign", "czf")] + ([("confirm", "shf")] if proposal == "propose_resolve" else [])
    assert [(s.step, s.actor_name) for s in steps] == [*expected, (proposal, "czf"), ("accept", "glf")]
    events = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "flags", AuditEvent.entity_id == str(flag.id),
                                                 AuditEvent.action == "update").order_by(AuditEvent.id)).all()  # fmt: skip
    assert [e.actor_name for e in events] == [s.actor_name for s in steps]
    assert events[-1].after.get("status") == outcome.value
    login(client, "czf")
    history = text(body(call_callback(client, app, DETAIL, {GRID: [{"id": flag.id}]})), DETAIL)
    assert reason in history and FLAG_STEPS[proposal].label_zh in history and "省级采纳市级建议" in history
    assert "glf" in history and "czf" in history  # who, with the time of each step


def test_the_own_city_cannot_dismiss_a_flag_the_province_confirmed(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    assert "已确认" in act_as(client, app, "glf", flag, "confirm", "属实")
    for step in ("dismiss", "resolve"):
        assert "由省级生态环境部门决定" in act_as(client, app, "czf", flag, step, "本市认为不是问题")
    assert "已确认，不能市级建议排除" in act_as(
        client, app, "czf", flag, "propose_dismiss", "本市认为不是问题"
    )
    db.refresh(flag)
    assert (flag.status, flag.reason, flag.proposal) == (FlagStatus.CONFIRMED, "属实", None)
    assert "待省级审核" in act_as(client, app, "czf", flag, "propose_resolve", "已整改")
    assert "须填写理由" in act_as(client, app, "shf", flag, "reject", "")
    assert "已驳回市级建议" in act_as(client, app, "shf", flag, "reject", "未见整改材料")
    db.refresh(flag)
    assert (flag.status, flag.proposal) == (FlagStatus.CONFIRMED, None)


def test_each_level_sees_its_own_buttons(client, app, world) -> None:  # type: ignore[no-untyped-def]
    hidden = {}
    for who in ("czf", "shf"):
        login(client, who)
        shown = page(client, app)
        hidden[who] = {s for s in STEP_IDS if "d-none" in component(shown, f"flg-{s}").get("className", "")}
    assert hidden["czf"] == {"confirm", "dismiss", "resolve", "accept", "reject"}
    assert hidden["shf"] == {"propose-dismiss", "propose-resolve"}


def test_the_province_may_assign_to_a_city_colleague_but_not_to_another_city(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    login(client, "shf")
    wrong = body(call_callback(client, app, MESSAGE, {"flg-current": flag.id, "flg-assignee": world["other"].id,
                                                      "flg-assign": 1}))  # fmt: skip
    assert "只能分派给有权核查该线索的在职人员" in text(wrong, MESSAGE)
    done = body(call_callback(client, app, MESSAGE, {"flg-current": flag.id, "flg-assignee": world["city"].id,
                                                     "flg-assign": 1}))  # fmt: skip
    assert "已指派" in text(done, MESSAGE)
    db.refresh(flag)
    assert flag.assigned_to_id == world["city"].id
    assert next(r for r in rows(client, app) if r["id"] == flag.id)["assignee"] == "长治甲"


def test_another_citys_user_can_neither_open_nor_act_on_a_flag(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    login(client, "tyf")
    assert flag.id not in {r["id"] for r in rows(client, app, status=ALL_STATUSES)}
    assert call_callback(client, app, DETAIL, {GRID: [{"id": flag.id}]}).status_code == 204
    assert call_callback(client, app, DETAIL, {"flg-refresh": 0, "flg-focus": flag.id}).status_code == 204
    missing = body(
        call_callback(client, app, MESSAGE, {"flg-current": 999_999, "flg-confirm": 1, "flg-reason": "x"})
    )
    # An integer beyond what a browser sends is refused before the callback (dashboards/requests.py).
    assert (
        call_callback(
            client, app, MESSAGE, {"flg-current": 2**63, "flg-confirm": 1, "flg-reason": "x"}
        ).status_code
        == 400
    )
    for junk in (-1, "1", True):
        answer = body(
            call_callback(client, app, MESSAGE, {"flg-current": junk, "flg-confirm": 1, "flg-reason": "x"})
        )
        assert "请先在列表中选择" in text(answer, MESSAGE)
    assert call_callback(client, app, DETAIL, {GRID: [{"id": 2**63}]}).status_code == 400
    for step in STEP_IDS:
        answer = body(call_callback(client, app, MESSAGE, {"flg-current": flag.id, f"flg-{step}": 1, "flg-reason": "x",
                                                           "flg-assignee": world["other"].id}))  # fmt: skip
        assert text(answer, MESSAGE) == text(missing, MESSAGE)  # exactly as for a flag that does not exist
        assert "风险线索不存在" in text(answer, MESSAGE)
    db.refresh(flag)
    assert (flag.status, flag.assigned_to_id, flag.reason) == (FlagStatus.OPEN, None, None)
    assert (
        db.scalar(select(func.count()).select_from(WorkflowStep).where(WorkflowStep.subject_type == "flag"))
        == 0
    )
    assert {line.city for line in flag_queue(db, world["other"], FlagFilters(statuses=()))} == {"太原"}
    assert flag_detail(db, world["other"], flag.id) is None


def test_leaders_read_but_every_write_is_refused(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "BELOW_PHYSICAL_FLOOR")
    login(client, "ldf")
    assert {r["city"] for r in rows(client, app)} == {"长治", "太原"}
    shown = body(call_callback(client, app, DETAIL, {GRID: [{"id": flag.id}]}))
    assert "低于物理下限" in text(shown, DETAIL)
    assert all(shown[f"flg-{s}"]["disabled"] for s in STEP_IDS)
    assert shown["flg-assignee"]["options"] == []
    assert component(page(client, app), "flg-actions")["hidden"] is True  # no buttons to see
    for step in STEP_IDS:
        answer = call_callback(client, app, MESSAGE, {"flg-current": flag.id, f"flg-{step}": 1, "flg-reason": "x",
                                                      "flg-assignee": world["leader"].id})  # fmt: skip
        assert answer.status_code == 204, step
    db.refresh(flag)
    assert (flag.status, flag.assigned_to_id) == (FlagStatus.OPEN, None)
    assert (
        db.scalar(select(func.count()).select_from(WorkflowStep).where(WorkflowStep.subject_type == "flag"))
        == 0
    )


def workbook(response: Any) -> Any:
    data = body(response)[DOWNLOAD]["data"]
    assert data["filename"].endswith(".xlsx")
    return openpyxl.load_workbook(io.BytesIO(base64.b64decode(data["content"]))).active


def test_the_excel_export_is_the_filtered_queue_with_formulas_kept_as_text(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "czf")
    sheet = workbook(call_callback(client, app, DOWNLOAD, {"flg-export": 1, "flg-status": ALL_STATUSES}))
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    evil = [cell for cell in cells if cell.value == EVIL]
    assert evil and all(cell.data_type == "s" for cell in evil)  # a string, not a formula
    assert not any(cell.data_type == "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert {"低于物理下限", "电网排放因子偏低", "进度倒退", "CZ-1"} <= values and "TY-1" not in values
    assert any(
        isinstance(v, dt.datetime) and v.date() == NOW.astimezone(TZ).date() for v in values
    )  # real dates
    high = workbook(call_callback(client, app, DOWNLOAD, {"flg-export": 1, "flg-severity": ["high"]}))
    assert "电网排放因子偏低" not in {c.value for row in high.iter_rows() for c in row}
    exports = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "export", AuditEvent.entity_type == "flags")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.actor_name for e in exports] == ["czf", "czf"] and "风险线索 3 条" in (exports[0].summary or "")


def test_the_cli_csv_export_keeps_formulas_as_text(cli_database: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from tracker_cli.main import cli

    run = CliRunner().invoke
    assert run(cli, ["users", "add", "admfq", "--role", "province_admin"],
               input="Good-pass-2025\nGood-pass-2025\n").exit_code == 0  # fmt: skip
    claims = tmp_path / "claims.csv"
    claims.write_bytes(claim_rows([{**CZ_1, "claim_id": "=1+2"}]))
    assert run(cli, ["claims", "import", str(claims), "--as", "admfq"]).exit_code == 0
    assert run(cli, ["claims", "scan"]).exit_code == 0
    out = tmp_path / "flags.csv"
    assert run(cli, ["flags", "export", str(out)]).exit_code == 0
    with out.open(encoding="utf-8-sig") as handle:
        exported = list(csv.DictReader(handle))
    assert exported and {r["claim_id"] for r in exported} == {"'=1+2"}


def test_the_pilot_page_links_each_flag_to_its_review(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    flag = flag_of(db, "PROGRESS_BACKWARDS")
    login(client, "czf")
    answer = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/pilot",
                                                           "_pages_location.search": f"?id={flag.pilot_id}"})  # fmt: skip
    shown = json.dumps(component(answer.get_json(), "pilot-flags"), ensure_ascii=False)
    assert f"/flags?id={flag.id}" in shown and "进度倒退" in shown and "待核查" in shown
