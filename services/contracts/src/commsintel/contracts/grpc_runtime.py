"""What every gRPC server shares: health checking, reflection, and one interceptor that
authenticates the caller, opens a trace span, and maps domain exceptions to status codes."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from commsintel.contracts.auth import Caller, InvalidToken, TokenVerifier
from commsintel.contracts.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from commsintel.contracts.telemetry import extract_trace_context, inject_trace_context

log = logging.getLogger(__name__)

_current_caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("commsintel_caller")
_current_token: contextvars.ContextVar[str] = contextvars.ContextVar("commsintel_token")

_STATUS_FOR = (
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
)
_PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def current_caller() -> Caller:
    return _current_caller.get()


def caller_metadata() -> tuple[tuple[str, str], ...]:
    """Metadata for a call made on behalf of the current caller: their token and the
    trace context, so the next service authenticates the same member in the same trace."""
    carrier: dict[str, str] = {}
    inject_trace_context(carrier)
    token = _current_token.get(None)
    if token:
        carrier["authorization"] = f"Bearer {token}"
    return tuple(carrier.items())


class CallerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, signing_key: str, tracer_provider: TracerProvider) -> None:
        self._tokens = TokenVerifier(signing_key)
        self._tracer = tracer_provider.get_tracer("commsintel.grpc")

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or method.startswith(_PUBLIC_PREFIXES):
            return handler
        inner = handler.unary_unary

        async def guarded(request, context: grpc.aio.ServicerContext):
            metadata = {key: value for key, value in (context.invocation_metadata() or ())}
            parent = extract_trace_context(metadata)
            with self._tracer.start_as_current_span(
                method, context=parent, kind=trace.SpanKind.SERVER
            ) as span:
                token = _bearer(metadata.get("authorization", ""))
                try:
                    caller = self._tokens.verify(token)
                except InvalidToken as error:
                    span.set_attribute(
                        "rpc.grpc.status_code", grpc.StatusCode.UNAUTHENTICATED.value[0]
                    )
                    await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
                span.set_attribute("commsintel.workspace_id", caller.workspace_id)
                caller_token = _current_caller.set(caller)
                token_token = _current_token.set(token)
                try:
                    return await inner(request, context)
                except _domain_errors() as error:
                    status = next(code for kind, code in _STATUS_FOR if isinstance(error, kind))
                    span.set_attribute("rpc.grpc.status_code", status.value[0])
                    await context.abort(status, str(error))
                finally:
                    _current_caller.reset(caller_token)
                    _current_token.reset(token_token)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _domain_errors() -> tuple[type[Exception], ...]:
    return tuple(kind for kind, _ in _STATUS_FOR)


def _bearer(value: str) -> str:
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


LIVENESS = "liveness"


async def start_grpc_server(
    bind: str,
    register: Callable[[grpc.aio.Server], None],
    service_names: Sequence[str],
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    health_servicer: health.aio.HealthServicer | None = None,
) -> tuple[grpc.aio.Server, int]:
    """Start a server with health checking and reflection; returns it and its bound port.

    Health: `liveness` is SERVING while the process runs; "" and each service name are
    its readiness, SERVING at once unless the caller passes its own `health_servicer`
    and says when (a consumer waits for its group's assignment)."""
    server = grpc.aio.server(interceptors=list(interceptors))
    register(server)
    ready_now = health_servicer is None
    health_servicer = health_servicer or health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(bind)
    if port == 0:
        raise OSError(f"cannot bind gRPC server to {bind}")
    await server.start()
    await health_servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    readiness = health_pb2.HealthCheckResponse.SERVING if ready_now else (
        health_pb2.HealthCheckResponse.NOT_SERVING
    )
    for name in ("", *service_names):
        await health_servicer.set(name, readiness)
    return server, port
