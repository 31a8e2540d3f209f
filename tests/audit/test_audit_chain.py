"""The tamper-evident audit trail: every committed audit event is linked in a SHA-256 chain; an event
edited, deleted, slipped in or cut from the end — directly in the database, past the append-only
triggers as the database owner could — is named by ``verify``, the CLI exits 1, and the nightly
job tells the provincial admins once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select, text

from jobs.audit_verify import audit_verify
from jobs.context import JobContext
from tracker.audit import trail as audit
from tracker.audit.chain import GENESIS, verify
from tracker.models import AuditChainHead, AuditChainLink, AuditEvent, Notice, Role

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)


def events(db: Any, n: int = 5) -> list[int]:
    for i in range(n):
        audit.record(db, "export", "pilots", i, summary=f"第{i}次导出")
        db.commit()
    return list(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(n)))[::-1]


def as_owner(db: Any, statement: str, **params: Any) -> None:
    """Change the audit tables the way only the database owner could: the append-only triggers off."""
    if db.bind.dialect.name == "postgresql":
        for table in ("audit_events", "audit_chain"):
            db.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        db.execute(text(statement), params)
        for table in ("audit_events", "audit_chain"):
            db.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    else:
        names = db.scalars(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_events', 'audit_chain')"
            )
        ).all()
        sql = {n: db.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": n}) for n in names}
        for name in names:
            db.execute(text(f"DROP TRIGGER {name}"))
        db.execute(text(statement), params)
        for definition in sql.values():
            db.execute(text(definition))


def test_every_committed_event_is_linked_and_the_chain_verifies(db, factory) -> None:  # type: ignore[no-untyped-def]
    factory.user(Role.PROVINCE_STAFF, username="lianshang")  # an audited change, through the flush
    ids = events(db)
    linked = set(db.scalars(select(AuditChainLink.event_id)))
    assert set(ids) <= linked
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.id >= min(linked))) == len(
        linked
    )
    result = verify(db)
    assert result.whole and result.links == len(linked)
    (head,) = db.scalars(select(AuditChainHead)).all()  # one province, one chain
    assert head.last_hash != GENESIS and head.last_seq == db.scalar(select(func.max(AuditChainLink.seq)))


def test_an_event_rolled_back_is_not_linked(db) -> None:  # type: ignore[no-untyped-def]
    before = db.scalar(select(func.count()).select_from(AuditChainLink))
    audit.record(db, "export", "pilots", 1, summary="回滚")
    db.rollback()
    events(db, 1)
    assert db.scalar(select(func.count()).select_from(AuditChainLink)) == before + 1 and verify(db).whole


def test_an_edited_event_is_named(db) -> None:  # type: ignore[no-untyped-def]
    ids = events(db)
    as_owner(db, "UPDATE audit_events SET summary = :s WHERE id = :i", s="改过的说明", i=ids[2])
    result = verify(db)
    assert not result.whole and result.broken_event_id == ids[2] and "被改动过" in (result.problem_zh or "")


def test_a_deleted_event_and_its_link_break_the_chain(db) -> None:  # type: ignore[no-untyped-def]
    ids = events(db)
    as_owner(db, "DELETE FROM audit_chain WHERE event_id = :i", i=ids[1])
    as_owner(db, "DELETE FROM audit_events WHERE id = :i", i=ids[1])
    result = verify(db)
    assert not result.whole and result.broken_event_id == ids[2]  # its successor no longer follows


def test_a_slipped_in_event_and_a_cut_end_are_named(db) -> None:  # type: ignore[no-untyped-def]
    ids = events(db)
    db.execute(
        insert(AuditEvent).values(actor_name="x", action="update", entity_type="pilots", at=NOW)
    )  # past the chain
    stray = db.scalar(select(func.max(AuditEvent.id)))
    result = verify(db)
    assert (
        not result.whole and result.broken_event_id == stray and "不在审计链上" in (result.problem_zh or "")
    )
    as_owner(db, "DELETE FROM audit_events WHERE id = :i", i=stray)
    last = db.scalar(select(func.max(AuditChainLink.seq)))
    as_owner(db, "DELETE FROM audit_chain WHERE seq = :s", s=last)
    cut = verify(db)
    assert not cut.whole and "截短" in (cut.problem_zh or "") and cut.broken_event_id == ids[-2]


def test_the_nightly_job_tells_the_admins_of_a_break_once(db, factory, session_factory, settings) -> None:  # type: ignore[no-untyped-def]
    admins = [factory.user(Role.PROVINCE_ADMIN, username=f"guanli{i}") for i in range(2)]
    factory.user(Role.PROVINCE_STAFF, username="buzhidao")
    ids = events(db)
    context = JobContext(session_factory, settings, "2026-12-02", now=NOW)
    assert "完好" in audit_verify(context).reason.zh
    as_owner(db, "UPDATE audit_events SET actor_name = 'someone' WHERE id = :i", i=ids[0])
    db.commit()
    for _ in range(2):
        outcome = audit_verify(context)
        assert "发现问题" in outcome.reason.zh
    told = db.scalars(select(Notice).where(Notice.kind == "audit_broken")).all()
    assert sorted(n.user_id for n in told) == sorted(a.id for a in admins)
    assert db.scalars(select(AuditChainHead)).one().broken_event_id == ids[0]


def test_the_cli_exits_1_on_a_break(cli_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker_cli.main import cli

    runner = CliRunner()
    whole = runner.invoke(cli, ["audit", "verify"])
    assert (
        whole.exit_code == 0 and "审计链完好" in whole.output and "The audit chain is whole" in whole.output
    )


def test_each_province_has_its_own_chain(db, factory) -> None:  # type: ignore[no-untyped-def]
    from tracker.audit.chain import verify_all
    from tracker.models import City, Province

    other = Province(code="150000", name_zh="内蒙古自治区", short_zh="内蒙古", name_en="Inner Mongolia")
    db.add(other)
    db.flush()
    city = City(province_id=other.id, code="150100", name_zh="呼和浩特市", short_zh="呼和浩特", name_en="Hohhot",
                phone_area_code="0471")  # fmt: skip
    db.add(city)
    db.commit()
    home = events(db, 2)
    audit.record(db, "export", "pilots", 1, summary="内蒙古的导出", city_id=city.id)
    db.commit()
    theirs = db.scalar(select(func.max(AuditEvent.id)))
    chains = {link.event_id: link.province_id for link in db.scalars(select(AuditChainLink))}
    assert chains[theirs] == other.id and {chains[i] for i in home} == {factory.city("长治").province_id}
    assert all(r.whole for r in verify_all(db))
    as_owner(db, "UPDATE audit_events SET summary = 'x' WHERE id = :i", i=theirs)
    results = {r.province_id: r for r in verify_all(db)}
    assert not results[other.id].whole and results[other.id].broken_event_id == theirs
    assert results[factory.city("长治").province_id].whole  # the other province's chain is untouched
