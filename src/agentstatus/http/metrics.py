"""Prometheus metrics: requests by endpoint and outcome row, and their latency."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """One registry per application, so several apps (tests) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "agentstatus_requests",
            "Requests to the Voicenter-compatible endpoints, by outcome row.",
            ["endpoint", "row"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "agentstatus_request_duration_seconds",
            "Time from request to answer on the Voicenter-compatible endpoints.",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self._children: dict[tuple[str, int], Counter] = {}
        self.event_subscribers = Gauge(
            "agentstatus_event_subscribers",
            "Open event streams on this instance.",
            registry=self.registry,
        )
        self.event_subscribers_lagged = Gauge(
            "agentstatus_event_subscribers_lagged",
            "Event streams dropped for falling too far behind, since the start (a counter).",
            registry=self.registry,
        )
        self.event_streams_refused = Gauge(
            "agentstatus_event_streams_refused",
            "Event streams refused (429) because their token had too many open on this "
            "instance, since the start (a counter).",
            registry=self.registry,
        )
        self._latency_children: dict[str, Histogram] = {}

    def observe(self, endpoint: str, row: int, seconds: float) -> None:
        child = self._children.get((endpoint, row))
        if child is None:
            child = self._children[endpoint, row] = self.requests.labels(endpoint, str(row))
        child.inc()
        histogram = self._latency_children.get(endpoint)
        if histogram is None:
            histogram = self._latency_children[endpoint] = self.latency.labels(endpoint)
        histogram.observe(seconds)

    def watch_streams(
        self,
        subscribers: Callable[[], int],
        lagged: Callable[[], int],
        refused: Callable[[], int] = lambda: 0,
    ) -> None:
        """Read the event streams' figures at each scrape."""
        self.event_subscribers.set_function(lambda: float(subscribers()))
        self.event_subscribers_lagged.set_function(lambda: float(lagged()))
        self.event_streams_refused.set_function(lambda: float(refused()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
