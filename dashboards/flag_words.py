"""The words of a flag's evidence and of a claim's fields, for the flag review page (风险线索核查)."""

from __future__ import annotations

from tracker.core.i18n import N_

# The words a rule's evidence is recorded in (claim rules and progress checks).
EVIDENCE = {"total": N_("声明总值"), "stages": N_("分阶段合计"), "footprint": N_("碳足迹"), "floor": N_("物理下限"),
            "low": N_("合理下限"), "high": N_("合理上限"), "offsets": N_("碳抵消量"), "label_type": N_("标识类型"),
            "expires": N_("证书到期日"), "published": N_("标识发布日"), "issued": N_("证书签发日"),
            "certificate_no": N_("证书编号"), "companies": N_("涉及企业数"), "period_end": N_("数据期截止"),
            "years": N_("距发布年数"), "used": N_("所用电网因子"), "official": N_("官方电网因子"),
            "claimed": N_("声称减排%"), "computed": N_("计算减排%"), "boundary": N_("系统边界"),
            "credit_code": N_("统一社会信用代码"), "errors": N_("问题"), "problems": N_("问题"),
            "declared_unit": N_("声明单位"), "benchmark_unit": N_("基准单位"), "certifier": N_("认证机构"),
            "claim_id": N_("声明编号"), "benchmark_version": N_("基准版本"), "factor_version": N_("因子版本"),
            "task": N_("任务"), "previous_period": N_("上期"), "previous": N_("上期值"), "current": N_("本期值"),
            "jump": N_("增幅"), "milestones": N_("阶段性目标"), "similarity": N_("相似度"), "other_pilot": N_("其他试点"),
            "milestone": N_("阶段性目标"), "indicator": N_("指标")}  # fmt: skip
CLAIM_FIELDS = {"company_name": N_("企业名称"), "credit_code": N_("统一社会信用代码"), "city_id": N_("城市"),
                "product": N_("产品"), "model": N_("型号"), "declared_unit": N_("声明单位"), "footprint": N_("碳足迹"),
                "boundary": N_("系统边界"), "standard": N_("核算标准"), "period_start": N_("数据期起"),
                "period_end": N_("数据期止"), "stage_raw_materials": N_("原材料阶段"), "stage_manufacturing": N_("生产阶段"),
                "stage_transport": N_("运输阶段"), "stage_use": N_("使用阶段"), "stage_end_of_life": N_("废弃阶段"),
                "electricity_kwh": N_("外购电量"), "electricity_factor": N_("电网排放因子"), "green_power_kwh": N_("绿电量"),
                "offsets": N_("碳抵消量"), "label_type": N_("标识类型"), "certifier": N_("认证机构"),
                "certificate_no": N_("证书编号"), "certificate_issued": N_("证书签发日"),
                "certificate_expires": N_("证书到期日"), "published_on": N_("标识发布日"), "baseline": N_("基准值"),
                "claimed_reduction_pct": N_("声称减排%")}  # fmt: skip
