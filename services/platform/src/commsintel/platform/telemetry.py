"""OpenTelemetry in one place. Every service calls `configure_tracing` once at start.

Export: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, the console when
COMMSINTEL_TRACING=console, otherwise spans are created (so context propagates) but
not exported. Context travels in Kafka headers and gRPC metadata as W3C `traceparent`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

_providers: dict[str, TracerProvider] = {}


def configure_tracing(service_name: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """The tracer provider for one service (several services may share a process)."""
    if service_name in _providers and exporter is None:
        return _providers[service_name]
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif os.environ.get("COMMSINTEL_TRACING") == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    _providers[service_name] = provider
    return provider


def inject_trace_context(carrier: MutableMapping[str, str]) -> None:
    propagate.inject(carrier)


def extract_trace_context(carrier: Mapping[str, str]) -> context.Context:
    return propagate.extract(carrier)


def tracer(provider: TracerProvider, name: str) -> trace.Tracer:
    return provider.get_tracer(name)
