"""Claim integrity rules (虚标乱标核查): a registry of small, documented, vectorised checks.

Each rule is a function over a pandas DataFrame of current claims (one row per claim, with its
product's current benchmark and the official grid factor beside it) that returns the rows it
flags and, per row, the evidence — the values that made it fire. Each has an id, a severity, a
Chinese and an English message template over that evidence, and a docstring giving its regulatory
reason (DOMAIN.md §6: both seed notices order the authorities to crack down on falsification and
false or misleading labels, 严厉打击弄虚作假和虚标乱标行为). Thresholds live in ``Thresholds``, not in the rules.

Computing findings is separate from storing flags: ``claim_findings`` only reads.
"""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.claims.exchange import UNIT_SIZES, normalise_unit
from tracker.core.creditcode import validate_credit_code
from tracker.core.i18n import N_
from tracker.core.json_types import JsonRow
from tracker.core.messages import to_data
from tracker.models import Boundary, Certifier, EmissionFactor, LabelType, ProductBenchmark, Severity

# Labels that claim a third party checked the figure, so a certificate must back them (the frame holds
# the stored values).
CERTIFIED_LABELS = [LabelType.THIRD_PARTY.value, LabelType.CARBON_NEUTRAL.value]
STAGES = ("stage_raw_materials", "stage_manufacturing", "stage_transport", "stage_use", "stage_end_of_life")


@dataclass(frozen=True)
class Thresholds:
    """Tolerances of the claim rules (configuration, not literals in the rules)."""

    stage_sum_relative: float = 0.01  # stages may differ from the total by rounding: 1%
    stage_sum_absolute: float = 0.01  # … or this many kg CO2e, whichever is larger
    stale_years: float = 3.0  # reference period older than this at publication is stale
    grid_factor_shortfall: float = 0.2  # a grid factor 20% below the official one needs green power
    reduction_points: float = 2.0  # claimed vs computed reduction, percentage points
    official_grid_factor: str = "north_china_2023"  # the factor claims are compared with


@dataclass(frozen=True)
class ClaimRule:
    id: str
    severity: Severity
    message: str  # its message id: a template over the evidence keys (English in the catalogue)
    check: Callable[[pd.DataFrame, Thresholds], pd.DataFrame]  # the flagged rows, evidence columns only
    # The evidence keys that identify the finding (its fingerprint; tracker.claims.scan), when not all
    # of them do: who else shares a figure changes as claims arrive, the finding itself does not.
    stable: tuple[str, ...] | None = None

    @property
    def reason(self) -> str:
        return (self.check.__doc__ or "").strip()


def _day(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d")


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce")


def stage_sum_mismatch(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The life-cycle stages do not add up to the declared total. A footprint is the sum of its
    stages (GB/T 24067 §6); a total that differs from its own breakdown was altered after the
    calculation or never calculated."""
    stages = claims[list(STAGES)].apply(pd.to_numeric, errors="coerce")
    given = stages.notna().any(axis=1)
    total, summed = _num(claims, "footprint"), stages.sum(axis=1, min_count=1)
    tolerance = (total.abs() * t.stage_sum_relative).clip(lower=t.stage_sum_absolute)
    hit = given & ((total - summed).abs() > tolerance)
    return pd.DataFrame({"total": total[hit], "stages": summed[hit].round(4)})


def _ratio(claims: pd.DataFrame) -> pd.Series:
    """Per claim, the factor to its benchmark's unit (NaN: no benchmark, or units that do not convert);
    ``unit_ratio`` over whole columns. ``claim_findings`` computes it once for all the rules
    (the ``unit_ratio`` column of the frame it hands them)."""
    if "unit_ratio" in claims:
        return claims["unit_ratio"]
    return unit_ratios(claims)


def unit_ratios(claims: pd.DataFrame) -> pd.Series:
    """``_ratio`` computed: each distinct pair of declared and benchmark unit is looked up once."""
    declared, benchmark = pd.factorize(claims["declared_unit"]), pd.factorize(claims["benchmark_unit"])
    dimension = {unit: dim for unit, (dim, _size) in UNIT_SIZES.items()}
    size = {unit: value for unit, (_dim, value) in UNIT_SIZES.items()}

    def one(unit: object, target: object) -> float:
        if not isinstance(unit, str) or not isinstance(target, str):
            return float("nan")  # a missing unit (None, NaN)
        if unit != "" and unit == target:
            return 1.0
        if unit in size and target in size and dimension[unit] == dimension[target]:
            return size[target] / size[unit]
        return float("nan")

    # one more row and column for a missing value (code -1 indexes the last)
    table = np.array([[one(unit, target) for target in [*benchmark[1], None]] for unit in [*declared[1], None]],
                     dtype="float64").reshape(len(declared[1]) + 1, len(benchmark[1]) + 1)  # fmt: skip
    return pd.Series(table[declared[0], benchmark[0]], index=claims.index, dtype="float64")


def _per_benchmark_unit(claims: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The footprint in the benchmark's unit (a per-kg claim against a per-t benchmark × 1000), and
    whether it could be converted at all."""
    ratio = _ratio(claims)
    return (_num(claims, "footprint") * ratio).round(6), ratio.notna()


def below_physical_floor(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The footprint is below the physical floor of the product: no honest calculation can reach a
    value under the process emissions that chemistry alone fixes (e.g. lime, clinker). Compared in
    the benchmark's unit, after converting within the dimension (kg → t, L → m³, kWh → MWh)."""
    total, same_unit = _per_benchmark_unit(claims)
    floor = _num(claims, "physical_floor")
    hit = same_unit & floor.notna() & (total < floor)
    return pd.DataFrame({"footprint": total[hit], "floor": floor[hit]})


def outside_plausible_range(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The footprint lies outside the plausible range for the product (but not under the floor): it
    may be true, but it must be explained before the label is trusted."""
    total, same_unit = _per_benchmark_unit(claims)
    low, high, floor = (
        _num(claims, "plausible_low"),
        _num(claims, "plausible_high"),
        _num(claims, "physical_floor"),
    )
    hit = same_unit & low.notna() & (total >= floor) & ((total < low) | (total > high))
    return pd.DataFrame({"footprint": total[hit], "low": low[hit], "high": high[hit]})


def unit_slip(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The figure is off by a factor of 1000 (kg for t): divided or multiplied by 1000 it falls in
    the plausible range while as declared it does not — a unit slip that misleads buyers by three
    orders of magnitude."""
    total, same_unit = _per_benchmark_unit(claims)
    low, high = _num(claims, "plausible_low"), _num(claims, "plausible_high")
    outside = (total < low) | (total > high)
    fits = ((total / 1000).between(low, high)) | ((total * 1000).between(low, high))
    hit = same_unit & low.notna() & outside & fits
    return pd.DataFrame({"footprint": total[hit], "low": low[hit], "high": high[hit]})


def unit_not_comparable(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The claim's declared unit cannot be converted to its product benchmark's (a piece against a
    tonne): none of the benchmark rules could judge it, so it is listed for a person to compare by
    hand instead of passing those checks in silence (无法比对)."""
    has_benchmark = claims["benchmark_unit"].notna() & (
        claims["physical_floor"].notna() | claims["plausible_low"].notna()
    )
    hit = has_benchmark & _ratio(claims).isna()
    return pd.DataFrame({"declared_unit": claims.loc[hit, "declared_unit"],
                         "benchmark_unit": claims.loc[hit, "benchmark_unit"]})  # fmt: skip


def judged(claims: pd.DataFrame) -> dict[str, int]:
    """How many claims each benchmark rule could judge (a benchmark figure, a unit that converts), and
    how many could not be compared at all (``UNIT_NOT_COMPARABLE``): what a scan's summary says."""
    if claims.empty:
        return dict.fromkeys(
            ("BELOW_PHYSICAL_FLOOR", "OUTSIDE_PLAUSIBLE_RANGE", "UNIT_SLIP", "UNIT_NOT_COMPARABLE"), 0
        )
    if "unit_ratio" not in claims:
        claims = claims.assign(unit_ratio=unit_ratios(claims))
    comparable = _ratio(claims).notna()
    floor, low = claims["physical_floor"].notna(), claims["plausible_low"].notna()
    ranged = int((comparable & low).sum())
    return {"BELOW_PHYSICAL_FLOOR": int((comparable & floor).sum()), "OUTSIDE_PLAUSIBLE_RANGE": ranged,
            "UNIT_SLIP": ranged, "UNIT_NOT_COMPARABLE": len(unit_not_comparable(claims, Thresholds()))}  # fmt: skip


def offsets_netted(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """Offsets were subtracted from the footprint. ISO 14067 (GB/T 24067) forbids netting offsets
    into a carbon footprint; they may be reported only separately."""
    offsets = _num(claims, "offsets")
    hit = offsets > 0
    return pd.DataFrame({"offsets": offsets[hit]})


def _pact(claims: pd.DataFrame) -> pd.Series:
    return claims["source"] == "pact"


def certified_without_certificate(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """A certified or carbon-neutral label with no certificate number: the label asserts a third
    party's verification that cannot be traced. Not judged for PACT claims: PACT has no field for a
    certificate number, so their verifier is judged instead (``VERIFIER_NOT_NAMED``,
    ``UNRECOGNISED_CERTIFIER``)."""
    certified = claims["label_type"].isin(CERTIFIED_LABELS) & ~_pact(claims)
    missing = claims["certificate_no"].fillna("").astype(str).str.strip() == ""
    hit = certified & missing
    return pd.DataFrame({"label_type": claims.loc[hit, "label_type"]})


def verifier_not_named(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """A PACT footprint declared verified (a v3 ``verification``, a v2 ``assurance`` that says true)
    that names no verifier: PACT carries no certificate number, so the verifier's name is the only
    trace of the third party the label relies on, and without it the verification cannot be checked."""
    certified = claims["label_type"].isin(CERTIFIED_LABELS) & _pact(claims)
    hit = certified & (claims["certifier"].fillna("").astype(str).str.strip() == "")
    return pd.DataFrame({"label_type": claims.loc[hit, "label_type"]})


def certificate_expired(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The certificate had expired when the label was published: the label claims a verification
    that was no longer valid, which is misleading labelling in the plain sense."""
    expires, published = claims["certificate_expires"], claims["published_on"]
    hit = expires.notna() & (expires < published)
    return pd.DataFrame({"expires": _day(expires[hit]), "published": _day(published[hit])})


def certificate_after_publication(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The certificate was issued after the label was already shown to buyers as certified."""
    issued, published = claims["certificate_issued"], claims["published_on"]
    hit = issued.notna() & (issued > published) & claims["label_type"].isin(CERTIFIED_LABELS)
    return pd.DataFrame({"issued": _day(issued[hit]), "published": _day(published[hit])})


def certificate_key(numbers: pd.Series) -> pd.Series:
    """Certificate numbers as compared: full-width forms folded (NFKC), spaces dropped, upper case —
    ``ab 123``, ``ＡＢ１２３`` and ``AB123`` are one number."""
    text = numbers.fillna("").astype(str).str.normalize("NFKC")
    return text.str.replace(r"\s+", "", regex=True).str.upper()


def certificate_shared(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """One certificate number is used by two or more companies: a certificate belongs to one
    company's product, so at least one label borrows another's verification. Numbers are compared
    ignoring case, spaces and full-width forms (``certificate_key``); the evidence names up to
    ``MAX_NAMED`` of the other companies' claims (``peers``), those of the claim's own city first."""
    key = certificate_key(claims["certificate_no"])
    numbered = key != ""
    companies = claims.loc[numbered, "credit_code"].groupby(key[numbered]).nunique()
    shared = companies[companies > 1].index
    hit = numbered & key.isin(shared)
    return pd.DataFrame({"certificate_no": claims.loc[hit, "certificate_no"],
                         "companies": key[hit].map(companies), "peers": _peers(claims, key, hit)})  # fmt: skip


def period_after_publication(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The reference period ends after the label was published: the label states figures for a
    time that had not yet happened."""
    end, published = claims["period_end"], claims["published_on"]
    hit = end > published
    return pd.DataFrame({"period_end": _day(end[hit]), "published": _day(published[hit])})


def stale_period(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The data is older than three years at publication: the footprint no longer describes the
    product being sold."""
    end, published = claims["period_end"], claims["published_on"]
    years = (published - end).dt.days / 365.25
    hit = years > t.stale_years
    return pd.DataFrame({"period_end": _day(end[hit]), "years": years[hit].round(1)})


def low_grid_factor(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The grid electricity factor used is far below the official one and no green power is
    declared to justify it: the cheapest way to shrink a footprint on paper."""
    used, official = _num(claims, "electricity_factor"), _num(claims, "official_factor")
    green = _num(claims, "green_power_kwh").fillna(0)
    hit = used.notna() & official.notna() & (used < official * (1 - t.grid_factor_shortfall)) & (green <= 0)
    return pd.DataFrame({"used": used[hit], "official": official[hit]})


def reduction_mismatch(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The claimed reduction does not match the claim's own baseline and footprint: a reduction
    claim must be arithmetic, not marketing."""
    baseline, total, claimed = (
        _num(claims, "baseline"),
        _num(claims, "footprint"),
        _num(claims, "claimed_reduction_pct"),
    )
    computed = (baseline - total) / baseline * 100
    hit = baseline.gt(0) & claimed.notna() & ((computed - claimed).abs() > t.reduction_points)
    return pd.DataFrame({"claimed": claimed[hit], "computed": computed[hit].round(1)})


def grave_without_use_stages(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """A cradle-to-grave claim with nothing in the use and end-of-life stages: the boundary claimed
    is wider than the one calculated."""
    use, end = _num(claims, "stage_use").fillna(0), _num(claims, "stage_end_of_life").fillna(0)
    hit = (claims["boundary"] == Boundary.CRADLE_TO_GRAVE.value) & (use + end <= 0)
    return pd.DataFrame({"boundary": claims.loc[hit, "boundary"]})


def invalid_credit_code(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """The unified social credit code is invalid (GB 32100-2015 check character or format): the
    claimant cannot be identified, so neither can the responsibility for the label. The evidence
    keeps each problem as message data (``problems``), shown in the reader's language."""
    codes, uniques = pd.factorize(claims["credit_code"].fillna("").astype(str))
    checked = [[to_data(p) for p in validate_credit_code(str(code)).problems] for code in uniques]
    wrong = np.array([i for i, found in enumerate(checked) if found], dtype=np.int64)  # few: those codes only
    mask = np.isin(codes, wrong)
    problems = pd.Series([checked[c] for c in codes[mask]], index=claims.index[mask], dtype=object)
    return pd.DataFrame({"credit_code": claims.loc[mask, "credit_code"], "problems": problems})


def _significant(values: pd.Series, digits: int = 12) -> pd.Series:
    """Values rounded to ``digits`` significant digits: 860.8 kg/t ÷ 1000 and 0.8608 kg/kg become the
    same number, whatever the float division left in the last bits."""
    x = values.to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(x)))
    scale = 10.0 ** (digits - 1 - np.where(np.isfinite(exponent), exponent, 0))
    return pd.Series(np.round(x * scale) / scale, index=values.index)


def per_base_unit(claims: pd.DataFrame) -> pd.DataFrame:
    """The footprint and stages per base unit of the claim's dimension (per kg, per L, per MJ), with
    the dimension: a claim per t and one per kg with the same figures per kg compare equal. A unit
    with no size (a piece, m2) is its own dimension and is not converted."""
    unit = claims["declared_unit"].astype(object)
    size = unit.map({u: value for u, (_dim, value) in UNIT_SIZES.items()}).astype("float64")
    dimension = unit.map({u: dim for u, (dim, _value) in UNIT_SIZES.items()}).where(size.notna(), unit)
    divisor = size.fillna(1.0)
    figures = {name: _significant(_num(claims, name) / divisor) for name in ("footprint", *STAGES)}
    return pd.DataFrame({"dimension": dimension.fillna(""), **figures}, index=claims.index)


def copied_figures(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """Identical figures (total and every stage) declared by different companies: independent
    calculations do not agree to the last digit, so one was copied. Compared per base unit
    (``per_base_unit``): a per-kg copy of a per-t claim is a copy. The evidence names up to
    ``MAX_NAMED`` of the other companies' claims (``peers``), those of the claim's own city first."""
    base = per_base_unit(claims)
    columns = ["dimension", "footprint", *STAGES]
    groups = base.groupby(columns, dropna=False, sort=False).ngroup()
    companies = claims["credit_code"].groupby(groups).transform("nunique")
    hit = companies > 1
    return pd.DataFrame({"footprint": _num(claims, "footprint")[hit], "declared_unit": claims.loc[hit, "declared_unit"],
                         "companies": companies[hit], "peers": _peers(claims, groups, hit)})  # fmt: skip


MAX_NAMED = 10  # other claims a cross-claim finding names


def _peers(claims: pd.DataFrame, groups: pd.Series, hit: pd.Series) -> pd.Series:
    """Per flagged claim, the ids of up to ``MAX_NAMED`` claims of other companies in its group (one
    per company, its lowest id): those of the claim's own city first, then by city and company."""
    rows = hit.to_numpy()
    cities = claims["city_id"] if "city_id" in claims else pd.Series(0, index=claims.index)
    members = pd.DataFrame({"group": groups[hit], "city": cities[hit],
                            "code": claims.loc[hit, "credit_code"].fillna("").astype(str),
                            "claim": claims.index[rows]}, index=claims.index[rows])  # fmt: skip
    members = members.sort_values(["group", "city", "code", "claim"], kind="stable")
    firsts = members.drop_duplicates(["group", "code"])  # a company's claim in a group: its lowest id
    listed_by_group: dict[Hashable, dict[Hashable, list[tuple[int, str]]]] = {}
    for group, claim, city, code in zip(firsts["group"].tolist(), firsts["claim"].tolist(), firsts["city"].tolist(),
                                        firsts["code"].tolist(), strict=True):  # fmt: skip
        listed_by_group.setdefault(group, {}).setdefault(city, []).append((int(claim), code))
    peers: dict[Hashable, list[int]] = {}
    for index, group, city, code in zip(members.index, members["group"].tolist(), members["city"].tolist(),
                                        members["code"].tolist(), strict=True):  # fmt: skip
        by_city = listed_by_group[group]
        order = [by_city.get(city, []), *(listed for k, listed in by_city.items() if k != city)]
        candidates = (claim for listed in order for claim, other in listed if other != code)
        peers[index] = list(islice(candidates, MAX_NAMED))
    return pd.Series([peers[i] for i in claims.index[rows]], index=claims.index[rows], dtype=object)


def unrecognised_certifier(claims: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """A certified label whose certification body is not on the province's list of recognised
    bodies: only accredited bodies may certify carbon-footprint labels. Judged only once the list
    has entries (with no list there is nothing to judge against)."""
    certified = claims["label_type"].isin(CERTIFIED_LABELS)
    named = claims["certifier"].fillna("").astype(str).str.strip() != ""
    hit = (
        certified
        & named
        & claims["certifier_list_kept"].astype(bool)
        & ~claims["certifier_recognised"].astype(bool)
    )
    return pd.DataFrame({"certifier": claims.loc[hit, "certifier"]})


RULES = (
    ClaimRule("STAGE_SUM_MISMATCH", Severity.HIGH, N_("分阶段合计{stages}与总值{total}不符"), stage_sum_mismatch),
    ClaimRule("BELOW_PHYSICAL_FLOOR", Severity.HIGH, N_("碳足迹{footprint}低于该产品的物理下限{floor}"), below_physical_floor),
    ClaimRule("OUTSIDE_PLAUSIBLE_RANGE", Severity.MEDIUM, N_("碳足迹{footprint}超出合理区间{low}–{high}"), outside_plausible_range),
    ClaimRule("UNIT_SLIP", Severity.HIGH, N_("碳足迹{footprint}疑似单位错误（×1000后或÷1000后落入合理区间{low}–{high}）"), unit_slip),
    ClaimRule("UNIT_NOT_COMPARABLE", Severity.LOW, N_("声明单位“{declared_unit}”无法换算为产品基准的单位“{benchmark_unit}”，未能与基准比对"), unit_not_comparable),
    ClaimRule("OFFSETS_NETTED", Severity.HIGH, N_("碳足迹中抵扣了碳抵消量{offsets}（GB/T 24067 不允许）"), offsets_netted),
    ClaimRule("CERTIFIED_WITHOUT_CERTIFICATE", Severity.HIGH, N_("标识类型为{label_type}但没有证书编号"), certified_without_certificate),
    ClaimRule("VERIFIER_NOT_NAMED", Severity.HIGH, N_("PACT 声明的标识类型为{label_type}，但未写明核查机构"), verifier_not_named),
    ClaimRule("CERTIFICATE_EXPIRED", Severity.HIGH, N_("证书已于{expires}过期，标识于{published}发布"), certificate_expired),
    ClaimRule("CERTIFICATE_AFTER_PUBLICATION", Severity.HIGH, N_("证书于{issued}签发，晚于标识发布日{published}"), certificate_after_publication),
    ClaimRule("CERTIFICATE_SHARED", Severity.HIGH, N_("证书编号{certificate_no}共有{companies}家企业使用，其他使用者：{others}"), certificate_shared,
              stable=("certificate_no",)),
    ClaimRule("PERIOD_AFTER_PUBLICATION", Severity.HIGH, N_("数据期截止于{period_end}，晚于标识发布日{published}"), period_after_publication),
    ClaimRule("STALE_PERIOD", Severity.MEDIUM, N_("数据期截止于{period_end}，发布时已过{years}年"), stale_period),
    ClaimRule("LOW_GRID_FACTOR", Severity.MEDIUM, N_("电网排放因子{used}远低于官方值{official}且无绿电说明"), low_grid_factor),
    ClaimRule("REDUCTION_MISMATCH", Severity.MEDIUM, N_("声称减排{claimed}%，按基准值计算为{computed}%"), reduction_mismatch),
    ClaimRule("GRAVE_WITHOUT_USE_STAGES", Severity.MEDIUM, N_("声明为“从摇篮到坟墓”但使用和废弃阶段为零"), grave_without_use_stages),
    ClaimRule("INVALID_CREDIT_CODE", Severity.MEDIUM, N_("统一社会信用代码{credit_code}无效：{problems}"), invalid_credit_code,
              stable=("credit_code",)),
    ClaimRule("UNRECOGNISED_CERTIFIER", Severity.MEDIUM, N_("认证机构“{certifier}”不在认可机构名录中"), unrecognised_certifier),
    ClaimRule("COPIED_FIGURES", Severity.MEDIUM, N_("碳足迹{footprint}（每{declared_unit}）及各阶段数值（换算为同一单位后）与{others}完全相同，共{companies}家企业"),
              copied_figures, stable=("footprint",)),
)  # fmt: skip
RULE_BY_ID = {rule.id: rule for rule in RULES}


NUMBERS = (
    "footprint",
    *STAGES,
    "electricity_factor",
    "green_power_kwh",
    "offsets",
    "baseline",
    "claimed_reduction_pct",
)
DATES = ("period_start", "period_end", "certificate_issued", "certificate_expires", "published_on")
TEXTS = ("credit_code", "declared_unit", "label_type", "boundary", "certifier",
         "certificate_no", "source")  # fmt: skip
IDS = ("id", "city_id", "pilot_id", "product_id")


def current_claims(session: Session) -> pd.DataFrame:
    """The current claim versions, only the columns the rules read (the claim key and content hash
    are fetched later, for the flagged claims only), typed for pandas: numbers as
    float64, dates as datetime64, ids as integers. Read through the driver (COPY on PostgreSQL), as a
    million ORM rows would take minutes."""
    connection = session.connection()
    names = [*IDS, *TEXTS, *NUMBERS, *DATES]
    if connection.dialect.name == "postgresql":
        columns = [f"{n}::float8" if n in NUMBERS else f"{n}::text" if n in DATES else n for n in names]
        buffer = io.BytesIO()
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        query = f"COPY (SELECT {', '.join(columns)} FROM claims WHERE is_current) TO STDOUT (FORMAT csv)"
        with cursor.copy(query) as copy:
            for block in copy:
                buffer.write(block)
        types = {n: pa.float64() if n in NUMBERS else pa.int64() if n in IDS else pa.string() for n in names}
        if buffer.tell():
            table = pacsv.read_csv(io.BytesIO(buffer.getvalue()), read_options=pacsv.ReadOptions(column_names=names),
                                   convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                                        quoted_strings_can_be_null=False))  # fmt: skip
        else:  # no claims: Arrow refuses an empty CSV
            table = pa.table({n: pa.array([], type=types[n]) for n in names})
        frame = table.to_pandas()
    else:
        frame = _sqlite_claims(connection.connection.driver_connection.cursor())  # type: ignore[union-attr]
    return coerce_types(frame)


_NONE = "9e999"  # what SQLite hands over for a NULL number below (infinity: no stored value is one)


def _sqlite_claims(cursor: sqlite3.Cursor) -> pd.DataFrame:
    """The current claims from SQLite with fixed types (inferring a million rows' types costs more
    than reading them), in two passes in id order: the numbers, ids and dates (days since 1970) as one
    2-D float array, a NULL handed over as infinity so that numpy converts the rows at C speed; then
    the texts."""
    numeric = [*IDS, *NUMBERS, *DATES]
    where = "FROM claims WHERE is_current ORDER BY id"
    exprs = [
        f"ifnull(julianday({n}) - 2440587.5, {_NONE})" if n in DATES else f"ifnull({n}, {_NONE})"
        for n in numeric
    ]
    rows = cursor.execute(f"SELECT {', '.join(exprs)} {where}").fetchall()
    try:
        numbers = np.array(rows, dtype="float64") if rows else np.empty((0, len(numeric)))
    except (TypeError, ValueError):  # a number stored as text by some other writer: one value at a time
        numbers = pd.DataFrame(rows).apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    del rows
    numbers[np.isinf(numbers)] = np.nan
    texts = cursor.execute(f"SELECT {', '.join(TEXTS)} {where}").fetchall()
    strings = np.array(texts, dtype=object) if texts else np.empty((0, len(TEXTS)), dtype=object)
    columns: dict[str, Any] = {name: numbers[:, i] for i, name in enumerate(numeric)}
    columns["id"] = columns["id"].astype("int64")
    for i, name in enumerate(TEXTS):
        columns[name] = pd.Series(strings[:, i], dtype=object)
    for name in DATES:
        columns[name] = pd.to_datetime(columns[name], unit="D").round("D")
    return pd.DataFrame({name: columns[name] for name in (*IDS, *TEXTS, *NUMBERS, *DATES)})


def coerce_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as float64 and dates (ISO text or dates) as datetime64, as the rules expect."""
    for name in NUMBERS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in DATES:
        if not pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = pd.to_datetime(frame[name].astype("string").str.slice(0, 10), format="%Y-%m-%d",
                                         errors="coerce")  # fmt: skip
    return frame


def claims_frame(session: Session, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """Current claims with their product's current benchmark and the official grid factor."""
    claims = current_claims(session)
    benchmarks = pd.DataFrame(
        session.execute(select(ProductBenchmark.product_id, ProductBenchmark.id, ProductBenchmark.version,
                               ProductBenchmark.declared_unit, ProductBenchmark.plausible_low, ProductBenchmark.typical,
                               ProductBenchmark.plausible_high, ProductBenchmark.physical_floor)
                        .where(ProductBenchmark.is_current)).all(),
        columns=["product_id", "benchmark_id", "benchmark_version", "benchmark_unit", "plausible_low", "typical",
                 "plausible_high", "physical_floor"],
    )  # fmt: skip
    benchmarks["benchmark_unit"] = benchmarks["benchmark_unit"].map(lambda u: normalise_unit(u) or u)
    for name in ("plausible_low", "typical", "plausible_high", "physical_floor"):
        benchmarks[name] = pd.to_numeric(benchmarks[name], errors="coerce").astype("float64")
    frame = claims.merge(benchmarks.astype({"product_id": "float64"}), on="product_id", how="left")
    factor = session.scalars(select(EmissionFactor).where(EmissionFactor.factor_key == thresholds.official_grid_factor,
                                                          EmissionFactor.is_current)).first()  # fmt: skip
    recognised = set(session.scalars(select(Certifier.name).where(Certifier.is_active)))
    frame["certifier_list_kept"] = bool(recognised)
    frame["certifier_recognised"] = frame["certifier"].fillna("").astype(str).str.strip().isin(recognised)
    frame["official_factor"] = float(factor.value) if factor else float("nan")
    frame["factor_version"] = factor.version if factor else None
    return frame.set_index("id", drop=False)


@dataclass(frozen=True)
class ClaimFinding:
    rule_id: str
    claim_id: int
    evidence: JsonRow


def _plain(value: object) -> object:
    if isinstance(value, list | dict):
        return value  # already plain (peers, problems as message data)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return float(value) if value != int(value) else int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return None if pd.isna(value) else str(value)


def claim_findings(frame: pd.DataFrame, thresholds: Thresholds = Thresholds(),
                   on_rule: Callable[[ClaimRule], None] | None = None) -> list[ClaimFinding]:  # fmt: skip
    """Every rule over the claims; one finding per rule and flagged claim, with its evidence.
    ``on_rule`` is called after each rule (a progress bar)."""
    found: list[ClaimFinding] = []
    if not frame.empty and "unit_ratio" not in frame:
        frame = frame.assign(unit_ratio=unit_ratios(frame))  # once for the benchmark rules
    for rule in RULES:
        if on_rule is not None:
            on_rule(rule)
        if frame.empty:
            continue
        hits = rule.check(frame, thresholds)
        for claim_id, row in zip(hits.index.tolist(), hits.to_dict("records"), strict=True):
            found.append(ClaimFinding(rule.id, int(claim_id), {k: _plain(v) for k, v in row.items()}))
    return found
