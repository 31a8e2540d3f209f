"""``/livez`` and ``/healthz``: the two answers for whoever watches the installation.

``/livez`` says only that this web server answers (200, touching nothing): what a start-up script or
a readiness check waits for, so a fresh install with no scheduler yet is still "up". ``/healthz``
says whether the installation works: the database answers ``SELECT 1`` (a 2 s statement timeout on
PostgreSQL) and a scheduler beat within the last minute (``tracker.monitoring.health``); 200 with
``"status": "ok"``, else 503 with ``"degraded"`` and which part is down. Never a 500: a failing
database is reported, not raised. Both are public (no login) and carry no data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import sessionmaker

from tracker.core.clock import now_utc
from tracker.core.db import TrackerSession, transaction
from tracker.monitoring import health

log = logging.getLogger("tracker.health")
PROBE_ENDPOINTS = frozenset({"livez", "healthz", "metrics"})  # the guard lets them through untouched


@dataclass(frozen=True)
class Health:
    database: bool
    beat: health.SchedulerBeat | None  # None: not known (the database did not answer)

    @property
    def ok(self) -> bool:
        return self.database and self.beat is not None and self.beat.alive


def check(factory: sessionmaker[TrackerSession]) -> Health:
    """Ask the database, then read the scheduler's heartbeat; any failure is the database's."""
    try:
        with transaction(factory, read_only=True) as session:
            health.ping(session)
            return Health(True, health.scheduler_beat(session, now_utc()))
    except Exception:  # whatever the driver raised: the answer is "database: error", never a 500
        log.warning("健康检查：数据库无响应 / health check: the database did not answer", exc_info=True)
        return Health(False, None)


def _scheduler_json(beat: health.SchedulerBeat | None) -> dict[str, object]:
    status = "unknown" if beat is None else "ok" if beat.alive else "down"
    last = beat.last.isoformat() if beat is not None and beat.last is not None else None
    return {
        "status": status,
        "last_heartbeat": last,
        "age_seconds": beat.age_seconds if beat is not None else None,
        "down_after_seconds": int(health.SCHEDULER_DOWN_AFTER.total_seconds()),
    }


def health_json(result: Health) -> dict[str, object]:
    return {
        "status": "ok" if result.ok else "degraded",
        "database": "ok" if result.database else "error",
        "scheduler": _scheduler_json(result.beat),
    }


def _make_healthz(factory: sessionmaker[TrackerSession]) -> Callable[[], ResponseReturnValue]:
    def healthz() -> ResponseReturnValue:
        result = check(factory)
        return jsonify(health_json(result)), 200 if result.ok else 503

    return healthz


def _livez() -> ResponseReturnValue:
    return {"status": "ok"}


def install_health(server: Flask, factory: sessionmaker[TrackerSession]) -> None:
    server.add_url_rule("/livez", "livez", _livez)
    server.add_url_rule("/healthz", "healthz", _make_healthz(factory))
