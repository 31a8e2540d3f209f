"""/livez, /healthz (database and scheduler heartbeat) and /metrics (families, values, who may read it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, delete
from sqlalchemy.orm import sessionmaker

from dashboards.app import create_app
from tracker.core.clock import now_utc
from tracker.core.config import SettingsError, load_settings
from tracker.core.db import TrackerSession, make_engine
from tracker.delivery.job_runs import KeepAlive, register_scheduler
from tracker.models import (
    Flag,
    FlagStatus,
    JobRun,
    MessageState,
    OutboxMessage,
    RunState,
    SchedulerProcess,
    Severity,
)
from tracker.monitoring import health

# --- /livez and /healthz ---------------------------------------------------------------------------


def beat(db: Any, ago: dt.timedelta) -> None:
    db.execute(delete(SchedulerProcess))  # only this test's scheduler (rolled back afterwards)
    db.add(SchedulerProcess(host="sched", pid=4242, started_at=now_utc() - dt.timedelta(hours=1),
                            last_beat=now_utc() - ago))  # fmt: skip
    db.commit()


def test_livez_answers_without_the_database(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/livez")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_healthz_is_ok_with_a_fresh_heartbeat(client, db) -> None:  # type: ignore[no-untyped-def]
    beat(db, dt.timedelta(seconds=10))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["scheduler"]["status"] == "ok" and 10 <= body["scheduler"]["age_seconds"] < 60
    assert dt.datetime.fromisoformat(body["scheduler"]["last_heartbeat"]) < now_utc()


def test_healthz_is_503_with_a_stale_heartbeat(client, db) -> None:  # type: ignore[no-untyped-def]
    beat(db, dt.timedelta(minutes=2))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["scheduler"]["status"] == "down" and body["scheduler"]["age_seconds"] >= 120


def test_healthz_is_503_when_no_scheduler_ever_ran(client, db) -> None:  # type: ignore[no-untyped-def]
    db.execute(delete(SchedulerProcess))
    db.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["scheduler"] == {"status": "down", "last_heartbeat": None, "age_seconds": None,
                                                "down_after_seconds": 60}  # fmt: skip
    assert client.get("/livez").status_code == 200  # what start-up and readiness checks wait for


def test_the_freshest_of_several_schedulers_counts(client, db) -> None:  # type: ignore[no-untyped-def]
    beat(db, dt.timedelta(hours=3))
    db.add(SchedulerProcess(host="sched2", pid=1, started_at=now_utc(), last_beat=now_utc()))
    db.commit()
    assert client.get("/healthz").status_code == 200


def broken_factories(tmp_path: Path) -> dict[str, sessionmaker[TrackerSession]]:
    """A PostgreSQL URL on a closed port, and a SQLite "file" that is a folder."""
    closed = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    folder = create_engine(f"sqlite:///{tmp_path}")
    return {name: sessionmaker(bind=engine, class_=TrackerSession) for name, engine in
            (("postgresql", closed), ("sqlite", folder))}  # fmt: skip


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_an_unreachable_database_is_503_not_500(settings, tmp_path: Path, backend: str) -> None:  # type: ignore[no-untyped-def]
    client = create_app(settings, broken_factories(tmp_path)[backend]).server.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert (
        body["database"] == "error"
        and body["status"] == "degraded"
        and body["scheduler"]["status"] == "unknown"
    )
    assert client.get("/livez").status_code == 200
    client.set_cookie("cfp_session", "stale-cookie")  # the guard does not look the session up for a probe
    assert client.get("/healthz").status_code == 503
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and value(metrics.get_data(as_text=True), "tracker_database_up") == 0


# --- /metrics ---------------------------------------------------------------------------------------


def value(text: str, name: str, **labels: str) -> float:
    """One sample of the scrape (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(key) == want for key, want in labels.items()):
                return float(sample.value)
    return 0.0


def sample_labels(text: str) -> list[dict[str, str]]:
    """Every sample's labels in a scrape (a number such as a latency sum may hold any digits)."""
    return [sample.labels for family in text_string_to_metric_families(text) for sample in family.samples]


def scrape(client: Any) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    return str(response.get_data(as_text=True))


def add_flag(db: Any, severity: Severity, status: FlagStatus) -> None:
    db.add(Flag(fingerprint=uuid.uuid4().hex, rule_id="PROGRESS_BACKWARDS", severity=severity, subject_type="update",
                subject_id=1, status=status, message_zh="进度倒退", message_en="progress went backwards", evidence={}))  # fmt: skip


def add_outbox(db: Any, state: MessageState) -> None:
    db.add(OutboxMessage(key=uuid.uuid4().hex, channel="email", recipient="a@example.org", subject="s", body="b",
                         state=state, message_id=f"<{uuid.uuid4().hex}@test>"))  # fmt: skip


def test_the_database_gauges_count_the_rows(client, db) -> None:  # type: ignore[no-untyped-def]
    before = scrape(client)
    add_flag(db, Severity.HIGH, FlagStatus.OPEN)
    add_flag(db, Severity.HIGH, FlagStatus.OPEN)
    add_flag(db, Severity.HIGH, FlagStatus.DISMISSED)
    add_flag(db, Severity.LOW, FlagStatus.OPEN)
    add_outbox(db, MessageState.FAILED)
    add_outbox(db, MessageState.PENDING)
    add_outbox(db, MessageState.PENDING)
    db.add(
        JobRun(
            job="reminders",
            period=f"t-{uuid.uuid4().hex[:8]}",
            state=RunState.FAILED,
            worker="w",
            trigger="manual",
        )
    )
    db.commit()
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("tracker_flags", severity="high", status="open") == 2
    assert grew("tracker_flags", severity="high", status="dismissed") == 1
    assert grew("tracker_flags", severity="low", status="open") == 1
    assert grew("tracker_flags", severity="medium", status="open") == 0
    assert (
        grew("tracker_outbox_messages", state="pending") == 2
        and grew("tracker_outbox_messages", state="failed") == 1
    )
    assert grew("tracker_job_runs", state="failed") == 1 and grew("tracker_job_runs", state="running") == 0
    assert value(after, "tracker_database_up") == 1
    assert 'tracker_flags{severity="medium",status="resolved"} 0.0' in after  # every series, even at 0


def test_the_heartbeat_age_is_a_gauge(client, db) -> None:  # type: ignore[no-untyped-def]
    beat(db, dt.timedelta(seconds=90))
    assert value(scrape(client), "tracker_scheduler_heartbeat_age_seconds") >= 90


def test_requests_show_up_in_the_latency_histogram_by_route_and_page(client) -> None:  # type: ignore[no-untyped-def]
    count = "tracker_http_request_duration_seconds_count"
    before = scrape(client)
    client.get("/login")
    client.get("/pilot?id=12345")  # a page: its path, never its query
    client.get("/pilot?id=67890")
    client.post("/_dash-update-component", json={}, headers={"Referer": "http://localhost/flags?id=7"})
    client.get("/no-such-page/12345")
    after = scrape(client)
    for labels, grew in ((dict(route="/login", page=""), 1), (dict(route="/pilot", page="/pilot"), 2),
                         (dict(route="/_dash-update-component", page="/flags"), 1),
                         (dict(route="unmatched", page=""), 1)):  # fmt: skip
        assert value(after, count, **labels) - value(before, count, **labels) == grew, labels
    label_values = " ".join(str(labels) for labels in sample_labels(after))  # the values, never the numbers
    assert "12345" not in label_values and "67890" not in label_values and "id=" not in label_values
    assert value(after, "tracker_http_request_duration_seconds_bucket", route="/login", le="+Inf") >= 1


def test_metrics_are_refused_outside_the_allowed_networks(settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    only_lan = dataclasses.replace(settings, metrics_allow=(ipaddress.ip_network("10.0.0.0/8"),))
    client = create_app(only_lan, session_factory).server.test_client()
    assert client.get("/metrics").status_code == 404  # loopback, but not in the list
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    default = create_app(settings, session_factory).server.test_client()
    assert default.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 404
    assert default.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_behind_a_proxy_the_forwarded_client_address_decides(settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    proxied = dataclasses.replace(settings, proxy_hops=1, metrics_allow=(ipaddress.ip_network("10.0.0.0/8"),))
    client = create_app(proxied, session_factory).server.test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404  # via nginx
    assert client.get("/metrics", headers={"X-Forwarded-For": "10.9.8.7"}).status_code == 200
    # A client cannot slip an allowed address in front: only the last hop (the proxy's) is trusted.
    spoofed = client.get("/metrics", headers={"X-Forwarded-For": "10.9.8.7, 203.0.113.9"})
    assert spoofed.status_code == 404


def test_the_allowed_networks_setting(tmp_path: Path) -> None:
    env = {"TRACKER_SECRET_KEY": "k" * 40, "TRACKER_INSTANCE_DIR": str(tmp_path)}
    assert [str(n) for n in load_settings(env).metrics_allow] == ["127.0.0.1/32", "::1/128"]
    chosen = load_settings(
        {**env, "TRACKER_METRICS_ALLOW": "10.0.0.0/8, 192.168.1.5 ,fd00::/8"}
    ).metrics_allow
    assert [str(n) for n in chosen] == ["10.0.0.0/8", "192.168.1.5/32", "fd00::/8"]
    with pytest.raises(SettingsError, match="TRACKER_METRICS_ALLOW"):
        load_settings({**env, "TRACKER_METRICS_ALLOW": "10.0.0.0/33"})


# --- the scheduler's heartbeat -----------------------------------------------------------------------


def test_the_scheduler_writes_the_heartbeat_that_healthz_reads(session_factory, db) -> None:  # type: ignore[no-untyped-def]
    db.execute(delete(SchedulerProcess))
    db.commit()
    started = now_utc() - dt.timedelta(minutes=5)
    process_id = register_scheduler(session_factory, now=started)
    assert health.scheduler_beat(db, now_utc()).alive is False  # 5 minutes without a beat
    later = now_utc() - dt.timedelta(seconds=5)
    KeepAlive(
        session_factory, process_id=process_id, clock=lambda: later
    ).beat()  # what its thread does every 15 s
    db.expire_all()
    seen = health.scheduler_beat(db, now_utc())
    assert seen.alive and seen.last == later and 5 <= (seen.age_seconds or 0) < 60
