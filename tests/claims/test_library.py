"""The reference library: loaded once from the shipped public figures, edited only by the provincial
admin, each change a new version with its reason (the old kept), bad figures refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tracker.access.permissions import PermissionDenied
from tracker.catalogue import load_catalogue
from tracker.claims.library import (
    NothingChanged,
    current_benchmarks,
    current_factors,
    set_benchmark,
    set_factor,
)
from tracker.core.errors import TrackerError
from tracker.core.validation import ValidationFailed
from tracker.models import EmissionFactor, Product, ProductBenchmark, Role


def test_the_shipped_figures_are_loaded_and_reloading_keeps_edits(db, factory) -> None:  # type: ignore[no-untyped-def]
    coke = db.scalars(select(Product).where(Product.name_zh == "焦炭")).one()
    benchmark = current_benchmarks(db)[coke.id]
    assert (benchmark.physical_floor, benchmark.typical, benchmark.version) == (400, 900, 1)
    assert current_factors(db)["north_china_2023"].value == Decimal("0.6361")
    admin = factory.user(Role.PROVINCE_ADMIN, username="adml")
    set_benchmark(db, admin, "焦炭", typical=Decimal(950), reason="2026年行业调研")
    assert load_catalogue(db)["product_benchmarks"] == 0
    assert current_benchmarks(db)[coke.id].typical == 950


def test_a_change_is_a_new_version_with_its_reason(db, factory) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user(Role.PROVINCE_ADMIN, username="adml2")
    new = set_benchmark(db, admin, "玻璃", physical_floor=Decimal(450), reason="按 T/CECRPA 010-2024 修订")
    versions = db.scalars(select(ProductBenchmark).where(ProductBenchmark.product_id == new.product_id)
                          .order_by(ProductBenchmark.version)).all()  # fmt: skip
    assert [(v.version, v.is_current, v.physical_floor) for v in versions] == [
        (1, False, Decimal(400)), (2, True, Decimal(450))]  # fmt: skip
    assert new.reason == "按 T/CECRPA 010-2024 修订" and new.typical == versions[0].typical
    factor = set_factor(db, admin, "shanxi_2022", value=Decimal("0.7100"), reason="更正", source="复核公告")
    assert (factor.version, current_factors(db)["shanxi_2022"].value) == (2, Decimal("0.71"))


def test_only_the_provincial_admin_and_only_sound_figures(db, factory) -> None:  # type: ignore[no-untyped-def]
    staff = factory.user(Role.PROVINCE_STAFF, username="stfl")
    admin = factory.user(Role.PROVINCE_ADMIN, username="adml3")
    with pytest.raises(PermissionDenied, match="省级管理员"):
        set_benchmark(db, staff, "焦炭", typical=Decimal(1), reason="x")
    with pytest.raises(TrackerError, match="须说明理由"):
        set_benchmark(db, admin, "焦炭", typical=Decimal(950), reason=" ")
    with pytest.raises(ValidationFailed, match="物理下限"):
        set_benchmark(db, admin, "焦炭", physical_floor=Decimal(2000), reason="笔误")
    with pytest.raises(TrackerError, match="0到10之间"):
        set_factor(db, admin, "shanxi_2022", value=Decimal("709.6"), reason="单位错了")
    with pytest.raises(TrackerError, match="未知产品"):
        set_benchmark(db, admin, "月饼", typical=Decimal(1), reason="x")
    assert all(b.version == 1 for b in current_benchmarks(db).values())


def test_a_change_equal_to_the_current_version_saves_nothing(db, factory) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user(Role.PROVINCE_ADMIN, username="adml4")
    coke = current_benchmarks(db)[db.scalars(select(Product.id).where(Product.name_zh == "焦炭")).one()]
    same = {k: getattr(coke, k) for k in ("physical_floor", "plausible_low", "typical", "plausible_high")}
    for changes in ({}, same, {"typical": "900.0000", "basis": coke.basis}):
        with pytest.raises(NothingChanged, match="数值与现行版本相同，未保存新版本"):
            set_benchmark(db, admin, "焦炭", reason="只写了理由", **changes)
    factor = current_factors(db)["shanxi_2022"]
    with pytest.raises(NothingChanged):
        set_factor(db, admin, "shanxi_2022", value=factor.value, reason="只写了理由")
    with pytest.raises(NothingChanged):
        set_factor(db, admin, "shanxi_2022", value="0" + str(factor.value), reason="x", source=factor.source)
    assert db.scalar(select(func.count()).select_from(ProductBenchmark).where(
        ProductBenchmark.product_id == coke.product_id)) == 1  # fmt: skip
    assert db.scalar(select(func.count()).select_from(EmissionFactor)) == len(current_factors(db))
    assert set_factor(db, admin, "shanxi_2022", value=factor.value, reason="x", source="新来源").version == 2


def test_bad_figures_are_refused_each_by_its_chinese_name(db, factory) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user(Role.PROVINCE_ADMIN, username="adml5")
    with pytest.raises(ValidationFailed) as negative:
        set_benchmark(db, admin, "焦炭", typical=Decimal(-5), plausible_high="abc", reason="x")
    assert negative.value.message_zh == "典型值：不能小于0；合理上限：“abc”不是可用的数值"
    with pytest.raises(ValidationFailed) as disordered:
        set_benchmark(db, admin, "焦炭", physical_floor=Decimal(2000), reason="笔误")
    message = disordered.value.message_zh
    assert message.startswith("物理下限：物理下限（2000）大于合理下限（500）；应满足 物理下限 ≤ 合理下限")
    assert "benchmark" not in message and "physical_floor" not in message
    assert disordered.value.message_en.startswith(
        "physical floor: physical floor (2000) > plausible low (500)"
    )
    with pytest.raises(TrackerError, match="“abc”不是数字"):
        set_factor(db, admin, "shanxi_2022", value="abc", reason="x")
    with pytest.raises(TrackerError, match="因子数值应在0到10之间"):
        set_factor(db, admin, "shanxi_2022", value=12, reason="x")
    assert all(b.version == 1 for b in current_benchmarks(db).values())
    assert all(f.version == 1 for f in current_factors(db).values())
