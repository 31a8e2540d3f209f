"""Synthetic carbon-label claims in the exchange format (DOMAIN.md §9), for the benchmark and the demo.

Clean claims are drawn around each product's typical footprint from the shipped benchmarks, with
stages that add up, the official grid factor, valid credit codes, certificates issued before
publication and valid at it. A share of claims carries one planted problem each, of the kinds
DOMAIN.md §6 names; ``PLANTED`` lists them. ``mix_units`` re-declares a share of them per kilogram
and in unit synonyms (the rule-quality bench's mixed-unit set). Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.catalogue import read_rows
from tracker.core.creditcode import check_character, organisation_check_character

PLANTED = ("stage_sum", "below_floor", "unit_slip", "offsets", "no_certificate", "expired", "issued_late",
           "shared_certificate", "future_period", "stale_period", "low_grid_factor", "reduction", "grave_no_use",
           "bad_credit_code", "copied")  # fmt: skip
STAGE_SHARES = np.array([0.45, 0.45, 0.1])  # raw materials, manufacturing, transport (cradle-to-gate)
CERTIFIERS = ("中环联合（北京）认证中心有限公司", "中国质量认证中心", "方圆标志认证集团有限公司")
OFFICIAL_FACTOR = 0.6361  # north_china_2023, as shipped


def credit_codes(rng: np.random.Generator, divisions: list[str], count: int) -> list[str]:
    """``count`` valid unified social credit codes (GB 32100-2015) of companies in these divisions."""
    codes = []
    for index in range(count):
        org = f"{rng.integers(10_000_000, 99_999_999)}"
        first17 = f"91{divisions[index % len(divisions)]}{org}{organisation_check_character(org)}"
        codes.append(first17 + check_character(first17))
    return codes


def generate(count: int, *, seed: int = 2025, planted_share: float = 0.05, companies: int | None = None,
             cities: list[tuple[str, str]] | None = None, key_prefix: str = "SY") -> pd.DataFrame:  # fmt: skip
    """``count`` claims as a frame of exchange-file text columns, plus an ``issue`` column (empty for
    a clean claim, else the planted problem). ``cities`` are (name, division code) pairs."""
    rng = np.random.default_rng(seed)
    if cities is None:
        cities = [
            (r["short_zh"], r["code"]) for r in read_rows("cities.csv") if r["province_code"] == "140000"
        ]
    products = list(read_rows("benchmarks.csv"))
    companies = companies or max(1, count // 20)
    codes = credit_codes(rng, [code for _, code in cities], companies)
    company = rng.integers(0, companies, count)
    product_index = (company * 7 + rng.integers(0, 2, count)) % len(products)  # a company makes one or two
    table = pd.DataFrame([{k: p[k] for k in ("product", "declared_unit")} | {k: float(p[k])
                          for k in ("plausible_low", "typical", "plausible_high", "physical_floor")} for p in products])  # fmt: skip
    spec = table.iloc[product_index].reset_index(drop=True)
    spread = np.exp(rng.normal(0, 0.12, count))
    low, high = spec["plausible_low"] * 1.02, spec["plausible_high"] * 0.98
    total = spec["typical"] * spread
    outside = (total < low) | (total > high)  # redrawn inside the range, not piled up at its edges
    total[outside] = low[outside] + rng.random(int(outside.sum())) * (high - low)[outside]
    total = total.round(4)
    shares = STAGE_SHARES * rng.uniform(0.8, 1.2, (count, 3))
    stages = (total.to_numpy()[:, None] * shares / shares.sum(axis=1, keepdims=True)).round(4)
    stages[:, 1] = (total - stages[:, 0] - stages[:, 2]).round(4)
    published = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600, count), unit="D")
    period_end = published - pd.to_timedelta(rng.integers(30, 300, count), unit="D")
    labels = rng.choice(["自我声明", "第三方认证", "碳中和"], count, p=[0.5, 0.42, 0.08])
    certified = labels != "自我声明"
    issued = published - pd.to_timedelta(rng.integers(5, 120, count), unit="D")
    kwh = (total * rng.uniform(0.05, 0.3, count) / OFFICIAL_FACTOR).round(3)
    city_of = company % len(cities)
    frame = pd.DataFrame({
        "claim_id": [f"{key_prefix}-{i:07d}" for i in range(1, count + 1)],
        "company_name": [f"示例{cities[c][0]}第{n}号生产有限公司" for n, c in zip(company, city_of, strict=True)],
        "credit_code": np.array(codes, dtype=object)[company],
        "city": np.array([name for name, _ in cities], dtype=object)[city_of],
        "product": spec["product"], "model": [f"型号{n % 9 + 1}" for n in range(count)],
        "declared_unit": spec["declared_unit"], "footprint_kgco2e": total,
        "boundary": "cradle-to-gate", "standard": rng.choice(["GB/T 24067-2024", "ISO 14067:2018"], count),
        "period_start": period_end - pd.Timedelta(days=364), "period_end": period_end,
        "stage_raw_materials": stages[:, 0], "stage_manufacturing": stages[:, 1], "stage_transport": stages[:, 2],
        "stage_use": 0.0, "stage_end_of_life": 0.0, "electricity_kwh": kwh, "electricity_factor": OFFICIAL_FACTOR,
        "green_power_kwh": 0.0, "offsets_kgco2e": 0.0, "label_type": labels,
        "certifier": np.where(certified, rng.choice(CERTIFIERS, count), ""),
        "certificate_no": np.where(certified, [f"CFP{2025}-{key_prefix}{i:07d}" for i in range(count)], ""),
        "certificate_issued": issued.where(certified), "certificate_expires": (issued + pd.Timedelta(days=730)).where(certified),
        "published_on": published, "baseline_kgco2e": np.nan, "claimed_reduction_pct": np.nan,
    })  # fmt: skip
    reducing = rng.random(count) < 0.1
    baseline = (total / (1 - rng.uniform(0.05, 0.3, count))).round(2)
    frame.loc[reducing, "baseline_kgco2e"] = baseline[reducing]
    frame.loc[reducing, "claimed_reduction_pct"] = ((baseline - total) / baseline * 100).round(1)[reducing]
    frame["issue"] = ""
    _plant(frame, spec, rng, planted_share)
    return frame


def _plant(frame: pd.DataFrame, spec: pd.DataFrame, rng: np.random.Generator, share: float) -> None:
    """One planted problem in each of a ``share`` of the claims, the kinds spread evenly."""
    chosen = np.flatnonzero(rng.random(len(frame)) < share)
    kinds = np.array(PLANTED)[np.arange(len(chosen)) % len(PLANTED)]
    for kind in PLANTED:
        rows = chosen[kinds == kind]
        if not len(rows):
            continue
        frame.loc[rows, "issue"] = kind
        total = frame.loc[rows, "footprint_kgco2e"]
        if kind == "stage_sum":
            frame.loc[rows, "footprint_kgco2e"] = (total * 0.8).round(2)
        elif kind == "below_floor":
            new = (spec.loc[rows, "physical_floor"] * 0.5).round(4)
            frame.loc[rows[new.to_numpy() <= 0], "issue"] = ""  # no floor to fall under
            frame.loc[rows, ["footprint_kgco2e", "stage_raw_materials", "stage_manufacturing", "stage_transport"]] = (
                np.c_[new, (new * 0.45).round(4), (new - (new * 0.45).round(4) - (new * 0.1).round(4)).round(4), (new * 0.1).round(4)]
            )  # fmt: skip
        elif kind == "unit_slip":
            for column in (
                "footprint_kgco2e",
                "stage_raw_materials",
                "stage_manufacturing",
                "stage_transport",
            ):
                frame.loc[rows, column] = (frame.loc[rows, column] * 1000).round(2)
        elif kind == "offsets":
            frame.loc[rows, "offsets_kgco2e"] = (total * 0.3).round(2)
        elif kind == "no_certificate":
            frame.loc[rows, ["label_type", "certifier", "certificate_no"]] = ["第三方认证", "", ""]
        elif kind in ("expired", "issued_late", "shared_certificate"):
            frame.loc[rows, ["label_type", "certifier"]] = ["第三方认证", CERTIFIERS[0]]
            published = frame.loc[rows, "published_on"]
            frame.loc[rows, "certificate_no"] = [f"CFP2025-X{r:07d}" for r in rows]
            frame.loc[rows, "certificate_issued"] = published - pd.Timedelta(days=800)
            frame.loc[rows, "certificate_expires"] = published - pd.Timedelta(days=70)
            if kind == "issued_late":
                frame.loc[rows, "certificate_issued"] = published + pd.Timedelta(days=20)
                frame.loc[rows, "certificate_expires"] = published + pd.Timedelta(days=750)
            elif kind == "shared_certificate":  # another company's certificate number
                frame.loc[rows, "certificate_issued"] = published - pd.Timedelta(days=20)
                frame.loc[rows, "certificate_expires"] = published + pd.Timedelta(days=700)
                donors = frame.index[(frame["certificate_no"] != "") & (frame["issue"] == "")]
                donor_rows = donors[(rows * 13) % len(donors)]
                frame.loc[rows, "certificate_no"] = frame.loc[donor_rows, "certificate_no"].to_numpy()
                same = (
                    frame.loc[donor_rows, "credit_code"].to_numpy()
                    == frame.loc[rows, "credit_code"].to_numpy()
                )
                frame.loc[rows[same], "issue"] = ""  # the same company: not a problem after all
                frame.loc[donor_rows[~same], "issue"] = "shared_certificate_owner"
        elif kind == "future_period":
            frame.loc[rows, "period_end"] = frame.loc[rows, "published_on"] + pd.Timedelta(days=60)
        elif kind == "stale_period":
            frame.loc[rows, "period_end"] = frame.loc[rows, "published_on"] - pd.Timedelta(days=365 * 4)
            frame.loc[rows, "period_start"] = frame.loc[rows, "period_end"] - pd.Timedelta(days=364)
        elif kind == "low_grid_factor":
            frame.loc[rows, "electricity_factor"] = 0.3
        elif kind == "reduction":
            frame.loc[rows, "baseline_kgco2e"] = (total * 1.1).round(2)
            frame.loc[rows, "claimed_reduction_pct"] = 40.0
        elif kind == "grave_no_use":
            frame.loc[rows, "boundary"] = "cradle-to-grave"
        elif kind == "bad_credit_code":
            codes = frame.loc[rows, "credit_code"].astype(str)
            frame.loc[rows, "credit_code"] = codes.str[:17] + codes.str[17].map(
                lambda c: "0" if c != "0" else "1"
            )
        elif kind == "copied":  # another company's figures, to the last digit
            donors = frame.index[frame["issue"] == ""]
            donor_rows = donors[(rows * 7) % len(donors)]
            figures = ["footprint_kgco2e", "stage_raw_materials", "stage_manufacturing", "stage_transport",
                       "stage_use", "stage_end_of_life"]  # fmt: skip
            frame.loc[rows, figures] = frame.loc[donor_rows, figures].to_numpy()
            frame.loc[rows, ["product", "declared_unit"]] = frame.loc[
                donor_rows, ["product", "declared_unit"]
            ].to_numpy()
            same = (
                frame.loc[donor_rows, "credit_code"].to_numpy() == frame.loc[rows, "credit_code"].to_numpy()
            )
            frame.loc[rows[same], "issue"] = ""
            frame.loc[donor_rows[~same], "issue"] = "copied_source"


# The figures of a claim that are per declared unit (a per-kg claim's are a thousandth of a per-t one's).
PER_UNIT = ("footprint_kgco2e", "stage_raw_materials", "stage_manufacturing", "stage_transport", "stage_use",
            "stage_end_of_life", "electricity_kwh", "green_power_kwh", "offsets_kgco2e", "baseline_kgco2e")  # fmt: skip
SYNONYMS = {"t": ("吨",), "kg": ("千克", "公斤"), "kWh": ("千瓦时", "度")}  # exchange.UNITS, DOMAIN.md §9


def mix_units(frame: pd.DataFrame, *, seed: int = 2025, per_kg_share: float = 1 / 3,
              synonym_share: float = 1 / 3) -> pd.DataFrame:  # fmt: skip
    """The claims as a supplier mixing units would declare them: ``per_kg_share`` of the per-tonne
    claims declared per kilogram (every per-unit figure divided by 1000, rounded to the 4 decimals
    stored), and ``synonym_share`` of the others in t, kg or kWh written with a synonym (吨, 千克, 公斤,
    千瓦时, 度). The ``issue`` labels are kept: the same claims, the same problems."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    draw = rng.random(len(out))
    per_kg = (out["declared_unit"] == "t").to_numpy() & (draw < per_kg_share)
    for column in PER_UNIT:
        values = pd.to_numeric(out[column], errors="coerce").astype("float64")
        out[column] = values.where(~per_kg, (values / 1000).round(4))
    out.loc[per_kg, "declared_unit"] = "kg"
    renamed = ~per_kg & (draw >= per_kg_share) & (draw < per_kg_share + synonym_share)
    for unit, words in SYNONYMS.items():
        rows = np.flatnonzero(renamed & (frame["declared_unit"] == unit).to_numpy())
        out.loc[out.index[rows], "declared_unit"] = np.array(words, dtype=object)[rows % len(words)]
    return out


def to_csv(frame: pd.DataFrame, path: Path | None = None) -> bytes:
    """The claims as an exchange CSV (UTF-8, dates ``YYYY-MM-DD``), without the ``issue`` column."""
    out = frame.drop(columns=["issue"], errors="ignore").copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, float_format="%.10g", quoting=csv.QUOTE_MINIMAL)
    data = buffer.getvalue().encode("utf-8")
    if path is not None:
        path.write_bytes(data)
    return data
