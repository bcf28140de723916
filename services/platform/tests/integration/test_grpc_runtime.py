"""The shared gRPC runtime on a real server: the caller's trace continues across the
call, the caller's token is forwarded to the next service, and errors map to statuses."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.errors import NotAllowed
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2 as pb
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2_grpc as pb_grpc
from commsintel.platform.grpc_runtime import (
    CallerInterceptor,
    caller_metadata,
    current_caller,
    start_grpc_server,
)
from commsintel.platform.telemetry import configure_tracing

KEY = "a-signing-key-that-is-long-enough-for-hs256"


class EchoCaller(pb_grpc.IntelligenceServiceServicer):
    """Answers with who called and what it would forward to the next service."""

    async def GetRecordIntelligence(self, request, context):
        caller = current_caller()
        forwarded = dict(caller_metadata())
        if request.record_id == "forbidden":
            raise NotAllowed("only the owner may do that")
        return pb.GetRecordIntelligenceResponse(
            intelligence=pb.RecordIntelligence(
                record_id=f"{caller.workspace_id}/{caller.member_id}",
                strongest_member_id=forwarded.get("authorization", ""),
            )
        )


async def test_caller_identity_trace_and_errors_cross_a_real_grpc_call() -> None:
    exporter = InMemorySpanExporter()
    provider = configure_tracing("grpc-runtime-test", exporter=exporter)
    server, port = await start_grpc_server(
        "127.0.0.1:0",
        lambda s: pb_grpc.add_IntelligenceServiceServicer_to_server(EchoCaller(), s),
        ["commsintel.intelligence.v1.IntelligenceService"],
        [CallerInterceptor(KEY, provider)],
    )
    token = issue_token(KEY, Caller("ws1", "alice"), issued_at=datetime.now(UTC))
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.IntelligenceServiceStub(channel)
            answer = await stub.GetRecordIntelligence(
                pb.GetRecordIntelligenceRequest(record_id="r1"),
                metadata=(("authorization", f"Bearer {token}"), ("traceparent", traceparent)),
            )
            # The workspace and member come from the token, and travel on.
            assert answer.intelligence.record_id == "ws1/alice"
            assert answer.intelligence.strongest_member_id == f"Bearer {token}"

            try:
                await stub.GetRecordIntelligence(
                    pb.GetRecordIntelligenceRequest(record_id="forbidden"),
                    metadata=(("authorization", f"Bearer {token}"),),
                )
                raise AssertionError("expected PERMISSION_DENIED")
            except grpc.aio.AioRpcError as refused:
                assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
                assert refused.details() == "only the owner may do that"

            expired = issue_token(
                KEY, Caller("ws1", "alice"), issued_at=datetime(2020, 1, 1, tzinfo=UTC)
            )
            try:
                await stub.GetRecordIntelligence(
                    pb.GetRecordIntelligenceRequest(record_id="r1"),
                    metadata=(("authorization", f"Bearer {expired}"),),
                )
                raise AssertionError("expected UNAUTHENTICATED")
            except grpc.aio.AioRpcError as refused:
                assert refused.code() == grpc.StatusCode.UNAUTHENTICATED
                assert "expired" in refused.details()
    finally:
        await server.stop(grace=None)

    server_spans = [s for s in exporter.get_finished_spans() if s.kind.name == "SERVER"]
    assert server_spans[0].context.trace_id == int("0af7651916cd43dd8448eb211c80319c", 16)


class Failing(pb_grpc.IntelligenceServiceServicer):
    """A servicer with a bug: the caller must see neither the bug nor its text."""

    async def GetRecordIntelligence(self, request, context):
        raise KeyError(f"/srv/app/secret.py: {request.record_id}")


async def _refusal(call) -> tuple[grpc.StatusCode, str]:
    try:
        await call
    except grpc.aio.AioRpcError as refused:
        return refused.code(), refused.details()
    raise AssertionError("expected a refusal")


async def test_bad_requests_missing_tokens_and_bugs_get_short_canonical_answers() -> None:
    from commsintel.contracts.auth import issue_operator_token

    provider = configure_tracing("grpc-runtime-test")
    server, port = await start_grpc_server(
        "127.0.0.1:0",
        lambda s: pb_grpc.add_IntelligenceServiceServicer_to_server(Failing(), s),
        ["commsintel.intelligence.v1.IntelligenceService"],
        [CallerInterceptor(KEY, provider)],
    )
    token = issue_token(KEY, Caller("ws1", "alice"), issued_at=datetime.now(UTC))
    member = (("authorization", f"Bearer {token}"),)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.IntelligenceServiceStub(channel)
            request = pb.GetRecordIntelligenceRequest(record_id="r1")
            # No token at all, a malformed one, an operator's where members call.
            assert await _refusal(stub.GetRecordIntelligence(request)) == (
                grpc.StatusCode.UNAUTHENTICATED,
                "missing bearer token",
            )
            assert await _refusal(
                stub.GetRecordIntelligence(request, metadata=(("authorization", "Bearer x"),))
            ) == (grpc.StatusCode.UNAUTHENTICATED, "invalid bearer token")
            operator = issue_operator_token(KEY, "ws1", issued_at=datetime.now(UTC))
            code, _ = await _refusal(
                stub.GetRecordIntelligence(
                    request, metadata=(("authorization", f"Bearer {operator}"),)
                )
            )
            assert code == grpc.StatusCode.PERMISSION_DENIED

            # A string field that is not UTF-8 (the wire allows it, protobuf does not).
            raw = channel.unary_unary(
                "/commsintel.intelligence.v1.IntelligenceService/GetRecordIntelligence",
                request_serializer=lambda payload: payload,
                response_deserializer=lambda payload: payload,
            )
            code, details = await _refusal(raw(b"\x0a\x02\xff\xfe", metadata=member))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and "UTF-8" in details

            # An id of 3 MB is refused without being sent back.
            code, details = await _refusal(
                stub.GetRecordIntelligence(
                    pb.GetRecordIntelligenceRequest(record_id="r" * 3_000_000), metadata=member
                )
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT and len(details) < 100

            # A bug is INTERNAL "internal error", nothing more.
            assert await _refusal(stub.GetRecordIntelligence(request, metadata=member)) == (
                grpc.StatusCode.INTERNAL,
                "internal error",
            )
    finally:
        await server.stop(grace=None)


async def test_reflection_answers_as_v1_and_v1alpha_listing_every_service() -> None:
    from grpc_reflection.v1alpha import reflection_pb2

    server, port = await start_grpc_server(
        "127.0.0.1:0",
        lambda s: pb_grpc.add_IntelligenceServiceServicer_to_server(EchoCaller(), s),
        ["commsintel.intelligence.v1.IntelligenceService"],
        [CallerInterceptor(KEY, configure_tracing("reflection-test"))],
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            for package in ("grpc.reflection.v1", "grpc.reflection.v1alpha"):
                # No token: reflection is public, like health.
                ask = channel.stream_stream(
                    f"/{package}.ServerReflection/ServerReflectionInfo",
                    request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                    response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
                )
                requests = [
                    reflection_pb2.ServerReflectionRequest(list_services=""),
                    reflection_pb2.ServerReflectionRequest(
                        file_containing_symbol="commsintel.intelligence.v1.IntelligenceService"
                    ),
                ]
                listed, described = [answer async for answer in ask(iter(requests))]
                names = {s.name for s in listed.list_services_response.service}
                assert {
                    "commsintel.intelligence.v1.IntelligenceService",
                    "grpc.health.v1.Health",
                    "grpc.reflection.v1.ServerReflection",
                    "grpc.reflection.v1alpha.ServerReflection",
                } <= names, package
                assert described.file_descriptor_response.file_descriptor_proto, package
    finally:
        await server.stop(None)
