"""The claims exchange format (docs/CLAIMS_FORMAT, DOMAIN.md §9): its columns, the words accepted for
units, boundaries and label types, and the limits of its values. The readers (``registry`` for CSV and
XLSX, ``pact`` for PACT JSON) and the rules share these definitions.
"""

from __future__ import annotations

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
