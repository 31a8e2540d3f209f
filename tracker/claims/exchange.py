"""The claims exchange format (docs/CLAIMS_FORMAT, DOMAIN.md §9): its columns, the words accepted for
units, boundaries and label types, and the limits of its values. The readers (``registry`` for CSV and
XLSX, ``pact`` for PACT JSON) and the rules share these definitions.
"""

from __future__ import annotations

import re
import unicodedata

from tracker.models import Boundary, LabelType

REQUIRED = ("claim_id", "company_name", "credit_code", "city", "product", "declared_unit", "footprint_kgco2e",
            "boundary", "standard", "period_start", "period_end", "label_type", "published_on")  # fmt: skip
OPTIONAL = ("model", "stage_raw_materials", "stage_manufacturing", "stage_transport", "stage_use",
            "stage_end_of_life", "electricity_kwh", "electricity_factor", "green_power_kwh", "offsets_kgco2e",
            "certifier", "certificate_no", "certificate_issued", "certificate_expires", "baseline_kgco2e",
            "claimed_reduction_pct")  # fmt: skip
NUMBERS = {"footprint_kgco2e": "footprint", "stage_raw_materials": "stage_raw_materials",
           "stage_manufacturing": "stage_manufacturing", "stage_transport": "stage_transport",
           "stage_use": "stage_use", "stage_end_of_life": "stage_end_of_life", "electricity_kwh": "electricity_kwh",
           "electricity_factor": "electricity_factor", "green_power_kwh": "green_power_kwh",
           "offsets_kgco2e": "offsets", "baseline_kgco2e": "baseline", "claimed_reduction_pct": "claimed_reduction_pct"}  # fmt: skip
DATES = ("period_start", "period_end", "certificate_issued", "certificate_expires", "published_on")
TEXTS = {"company_name": 200, "credit_code": 32, "product": 200, "model": 200, "standard": 200, "certifier": 200,
         "certificate_no": 64}  # fmt: skip
UNITS = {"t": "t", "吨": "t", "kg": "kg", "千克": "kg", "公斤": "kg", "g": "g", "克": "g",
         "kwh": "kWh", "千瓦时": "kWh", "度": "kWh", "mwh": "MWh", "兆瓦时": "MWh", "mj": "MJ", "兆焦": "MJ",
         "gj": "GJ", "吉焦": "GJ",
         "m3": "m3", "m³": "m3", "立方米": "m3", "l": "L", "升": "L", "瓶(500ml)": "bottle_500ml",
         "瓶（500ml）": "bottle_500ml", "kwp": "kWp", "件": "piece", "piece": "piece",
         "m2": "m2", "m²": "m2", "平方米": "m2", "tkm": "tkm", "t·km": "tkm", "吨公里": "tkm"}  # fmt: skip
BOUNDARIES = {"从摇篮到大门": Boundary.CRADLE_TO_GATE, "cradle-to-gate": Boundary.CRADLE_TO_GATE,
              "从摇篮到坟墓": Boundary.CRADLE_TO_GRAVE, "cradle-to-grave": Boundary.CRADLE_TO_GRAVE,
              "从大门到大门": Boundary.GATE_TO_GATE, "gate-to-gate": Boundary.GATE_TO_GATE}  # fmt: skip
LABELS = {"自我声明": LabelType.SELF_DECLARED, "self-declared": LabelType.SELF_DECLARED,
          "第三方认证": LabelType.THIRD_PARTY, "third-party": LabelType.THIRD_PARTY,
          "碳中和": LabelType.CARBON_NEUTRAL, "carbon-neutral": LabelType.CARBON_NEUTRAL}  # fmt: skip
LIMIT = 10**12  # no per-unit footprint is this large; larger is a broken cell, not a claim
# Columns stored with fewer integer digits (Numeric(10, 6), Numeric(7, 3)): beyond these a value is
# no factor or percentage, and the database would refuse it.
LIMITS = {"electricity_factor": 10**4, "claimed_reduction_pct": 10**4}
KEY_LENGTH = 64  # claim_id as stored (claims.claim_key)


SIGNED = {"stage_end_of_life", "claimed_reduction_pct"}  # a recycling credit, an increase: may be negative


# What a stored unit measures and its size in that dimension's base (kg, L, MJ): a claim is compared
# with a benchmark of another unit of the same dimension after conversion (1 kWh = 3.6 MJ).
UNIT_SIZES: dict[str, tuple[str, float]] = {
    "t": ("mass", 1000.0), "kg": ("mass", 1.0), "g": ("mass", 0.001),
    "m3": ("volume", 1000.0), "L": ("volume", 1.0), "bottle_500ml": ("volume", 0.5),
    "MWh": ("energy", 3600.0), "kWh": ("energy", 3.6), "GJ": ("energy", 1000.0), "MJ": ("energy", 1.0),
}  # fmt: skip


def unit_ratio(declared: str | None, benchmark: str | None) -> float | None:
    """The factor that turns a footprint per ``declared`` unit into one per ``benchmark`` unit (per kg
    → per t: 1000); 1 for the same unit; None when the two cannot be converted (another dimension,
    or a unit with no size such as a piece)."""
    if declared is None or benchmark is None:
        return None
    if declared == benchmark:
        return 1.0
    a, b = UNIT_SIZES.get(declared), UNIT_SIZES.get(benchmark)
    if a is None or b is None or a[0] != b[0]:
        return None
    return b[1] / a[1]


def normalise_unit(text: str) -> str | None:
    """A declared unit as stored (t, kg, g, kWh, MWh, MJ, GJ, m3, L, bottle_500ml, kWp, piece, m2, tkm), from
    any listed synonym. m2 and tkm (PACT's square meter and ton kilometer) have no size: a claim in
    them compares only with a benchmark in the same unit."""
    return UNITS.get(str(text).lower().replace(" ", ""))


# --- headers ----------------------------------------------------------------------------------------------

# Every column's other header names, Chinese as the 试点 templates and Excel users write them. A header
# is matched after ``header_key`` (case, spaces, full-width forms, a leading or trailing * and a
# bracketed unit or hint at the end do not count), so 声明碳足迹（kgCO2e） is 声明碳足迹.
HEADERS: dict[str, tuple[str, ...]] = {
    "claim_id": ("声明编号", "声明ID"),
    "company_name": ("企业名称", "单位名称", "公司名称", "企业（单位）名称"),
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码"),
    "city": ("所属城市", "城市", "所在城市", "所属地市", "设区市"),
    "product": ("产品名称", "产品"),
    "model": ("规格型号", "型号", "产品型号"),
    "declared_unit": ("声明单位", "功能单位"),
    "footprint_kgco2e": ("声明碳足迹", "产品碳足迹", "碳足迹"),
    "boundary": ("核算边界", "系统边界"),
    "standard": ("核算标准", "依据标准", "核算依据"),
    "period_start": ("核算期起", "核算期开始", "核算周期开始", "核算期开始日期"),
    "period_end": ("核算期止", "核算期结束", "核算周期结束", "核算期结束日期"),
    "stage_raw_materials": ("原材料获取阶段排放", "原材料获取阶段", "原材料阶段排放", "原材料阶段"),
    "stage_manufacturing": ("生产制造阶段排放", "生产制造阶段", "生产阶段排放", "生产阶段"),
    "stage_transport": ("运输阶段排放", "运输阶段", "分销运输阶段排放", "分销运输阶段"),
    "stage_use": ("使用阶段排放", "使用阶段"),
    "stage_end_of_life": ("废弃处置阶段排放", "废弃处置阶段", "生命末期阶段排放", "生命末期阶段"),
    "electricity_kwh": ("外购电力", "外购电量", "用电量"),
    "electricity_factor": ("电力排放因子", "电网排放因子"),
    "green_power_kwh": ("绿电电量", "绿电", "绿色电力"),
    "offsets_kgco2e": ("抵消量", "碳抵消量"),
    "label_type": ("标签类型", "标识类型"),
    "certifier": ("认证机构", "核查机构"),
    "certificate_no": ("证书编号", "证书号"),
    "certificate_issued": ("证书颁发日期", "发证日期", "证书签发日期"),
    "certificate_expires": ("证书有效期至", "有效期至", "证书到期日"),
    "published_on": ("发布日期", "声明发布日期", "首次发布日期"),
    "baseline_kgco2e": ("基准碳足迹", "基线碳足迹"),
    "claimed_reduction_pct": ("声称减排比例", "减排比例", "降碳比例"),
}
# The unit each number column is in: a unit written after a value, or in the column's header, must be
# this one (1234.5 kgCO2e, 声明碳足迹（kgCO2e/t）); another (tCO2e, MWh) is refused, never converted.
UNIT_OF = dict.fromkeys(("footprint_kgco2e", "stage_raw_materials", "stage_manufacturing", "stage_transport",
                         "stage_use", "stage_end_of_life", "offsets_kgco2e", "baseline_kgco2e"), "kgCO2e") | {
    "electricity_kwh": "kWh", "green_power_kwh": "kWh", "electricity_factor": "kgCO2e/kWh",
    "claimed_reduction_pct": "%"}  # fmt: skip
# How a unit is spelt, folded onto one key (after NFKC and lower case, spaces removed): 千克CO2e,
# kg CO₂e and kgCO2-eq are all kgco2e. Patterns in order; CO2 alone is not CO2e.
UNIT_SPELLINGS = ((r"千克|公斤", "kg"), (r"吨", "t"), (r"二氧化碳当量|co2当量|co2-?eq\.?|co2e", "co2e"),
                  (r"千瓦时|kw[·・.•]?h|度", "kwh"), (r"兆瓦时|mw[·・.•]?h", "mwh"))  # fmt: skip
_UNIT_LIKE = re.compile(r"co2|wh|%|[吨焦]")  # a header's bracket naming a unit, not a hint such as （选填）
_BRACKETS = str.maketrans("【】〔〕", "[][]")
_TAIL = re.compile(r"(?<=.)[(\[]([^()\[\]]*)[)\]]$")


def unit_key(text: str) -> str:
    """A unit as compared: kgCO2e, 千克CO2e and kg CO₂e are all ``kgco2e``."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower())
    for pattern, replacement in UNIT_SPELLINGS:
        key = re.sub(pattern, replacement, key)
    return key


def header_key(text: str) -> tuple[str, str]:
    """A header cell as matched, and the bracketed unit or hint at its end: ``声明碳足迹（kgCO2e）``
    → (``声明碳足迹``, ``kgco2e``). Full-width forms fold (NFKC), case and spaces are ignored, and a
    * marking a required column is dropped."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower().translate(_BRACKETS)).strip("*")
    tail = _TAIL.search(key)
    if tail is None:
        return key, ""
    return key[: tail.start()].strip("*"), tail.group(1)


def _column_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for column in (*REQUIRED, *OPTIONAL):
        for name in (column, *HEADERS[column]):
            key = header_key(name)[0]
            if names.setdefault(key, column) != column:
                raise ValueError(f"header {name!r} names both {names[key]} and {column}")
    return names


COLUMN_OF = _column_names()  # header key → column


def header_unit_agrees(column: str, tail: str) -> bool:
    """Whether a header's bracketed tail agrees with its column: any hint; for a number column its
    own unit (an amount per whatever unit: kgCO2e/t), or no unit at all."""
    unit = UNIT_OF.get(column)
    if unit is None or not _UNIT_LIKE.search(unit_key(tail)):
        return True
    key, own = unit_key(tail), unit_key(unit)
    return key == own or ("/" not in own and key.startswith(own + "/"))
