"""Claims at national scale: import and full-scan throughput (issue 5, docs/PERFORMANCE.md).

Run:  .venv/bin/python -m bench.claims [--claims 1000000] [--runs 3] [--backend sqlite|postgresql|both]

Generates a synthetic exchange file (tracker.claims.synth: realistic values around each product's
benchmark, 5% of claims with a planted problem; cached under var/bench/), then for each run and
backend: a fresh database (a temporary SQLite file; a PostgreSQL database on 127.0.0.1 created and
dropped), the catalogue, and times
  import  tracker.claims.registry.import_claims of the whole file, committed (claims/s);
  scan    tracker.claims.scan.scan_claims over all current versions, storing every flag, committed;
  rescan  the same scan again (nothing new: every flag seen again).
In the same run, on the same file, the physical limits the two are measured against (issue 21):
  copy    a bare PostgreSQL COPY of the CSV (psycopg ``cursor.copy``, the file's bytes as they are)
          into an ordinary table of the file's columns typed as the claims table types them
          (numeric, date, text), no index, committed; timed in each run's PostgreSQL database;
  pandas  a bare pandas pass of the same rules: read the CSV (pandas with the pyarrow engine), join
          the catalogue's benchmarks and compute each rule's mask, vectorised, no database and
          no evidence or flags (``bare_pandas``).
and the peak resident set of the first scan (VmHWM from /proc/self/status, reset through
/proc/self/clear_refs just before the scan, so the import's own peak does not count; the
database server's memory is not included). Prints each run, the medians and the ratios
import/COPY (PostgreSQL) and scan/pandas. Targets on the 2-core machine: import >= 100,000
claims/s on PostgreSQL (<= 2.5x the bare COPY) and >= 60,000/s on SQLite; a full scan with flag
storage <= 1.5x the bare pandas pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import create_engine, select, text

import tracker.audit.trail  # noqa: F401  (audit hooks)
from tracker.access.accounts import create_user
from tracker.catalogue import load_catalogue, read_rows
from tracker.claims.exchange import BOUNDARIES, LABELS, UNIT_SIZES, normalise_unit
from tracker.claims.registry import import_claims
from tracker.claims.scan import scan_claims
from tracker.claims.synth import generate, to_csv
from tracker.core.creditcode import validate_credit_code
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.migrate import upgrade_database
from tracker.models import Boundary, LabelType, Role, User

CACHE = Path(__file__).resolve().parents[1] / "var" / "bench"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1"


def claims_file(count: int) -> Path:
    path = CACHE / f"claims_{count}.csv"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        frame = generate(count, seed=2025)
        to_csv(frame, path)
        frame[["claim_id", "issue"]].to_csv(path.with_suffix(".labels.csv"), index=False)
    return path


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _peak_reset() -> int:
    """Reset the process's peak resident set to its current size; the current size in bytes."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    return _status_bytes("VmRSS")


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def one_run(backend: str, path: Path) -> dict[str, float]:
    content = path.read_bytes()
    with fresh_database(backend) as url:
        figures: dict[str, float] = {}
        if backend == "postgresql":
            figures["copy"] = seconds(lambda: bare_copy(url, content))
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with transaction(factory, actor="bench") as session:
            load_catalogue(session)
            create_user(session, username="bench", display_name="bench", role=Role.PROVINCE_STAFF,
                        password="Bench-2025-cfp")  # fmt: skip

        def run_import() -> None:
            with transaction(factory, actor="bench") as session:
                user = session.scalars(select(User).where(User.username == "bench")).one()
                result = import_claims(session, user, content, path.name)
                assert result.new > 0

        found: dict[str, int] = {}

        def run_scan() -> None:
            with transaction(factory, actor="bench") as session:
                result = scan_claims(session, now=dt.datetime.now(dt.UTC))
                found.update(result.by_rule)

        figures["import"] = seconds(run_import)
        before = _peak_reset()
        figures["scan"] = seconds(run_scan)
        figures["scan_peak"] = _status_bytes("VmHWM")
        figures["scan_growth"] = figures["scan_peak"] - before
        figures["rescan"] = seconds(run_scan)
        engine.dispose()
    counted: dict[str, int] = {}
    figures["pandas"] = seconds(lambda: counted.update(bare_pandas(path)))
    differ = {rule: (found.get(rule, 0), n) for rule, n in counted.items() if found.get(rule, 0) != n}
    if differ:  # the bare pass must be the same rules: each mask holds what the scan flagged
        print(f"  scan and bare pandas disagree (scan, pandas): {differ}", flush=True)
    return figures


# --- the physical limits -----------------------------------------------------------------------------

# The exchange file's columns as the claims table types them (tracker.models.claims).
_TYPES = {"footprint_kgco2e": "numeric(18,6)", "electricity_factor": "numeric(10,6)",
          "claimed_reduction_pct": "numeric(7,3)", "period_start": "date", "period_end": "date",
          "certificate_issued": "date", "certificate_expires": "date", "published_on": "date"}  # fmt: skip
_NUMBERS = ("stage_raw_materials", "stage_manufacturing", "stage_transport", "stage_use", "stage_end_of_life",
            "electricity_kwh", "green_power_kwh", "offsets_kgco2e", "baseline_kgco2e")  # fmt: skip


def bare_copy(url: str, content: bytes) -> None:
    """COPY the file as it is into an ordinary table of its columns (no index, no constraint), committed."""
    header = content[: content.index(b"\n")].decode("utf-8").lstrip("\ufeff").strip().split(",")
    columns = ", ".join(f"{name} {_TYPES.get(name, 'numeric(18,6)' if name in _NUMBERS else 'text')}"
                        for name in header)  # fmt: skip
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE bare_claims ({columns})")
            with cursor.copy("COPY bare_claims FROM STDIN (FORMAT csv, HEADER true)") as copy:
                view = memoryview(content)
                for start in range(0, len(view), 1 << 20):
                    copy.write(view[start : start + (1 << 20)])
        connection.commit()


def bare_pandas(path: Path) -> dict[str, int]:
    """The same rules as tracker.claims.rules, each as one vectorised mask over the file read by
    pandas (benchmarks, grid factor and certifier list from the catalogue, as the bench's database
    holds them): how many claims each mask holds. No database, no evidence, no flags."""
    dates = ["period_start", "period_end", "certificate_issued", "certificate_expires", "published_on"]
    texts = ["claim_id", "company_name", "credit_code", "city", "product", "model", "declared_unit", "boundary",
             "standard", "label_type", "certifier", "certificate_no"]  # fmt: skip
    c = pd.read_csv(path, engine="pyarrow", dtype={name: "string" for name in texts}, parse_dates=dates)
    marks = pd.DataFrame([{"product": r["product"], "benchmark_unit": normalise_unit(r["declared_unit"]),
                           **{k: float(r[k]) for k in ("plausible_low", "plausible_high", "physical_floor")}}
                          for r in read_rows("benchmarks.csv")])  # fmt: skip
    c = c.merge(marks, on="product", how="left")
    official = next(
        float(r["value"]) for r in read_rows("emission_factors.csv") if r["factor_id"] == "north_china_2023"
    )
    recognised: set[str] = set()  # the catalogue lists no certifier: the bench's database holds none
    unit = c["declared_unit"].map({u: normalise_unit(u) for u in c["declared_unit"].dropna().unique()})
    size = {u: s for u, (_d, s) in UNIT_SIZES.items()}
    dim = {u: d for u, (d, _s) in UNIT_SIZES.items()}
    ratio = (c["benchmark_unit"].map(size) / unit.map(size)).where(
        unit.map(dim) == c["benchmark_unit"].map(dim)
    )
    ratio = ratio.mask(unit.notna() & (unit == c["benchmark_unit"]), 1.0)
    total = c["footprint_kgco2e"] * ratio
    low, high, floor = c["plausible_low"], c["plausible_high"], c["physical_floor"]
    label = c["label_type"].map({k: v.value for k, v in LABELS.items()})
    certified = label.isin([LabelType.THIRD_PARTY.value, LabelType.CARBON_NEUTRAL.value])
    boundary = c["boundary"].map({k: v.value for k, v in BOUNDARIES.items()})
    stages = c[
        ["stage_raw_materials", "stage_manufacturing", "stage_transport", "stage_use", "stage_end_of_life"]
    ]
    summed = stages.sum(axis=1, min_count=1)
    tolerance = (c["footprint_kgco2e"].abs() * 0.01).clip(lower=0.01)
    number = c["certificate_no"].fillna("").str.strip()
    numbered = c[number != ""]
    sharing = numbered.groupby("certificate_no")["credit_code"].nunique()
    certifier = c["certifier"].fillna("").str.strip()
    pact = pd.Series(False, index=c.index)  # a CSV holds no PACT claim
    codes = c["credit_code"].fillna("")
    invalid = {code: bool(validate_credit_code(code).errors) for code in codes.unique()}
    baseline, claimed = c["baseline_kgco2e"], c["claimed_reduction_pct"]
    computed = (baseline - c["footprint_kgco2e"]) / baseline * 100
    # Copies are compared per base unit of a dimension (per kg, per kWh; a unit with no size is its own
    # dimension), to 12 significant digits: 0.7482 per kg and 0.7482 per kWh are not copies of each other.
    base_size = unit.map(size).fillna(1.0)
    per_base = pd.DataFrame({"dimension": unit.map(dim).fillna(unit).fillna("")}, index=c.index)
    for name in ["footprint_kgco2e", *stages.columns]:
        x = (c[name] / base_size).to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            digits = 11 - np.floor(np.log10(np.abs(x)))
        scale = 10.0 ** np.where(np.isfinite(digits), digits, 0)
        per_base[name] = np.round(x * scale) / scale
    per_base["credit_code"] = c["credit_code"]
    figures = [*per_base.columns.drop("credit_code")]
    masks = {
        "STAGE_SUM_MISMATCH": stages.notna().any(axis=1) & ((c["footprint_kgco2e"] - summed).abs() > tolerance),
        "BELOW_PHYSICAL_FLOOR": ratio.notna() & floor.notna() & (total < floor),
        "OUTSIDE_PLAUSIBLE_RANGE": ratio.notna() & low.notna() & (total >= floor) & ((total < low) | (total > high)),
        "UNIT_SLIP": ratio.notna() & low.notna() & ((total < low) | (total > high))
        & ((total / 1000).between(low, high) | (total * 1000).between(low, high)),
        "UNIT_NOT_COMPARABLE": c["benchmark_unit"].notna() & (floor.notna() | low.notna()) & ratio.isna(),
        "OFFSETS_NETTED": c["offsets_kgco2e"] > 0,
        "CERTIFIED_WITHOUT_CERTIFICATE": certified & ~pact & (number == ""),
        "VERIFIER_NOT_NAMED": certified & pact & (certifier == ""),
        "CERTIFICATE_EXPIRED": c["certificate_expires"].notna() & (c["certificate_expires"] < c["published_on"]),
        "CERTIFICATE_AFTER_PUBLICATION": c["certificate_issued"].notna()
        & (c["certificate_issued"] > c["published_on"]) & certified,
        "CERTIFICATE_SHARED": c["certificate_no"].isin(sharing[sharing > 1].index),
        "PERIOD_AFTER_PUBLICATION": c["period_end"] > c["published_on"],
        "STALE_PERIOD": (c["published_on"] - c["period_end"]).dt.days / 365.25 > 3.0,
        "LOW_GRID_FACTOR": c["electricity_factor"].notna() & (c["electricity_factor"] < official * 0.8)
        & (c["green_power_kwh"].fillna(0) <= 0),
        "REDUCTION_MISMATCH": baseline.gt(0) & claimed.notna() & ((computed - claimed).abs() > 2.0),
        "GRAVE_WITHOUT_USE_STAGES": (boundary == Boundary.CRADLE_TO_GRAVE.value)
        & (c["stage_use"].fillna(0) + c["stage_end_of_life"].fillna(0) <= 0),
        "INVALID_CREDIT_CODE": codes.map(invalid),
        "UNRECOGNISED_CERTIFIER": certified & (certifier != "") & ~certifier.isin(recognised) & bool(recognised),
        "COPIED_FIGURES": per_base.groupby(figures, dropna=False)["credit_code"].transform("nunique") > 1,
    }  # fmt: skip
    return {
        rule: int(np.count_nonzero(mask.to_numpy(dtype=bool, na_value=False))) for rule, mask in masks.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    path = claims_file(args.claims)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        runs = []
        for number in range(1, args.runs + 1):
            figures = one_run(backend, path)
            runs.append(figures)
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            print(f"{backend} run {number}: {_line(figures, args.claims)} (load average {load})", flush=True)
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(f"{backend} median of {args.runs}: {_line(median, args.claims)}", flush=True)


def _line(figures: dict[str, float], claims: int) -> str:
    line = (f"import {figures['import']:.1f} s ({claims / figures['import']:,.0f} claims/s), "
            f"scan {figures['scan']:.1f} s (peak RSS {figures['scan_peak'] / 2**20:,.0f} MiB, "
            f"{(figures['scan_peak'] - figures['scan_growth']) / 2**20:,.0f} MiB at its start), "
            f"rescan {figures['rescan']:.1f} s; "
            f"bare pandas {figures['pandas']:.1f} s, scan/pandas {figures['scan'] / figures['pandas']:.2f}")  # fmt: skip
    if "copy" in figures:
        line += (f"; bare COPY {figures['copy']:.1f} s ({claims / figures['copy']:,.0f} rows/s), "
                 f"import/COPY {figures['import'] / figures['copy']:.2f}")  # fmt: skip
    return line


if __name__ == "__main__":
    main()
