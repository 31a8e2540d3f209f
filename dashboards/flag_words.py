"""The words of a flag's evidence and of a claim's fields, for the flag review page (风险线索核查)."""

from __future__ import annotations

from tracker.i18n import _

# The words a rule's evidence is recorded in (claim rules and progress checks).
EVIDENCE = {"total": _("声明总值"), "stages": _("分阶段合计"), "footprint": _("碳足迹"), "floor": _("物理下限"),
            "low": _("合理下限"), "high": _("合理上限"), "offsets": _("碳抵消量"), "label_type": _("标识类型"),
            "expires": _("证书到期日"), "published": _("标识发布日"), "issued": _("证书签发日"),
            "certificate_no": _("证书编号"), "companies": _("涉及企业数"), "period_end": _("数据期截止"),
            "years": _("距发布年数"), "used": _("所用电网因子"), "official": _("官方电网因子"),
            "claimed": _("声称减排%"), "computed": _("计算减排%"), "boundary": _("系统边界"),
            "credit_code": _("统一社会信用代码"), "errors": _("问题"), "certifier": _("认证机构"),
            "claim_id": _("声明编号"), "benchmark_version": _("基准版本"), "factor_version": _("因子版本"),
            "task": _("任务"), "previous_period": _("上期"), "previous": _("上期值"), "current": _("本期值"),
            "jump": _("增幅"), "milestones": _("阶段性目标"), "similarity": _("相似度"), "other_pilot": _("其他试点"),
            "milestone": _("阶段性目标"), "indicator": _("指标")}  # fmt: skip
CLAIM_FIELDS = {"company_name": _("企业名称"), "credit_code": _("统一社会信用代码"), "city_id": _("城市"),
                "product": _("产品"), "model": _("型号"), "declared_unit": _("声明单位"), "footprint": _("碳足迹"),
                "boundary": _("系统边界"), "standard": _("核算标准"), "period_start": _("数据期起"),
                "period_end": _("数据期止"), "stage_raw_materials": _("原材料阶段"), "stage_manufacturing": _("生产阶段"),
                "stage_transport": _("运输阶段"), "stage_use": _("使用阶段"), "stage_end_of_life": _("废弃阶段"),
                "electricity_kwh": _("外购电量"), "electricity_factor": _("电网排放因子"), "green_power_kwh": _("绿电量"),
                "offsets": _("碳抵消量"), "label_type": _("标识类型"), "certifier": _("认证机构"),
                "certificate_no": _("证书编号"), "certificate_issued": _("证书签发日"),
                "certificate_expires": _("证书到期日"), "published_on": _("标识发布日"), "baseline": _("基准值"),
                "claimed_reduction_pct": _("声称减排%")}  # fmt: skip
