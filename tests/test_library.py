"""The reference library: loaded once from the shipped public figures, edited only by the provincial
admin, each change a new version with its reason (the old kept), bad figures refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tracker.applications import ValidationFailed
from tracker.catalogue import load_catalogue
from tracker.errors import TrackerError
from tracker.library import current_benchmarks, current_factors, set_benchmark, set_factor
from tracker.models import Product, ProductBenchmark, Role
from tracker.permissions import PermissionDenied


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
    with pytest.raises(TrackerError, match="0–10"):
        set_factor(db, admin, "shanxi_2022", value=Decimal("709.6"), reason="单位错了")
    with pytest.raises(TrackerError, match="未知产品"):
        set_benchmark(db, admin, "月饼", typical=Decimal(1), reason="x")
    assert all(b.version == 1 for b in current_benchmarks(db).values())
