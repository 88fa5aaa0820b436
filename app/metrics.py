"""Prometheus metrics of the API process, served at ``GET /metrics`` (outside ``/v1``).

* ``ironworks_api_requests_total{endpoint, method, status}`` and
  ``ironworks_api_request_duration_seconds{endpoint, method}`` (a histogram): ``endpoint``
  is the Flask URL rule (``/v1/nodes/<node_ident>``), never the raw path, so the number of
  series stays bounded; a path no rule matches is ``<unmatched>``, and a method other than
  the seven of :data:`METHODS` is ``other``: every label comes from a fixed set. Scrapes
  of ``/metrics`` itself are not counted.
* ``ironworks_nodes_by_provision_state{provision_state}``,
  ``ironworks_nodes_by_power_state{power_state}`` and ``ironworks_conductors{alive}`` are
  read from the database at scrape time (one ``GROUP BY`` over nodes, one read of the
  conductors): always current, whichever API process is scraped. A database that does not
  answer leaves them out of that scrape (and logs why) rather than failing it.

gunicorn runs several worker processes. With ``PROMETHEUS_MULTIPROC_DIR`` set (before the
process starts; the Procfile sets it and empties it) request metrics are kept in files
there and every scrape sums all workers, in prometheus_client's multiprocess mode. Without
it each process counts only its own requests (fine for a single process, as in the tests).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

LOG = logging.getLogger(__name__)
REGISTRY = CollectorRegistry()
UNMATCHED = "<unmatched>"
METRICS_ENDPOINT = "ironworks_metrics"

REQUESTS = Counter(
    "ironworks_api_requests",
    "API requests answered, by URL rule, method and status code.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "ironworks_api_request_duration_seconds",
    "Seconds from a request's arrival to its answer, by URL rule and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)


class StateCollector(Collector):
    """Nodes per provision and power state, and conductors, counted at scrape time."""

    def collect(self) -> Iterator[Metric]:
        try:
            rows, conductors = _read_states()
        except Exception as exc:  # a scrape must not fail because the database does
            LOG.warning("Metrics: could not read node and conductor states: %s", exc)
            return
        provision = GaugeMetricFamily(
            "ironworks_nodes_by_provision_state",
            "Nodes in each provision state.",
            labels=["provision_state"],
        )
        power = GaugeMetricFamily(
            "ironworks_nodes_by_power_state",
            "Nodes in each power state ('None' when unknown).",
            labels=["power_state"],
        )
        by_provision: dict[str, int] = {}
        by_power: dict[str, int] = {}
        for provision_state, power_state, count in rows:
            key = str(provision_state)
            by_provision[key] = by_provision.get(key, 0) + count
            by_power[str(power_state)] = by_power.get(str(power_state), 0) + count
        for label, value in sorted(by_provision.items()):
            provision.add_metric([label], value)
        for label, value in sorted(by_power.items()):
            power.add_metric([label], value)
        alive = GaugeMetricFamily(
            "ironworks_conductors",
            "Registered conductors, alive (online with a fresh heartbeat) or not.",
            labels=["alive"],
        )
        alive.add_metric(["true"], sum(conductors))
        alive.add_metric(["false"], len(conductors) - sum(conductors))
        yield from (provision, power, alive)


def _read_states() -> tuple[list[tuple[str | None, str | None, int]], list[bool]]:
    from app.config import get_settings
    from app.db import conductors, nodes

    counts = nodes.count_by("provision_state", "power_state")
    rows = [(provision, power, n) for (provision, power), n in counts.items()]
    timeout = get_settings().heartbeat_timeout
    return rows, [alive for _row, alive in conductors.list_conductors(timeout)]


STATES = StateCollector()
REGISTRY.register(STATES)


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # every worker's files
    registry.register(STATES)
    return registry


#: The only values the ``method`` label takes: anything else a client sends is ``other``, so
#: made-up method names cannot grow the series without bound.
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
OTHER_METHOD = "other"


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    endpoint = request.endpoint
    if started is None or endpoint == METRICS_ENDPOINT:
        return response
    rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else OTHER_METHOD
    REQUESTS.labels(rule, method, str(response.status_code)).inc()
    LATENCY.labels(rule, method).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Add ``GET /metrics`` and the request hooks; call before other ``before_request``
    hooks, so a request another hook refuses (a 406) is still counted and timed."""
    from prometheus_client import generate_latest

    def metrics() -> Response:
        return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", METRICS_ENDPOINT, metrics, methods=["GET"])
    app.before_request(_start_timer)
    app.after_request(_observe)
