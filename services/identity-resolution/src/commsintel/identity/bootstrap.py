"""Wiring for identity-resolution: settings -> Mongo, Kafka, gRPC, telemetry -> handlers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import grpc

from commsintel.contracts import topics
from commsintel.contracts.events import Event
from commsintel.contracts.proto.identity.v1 import identity_pb2, identity_pb2_grpc
from commsintel.identity.adapters.store import IdentityStore
from commsintel.identity.config import IdentitySettings
from commsintel.identity.entrypoints.grpc_api import IdentityServicer, WorkspaceServicer
from commsintel.identity.ports import Publisher
from commsintel.identity.service_layer.handlers import IdentityHandlers, is_user_command
from commsintel.platform.commands import CommandGateway
from commsintel.platform.grpc_runtime import CallerInterceptor
from commsintel.platform.metrics import configure_metrics
from commsintel.platform.mongo import mongo_client
from commsintel.platform.rebuild import ProjectionRebuild, emptied_database
from commsintel.platform.service_runtime import GrpcEndpoint, ServiceRuntime
from commsintel.platform.streaming import EventPublisher, build_broker, subscribe_event_batches
from commsintel.platform.telemetry import configure_tracing

SERVICE_NAME = "identity-resolution"
INPUT_TOPICS = (
    topics.INGEST_MAILBOXES,
    topics.INGEST_MESSAGES,
    topics.INGEST_CALENDAR,
    topics.WORKSPACE_SETTINGS,
    # Only the user's commands (unmerge, values set by hand); the rest is our own output.
    topics.IDENTITY_RECORDS,
)
GRPC_SERVICES = tuple(s.full_name for s in identity_pb2.DESCRIPTOR.services_by_name.values())
# What the deployment's operator token may call: set a workspace's admins, and see them
# (docs/decisions/0021).
OPERATOR_METHODS = frozenset(
    {
        "/commsintel.identity.v1.WorkspaceService/AddMember",
        "/commsintel.identity.v1.WorkspaceService/GetWorkspaceSettings",
    }
)


def build(settings: IdentitySettings, **overrides) -> ServiceRuntime:
    """`overrides`: `clock` (the time commands are stamped with)."""
    provider = configure_tracing(SERVICE_NAME)
    configure_metrics(settings.metrics_bind)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME, settings.instance_id)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    store = IdentityStore(mongo[settings.mongo_database])
    publisher = EventPublisher(broker)
    handlers = IdentityHandlers(store, publisher)

    async def handle(events: Sequence[Event]) -> None:
        await handlers.handle_batch([e for e in events if is_identity_input(e)])

    membership = subscribe_event_batches(
        broker,
        INPUT_TOPICS,
        group_id=settings.consumer_group,
        handle=handle,
        max_records=settings.batch_size,
        instance_id=settings.instance_id,
        tracer_provider=provider,
    )
    gateway = CommandGateway(store, publisher)
    clock = overrides.get("clock") or (lambda: datetime.now(UTC))

    def register(server: grpc.aio.Server) -> None:
        identity_pb2_grpc.add_WorkspaceServiceServicer_to_server(
            WorkspaceServicer(store, gateway, clock), server
        )
        identity_pb2_grpc.add_IdentityServiceServicer_to_server(
            IdentityServicer(store, gateway, clock), server
        )

    endpoint = GrpcEndpoint(
        settings.grpc_bind,
        register,
        GRPC_SERVICES,
        [CallerInterceptor(settings.signing_key, provider, OPERATOR_METHODS)],
    )
    return ServiceRuntime(
        SERVICE_NAME, broker, mongo, store.ensure_indexes, endpoint, membership=membership
    )


def is_identity_input(event: Event) -> bool:
    return event.TOPIC != topics.IDENTITY_RECORDS or is_user_command(event)


def build_replay(settings: IdentitySettings | None, publisher: Publisher) -> ProjectionRebuild:
    """The live handlers on an emptied database; what they publish goes to `publisher`
    (a replay publishes nothing again by default: every id is derived)."""
    settings = settings or IdentitySettings()
    mongo = mongo_client(settings.mongo_uri, f"{SERVICE_NAME}-replay")
    store = IdentityStore(mongo[settings.mongo_database])
    handlers = IdentityHandlers(store, publisher)

    prepare = emptied_database(mongo, settings.mongo_database, store.ensure_indexes)

    async def handle(events: Sequence[Event]) -> None:
        await handlers.handle_batch([e for e in events if is_identity_input(e)])

    return ProjectionRebuild(settings.kafka_bootstrap, INPUT_TOPICS, handle, prepare, mongo.close)
