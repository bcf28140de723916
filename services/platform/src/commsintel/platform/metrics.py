"""OpenTelemetry metrics in one place, exported for Prometheus.

One MeterProvider per process, read by a PrometheusMetricReader into prometheus_client's
registry, served as `/metrics` on each service's METRICS_BIND (e.g.
COMMSINTEL_INGEST_METRICS_BIND=0.0.0.0:9464; empty: no endpoint). When the four services
share one process (`make run`, the in-process tests) they share the provider and the
endpoint; their series differ by consumer group, rpc.service and collection.

Names follow the OpenTelemetry semantic conventions where one exists (rpc.server.duration,
db.client.operation.duration, and FastStream's messaging.process.duration and
messaging.publish.duration); ours are under `commsintel.`. The Prometheus exporter turns
dots into underscores and adds the unit (`_seconds`, `_milliseconds`) and `_total` to
counters: the exported names are in docs and checked against the dashboards in
tests/integration/test_metrics_export.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider

log = logging.getLogger(__name__)

# Attribute names (OpenTelemetry semantic conventions).
MESSAGING_SYSTEM = "messaging.system"
DESTINATION = "messaging.destination.name"
PARTITION = "messaging.destination.partition.id"
CONSUMER_GROUP = "messaging.consumer.group.name"
EVENT_TYPE = "cloudevents.event_type"
ERROR_TYPE = "error.type"

_lock = threading.Lock()
_provider: MeterProvider | None = None
_servers: dict[str, object] = {}


def configure_metrics(bind: str = "") -> MeterProvider:
    """The process's meter provider (made once, with its Prometheus reader), and a
    `/metrics` endpoint on `bind` ("host:port") unless `bind` is empty or served already."""
    global _provider
    with _lock:
        if _provider is None:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader

            _provider = MeterProvider(metric_readers=[PrometheusMetricReader()])
            metrics.set_meter_provider(_provider)
        if bind and bind not in _servers:
            from prometheus_client import start_http_server

            host, _, port = bind.rpartition(":")
            server, _thread = start_http_server(int(port), addr=host or "0.0.0.0")
            _servers[bind] = server
            log.info("metrics on http://%s/metrics", bind)
        return _provider


def metrics_port(bind: str) -> int | None:
    """The port a `/metrics` endpoint started for `bind` listens on (":0" picks one)."""
    server = _servers.get(bind)
    return server.server_port if server is not None else None  # type: ignore[attr-defined]


def meter(name: str) -> metrics.Meter:
    """A meter of the process's provider (a no-op one until configure_metrics runs)."""
    return metrics.get_meter(name)


class _Instruments:
    """Created on first use, from whatever provider is set by then."""

    def __init__(self) -> None:
        self._made = False

    def _make(self) -> None:
        m = meter("commsintel")
        self.events_handled = m.create_counter(
            "commsintel.events.handled",
            unit="{event}",
            description="Events a consumer handled (its projection written), by type",
        )
        self.events_failed = m.create_counter(
            "commsintel.events.failed",
            unit="{event}",
            description="Events a consumer failed to handle (dead-lettered or undecodable)",
        )
        self.dead_letters = m.create_counter(
            "commsintel.dead_letters",
            unit="{message}",
            description="Records sent to <topic>.dlq, by the topic they came from",
        )
        self.rpc_duration = m.create_histogram(
            "rpc.server.duration",
            unit="ms",
            description="Duration of inbound gRPC calls",
        )
        self.db_operation_duration = m.create_histogram(
            "db.client.operation.duration",
            unit="s",
            description="Duration of MongoDB commands; its count is the store operations",
        )
        self.imap_connections = m.create_up_down_counter(
            "commsintel.imap.connections",
            unit="{connection}",
            description="Open IMAP connections",
        )
        # Present from the start at zero, so a dashboard shows 0 rather than no data.
        for counter in (self.events_failed, self.dead_letters, self.imap_connections):
            counter.add(0)
        self._made = True

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        self._make()
        return self.__dict__[name]


INSTRUMENTS = _Instruments()


@dataclass
class _Gauge:
    observe: Callable[[], Iterable[tuple[float, dict]]]


_gauges: dict[str, list[_Gauge]] = {}
_gauge_units = {
    "commsintel.consumer.lag": ("{message}", "Records not yet consumed, per partition"),
    "commsintel.mailboxes": ("{mailbox}", "Connected mailboxes by sync state"),
    "commsintel.backfill.backlog": ("{message}", "Messages a backfill still has to fetch"),
}


def observe(name: str, source: Callable[[], Iterable[tuple[float, dict]]]) -> None:
    """Report `source()`'s (value, attributes) pairs as the gauge `name` at each scrape.
    Several services in one process may each add a source to the same gauge."""
    with _lock:
        first = name not in _gauges
        _gauges.setdefault(name, []).append(_Gauge(source))
    if first:
        unit, description = _gauge_units[name]

        def callback(options: CallbackOptions) -> Iterable[Observation]:
            # Sources that report the same attributes (two services in one process) add up.
            totals: dict[tuple, float] = {}
            for gauge in list(_gauges.get(name, ())):
                try:
                    for value, attributes in gauge.observe():
                        key = tuple(sorted(attributes.items()))
                        totals[key] = totals.get(key, 0) + value
                except Exception:
                    log.debug("gauge %s source failed", name, exc_info=True)
            return [Observation(value, dict(key)) for key, value in totals.items()]

        meter("commsintel").create_observable_gauge(
            name, callbacks=[callback], unit=unit, description=description
        )


def forget(name: str, source: Callable) -> None:
    """Stop reporting `source` (its service stopped)."""
    with _lock:
        _gauges[name] = [gauge for gauge in _gauges.get(name, ()) if gauge.observe != source]
