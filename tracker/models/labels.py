"""Chinese labels for stored values, and dates written the way Chinese documents write them."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Collection, Mapping
from enum import StrEnum
from zoneinfo import ZoneInfo

from tracker.core.i18n import N_, current_locale, translated, use_locale
from tracker.core.messages import Day, Joined, Label, Listed, Message, Shown, from_data
from tracker.models import (
    ApplicationStatus,
    Boundary,
    FlagStatus,
    LabelType,
    OrganisationKind,
    PilotCategory,
    PilotStatus,
    Role,
    Severity,
    UpdateStatus,
)

FS = FlagStatus
FLAG_STATUS_ZH = {FS.OPEN: N_("待核查"), FS.UNDER_REVIEW: N_("核查中"), FS.CONFIRMED: N_("已确认"),
                  FS.DISMISSED: N_("已排除"), FS.RESOLVED: N_("已办结")}  # fmt: skip

# Several enums share values ("selected", "submitted"): a label belongs to the enum and its value.
_WORDS: list[tuple[StrEnum, str]] = [
    (PilotCategory.PRODUCT, N_("产品碳足迹管理试点")),
    (PilotCategory.SERVICE, N_("碳足迹专业化服务试点")),
    (PilotStatus.SELECTED, N_("已入选")),
    (PilotStatus.PUBLISHED, N_("已公布")),
    (PilotStatus.IN_IMPLEMENTATION, N_("实施中")),
    (PilotStatus.COMPLETED, N_("已完成")),
    (PilotStatus.EXTENDED, N_("延期实施")),
    (PilotStatus.WITHDRAWN, N_("已退出")),
    (ApplicationStatus.DRAFT, N_("草稿")),
    (ApplicationStatus.SUBMITTED, N_("已提交")),
    (ApplicationStatus.RETURNED, N_("已退回")),
    (ApplicationStatus.CITY_PASSED, N_("市级初审通过")),
    (ApplicationStatus.FORWARDED, N_("已报送省厅")),
    (ApplicationStatus.UNDER_REVIEW, N_("专家评审中")),
    (ApplicationStatus.SELECTED, N_("入选")),
    (ApplicationStatus.NOT_SELECTED, N_("未入选")),
    (UpdateStatus.DRAFT, N_("草稿")),
    (UpdateStatus.SUBMITTED, N_("待审核")),
    (UpdateStatus.RETURNED, N_("已退回")),
    (UpdateStatus.ACCEPTED, N_("已采纳")),
    (Role.PROVINCE_ADMIN, N_("省级管理员")),
    (Role.PROVINCE_STAFF, N_("省级业务人员")),
    (Role.CITY_STAFF, N_("市级业务人员")),
    (Role.LEADER, N_("领导（只读）")),
    (OrganisationKind.ENTERPRISE, N_("企业")),
    (OrganisationKind.INSTITUTION, N_("机构")),
    (OrganisationKind.ASSOCIATION, N_("协会")),
    (Severity.HIGH, N_("高")),
    (Severity.MEDIUM, N_("中")),
    (Severity.LOW, N_("低")),
    (Boundary.CRADLE_TO_GATE, N_("从摇篮到大门")),
    (Boundary.CRADLE_TO_GRAVE, N_("从摇篮到坟墓")),
    (Boundary.GATE_TO_GATE, N_("从大门到大门")),
    (LabelType.SELF_DECLARED, N_("自我声明")),
    (LabelType.THIRD_PARTY, N_("第三方认证")),
    (LabelType.CARBON_NEUTRAL, N_("碳中和")),
    *FLAG_STATUS_ZH.items(),
]

# Short names of the flag rules (claim rules in tracker.claims.rules, progress checks in
# tracker.progress.consistency), for lists and filters; each rule's message says what exactly was found.
RULE_NAMES: dict[str, str] = {
    "STAGE_SUM_MISMATCH": N_("分阶段合计与总值不符"),
    "BELOW_PHYSICAL_FLOOR": N_("低于物理下限"),
    "OUTSIDE_PLAUSIBLE_RANGE": N_("超出合理区间"),
    "UNIT_SLIP": N_("疑似单位错误"),
    "UNIT_NOT_COMPARABLE": N_("单位无法比对"),
    "OFFSETS_NETTED": N_("抵扣了碳抵消量"),
    "CERTIFIED_WITHOUT_CERTIFICATE": N_("认证标识无证书编号"),
    "VERIFIER_NOT_NAMED": N_("PACT 认证未写明核查机构"),
    "CERTIFICATE_EXPIRED": N_("发布时证书已过期"),
    "CERTIFICATE_AFTER_PUBLICATION": N_("证书晚于标识发布"),
    "CERTIFICATE_SHARED": N_("证书编号多家共用"),
    "PERIOD_AFTER_PUBLICATION": N_("数据期晚于发布日"),
    "STALE_PERIOD": N_("数据期过旧"),
    "LOW_GRID_FACTOR": N_("电网排放因子偏低"),
    "REDUCTION_MISMATCH": N_("减排声明与基准值不符"),
    "GRAVE_WITHOUT_USE_STAGES": N_("“摇篮到坟墓”缺使用和废弃阶段"),
    "INVALID_CREDIT_CODE": N_("统一社会信用代码无效"),
    "UNRECOGNISED_CERTIFIER": N_("认证机构不在认可名录"),
    "COPIED_FIGURES": N_("数值与其他企业完全相同"),
    "PROGRESS_BACKWARDS": N_("进度倒退"),
    "JUMP_WITHOUT_MILESTONE": N_("进度跃升无阶段性目标"),
    "DONE_WITHOUT_EVIDENCE": N_("报完成缺证明材料"),
    "TEXT_COPIED_FROM_PREVIOUS": N_("工作进展与上期雷同"),
    "TEXT_COPIED_FROM_OTHER_PILOT": N_("工作进展与其他试点雷同"),
    "INDICATOR_DECREASED": N_("指标值下降"),
}
_LABELS = {(type(key), key.value): words for key, words in _WORDS}


def label(value: StrEnum) -> str:
    """The Chinese (or current-locale) label of a stored enum value."""
    return translated(_LABELS, (type(value), value.value), value.value)


def format_date_zh(value: dt.date | None) -> str:
    """2025-06-28 → 2025年6月28日 (empty for None)."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def format_datetime_zh(value: dt.datetime | None, tz: ZoneInfo) -> str:
    """A stored UTC datetime shown in the local zone: 2025年6月28日 14:05."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    return f"{format_date_zh(local.date())} {local:%H:%M}"


UNITS_ZH = {"t": N_("吨"), "kg": N_("千克"), "g": N_("克"), "kWh": N_("千瓦时"), "MWh": N_("兆瓦时"),
            "MJ": N_("兆焦"), "GJ": N_("吉焦"), "m3": N_("立方米"), "L": N_("升"),
            "bottle_500ml": N_("瓶(500mL)"), "kWp": "kWp", "piece": N_("件"), "m2": N_("平方米"),
            "tkm": N_("吨公里")}  # fmt: skip
_EVIDENCE_ENUMS = {"label_type": LabelType, "boundary": Boundary}


def unit_label(code: str | None) -> str:
    """A stored declared unit in Chinese: bottle_500ml → 瓶(500mL), m3 → 立方米."""
    return translated(UNITS_ZH, code or "")


class _Stored:
    """A stored evidence value (an enum's value, a unit code) shown by its label in the reader's language."""

    __slots__ = ("show", "value")

    def __init__(self, show: Callable[[str], str], value: str) -> None:
        self.show, self.value = show, value

    def text(self, locale: str | None = None) -> str:
        with use_locale(locale or current_locale.get()):
            return self.show(self.value)


def _enum_label(kind: type[StrEnum]) -> Callable[[str], str]:
    return lambda value: label(kind(value))


class Others:
    """The other claims a cross-claim finding names (its evidence's ``others``: claim key, company,
    city), as the reader may see them: companies of the reader's cities (``visible``, city ids) by
    name, those of other cities only as a count (其他市企业N家), and the companies not listed (beyond
    the ten kept) as a count. Decided when shown, from the reader's scope, never when scanned."""

    __slots__ = ("more", "others", "visible")

    def __init__(
        self, others: list[Mapping[str, object]], more: int, visible: Collection[int] | None
    ) -> None:
        self.others, self.more, self.visible = others, more, frozenset(visible or ())

    def named(self) -> list[Mapping[str, object]]:
        """The other claims the reader may see named."""
        return [o for o in self.others if o.get("city_id") in self.visible]

    def text(self, locale: str | None = None) -> str:
        parts: list[object] = [
            Message("{company}（{city}，声明编号{claim}）", company=o.get("company") or "", claim=o.get("claim") or "",
                    city=city_label(o.get("city")))
            for o in self.named()
        ]  # fmt: skip
        hidden = len(self.others) - len(parts)
        if hidden:
            parts.append(Message("其他市企业{n}家", n=hidden))
        if self.more:
            parts.append(Message("另有{n}家企业未列出", n=self.more))
        if not parts:
            parts.append(Message("其他企业"))
        return Listed(parts).text(locale)


def city_label(names: object) -> Label:
    """A city as an evidence entry keeps it ([short Chinese name, English name]), in the reader's language."""
    pair = names if isinstance(names, list) and len(names) == 2 else ["", ""]
    return Label(str(pair[0]), str(pair[1] or pair[0]))


def evidence_shown(
    evidence: Mapping[str, object], visible: Collection[int] | None = None
) -> dict[str, object]:
    """A finding's evidence as a message's parameters: label types and boundaries by their names,
    units by their words and ISO dates as dates, each in the locale the message is shown in; stored
    problems (message data) in that locale; the other claims a cross-claim finding names as the
    reader may see them (``Others``; ``visible``: the reader's city ids, none: no names at all)."""
    shown: dict[str, object] = {}
    for key, value in evidence.items():
        if key == "others" and isinstance(value, list):
            more = evidence.get("others_more")
            shown[key] = Others([o for o in value if isinstance(o, Mapping)], more if isinstance(more, int) else 0,
                                visible)  # fmt: skip
            continue
        if key == "peers" and isinstance(value, list) and "others" not in evidence:  # not yet named (rules)
            companies = evidence.get("companies")
            shown["others"] = Others(
                [], max(companies - 1 if isinstance(companies, int) else 0, len(value)), visible
            )
            continue
        if key == "problems" and isinstance(value, list):
            shown[key] = Joined(_problem(item) for item in value)
            continue
        if (
            key in _EVIDENCE_ENUMS
            and isinstance(value, str)
            and value in {m.value for m in _EVIDENCE_ENUMS[key]}
        ):
            value = _Stored(_enum_label(_EVIDENCE_ENUMS[key]), value)
        elif key.endswith("unit") and isinstance(value, str):
            value = _Stored(unit_label, value)
        elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            with contextlib.suppress(ValueError):
                value = Day(dt.date.fromisoformat(value))
        shown[key] = value
    return shown


def _problem(data: object) -> Shown:
    value = from_data(data)  # type: ignore[arg-type]
    return value if isinstance(value, Message) else Label(str(value), str(value))


def finding_message(
    message_id: str, evidence: Mapping[str, object], visible: Collection[int] | None = None
) -> Message:
    """A rule's finding: its template (the message id) over its evidence, rendered when shown, for a
    reader who may see the cities ``visible`` (see ``evidence_shown``)."""
    return Message(message_id, **evidence_shown(evidence, visible))


def rule_name(rule_id: str) -> str:
    """A flag rule's short Chinese name (its id when the rule is unknown, e.g. since retired)."""
    return translated(RULE_NAMES, rule_id)


# The reference library's words as stored (tracker/catalogue: a benchmark's confidence, a factor's kind
# and scope), in the reader's language where they are shown beside a flag; a word not listed (typed in
# by a librarian) is shown as stored.
CONFIDENCE_WORDS = {"confirmed": N_("已核实"), "confirmed average": N_("已核实（平均值）"),
                    "confirmed range": N_("已核实（区间）"), "derived": N_("推算"), "mixed": N_("部分核实"),
                    "unconfirmed": N_("未核实")}  # fmt: skip
FACTOR_KINDS = {
    "grid average CO2 emission factor": N_("电网平均二氧化碳排放因子"),
    "grid factor excluding market-traded non-fossil power": N_("不含市场化交易非化石电力的电网排放因子"),
    "fossil power emission factor": N_("化石能源电力二氧化碳排放因子"),
    "regional grid average CO2 emission factor": N_("区域电网平均二氧化碳排放因子"),
    "provincial grid average CO2 emission factor": N_("省级电网平均二氧化碳排放因子"),
    "electricity carbon-footprint factor (life cycle; for product footprints)": N_("电力碳足迹因子（全生命周期，用于产品碳足迹）"),
    "wind power carbon-footprint factor": N_("风电碳足迹因子"),
    "photovoltaic power carbon-footprint factor": N_("光伏发电碳足迹因子"),
    "biomass power carbon-footprint factor": N_("生物质发电碳足迹因子"),
}  # fmt: skip
FACTOR_SCOPES = {"全国": N_("全国"), "华北": N_("华北"), "山西": N_("山西")}


def library_word(value: str | None) -> str:
    """A library confidence, factor kind or scope as stored, in the reader's language."""
    text = value or ""
    for words in (CONFIDENCE_WORDS, FACTOR_KINDS, FACTOR_SCOPES):
        if text in words:
            return translated(words, text)
    return text
