"""What every gRPC server shares: health checking, reflection, and one interceptor that
authenticates the caller, checks the request (request_checks), opens a trace span, and
maps domain exceptions to status codes.

The codes a caller can get: OK, INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED,
UNAUTHENTICATED, ALREADY_EXISTS, FAILED_PRECONDITION, RESOURCE_EXHAUSTED, UNAVAILABLE
(and DEADLINE_EXCEEDED / CANCELLED from the caller's own side). Anything unforeseen is
INTERNAL "internal error", logged here with its traceback and never shown to the caller.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
from collections.abc import Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from commsintel.contracts.auth import Caller, InvalidToken, TokenVerifier
from commsintel.contracts.errors import (
    AlreadyKnown,
    InvalidValue,
    NotAllowed,
    NotReady,
    TooLarge,
    TryAgainLater,
    UnknownItem,
)
from commsintel.platform.metrics import INSTRUMENTS
from commsintel.platform.request_checks import check_request
from commsintel.platform.telemetry import extract_trace_context, inject_trace_context

log = logging.getLogger(__name__)

_current_caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("commsintel_caller")
_current_token: contextvars.ContextVar[str] = contextvars.ContextVar("commsintel_token")

_STATUS_FOR = (
    (InvalidValue, grpc.StatusCode.INVALID_ARGUMENT),
    (UnknownItem, grpc.StatusCode.NOT_FOUND),
    (NotAllowed, grpc.StatusCode.PERMISSION_DENIED),
    (AlreadyKnown, grpc.StatusCode.ALREADY_EXISTS),
    (NotReady, grpc.StatusCode.FAILED_PRECONDITION),
    (TooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (TryAgainLater, grpc.StatusCode.UNAVAILABLE),
)
_PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
# A message is for a human: short, whatever id or address a domain error quotes.
MAX_DETAILS_CHARS = 300
MAX_ECHOED_CHARS = 64
_LONG_WORD = re.compile(rf"\S{{{MAX_ECHOED_CHARS + 1},}}")


class _Undecodable:
    """What a request that does not parse becomes (e.g. a string field that is not
    UTF-8), so it is refused as INVALID_ARGUMENT after authentication, instead of
    grpc's own answer to a failing deserializer."""


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
    """`operator_methods`: the full method names an operator token may call (it is
    PERMISSION_DENIED everywhere else)."""

    def __init__(
        self,
        signing_key: str,
        tracer_provider: TracerProvider,
        operator_methods: frozenset[str] = frozenset(),
    ) -> None:
        self._tokens = TokenVerifier(signing_key)
        self._tracer = tracer_provider.get_tracer("commsintel.grpc")
        self._operator_methods = operator_methods

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or method.startswith(_PUBLIC_PREFIXES):
            return handler
        inner = handler.unary_unary
        operator_allowed = method in self._operator_methods

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
                    await _refuse(context, span, grpc.StatusCode.UNAUTHENTICATED, str(error))
                if caller.is_operator and not operator_allowed:
                    await _refuse(
                        context,
                        span,
                        grpc.StatusCode.PERMISSION_DENIED,
                        "an operator token may only set a workspace's admins",
                    )
                span.set_attribute("commsintel.workspace_id", caller.workspace_id)
                caller_token = _current_caller.set(caller)
                token_token = _current_token.set(token)
                try:
                    if isinstance(request, _Undecodable):
                        raise InvalidValue(
                            "the request does not parse (is every string field UTF-8?)"
                        )
                    check_request(request)
                    return await inner(request, context)
                except _domain_errors() as error:
                    status = next(code for kind, code in _STATUS_FOR if isinstance(error, kind))
                    await _refuse(context, span, status, _details(str(error)))
                except grpc.aio.AbortError:
                    raise
                except Exception:
                    log.exception("%s failed", method)
                    await _refuse(context, span, grpc.StatusCode.INTERNAL, "internal error")
                finally:
                    _current_caller.reset(caller_token)
                    _current_token.reset(token_token)

        async def metered(request, context: grpc.aio.ServicerContext):
            started = time.perf_counter()
            try:
                return await guarded(request, context)
            finally:
                _record_duration(method, context, started)

        return grpc.unary_unary_rpc_method_handler(
            metered,
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )


def _record_duration(method: str, context, started: float) -> None:
    """rpc.server.duration (OpenTelemetry RPC semantic conventions), with the status code
    the caller got."""
    service, _, name = method.strip("/").partition("/")
    code = context.code() if hasattr(context, "code") else None
    if isinstance(code, grpc.StatusCode):
        code = code.value[0]
    INSTRUMENTS.rpc_duration.record(
        (time.perf_counter() - started) * 1000,
        {
            "rpc.system": "grpc",
            "rpc.service": service,
            "rpc.method": name,
            "rpc.grpc.status_code": int(code or 0),
        },
    )


async def _refuse(context, span, status: grpc.StatusCode, details: str) -> None:
    span.set_attribute("rpc.grpc.status_code", status.value[0])
    await context.abort(status, details)


def _tolerant(deserialize):
    if deserialize is None:
        return None

    def tolerant(raw: bytes):
        try:
            return deserialize(raw)
        except Exception:
            return _Undecodable()

    return tolerant


def _details(message: str) -> str:
    """A domain error's message as the caller sees it: any long word (an id or address it
    quotes) cut to MAX_ECHOED_CHARS, the whole to MAX_DETAILS_CHARS."""
    message = _LONG_WORD.sub(lambda word: word.group()[: MAX_ECHOED_CHARS - 3] + "...", message)
    if len(message) <= MAX_DETAILS_CHARS:
        return message
    return message[: MAX_DETAILS_CHARS - 3] + "..."


def _domain_errors() -> tuple[type[Exception], ...]:
    return tuple(kind for kind, _ in _STATUS_FOR)


def _bearer(value: str) -> str:
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


LIVENESS = "liveness"


REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"


def enable_reflection(service_names: Sequence[str], server: grpc.aio.Server) -> None:
    """Server reflection as grpc.reflection.v1 and v1alpha. grpcio-reflection (1.85)
    serves only v1alpha, while grpcurl and newer clients ask v1 first; v1 is the same
    messages under a new package name, so one servicer answers both."""
    names = (*service_names, reflection.SERVICE_NAME, REFLECTION_V1)
    servicer = reflection.aio.ReflectionServicer(names)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1 = grpc.method_handlers_generic_handler(
        REFLECTION_V1,
        {
            "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                servicer.ServerReflectionInfo,
                request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
                response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
            )
        },
    )
    server.add_generic_rpc_handlers((v1,))


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
    enable_reflection((*service_names, health.SERVICE_NAME), server)
    port = server.add_insecure_port(bind)
    if port == 0:
        raise OSError(f"cannot bind gRPC server to {bind}")
    await server.start()
    await health_servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    readiness = (
        health_pb2.HealthCheckResponse.SERVING
        if ready_now
        else (health_pb2.HealthCheckResponse.NOT_SERVING)
    )
    for name in ("", *service_names):
        await health_servicer.set(name, readiness)
    return server, port
