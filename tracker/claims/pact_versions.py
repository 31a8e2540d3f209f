"""What a PACT import needs from the registry besides rows: the credit codes of registered
organisations by name (for footprints whose ``companyIds`` hold none), and the version links across
claim ids — a Deprecated footprint is not in force, and a footprint replaces the ones its
``precedingPfIds`` name (in the same file or stored), which are then no longer current.

A footprint may replace only claims of its own company, in a city the importing user may act for;
an id it names that is not in the registry is only recorded (``claims.preceding``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from tracker.access.permissions import scope_to_user
from tracker.claims.pact import DEPRECATED, PactFile
from tracker.core.messages import Message
from tracker.core.validation import Problem
from tracker.models import Claim, Organisation, User

CHUNK = 5000  # keys per IN (...) list


def organisation_codes(session: Session, user: User) -> dict[str, str]:
    """The credit code of each organisation the user may see, by its exact name (a name two codes
    share is left out: it identifies neither)."""
    query = scope_to_user(user, select(Organisation), Organisation.city_id)
    named = [
        (o.name.strip(), o.credit_code)
        for o in session.scalars(query.where(Organisation.credit_code.is_not(None)))
    ]
    counts = Counter(name for name, _code in named)
    return {name: str(code) for name, code in named if counts[name] == 1}


def link_columns(typed: pd.DataFrame, pact: PactFile, rows: np.ndarray) -> pd.DataFrame:
    """The PACT status and precedingPfIds of each row, as content (a footprint turned Deprecated is a
    new version of its claim)."""
    footprints = rows - 2
    preceding = [" ".join(pact.preceding[i]) or None for i in footprints]
    return typed.assign(pact_status=[pact.status[i] for i in footprints], preceding=preceding)


@dataclass
class Retirements:
    """What the import takes out of force: per row of the file, whether it is written not current and
    the claim that replaces it; the stored versions to retire (id → the replacing claim_id, or None);
    how many claims that takes out of force; and what may not be retired."""

    current: pd.Series
    superseded_by: pd.Series
    stored: dict[int, str | None] = field(default_factory=dict)
    count: int = 0
    problems: list[tuple[int, Problem]] = field(default_factory=list)


def plan_retirements(session: Session, pact: PactFile, typed: pd.DataFrame, rows: np.ndarray,
                     allowed: set[int]) -> Retirements:  # fmt: skip
    """Which claims this import retires (see the module docstring); ``typed`` holds the rows with
    their stored versions (``stored_id``, ``stored_hash``)."""
    keys = typed["claim_key"].tolist()
    position = {key: i for i, key in enumerate(keys)}
    successor: dict[str, int] = {}  # a replaced claim_id → the row that replaces it
    for i, footprint in enumerate(rows - 2):
        for before in pact.preceding[footprint]:
            successor.setdefault(before, i)
    replaced_by = pd.Series([keys[successor[k]] if k in successor else None for k in keys], index=typed.index,
                            dtype=object)  # fmt: skip
    retired = (typed["pact_status"] == DEPRECATED) | replaced_by.notna()
    stored = _latest(session, {*successor, *typed.loc[retired, "claim_key"]})
    plan = Retirements(current=~retired, superseded_by=replaced_by)
    codes = typed["credit_code"].fillna("").astype(str).str.upper().tolist()
    for before, after in successor.items():
        known = None if before in position else stored.get(before)  # in the registry, not in this file
        _check(plan, pact, int(rows[after]) - 2, before, codes[after],
               codes[position[before]] if before in position else (known["credit_code"] if known else None),
               known["city_id"] if known else None, allowed)  # fmt: skip
        if before not in position and before in stored:
            plan.stored[stored[before]["id"]] = keys[after]
            plan.count += bool(stored[before]["is_current"])
    for i in map(int, np.flatnonzero(retired.to_numpy())):
        before = stored.get(keys[i])
        if before is None or typed["stored_hash"].iloc[i] != typed["content_hash"].iloc[i]:
            plan.count += before is None or bool(before["is_current"])  # written now, not current
        elif before["is_current"]:  # unchanged, but replaced now
            plan.stored[before["id"]] = replaced_by.iloc[i]
            plan.count += 1
    return plan


def _check(plan: Retirements, pact: PactFile, footprint: int, before: str, code: str, code_before: str | None,
           city_before: int | None, allowed: set[int]) -> None:  # fmt: skip
    """A footprint may replace only its own company's claims, in a city the user may act for."""
    if code_before is None:
        return  # not in the registry: only recorded
    if str(code_before).upper() != code:
        plan.problems.append((footprint, pact.at(footprint, "precedingPfIds", Message(
            "其中的{key}是另一企业（{credit_code}）的声明，不能由本声明取代", key=before, credit_code=code_before))))  # fmt: skip
    elif city_before is not None and int(city_before) not in allowed:
        plan.problems.append((footprint, pact.at(footprint, "precedingPfIds", Message(
            "其中的{key}是您无权更新的城市的声明", key=before))))  # fmt: skip


class StoredVersion(TypedDict):
    """The latest stored version of a claim id, as far as retiring it needs."""

    id: int
    version: int
    is_current: bool
    city_id: int
    credit_code: str


def _latest(session: Session, keys: set[str]) -> dict[str, StoredVersion]:
    """The latest stored version of each of these claim ids: id, current or not, city, credit code."""
    found: dict[str, StoredVersion] = {}
    wanted = sorted(keys)
    for start in range(0, len(wanted), CHUNK):
        query = select(
            Claim.claim_key, Claim.id, Claim.version, Claim.is_current, Claim.city_id, Claim.credit_code
        )
        for key, claim_id, version, current, city_id, code in session.execute(
            query.where(Claim.claim_key.in_(wanted[start : start + CHUNK]))
        ):
            if key not in found or version > found[key]["version"]:
                found[key] = {"id": claim_id, "version": version, "is_current": current, "city_id": city_id,
                              "credit_code": code}  # fmt: skip
    return found


def retire(connection: Connection, stored: dict[int, str | None]) -> None:
    """Take these stored versions out of force, each with the claim_id that replaced it."""
    if not stored:
        return
    table = cast(Table, Claim.__table__)
    statement = (update(table).where(table.c.id == bindparam("version_id"))
                 .values(is_current=False, superseded_by=bindparam("replaced_by")))  # fmt: skip
    connection.execute(statement, [{"version_id": k, "replaced_by": v} for k, v in stored.items()])
