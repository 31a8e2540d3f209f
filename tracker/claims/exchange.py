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
UNITS = {"t": "t", "吨": "t", "kg": "kg", "千克": "kg", "公斤": "kg", "kwh": "kWh", "千瓦时": "kWh", "度": "kWh",
         "m3": "m3", "m³": "m3", "立方米": "m3", "l": "L", "升": "L", "瓶(500ml)": "bottle_500ml",
         "瓶（500ml）": "bottle_500ml", "kwp": "kWp", "件": "piece"}  # fmt: skip
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


def normalise_unit(text: str) -> str | None:
    """A declared unit as stored (t, kg, kWh, m3, L, bottle_500ml, kWp, piece), from any listed synonym."""
    return UNITS.get(str(text).lower().replace(" ", ""))
