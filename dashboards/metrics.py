"""``/metrics`` in the Prometheus text format, for loopback and the networks of
``TRACKER_METRICS_ALLOW`` only (the client address as ``TRACKER_PROXY_HOPS`` makes it); anyone else
gets 404, as if it did not exist.

Families:

- ``tracker_http_request_duration_seconds{route, page}``: a histogram of every request's time.
  ``route`` is a Dash page's path (``/pilots``, never its query) or the Flask route's rule
  (``/api/v1/pilots/<int:pilot_id>``, ``/_dash-update-component``), ``unmatched`` for an address no
  route has; ``page`` is the Dash page a callback was sent from (its ``Referer``, when that is a
  page) or the page loaded. Both come from fixed sets, never from raw addresses.
- ``tracker_job_runs{state}``, ``tracker_outbox_messages{state}``, ``tracker_flags{severity, status}``,
  ``tracker_scheduler_heartbeat_age_seconds`` and ``tracker_database_up``: gauges read from the
  database when scraped (``DatabaseCollector``), so every worker gives the same answer.

Under gunicorn (``tracker serve``) each worker writes its histogram to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode) and a scrape, answered by any
one worker, sums them all; without that variable (tests, one process) the histogram is read in memory.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.orm import sessionmaker

from tracker.core.clock import now_utc
from tracker.core.config import Network
from tracker.core.db import TrackerSession, transaction
from tracker.monitoring import health

log = logging.getLogger("tracker.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CALLBACK_RULE = "/_dash-update-component"
UNMATCHED = "unmatched"
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Made once per process, registered in no global registry: each scrape builds its own (below).
REQUEST_SECONDS = Histogram(
    "tracker_http_request_duration_seconds",
    "Time to answer a request, by route (page path or route rule) and the page it came from",
    ["route", "page"],
    buckets=BUCKETS,
    registry=None,
)


def request_labels(page_paths: Collection[str]) -> tuple[str, str]:
    """(route, page) of the current request, from fixed sets only."""
    if request.path in page_paths:
        return request.path, request.path
    rule = request.url_rule
    if rule is None or "<path:path>" in rule.rule:  # no route, or Dash's catch-all for unknown pages
        return UNMATCHED, ""
    if rule.rule != CALLBACK_RULE:
        return rule.rule, ""
    page = urlsplit(request.referrer or "").path
    return rule.rule, page if page in page_paths else ""


def client_allowed(address: str | None, allowed: Collection[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in allowed)


class DatabaseCollector(Collector):
    """Gauges counted in the database at scrape time; ``tracker_database_up`` 0 when it failed."""

    def __init__(self, factory: sessionmaker[TrackerSession]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[Metric]:
        try:
            with transaction(self.factory, read_only=True) as session:
                counts = health.state_counts(session)
                beat = health.scheduler_beat(session, now_utc())
        except Exception:  # a scrape reports the failure, it does not fail
            log.warning("指标：数据库无响应 / metrics: the database did not answer", exc_info=True)
            yield GaugeMetricFamily(
                "tracker_database_up", "Whether the database answered this scrape", value=0
            )
            return
        yield GaugeMetricFamily("tracker_database_up", "Whether the database answered this scrape", value=1)
        yield from _count_families(counts)
        if beat.age_seconds is not None:
            yield GaugeMetricFamily("tracker_scheduler_heartbeat_age_seconds",
                                    "Seconds since a scheduler process last said it is alive",
                                    value=beat.age_seconds)  # fmt: skip


def _count_families(counts: health.StateCounts) -> Iterator[Metric]:
    runs = GaugeMetricFamily("tracker_job_runs", "Scheduled job runs by state", labels=["state"])
    for state, count in counts.job_runs.items():
        runs.add_metric([state], count)
    outbox = GaugeMetricFamily("tracker_outbox_messages", "Outbox messages by state", labels=["state"])
    for state, count in counts.outbox.items():
        outbox.add_metric([state], count)
    flags = GaugeMetricFamily(
        "tracker_flags", "Flags (风险线索) by severity and status", labels=["severity", "status"]
    )
    for (severity, status), count in counts.flags.items():
        flags.add_metric([severity, status], count)
    return iter((runs, outbox, flags))


def scrape_registry(factory: sessionmaker[TrackerSession]) -> CollectorRegistry:
    """What one scrape reads: every worker's histogram (or this process's) and the database's gauges."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # the library has no annotation here
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(DatabaseCollector(factory))
    return registry


def _make_metrics(
    factory: sessionmaker[TrackerSession], allowed: Collection[Network]
) -> Callable[[], Response]:
    def metrics() -> Response:
        if not client_allowed(request.remote_addr, allowed):
            abort(404)
        return Response(
            generate_latest(scrape_registry(factory)), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return metrics


def install_metrics(
    server: Flask,
    factory: sessionmaker[TrackerSession],
    allowed: Collection[Network],
    page_paths: Collection[str],
) -> None:
    """Time every request (install first, so the time covers the other hooks) and serve /metrics."""
    paths = frozenset(page_paths)

    @server.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @server.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None:
            REQUEST_SECONDS.labels(*request_labels(paths)).observe(time.perf_counter() - started)
        return response

    server.add_url_rule("/metrics", "metrics", _make_metrics(factory, allowed))
