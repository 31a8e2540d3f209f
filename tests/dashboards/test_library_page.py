"""The 参考数据 page over HTTP: everyone who may log in reads the lists and each entry's history; the
provincial admin alone edits (a new version with its reason, audited) and imports a file after
checking it; anyone else's hand-made edit is refused and changes nothing."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.dashboards.test_workplan_page import body, component, text
from tests.web import call_callback, login
from tracker.claims.library import current_benchmarks, current_factors, recognised_certifiers, set_benchmark
from tracker.models import AuditEvent, Certifier, EmissionFactor, ProductBenchmark, Role

CATALOGUE = Path(__file__).resolve().parents[2] / "tracker" / "catalogue"
BENCHMARK_EDIT = {"lib-b-product": "焦炭", "lib-b-floor": 400, "lib-b-low": 500, "lib-b-typical": 950,
                  "lib-b-high": 1600, "lib-b-reason": "2026年行业调研", "lib-b-save": 1}  # fmt: skip
EDITS = (("lib-message", BENCHMARK_EDIT),
         ("lib-message", {"lib-f-key": "shanxi_2022", "lib-f-value": 0.71, "lib-f-reason": "更正", "lib-f-save": 1}),
         ("lib-message", {"lib-c-name": "某认证中心", "lib-c-reason": "认监委名录", "lib-c-add": 1}),
         ("lib-import-result", {"lib-tabs": "factors", "lib-import-reason": "x", "lib-import-apply": 1,
                                "lib-upload": "data:text/csv;base64,"
                                + base64.b64encode(b"factor_id,value\nshanxi_2022,0.8\n").decode(),
                                "lib-upload.filename": "f.csv"}))  # fmt: skip


@pytest.fixture
def setup(factory):  # type: ignore[no-untyped-def]
    return {
        "admin": factory.user(Role.PROVINCE_ADMIN, username="guanli"),
        "staff": factory.user(Role.PROVINCE_STAFF, username="sheng"),
        "leader": factory.user(Role.LEADER, None, username="lingdao"),
        "city": factory.user(Role.CITY_STAFF, "长治", username="czu"),
    }


def coke_id(db) -> int:  # type: ignore[no-untyped-def]
    return next(pid for pid, b in current_benchmarks(db).items() if b.product.name_zh == "焦炭")


def library_state(db) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    return tuple(db.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                 for model in (ProductBenchmark, EmissionFactor, Certifier, AuditEvent))  # fmt: skip


def test_anonymous_gets_401(client, app) -> None:  # type: ignore[no-untyped-def]
    for output_id, values in (("lib-benchmarks", {}), ("lib-history", {"lib-tabs": "benchmarks"}), *EDITS):
        assert call_callback(client, app, output_id, values).status_code == 401, values


@pytest.mark.parametrize("username", ["czu", "sheng", "lingdao"])
def test_everyone_reads_the_lists_and_the_history(client, app, db, setup, username: str) -> None:  # type: ignore[no-untyped-def]
    set_benchmark(db, setup["admin"], "焦炭", typical=Decimal(950), reason="2026年行业调研")
    db.commit()
    login(client, username)
    loaded = body(call_callback(client, app, "lib-benchmarks", {}))
    coke = next(r for r in loaded["lib-benchmarks"]["rowData"] if r["product"] == "焦炭")
    assert (coke["typical"], coke["version"], coke["physical_floor"]) == (950, 2, 400)
    assert any(r["factor_key"] == "north_china_2023" for r in loaded["lib-factors"]["rowData"])
    history = text(body(call_callback(client, app, "lib-history", {"lib-tabs": "benchmarks",
                                                                   "lib-benchmarks": [coke]})), "lib-history")  # fmt: skip
    assert "v2（现行）" in history and "v1" in history and "2026年行业调研" in history and "guanli" in history
    assert (
        "年" in history and "月" in history and "初始数据" in history
    )  # 2025年6月28日 14:05; v1 from tracker init
    page = call_callback(client, app, "_pages_content", {"_pages_location": "/library"}).get_json()
    assert "参考数据" in json.dumps(page, ensure_ascii=False) and "只读" in json.dumps(
        page, ensure_ascii=False
    )
    assert component(page, "lib-b-box")["hidden"] is True and component(page, "lib-import-box")["style"] == {
        "display": "none"}  # fmt: skip


@pytest.mark.parametrize("username", ["czu", "sheng", "lingdao"])
def test_anyone_but_the_admin_posting_an_edit_is_refused_and_nothing_changes(
    client, app, db, setup, username: str
) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    before = library_state(db)  # the login is audited; nothing after it may be
    for output_id, values in EDITS:
        answer = call_callback(client, app, output_id, values)
        if username == "lingdao":
            assert answer.status_code == 204, values  # a leader's role does not edit at all
        else:
            assert "参考数据仅限省级管理员修改" in text(body(answer), output_id), values
    assert library_state(db) == before
    assert current_benchmarks(db)[coke_id(db)].version == 1 and recognised_certifiers(db) == set()


def test_the_admin_edits_a_benchmark_into_a_new_audited_version(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    page = call_callback(client, app, "_pages_content", {"_pages_location": "/library"}).get_json()
    assert component(page, "lib-b-box")["hidden"] is False
    disordered = body(call_callback(client, app, "lib-message", {**BENCHMARK_EDIT, "lib-b-floor": 2000}))
    assert "未写入任何数据" in text(disordered, "lib-message") and "物理下限 ≤ 合理下限" in text(
        disordered, "lib-message"
    )
    no_reason = body(call_callback(client, app, "lib-message", {**BENCHMARK_EDIT, "lib-b-reason": " "}))
    assert "须说明理由" in text(no_reason, "lib-message")
    assert current_benchmarks(db)[coke_id(db)].version == 1
    saved = body(call_callback(client, app, "lib-message", BENCHMARK_EDIT))
    assert "已保存焦炭的产品基准新版本" in text(saved, "lib-message") and saved["lib-refresh"]["data"] == 1
    db.expire_all()
    current = current_benchmarks(db)[coke_id(db)]
    assert (current.version, current.typical, current.reason, current.changed_by_id) == (
        2, Decimal(950), "2026年行业调研", setup["admin"].id)  # fmt: skip
    event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "product_benchmarks",
                                                AuditEvent.entity_id == str(current.id))).one()  # fmt: skip
    assert (event.action, event.actor_name, event.after["typical"]) == ("create", "guanli", "950")
    filled = body(call_callback(client, app, "lib-b-product", {"lib-benchmarks": [{"id": coke_id(db), "product": "焦炭",
                                                                                   "typical": 950.0}]}))  # fmt: skip
    assert (filled["lib-b-product"]["value"], filled["lib-b-typical"]["value"]) == ("焦炭", 950.0)


def test_the_admin_changes_a_factor_and_recognises_then_withdraws_a_certifier(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    saved = body(call_callback(client, app, "lib-message", EDITS[1][1]))
    assert "已保存因子shanxi_2022的新版本" in text(saved, "lib-message")
    db.expire_all()
    assert (current_factors(db)["shanxi_2022"].version, current_factors(db)["shanxi_2022"].value) == (
        2,
        Decimal("0.71"),
    )
    out_of_range = body(call_callback(client, app, "lib-message", {**EDITS[1][1], "lib-f-value": 709.6}))
    assert "因子数值应在0到10之间" in text(out_of_range, "lib-message")
    certifier = {"lib-c-name": "某认证中心", "lib-c-number": "CNCA-R-2025-001", "lib-c-reason": "认监委名录"}
    assert "已认可" in text(
        body(call_callback(client, app, "lib-message", {**certifier, "lib-c-add": 1})), "lib-message"
    )
    withdrawn = {**certifier, "lib-c-reason": "批准书到期", "lib-c-withdraw": 1}
    assert "已停用" in text(body(call_callback(client, app, "lib-message", withdrawn)), "lib-message")
    db.expire_all()
    assert recognised_certifiers(db) == set()
    row = next(r for r in body(call_callback(client, app, "lib-benchmarks", {}))["lib-certifiers"]["rowData"])
    assert (row["name"], row["state"]) == ("某认证中心", "已停用")
    history = text(body(call_callback(client, app, "lib-history", {"lib-tabs": "certifiers",
                                                                   "lib-certifiers": [row]})), "lib-history")  # fmt: skip
    assert "批准书到期" in history and "认监委名录" in history and "状态：停用" in history
    assert "变更次序" in history and "第2次（现行）" in history and "第1次" in history


def test_a_form_that_changes_nothing_saves_nothing_and_says_so(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    coke = current_benchmarks(db)[coke_id(db)]
    unchanged = {**BENCHMARK_EDIT, "lib-b-reason": "只写理由", "lib-b-typical": float(coke.typical),
                 **{box: float(getattr(coke, key)) for key, box in (("physical_floor", "lib-b-floor"),
                    ("plausible_low", "lib-b-low"), ("plausible_high", "lib-b-high"))},
                 "lib-b-unit": coke.declared_unit, "lib-b-confidence": coke.confidence, "lib-b-basis": coke.basis}  # fmt: skip
    factor = current_factors(db)["shanxi_2022"]
    same_factor = {**EDITS[1][1], "lib-f-value": float(factor.value), "lib-f-source": factor.source}
    before = library_state(db)
    for values in (unchanged, same_factor):
        answer = body(call_callback(client, app, "lib-message", values))
        assert "数值与现行版本相同，未保存新版本" in text(answer, "lib-message") and "已保存" not in text(
            answer, "lib-message"
        )
        assert "lib-refresh" not in answer, values  # nothing to reload
    db.expire_all()
    assert library_state(db) == before and current_benchmarks(db)[coke_id(db)].version == 1


@pytest.mark.parametrize(("figure", "value", "said"), [
    ("lib-b-typical", -5, "典型值：不能小于0"), ("lib-b-high", None, "合理上限：不能为空，请填写数值"),
    ("lib-b-floor", "", "物理下限：不能为空"), ("lib-b-low", "  ", "合理下限：不能为空"),
    ("lib-b-typical", "abc", "典型值：“abc”不是可用的数值"), ("lib-b-high", [1], "合理上限：“[1]”不是可用的数值"),
])  # fmt: skip
def test_an_empty_or_bad_figure_is_refused_by_name_and_nothing_changes(
    client, app, db, setup, figure, value, said
) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    before = library_state(db)
    answer = body(call_callback(client, app, "lib-message", {**BENCHMARK_EDIT, figure: value}))
    shown = text(answer, "lib-message")
    assert "未写入任何数据" in shown and said in shown and "已保存" not in shown
    db.expire_all()
    assert library_state(db) == before and current_benchmarks(db)[coke_id(db)].version == 1


def test_the_figure_boxes_leave_range_checks_to_the_server(client, app, setup) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    page = call_callback(client, app, "_pages_content", {"_pages_location": "/library"}).get_json()
    for box in ("lib-b-floor", "lib-b-low", "lib-b-typical", "lib-b-high", "lib-f-value"):
        # a browser drops a number outside min/max and sends None, which would read as “empty”
        assert "min" not in component(page, box) and "max" not in component(page, box), box


@pytest.mark.parametrize(("value", "said"), [(12, "因子数值应在0到10之间"), (0, "因子数值应在0到10之间"),
                                             (None, "请填写因子数值"), ("abc", "“abc”不是数字")])  # fmt: skip
def test_a_bad_factor_value_gets_the_right_message(client, app, db, setup, value, said) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    before = library_state(db)
    shown = text(
        body(call_callback(client, app, "lib-message", {**EDITS[1][1], "lib-f-value": value})), "lib-message"
    )
    assert said in shown and "已保存" not in shown
    db.expire_all()
    assert library_state(db) == before and current_factors(db)["shanxi_2022"].version == 1


def test_problems_name_the_figures_in_chinese(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    shown = text(body(call_callback(client, app, "lib-message", {**BENCHMARK_EDIT, "lib-b-floor": 2000})),
                 "lib-message")  # fmt: skip
    assert "物理下限：物理下限（2000）大于合理下限（500）" in shown
    assert not any(word in shown for word in ("benchmark", "physical_floor", "plausible_low"))


def test_the_admin_checks_a_file_then_imports_it(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    content = (
        (CATALOGUE / "benchmarks.csv")
        .read_text(encoding="utf-8")
        .replace("焦炭,coke,t,500,900,", "焦炭,coke,t,500,950,")
    )
    upload = {"lib-tabs": "benchmarks", "lib-import-reason": "2026年行业调研", "lib-upload.filename": "基准.csv",
              "lib-upload": "data:text/csv;base64," + base64.b64encode(content.encode()).decode()}  # fmt: skip
    checked = body(call_callback(client, app, "lib-import-result", {**upload, "lib-import-check": 1}))
    shown = text(checked, "lib-import-result")
    assert "检查通过（未写入）" in shown and "焦炭：新版本（典型值 900 → 950）" in shown
    assert checked["lib-import-apply"]["disabled"] is False
    assert current_benchmarks(db)[coke_id(db)].version == 1
    done = body(call_callback(client, app, "lib-import-result", {**upload, "lib-import-apply": 1}))
    assert "新版本1条" in text(done, "lib-import-result") and done["lib-import-apply"]["disabled"] is True
    db.expire_all()
    assert current_benchmarks(db)[coke_id(db)].typical == 950
    broken = {**upload, "lib-upload": "data:text/csv;base64," + base64.b64encode(
        content.replace("950", "九百五").encode()).decode()}  # fmt: skip
    refused = text(body(call_callback(client, app, "lib-import-result", {**broken, "lib-import-check": 1})),
                   "lib-import-result")  # fmt: skip
    assert "未写入任何数据" in refused and "第2行 E（typical）列" in refused


def test_the_menu_offers_the_page_to_every_role(client, app, setup) -> None:  # type: ignore[no-untyped-def]
    for username in ("czu", "sheng", "lingdao", "guanli"):
        fresh = app.server.test_client()
        login(fresh, username)
        assert '"/library"' in json.dumps(json.loads(fresh.get("/_dash-layout").get_data(as_text=True))), (
            username
        )
