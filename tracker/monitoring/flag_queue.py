"""The flag review queue (风险线索核查): the rows of the page and its export, and one flag's detail —
its evidence beside the benchmark and electricity factor versions it was judged against, the
claim's versions, and the review steps taken.

Plain data built on ``tracker.access.permissions.visible_flags``: a city user reads only their city's
flags, the province and leaders of the whole province every flag. A flag outside the user's scope
is answered exactly like one that does not exist.

The queue can also be read grouped (``flag_groups``): the same rule on the same subject — one
pilot's progress reports, one claim id's versions — in the same city is one group, however many
periods it repeats over. The grouping is done by the database (GROUP BY over the whole filtered
queue, then pages of groups), and a group is named by its lowest flag id: the server finds the
group again from that flag (``group_members``), never from ids a browser sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard, TypeVar, TypeVarTuple

from sqlalchemy import ColumnElement, Select, String, Subquery, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from tracker.access.permissions import (
    PROVINCIAL_ROLES,
    WRITING_ROLES,
    may_assign_flag_to,
    may_review_flag,
    scope_to_user,
    visible_cities,
    visible_flags,
)
from tracker.claims.rules import RULES as CLAIM_RULES
from tracker.claims.rules import Thresholds
from tracker.core.i18n import english, label_of
from tracker.core.messages import Shown
from tracker.core.periods import Period
from tracker.models import (
    City,
    Claim,
    EmissionFactor,
    Flag,
    FlagStatus,
    Pilot,
    Product,
    ProductBenchmark,
    ProgressUpdate,
    Role,
    Severity,
    Subject,
    User,
    WorkflowStep,
)
from tracker.models.labels import Others, evidence_shown
from tracker.progress.consistency import RULES as PROGRESS_RULES

# A status filter value beside the stored statuses: a city's proposal waits for the province.
PROPOSED = "proposed"
# The queue opens on the flags that still need someone: not yet looked at, being checked, or a
# city's proposal awaiting the province (also on a confirmed flag).
DEFAULT_STATUSES = (FlagStatus.OPEN.value, FlagStatus.UNDER_REVIEW.value, PROPOSED)
RULE_IDS = tuple(r.id for r in CLAIM_RULES) + tuple(r.id for r in PROGRESS_RULES)
MAX_CHOICES = 200  # more filter values than the page offers: the rest is ignored
# What a version of a claim says (not how it was received): compared between versions.
CLAIM_CONTENT = (
    "company_name", "credit_code", "city_id", "product", "model", "declared_unit", "footprint", "boundary",
    "standard", "period_start", "period_end", "stage_raw_materials", "stage_manufacturing", "stage_transport",
    "stage_use", "stage_end_of_life", "electricity_kwh", "electricity_factor", "green_power_kwh", "offsets",
    "label_type", "certifier", "certificate_no", "certificate_issued", "certificate_expires", "published_on",
    "baseline", "claimed_reduction_pct",
)  # fmt: skip
V = TypeVar("V")
Ts = TypeVarTuple("Ts")
# The queue's rows: the flag and what the queue names it by (the columns ``_queue`` adds, outer joined).
QueueSelect = Select[
    Flag, str, str | None, str | None, str | None, str | None, str | None, str | None,
    dt.date | None, dt.date | None, dt.date | None, dt.date | None,
]  # fmt: skip
_SEVERITY_RANK = case({Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}, value=Flag.severity, else_=3)


@dataclass(frozen=True)
class FlagFilters:
    """Filters chosen on the page; an empty one means "all". Values are ids or stored values."""

    severities: Sequence[str] = ()
    rule_ids: Sequence[str] = ()
    city_ids: Sequence[int] = ()
    product_ids: Sequence[int] = ()
    statuses: Sequence[str] = DEFAULT_STATUSES

    @classmethod
    def from_inputs(cls, **values: object) -> FlagFilters:
        """Build from untrusted page inputs: anything not a list of known values is dropped."""
        return cls(
            severities=_clean(values.get("severities"), str, {s.value for s in Severity}),
            rule_ids=_clean(values.get("rule_ids"), str, set(RULE_IDS)),
            city_ids=_clean(values.get("city_ids"), int),
            product_ids=_clean(values.get("product_ids"), int),
            statuses=_clean(values.get("statuses"), str, {s.value for s in FlagStatus} | {PROPOSED}),
        )


def _clean(raw: object, kind: type[V], allowed: set[V] | None = None) -> tuple[V, ...]:
    items = raw if isinstance(raw, list | tuple) else ([] if raw in (None, "") else [raw])
    return tuple(v for v in items[:MAX_CHOICES] if _acceptable(v, kind, allowed))


def _acceptable(value: object, kind: type[V], allowed: set[V] | None) -> TypeGuard[V]:
    if isinstance(value, bool) or not isinstance(value, kind):
        return False
    if isinstance(value, int) and not 0 < value < 2**31:
        return False  # no database id looks like this; SQLite would overflow on it
    return allowed is None or value in allowed


@dataclass(frozen=True)
class QueueLine:
    """One flag of the queue, with the names the reviewer knows it by."""

    id: int
    severity: Severity
    rule_id: str
    status: FlagStatus
    message: str
    subject_type: Subject  # CLAIM or UPDATE
    city: str
    subject: str  # the company (claim) or the pilot (progress report)
    product: str
    claim_key: str  # the claim's own id; for a progress report, its period (2025年10月)
    first_seen: dt.datetime
    last_seen: dt.datetime
    assignee: str
    pilot_id: int | None
    proposal: str | None = None  # a city's pending proposal: "dismiss" | "resolve"
    period_start: dt.date | None = None  # the report's period (progress flags) or the claim's
    period_end: dt.date | None = None


def flag_queue(
    session: Session, user: User, filters: FlagFilters, limit: int | None = None, offset: int = 0
) -> list[QueueLine]:
    """The flags the user may see that the filters keep: the most severe first, then the latest seen;
    ``limit`` of them from ``offset`` (a national scan can leave tens of thousands: pages)."""
    stmt = _queue(user, filters).order_by(_SEVERITY_RANK, Flag.last_seen.desc(), Flag.id.desc())
    visible = reader_cities(session, user)
    return [_line(*row, visible=visible) for row in session.execute(stmt.limit(limit).offset(offset))]


def reader_cities(session: Session, user: User) -> set[int]:
    """The ids of the cities the user may see: a flag's text names other companies of these only."""
    return set(session.scalars(visible_cities(user).with_only_columns(City.id)))


def flag_lines(session: Session, user: User, ids: set[int]) -> list[QueueLine]:
    """These flags as queue lines, those the user may see (any status)."""
    if not ids:
        return []
    stmt = _queue(user, FlagFilters(statuses=())).where(Flag.id.in_(sorted(ids)))
    visible = reader_cities(session, user)
    return [_line(*row, visible=visible) for row in session.execute(stmt)]


def flag_count(session: Session, user: User, filters: FlagFilters) -> int:
    """How many flags ``flag_queue`` has for these filters, all pages together."""
    return int(session.scalar(select(func.count()).select_from(_queue(user, filters).subquery())) or 0)


_PILOT_PRODUCT, _ASSIGNEE = aliased(Product), aliased(User)

# The rule whose flags are the claims no benchmark could judge (their unit does not convert).
UNCOMPARABLE = "UNIT_NOT_COMPARABLE"
GROUP_LIMIT = 1000  # flags one action on a group may change (more: narrow the filters first)
_RANKED = {0: Severity.HIGH, 1: Severity.MEDIUM, 2: Severity.LOW}


@dataclass(frozen=True)
class QueueGroup:
    """Flags of one rule on one subject (a pilot's reports, a claim id's versions) in one city: one
    row of the grouped queue, with how many there are and the periods they were found for."""

    first: int  # the lowest flag id among them: how the page names the group
    rule_id: str
    subject_type: Subject
    severity: Severity  # the most severe of them
    count: int
    city: str
    subject: str  # the company (claims) or the pilot (progress reports)
    product: str
    claim_key: str  # the claim's own id; empty for progress reports (their periods tell them apart)
    first_seen: dt.datetime  # the earliest first seen
    last_seen: dt.datetime  # the latest last seen
    periods: tuple[tuple[dt.date, dt.date], ...]  # distinct, oldest first
    statuses: dict[FlagStatus, int]
    proposals: int  # how many carry a city's pending proposal
    assignee: str  # the one person every assigned member is assigned to; "" when none or several


def rule_counts(session: Session, user: User, filters: FlagFilters) -> dict[str, int]:
    """How many of the user's flags each rule has under every filter but the rule filter (the rule
    filter's options say so)."""
    stmt = _filtered(_joined(user), replace(filters, rule_ids=()))
    counted = stmt.with_only_columns(Flag.rule_id, func.count()).group_by(Flag.rule_id)
    return {str(rule): int(n) for rule, n in session.execute(counted)}


def _subject_key() -> ColumnElement[str]:
    """What a group's flags share beyond rule, kind and city: the pilot of a progress flag, the
    claim id of a claim flag. A flag whose subject is gone is a group of its own."""
    own = literal("#") + cast(Flag.id, String)
    return case(
        (Flag.subject_type == Subject.UPDATE, func.coalesce(cast(Flag.pilot_id, String), own)),
        else_=func.coalesce(Claim.claim_key, own),
    )


def _group_city() -> ColumnElement[int]:
    return func.coalesce(Flag.city_id, 0)


def _members(user: User, filters: FlagFilters) -> Subquery:
    """One row per flag of the filtered queue, with its group's key and what a group row shows."""
    claim = Flag.subject_type == Subject.CLAIM
    return _filtered(_joined(user), filters).with_only_columns(
        Flag.id.label("id"), Flag.rule_id.label("rule_id"), Flag.subject_type.label("subject_type"),
        _group_city().label("city_id"), _subject_key().label("subject_key"), _SEVERITY_RANK.label("rank"),
        Flag.first_seen.label("first_seen"), Flag.last_seen.label("last_seen"), Flag.status.label("status"),
        Flag.proposal.label("proposal"), Flag.assigned_to_id.label("assigned_to_id"),
        _city_name().label("city"), case((claim, Claim.company_name), else_=Pilot.name).label("subject"),
        case((claim, Claim.product), else_=_product_name()).label("product"),
        case((claim, Claim.claim_key), else_=None).label("claim_key"), _ASSIGNEE.display_name.label("assignee"),
        func.coalesce(ProgressUpdate.period_start, Claim.period_start).label("period_start"),
        func.coalesce(ProgressUpdate.period_end, Claim.period_end).label("period_end"),
    ).subquery()  # fmt: skip


# Any: SQLAlchemy types a select() of more than ten columns as Select[*tuple[Any, ...]].
def _groups(members: Subquery) -> Select[*tuple[Any, ...]]:
    m = members.c
    return select(
        func.min(m.id).label("first"), m.rule_id, m.subject_type, m.city_id, m.subject_key, func.count().label("n"),
        func.min(m.rank).label("rank"), func.min(m.first_seen).label("first_seen"),
        func.max(m.last_seen).label("last_seen"), func.max(m.city).label("city"), func.max(m.subject).label("subject"),
        func.max(m.product).label("product"), func.max(m.claim_key).label("claim_key"),
        func.count(m.proposal).label("proposals"), func.count(func.distinct(m.assigned_to_id)).label("assignees"),
        func.max(m.assignee).label("assignee"),
    ).group_by(m.rule_id, m.subject_type, m.city_id, m.subject_key)  # fmt: skip


def group_count(session: Session, user: User, filters: FlagFilters) -> int:
    """How many groups ``flag_groups`` has for these filters, all pages together."""
    grouped = _groups(_members(user, filters)).subquery()
    return int(session.scalar(select(func.count()).select_from(grouped)) or 0)


def flag_groups(
    session: Session, user: User, filters: FlagFilters, limit: int | None = None, offset: int = 0
) -> list[QueueGroup]:
    """The filtered queue grouped by rule and subject (grouped by the database over every flag the
    filters keep, not within a page): the most severe group first, then the latest seen; ``limit``
    groups from ``offset``."""
    members = _members(user, filters)
    stmt = _groups(members)
    stmt = stmt.order_by(
        func.min(members.c.rank), func.max(members.c.last_seen).desc(), func.min(members.c.id).desc()
    )
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    if not rows:
        return []
    # The page's groups' periods and statuses, counted by the database too.
    m = members.c
    spread = session.execute(
        select(m.rule_id, m.subject_type, m.city_id, m.subject_key, m.period_start, m.period_end, m.status,
               func.count())
        .where(m.subject_key.in_({row.subject_key for row in rows}), m.rule_id.in_({row.rule_id for row in rows}))
        .group_by(m.rule_id, m.subject_type, m.city_id, m.subject_key, m.period_start, m.period_end, m.status)
    ).all()  # fmt: skip
    periods: dict[tuple[object, ...], set[tuple[dt.date, dt.date]]] = {}
    statuses: dict[tuple[object, ...], dict[FlagStatus, int]] = {}
    for rule, kind, city, subject, start, end, status, n in spread:
        key = (rule, kind, city, subject)
        if start is not None and end is not None:
            periods.setdefault(key, set()).add((start, end))
        counted = statuses.setdefault(key, {})
        counted[FlagStatus(status)] = counted.get(FlagStatus(status), 0) + int(n)
    groups = []
    for row in rows:
        key = (row.rule_id, row.subject_type, row.city_id, row.subject_key)
        groups.append(QueueGroup(
            first=int(row.first), rule_id=row.rule_id, subject_type=Subject(row.subject_type),
            severity=_RANKED.get(int(row.rank), Severity.LOW), count=int(row.n), city=row.city or "",
            subject=row.subject or "", product=row.product or "", claim_key=row.claim_key or "",
            first_seen=row.first_seen, last_seen=row.last_seen, periods=tuple(sorted(periods.get(key, ()))),
            statuses=statuses.get(key, {}), proposals=int(row.proposals),
            assignee=(row.assignee or "") if int(row.assignees) == 1 else "",
        ))  # fmt: skip
    return groups


def group_members(
    session: Session, user: User, first: object, filters: FlagFilters
) -> list[QueueLine] | None:
    """Every flag of the group that flag ``first`` belongs to, under the filters, the most severe
    and latest first; None when the user may not see flag ``first`` (as for one that does not
    exist). The group is found again here, from the database: rule, kind, city and subject of that
    flag, in the user's scope."""
    flag = find_visible_flag(session, user, first)
    if flag is None:
        return None
    subject = session.scalar(_joined(user).with_only_columns(_subject_key()).where(Flag.id == flag.id))
    stmt = _queue(user, filters).where(
        Flag.rule_id == flag.rule_id, Flag.subject_type == flag.subject_type,
        _group_city() == (flag.city_id or 0), _subject_key() == subject,
    )  # fmt: skip
    stmt = stmt.order_by(_SEVERITY_RANK, Flag.last_seen.desc(), Flag.id.desc())
    visible = reader_cities(session, user)
    return [_line(*row, visible=visible) for row in session.execute(stmt.limit(GROUP_LIMIT + 1))]


def _joined(user: User) -> Select[Flag]:
    """The user's flags with what the queue names them by (the claim or report, pilot, assignee)."""
    return (
        visible_flags(user)
        .outerjoin(Claim, and_(Flag.subject_type == Subject.CLAIM, Claim.id == Flag.subject_id))
        .outerjoin(ProgressUpdate, and_(Flag.subject_type == Subject.UPDATE, ProgressUpdate.id == Flag.subject_id))
        .outerjoin(Pilot, Pilot.id == Flag.pilot_id)
        .outerjoin(_PILOT_PRODUCT, _PILOT_PRODUCT.id == Pilot.product_id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Flag.assigned_to_id)
    )  # fmt: skip


def _city_name() -> QueryableAttribute[str]:
    """The flag's city as the reader names it (the catalogue's English name in English)."""
    return City.name_en if english() else City.short_zh


def _product_name() -> QueryableAttribute[str] | ColumnElement[str]:
    """A pilot's product in the reader's language, capitalised like ``name_of`` gives it (a claim's
    product stays as its label gives it)."""
    if not english():
        return _PILOT_PRODUCT.name_zh
    name = _PILOT_PRODUCT.name_en
    return func.upper(func.substr(name, 1, 1)).concat(func.substr(name, 2))


def _queue(user: User, filters: FlagFilters) -> QueueSelect:
    stmt = _joined(user).add_columns(
        _city_name(), Claim.company_name, Claim.product, Claim.claim_key, Pilot.name, _product_name(),
        _ASSIGNEE.display_name, ProgressUpdate.period_start, ProgressUpdate.period_end, Claim.period_start,
        Claim.period_end,
    )  # fmt: skip
    return _filtered(stmt, filters)


def _filtered(stmt: Select[*Ts], filters: FlagFilters) -> Select[*Ts]:
    if filters.severities:
        stmt = stmt.where(Flag.severity.in_([Severity(s) for s in filters.severities]))
    if filters.rule_ids:
        stmt = stmt.where(Flag.rule_id.in_(filters.rule_ids))
    if filters.city_ids:
        stmt = stmt.where(Flag.city_id.in_(filters.city_ids))
    if filters.statuses:
        stored = [FlagStatus(s) for s in filters.statuses if s != PROPOSED]
        wanted = [Flag.status.in_(stored)] if stored else []
        if PROPOSED in filters.statuses:
            wanted.append(Flag.proposal.is_not(None))
        stmt = stmt.where(or_(*wanted))
    if filters.product_ids:
        stmt = stmt.where(or_(Claim.product_id.in_(filters.product_ids),
                              and_(Flag.subject_type == Subject.UPDATE, Pilot.product_id.in_(filters.product_ids))))  # fmt: skip
    return stmt


def _line(flag: Flag, city: str, company: str | None, claim_product: str | None, claim_key: str | None,
          pilot: str | None, pilot_product: str | None, assignee: str | None,
          period: dt.date | None, period_end: dt.date | None, claim_start: dt.date | None,
          claim_end: dt.date | None, *, visible: set[int]) -> QueueLine:  # fmt: skip
    claim = flag.subject_type == Subject.CLAIM
    recorded_key = flag.evidence.get("claim_id") if isinstance(flag.evidence, dict) else None
    return QueueLine(
        id=flag.id, severity=flag.severity, rule_id=flag.rule_id, status=flag.status, message=flag.message_for(visible).text(),
        subject_type=flag.subject_type, city=city, subject=(company if claim else pilot) or pilot or "",
        product=(claim_product if claim else pilot_product) or "",
        claim_key=str(recorded_key or claim_key or "") if claim else (label_of(Period(period, period_end or period)) if period else ""),
        first_seen=flag.first_seen, last_seen=flag.last_seen, assignee=assignee or "", pilot_id=flag.pilot_id,
        proposal=flag.proposal, period_start=claim_start if claim else period,
        period_end=claim_end if claim else period_end,
    )  # fmt: skip


def find_visible_flag(session: Session, user: User, flag_id: object) -> Flag | None:
    """The flag if it exists and the user may see it (one answer for both, so nothing leaks)."""
    if isinstance(flag_id, bool) or not isinstance(flag_id, int) or not 0 < flag_id < 2**31:
        return None
    return session.scalars(visible_flags(user).where(Flag.id == flag_id)).first()


@dataclass(frozen=True)
class ClaimVersion:
    """One version of the claim, with what changed since the version before it (field → old, new)."""

    claim: Claim
    changes: dict[str, tuple[object, object]]
    judged: bool  # the version the flag was judged on


@dataclass(frozen=True)
class LibraryVersion:
    """The benchmark or factor version a flag recorded, and whether it is still the current one."""

    recorded: int | None  # the version number in the flag's evidence
    row: ProductBenchmark | EmissionFactor | None  # None: no such version is stored
    current_version: int | None

    @property
    def is_current(self) -> bool:
        return self.row is not None and self.row.is_current


@dataclass(frozen=True)
class FlagDetail:
    flag: Flag
    assignee: User | None
    steps: list[WorkflowStep]
    proposed_by: User | None = None  # who made the pending proposal
    claim: Claim | None = None  # the claim version judged (claim flags)
    benchmark: LibraryVersion | None = None
    factor: LibraryVersion | None = None
    history: list[ClaimVersion] = field(default_factory=list)
    update: ProgressUpdate | None = None  # the progress report judged (update flags)
    others: Others | None = None  # the other claims a cross-claim flag names, as the reader may see them
    links: dict[str, int] = field(default_factory=dict)  # a named claim's key → the same rule's flag on it
    visible: set[int] | None = None  # the reader's cities: whose companies the flag's text may name

    @property
    def message(self) -> Shown:
        """What the flag found, for this reader."""
        return self.flag.message_for(self.visible)


def flag_detail(session: Session, user: User, flag_id: object) -> FlagDetail | None:
    """Everything the review panel shows about one flag; None when the user may not see it."""
    flag = find_visible_flag(session, user, flag_id)
    if flag is None:
        return None
    assignee = session.get(User, flag.assigned_to_id) if flag.assigned_to_id else None
    proposer = session.get(User, flag.proposed_by_id) if flag.proposed_by_id else None
    steps = list(session.scalars(
        select(WorkflowStep).where(WorkflowStep.subject_type == Subject.FLAG, WorkflowStep.subject_id == flag.id)
        .order_by(WorkflowStep.at, WorkflowStep.id)
    ))  # fmt: skip
    if flag.subject_type == Subject.UPDATE:
        update = session.get(ProgressUpdate, flag.subject_id)
        if update is not None and update.pilot_id != flag.pilot_id:
            update = None  # not the report this flag is about
        return FlagDetail(flag, assignee, steps, proposer, update=update)
    claim = session.get(Claim, flag.subject_id) if flag.subject_type == Subject.CLAIM else None
    if claim is None or claim.city_id != flag.city_id:
        return FlagDetail(flag, assignee, steps, proposer)
    evidence = flag.evidence if isinstance(flag.evidence, dict) else {}
    visible = reader_cities(session, user)
    others = evidence_shown(evidence, visible).get("others")
    others = others if isinstance(others, Others) else None
    return FlagDetail(
        flag, assignee, steps, proposer, claim=claim, others=others, visible=visible,
        links=_links(session, user, flag.rule_id, others) if others else {},
        benchmark=_benchmark(session, claim.product_id, _version(evidence.get("benchmark_version"))),
        factor=_factor(session, str(evidence.get("factor_key") or Thresholds().official_grid_factor),
                       _version(evidence.get("factor_version"))),
        history=claim_history(session, user, claim),
    )  # fmt: skip


def _links(session: Session, user: User, rule_id: str, others: Others) -> dict[str, int]:
    """For each other claim the reader sees named, the same rule's latest flag on its current version,
    when the reader may open it."""
    keys = [str(o.get("claim")) for o in others.named()]
    rows = session.execute(
        visible_flags(user).with_only_columns(Claim.claim_key, func.max(Flag.id))
        .join(Claim, and_(Flag.subject_type == Subject.CLAIM, Claim.id == Flag.subject_id))
        .where(Flag.rule_id == rule_id, Claim.is_current, Claim.claim_key.in_(keys))
        .group_by(Claim.claim_key)
    ).all()  # fmt: skip
    return {str(key): int(flag_id) for key, flag_id in rows}


def _version(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _benchmark(session: Session, product_id: int | None, version: int | None) -> LibraryVersion:
    """The product's benchmark of the recorded version (a flag stays readable after the library changed)."""
    if product_id is None:
        return LibraryVersion(version, None, None)
    versions = {b.version: b for b in session.scalars(
        select(ProductBenchmark).where(ProductBenchmark.product_id == product_id))}  # fmt: skip
    current = next((b.version for b in versions.values() if b.is_current), None)
    return LibraryVersion(version, versions.get(version) if version is not None else None, current)


def _factor(session: Session, factor_key: str, version: int | None) -> LibraryVersion:
    """The electricity factor of the recorded version; the scans judge against ``factor_key``."""
    versions = {f.version: f for f in session.scalars(
        select(EmissionFactor).where(EmissionFactor.factor_key == factor_key))}  # fmt: skip
    current = next((f.version for f in versions.values() if f.is_current), None)
    return LibraryVersion(version, versions.get(version) if version is not None else None, current)


def claim_history(session: Session, user: User, judged: Claim) -> list[ClaimVersion]:
    """Every version of the claim the user may see, oldest first, each with what it changed."""
    versions = session.scalars(
        scope_to_user(user, select(Claim), Claim.city_id)
        .where(Claim.claim_key == judged.claim_key)
        .order_by(Claim.version)
    ).all()
    history, previous = [], None
    for claim in versions:
        changes: dict[str, tuple[object, object]] = {} if previous is None else {
            name: (getattr(previous, name), getattr(claim, name))
            for name in CLAIM_CONTENT if getattr(previous, name) != getattr(claim, name)
        }  # fmt: skip
        history.append(ClaimVersion(claim, changes, judged=claim.id == judged.id))
        previous = claim
    return history


def flag_assignees(session: Session, user: User, flag: Flag) -> list[User]:
    """Who the user may assign the flag to: active staff of the flag's city or (for the province)
    the province who may review it (none when the user may not assign it)."""
    if not may_review_flag(user, "assign", flag):
        return []
    candidates = session.scalars(
        select(User)
        .where(User.province_id == user.province_id, User.is_active, User.role.in_(WRITING_ROLES),
               or_(User.city_id == flag.city_id, User.role.in_(PROVINCIAL_ROLES)))
        .order_by(User.role != Role.CITY_STAFF, User.display_name, User.id)
    )  # fmt: skip
    return [person for person in candidates if may_assign_flag_to(user, person, flag)]
