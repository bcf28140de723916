"""Every RPC of every service, called with random and boundary values for every field
(generated from the proto descriptors): huge and nested page tokens, 3 MB ids, invalid
UTF-8 where the wire allows it, out-of-range timestamps and enums. The answer is always
one of the documented codes, never UNKNOWN or INTERNAL, its message is short and holds no
exception text, and the services stay healthy."""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commsintel.contracts.auth import (
    SERVICE_TOKEN_METADATA,
    Caller,
    issue_service_token,
    issue_token,
)
from commsintel.contracts.proto.access.v1 import access_pb2, access_pb2_grpc
from commsintel.contracts.proto.identity.v1 import identity_pb2, identity_pb2_grpc
from commsintel.contracts.proto.ingest.v1 import ingest_pb2
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2
from commsintel.pipeline import InProcessPipeline, PipelineConfig
from commsintel.platform.api_values import encode_page_token
from commsintel.platform.streaming import EventPublisher, build_broker
from commsintel.platform.telemetry import configure_tracing
from commsintel.workspace_admin import create_workspace
from tests.support.identity_scenario import Scenario

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e]

DOCUMENTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAVAILABLE,
}
EXCEPTION_TEXT = ("Traceback", "Error(", "Exception", 'File "', "site-packages", "Not enough")
MAX_DETAILS = 400
HUGE = 3_000_000  # below gRPC's 4 MB message limit, far above any field's
WORKSPACE = f"fuzz-{uuid.uuid4().hex[:6]}"
FILES = (access_pb2, identity_pb2, ingest_pb2, intelligence_pb2)


@dataclass(frozen=True)
class Rpc:
    path: str
    service: str
    request: Descriptor

    def __repr__(self) -> str:
        return self.path


RPCS = [
    Rpc(f"/{service.full_name}/{method.name}", service.full_name, method.input_type)
    for module in FILES
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
]


def target_of(pipeline: InProcessPipeline, service: str) -> str:
    area = service.split(".")[1]
    return {
        "access": pipeline.access_target,
        "identity": pipeline.identity_target,
        "ingest": pipeline.ingest_target,
        "intelligence": pipeline.intelligence_target,
    }[area]


# --- values -------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


PAGE_TOKENS = [
    "",
    "%%%",
    _b64(b"[" * 50_000),
    _b64(b'{"after": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"),
    _b64(b'{"after": ' + b'{"a":' * 3_000 + b"1" + b"}" * 3_001),
    encode_page_token({"after": {"$gt": ""}}),
    encode_page_token({"t": 2**70, "c": 1, "k": "x"}),
    encode_page_token({"t": True, "c": 1, "k": "x"}),
    encode_page_token({"t": 1, "c": 99, "k": ""}),
    encode_page_token({"t": -1, "c": 1, "k": 5}),
    _b64(b"\xff\xfe"),
    "x" * HUGE,
]
# Well formed, pointing nowhere: an empty page or INVALID_ARGUMENT, as the cursor's kind goes.
ODD_PAGE_TOKENS = [encode_page_token({"after": "x" * 300}), encode_page_token({"after": ""})]
# Hosts and URLs stay on the loopback interface: no fuzzed value leaves this machine.
HOSTS = ["", "127.0.0.1", "x" * 20_000]
URLS = ["", "http://127.0.0.1:9/calendar.ics", "ftp://127.0.0.1/x", "y" * 20_000]
STRINGS = [
    "",
    " ",
    "alice",
    "alice@ours.com",
    "bob@acme.com",
    "@",
    "gmail.com",
    "acme.com",
    "name",
    "phone_numbers",
    "{{ person.first_name }}",
    "{{ person.",
    "\x00",
    "\x1f",
    "é" * 300,
    "r" * 256,
    "r" * 257,
    "x" * 20_000,
    "z" * HUGE,
]
TIMESTAMP_SECONDS = [0, -62_135_596_800, -62_135_596_801, 253_402_300_799, 253_402_300_800]


PLAUSIBLE_STRINGS = [
    "",
    "alice",
    "ben",
    "alice@ours.com",
    "ben@ours.com",
    "bob@acme.com",
    "acme.com",
    "ours.com",
    "name",
    "job_title",
    "Bob Buyer",
    "Hello {{ person.first_name }}",
]


EMAILS = ["alice@ours.com", "ben@ours.com", "bob@acme.com", "Bob@ACME.com", "x@gmail.com"]
# Values a client would send, by field name; ids and keys also from the fuzzed workspace.
PLAUSIBLE_BY_NAME = {
    "member_id": ["alice", "ben", "carol"],
    "viewer_member_id": ["", "ben"],
    "member_ids": ["ben", "carol"],
    "addresses": EMAILS,
    "owner_addresses": EMAILS,
    "email_address": EMAILS,
    "to": EMAILS,
    "cc": EMAILS,
    "bcc": EMAILS,
    "username": EMAILS,
    "blocklist": ["spam.example", "x@gmail.com"],
    "domain": ["ours.com", "eu.ours-group.co.uk", "acme.com", "gmail.com"],
    "field": ["name", "job_title", "phone_numbers", "linkedin_url"],
    "values": ["Bob Buyer", "+1 555 0100", "https://www.linkedin.com/in/bob"],
    "password": ["secret"],
    "idempotency_key": ["k-1", "k-2"],
}
KNOWN_IDS: list[str] = []


def _string(field: FieldDescriptor, plausible: bool) -> st.SearchStrategy[str]:
    if plausible and field.name in PLAUSIBLE_BY_NAME:
        return st.sampled_from(PLAUSIBLE_BY_NAME[field.name])
    if plausible and field.name.endswith(("_id", "_ids", "_key", "_keys")) and KNOWN_IDS:
        return st.sampled_from(KNOWN_IDS)
    if field.name == "page_token":
        return st.sampled_from(["", *ODD_PAGE_TOKENS] if plausible else PAGE_TOKENS)
    if field.name == "host":
        return st.sampled_from(HOSTS[:2] if plausible else HOSTS)
    if field.name in ("url", "ics_url"):
        return st.sampled_from(URLS[:2] if plausible else URLS)
    if plausible:
        return st.sampled_from(PLAUSIBLE_STRINGS)
    return st.one_of(st.sampled_from(STRINGS), st.text(max_size=40))


def _integers(bits: int, signed: bool) -> st.SearchStrategy[int]:
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    edges = [v for v in (low, high, 0, 1, -1, 10, 100, 500, 501, 1000, 65_535) if low <= v <= high]
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def _scalar(field: FieldDescriptor, plausible: bool) -> st.SearchStrategy:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _string(field, plausible)
    if kind == FieldDescriptor.TYPE_BYTES:
        if plausible:
            return st.binary(max_size=64)
        return st.one_of(st.binary(max_size=64), st.just(b"\x00" * HUGE))
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_ENUM:
        defined = [n for n in field.enum_type.values_by_number if n]
        return st.sampled_from(defined if plausible else [*defined, 0, 99, -1])
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=32 if kind == FieldDescriptor.TYPE_FLOAT else 64)
    if plausible:
        return st.integers(1, 65_535) if field.name == "port" else st.integers(0, 20)
    if kind in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
        return _integers(32, True)
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64):
        return _integers(64, True)
    if kind == FieldDescriptor.TYPE_UINT32:
        return _integers(32, False)
    if kind == FieldDescriptor.TYPE_UINT64:
        return _integers(64, False)
    raise AssertionError(f"no strategy for field {field.full_name}")


@st.composite
def messages(draw, descriptor: Descriptor, plausible: bool, depth: int = 0) -> Message:
    """A request with random fields set: `plausible` ones look like what a client sends
    (so calls get past the first check), the others hold boundary and random values."""
    message = message_factory.GetMessageClass(descriptor)()
    if descriptor.full_name == "google.protobuf.Timestamp":
        if plausible:
            message.seconds = draw(st.integers(946_684_800, 1_893_456_000))  # 2000-2030
            return message
        message.seconds = draw(st.one_of(st.sampled_from(TIMESTAMP_SECONDS), _integers(64, True)))
        message.nanos = draw(st.one_of(st.just(0), _integers(32, True)))
        return message
    for field in descriptor.fields:
        if not draw(st.sampled_from([True, True, True, False] if plausible else [True, False])):
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 3:
                continue
            values = messages(field.message_type, plausible, depth + 1)
        else:
            values = _scalar(field, plausible)
        if field.is_repeated:
            count = draw(st.sampled_from([0, 1, 2] if plausible else [0, 1, 3, 1001]))
            if count > 3:
                # Many small items: a count limit, not a size limit.
                item = draw(values)
                if isinstance(item, str | bytes):
                    item = item[:1]
                getattr(message, field.name).extend([item] * count)
            else:
                items = [draw(values) for _ in range(count)]
                getattr(message, field.name).extend(items)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(draw(values))
        else:
            setattr(message, field.name, draw(values))
    return message


def with_invalid_utf8(rpc: Rpc, message: Message, garbage: bytes) -> bytes:
    """The message on the wire with one string field (or just trailing bytes) that
    protobuf refuses to parse: what only a client with its own serializer can send."""
    strings = [f for f in rpc.request.fields if f.type == FieldDescriptor.TYPE_STRING]
    raw = message.SerializeToString()
    if not strings:
        return raw + garbage
    field = strings[len(garbage) % len(strings)]
    bad = b"\xff\xfe" + garbage
    return raw + bytes([field.number << 3 | 2, len(bad)]) + bad


# --- calling ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def fuzzed_pipeline(kafka_bootstrap: str, mongo_uri: str, signing_key: str):
    config = PipelineConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongo_uri=mongo_uri,
        signing_key=signing_key,
        name=f"t{uuid.uuid4().hex[:10]}",
    )
    running = await InProcessPipeline(config).start()
    try:
        # The caller is the workspace's admin, so commands reach the Kafka producer.
        await create_workspace(
            running.identity_target,
            signing_key,
            workspace_id=WORKSPACE,
            admin_member_id="alice",
            addresses=["alice@ours.com"],
        )
        KNOWN_IDS[:] = await _ids_of_some_mail(running, signing_key)
        yield running
    finally:
        await running.stop()


async def _ids_of_some_mail(pipeline: InProcessPipeline, signing_key: str) -> list[str]:
    """Mail with bob of acme in the fuzzed workspace, and the ids it made (records,
    messages, the mailbox), so plausible requests reach records that exist."""
    mail = Scenario(workspace_id=WORKSPACE)
    broker = build_broker(pipeline.config.kafka_bootstrap, configure_tracing("fuzz"), "fuzz")
    await broker.start()
    try:
        await EventPublisher(broker).publish(
            [mail.sent("bob@acme.com", key="m1"), mail.received("bob@acme.com", key="m2")]
        )
    finally:
        await broker.stop()
    await pipeline.wait_until_caught_up()
    token = issue_token(signing_key, Caller(WORKSPACE, "alice"), issued_at=datetime.now(UTC))
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(pipeline.identity_target) as channel:
        person = (
            await identity_pb2_grpc.IdentityServiceStub(channel).FindByEmail(
                identity_pb2.FindByEmailRequest(email_address="bob@acme.com"), metadata=metadata
            )
        ).person
    async with grpc.aio.insecure_channel(pipeline.access_target) as channel:
        emails = await access_pb2_grpc.AccessServiceStub(channel).ListRecordEmails(
            access_pb2.ListRecordEmailsRequest(record_id=person.person_id), metadata=metadata
        )
    assert person.person_id and person.company_id and emails.emails
    return [
        person.person_id,
        person.company_id,
        mail.mailbox_id,
        *(email.message_key for email in emails.emails),
        emails.emails[0].thread_key,
        "no-such-id",
    ]


class Caller_:
    """Calls any RPC with raw bytes and hands back (code, details)."""

    def __init__(self, pipeline: InProcessPipeline, signing_key: str) -> None:
        now = datetime.now(UTC)
        token = issue_token(signing_key, Caller(WORKSPACE, "alice"), issued_at=now)
        self.metadata = (("authorization", f"Bearer {token}"),)
        # Ingest's ContentService answers the access service only: call it as access does.
        self.as_access = (
            *self.metadata,
            (SERVICE_TOKEN_METADATA, issue_service_token(signing_key, "access", issued_at=now)),
        )
        self._pipeline = pipeline
        self._channels: dict[str, grpc.aio.Channel] = {}

    async def call(self, rpc: Rpc, payload: bytes, metadata=None) -> tuple[grpc.StatusCode, str]:
        target = target_of(self._pipeline, rpc.service)
        channel = self._channels.get(target)
        if channel is None:
            channel = self._channels[target] = grpc.aio.insecure_channel(target)
        call = channel.unary_unary(
            rpc.path, request_serializer=lambda b: b, response_deserializer=lambda b: b
        )
        try:
            if metadata is None:
                internal = rpc.service.endswith(".ContentService")
                metadata = self.as_access if internal else self.metadata
            await call(payload, metadata=metadata, timeout=60)
        except grpc.aio.AioRpcError as refused:
            return refused.code(), refused.details() or ""
        return grpc.StatusCode.OK, ""

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()


def assert_documented(rpc: Rpc, code: grpc.StatusCode, details: str, what: str) -> None:
    assert code in DOCUMENTED, f"{rpc.path} with {what}: {code.name} {details[:200]!r}"
    assert len(details) <= MAX_DETAILS, f"{rpc.path} with {what}: {len(details)} chars"
    # Nothing long is echoed back (ids are quoted cut to 64 characters).
    assert not any(len(word) > 64 for word in details.split()), f"{rpc.path}: {details!r}"
    assert not any(text in details for text in EXCEPTION_TEXT), f"{rpc.path}: {details!r}"


async def assert_healthy(pipeline: InProcessPipeline, caller: Caller_) -> None:
    for target in {target_of(pipeline, rpc.service) for rpc in RPCS}:
        async with grpc.aio.insecure_channel(target) as channel:
            answer = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10
            )
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
    # And each still answers an ordinary call.
    ordinary = {
        "/commsintel.identity.v1.WorkspaceService/GetWorkspaceSettings": b"",
        "/commsintel.access.v1.AccessService/ListRecords": b"",
        "/commsintel.intelligence.v1.IntelligenceService/ListStrongestConnections": b"",
        "/commsintel.ingest.v1.MailboxService/ListMailboxes": b"",
    }
    for rpc in RPCS:
        if rpc.path in ordinary:
            assert await caller.call(rpc, ordinary[rpc.path]) == (grpc.StatusCode.OK, "")


# --- the tests ----------------------------------------------------------------------------


async def test_every_rpc_refuses_boundary_values_with_a_short_documented_answer(
    fuzzed_pipeline, signing_key: str
) -> None:
    caller = Caller_(fuzzed_pipeline, signing_key)
    try:
        for rpc in RPCS:
            # No token at all.
            assert await caller.call(rpc, b"", metadata=()) == (
                grpc.StatusCode.UNAUTHENTICATED,
                "missing bearer token",
            ), rpc.path
            code, details = await caller.call(rpc, b"")
            assert_documented(rpc, code, details, "an empty request")
            for field in rpc.request.fields:
                if field.type == FieldDescriptor.TYPE_STRING:
                    # A 3 MB value is refused, and not sent back.
                    huge = message_factory.GetMessageClass(rpc.request)()
                    if field.is_repeated:
                        getattr(huge, field.name).append("z" * HUGE)
                    else:
                        setattr(huge, field.name, "z" * HUGE)
                    code, details = await caller.call(rpc, huge.SerializeToString())
                    assert_documented(rpc, code, details, f"a 3 MB {field.name}")
                    assert code != grpc.StatusCode.OK and "z" * 65 not in details, rpc.path
                    # Not UTF-8 on the wire.
                    bad = b"\xff\xfe\xfd"
                    raw = bytes([field.number << 3 | 2, len(bad)]) + bad
                    code, details = await caller.call(rpc, raw)
                    assert code == grpc.StatusCode.INVALID_ARGUMENT, (rpc.path, field.name, code)
                if field.name == "page_token":
                    for token in PAGE_TOKENS[1:]:
                        request = message_factory.GetMessageClass(rpc.request)(page_token=token)
                        code, details = await caller.call(rpc, request.SerializeToString())
                        assert code == grpc.StatusCode.INVALID_ARGUMENT, (rpc.path, token[:40])
                        assert_documented(rpc, code, details, "a forged page_token")
                if (
                    field.type == FieldDescriptor.TYPE_MESSAGE
                    and field.message_type.full_name == "google.protobuf.Timestamp"
                ):
                    request = message_factory.GetMessageClass(rpc.request)()
                    getattr(request, field.name).seconds = 2**62
                    code, details = await caller.call(rpc, request.SerializeToString())
                    assert code == grpc.StatusCode.INVALID_ARGUMENT, (rpc.path, field.name)
                    # The first and last moments a timestamp may hold, for a real record.
                    for seconds in (TIMESTAMP_SECONDS[1], TIMESTAMP_SECONDS[3]):
                        request = message_factory.GetMessageClass(rpc.request)()
                        for other in rpc.request.fields:
                            if other.name == "record_id":
                                request.record_id = KNOWN_IDS[0]
                        getattr(request, field.name).seconds = seconds
                        code, details = await caller.call(rpc, request.SerializeToString())
                        assert code == grpc.StatusCode.OK, (rpc.path, seconds, details)
        await assert_healthy(fuzzed_pipeline, caller)
    finally:
        await caller.close()


@settings(
    max_examples=6,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
async def test_random_requests_to_every_rpc_get_documented_codes_only(
    fuzzed_pipeline, signing_key: str, data
) -> None:
    caller = Caller_(fuzzed_pipeline, signing_key)
    try:
        calls = []
        for rpc in RPCS:
            plausible = data.draw(st.sampled_from([True, True, False]), label="plausible")
            message = data.draw(messages(rpc.request, plausible), label=rpc.path)
            payload = message.SerializeToString()
            if data.draw(st.sampled_from(["clean"] * 4 + ["corrupt"]), label="wire") == "corrupt":
                garbage = data.draw(st.binary(min_size=1, max_size=8), label="garbage")
                payload = with_invalid_utf8(rpc, message, garbage)
            calls.append((rpc, payload))
        answers = await asyncio.gather(*(caller.call(rpc, payload) for rpc, payload in calls))
        for (rpc, payload), (code, details) in zip(calls, answers, strict=True):
            assert_documented(rpc, code, details, f"{len(payload)} bytes")
        await assert_healthy(fuzzed_pipeline, caller)
    finally:
        await caller.close()
