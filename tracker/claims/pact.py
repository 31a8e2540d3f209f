"""PACT Pathfinder ProductFootprints (the WBCSD PACT Data Exchange Protocol, v2 and v3 field names)
read as rows of the exchange format, so they are checked and imported like a spreadsheet."""

from __future__ import annotations

import json
from typing import Any

from tracker.claims.exchange import REQUIRED
from tracker.core.messages import Message
from tracker.core.validation import (
    Problem,
    ValidationFailed,
)

PACT_UNITS = {"kilogram": "kg", "liter": "L", "kilowatt hour": "kWh", "cubic meter": "m3", "ton": "t",
              "metric ton": "t", "tonne": "t", "kg": "kg", "l": "L", "kwh": "kWh", "m3": "m3", "t": "t"}  # fmt: skip


def _first(mapping: dict[str, Any], *names: str) -> Any:
    return next((mapping[n] for n in names if mapping.get(n) not in (None, "")), None)


def _usci(company_ids: Any) -> str:
    """The unified social credit code among the company's URNs (its last segment, 18 characters)."""
    for urn in company_ids if isinstance(company_ids, list) else []:
        last = str(urn).rsplit(":", 1)[-1].strip()
        if len(last) == 18:
            return last
    return ""


def pact_rows(content: bytes, city: str | None) -> list[list[str]]:
    """PACT ProductFootprints as exchange rows. v2 names (pCfExcludingBiogenic, declaredUnit) and v3
    names (pcfExcludingBiogenicUptake, declaredUnitOfMeasurement) both map; PACT footprints are
    cradle-to-gate; an assurance block makes the label third-party certified by its provider."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed([Problem("file", Message("不是有效的 JSON 文件"))]) from None
    except RecursionError:  # nesting deeper than the interpreter's stack: no footprint looks so
        raise ValidationFailed(
            [Problem("file", Message("JSON 嵌套层数过多，不是 ProductFootprint 文件"))]
        ) from None
    footprints = data.get("data", data) if isinstance(data, dict) else data
    if isinstance(footprints, dict):
        footprints = [footprints]
    if not isinstance(footprints, list) or not all(isinstance(f, dict) for f in footprints):
        raise ValidationFailed([Problem("file", Message("JSON 应为 ProductFootprint 列表"))])
    header = [*REQUIRED, "model", "certifier"]
    rows = [header]
    for footprint in footprints:
        pcf = footprint.get("pcf") if isinstance(footprint.get("pcf"), dict) else {}
        assurance = pcf.get("assurance") if isinstance(pcf.get("assurance"), dict) else None
        unit = str(_first(pcf, "declaredUnitOfMeasurement", "declaredUnit") or "")
        values = {
            "claim_id": str(footprint.get("id") or ""), "company_name": str(footprint.get("companyName") or ""),
            "credit_code": _usci(footprint.get("companyIds")), "city": city or "",
            "product": str(_first(footprint, "productNameCompany", "productName", "productDescription") or ""),
            "declared_unit": PACT_UNITS.get(unit.lower(), unit),
            "footprint_kgco2e": str(_first(pcf, "pcfExcludingBiogenicUptake", "pCfExcludingBiogenic",
                                           "pcfExcludingBiogenic") or ""),
            "boundary": "cradle-to-grave" if str(footprint.get("partialFullPcf", "")).lower() == "cradle-to-grave"
            else "cradle-to-gate",
            "standard": "; ".join(str(s) for s in (_first(pcf, "crossSectoralStandards", "crossSectoralStandardsUsed") or [])),
            "period_start": str(pcf.get("referencePeriodStart") or "")[:10],
            "period_end": str(pcf.get("referencePeriodEnd") or "")[:10],
            "label_type": "第三方认证" if assurance else "自我声明",
            "published_on": str(footprint.get("created") or "")[:10],
            "model": str(footprint.get("productDescription") or ""),
            "certifier": str(assurance.get("providerName") or "") if assurance else "",
        }  # fmt: skip
        rows.append([values[name] for name in header])
    return rows
