"""Wiring for identity-resolution: settings -> Mongo, Kafka, gRPC, telemetry -> handlers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from commsintel.contracts import topics
from commsintel.contracts.events import Event
from commsintel.contracts.grpc_runtime import CallerInterceptor, start_grpc_server
from commsintel.contracts.mongo import mongo_client
from commsintel.contracts.proto.identity.v1 import identity_pb2, identity_pb2_grpc
from commsintel.contracts.streaming import EventPublisher, build_broker, subscribe_event_batches
from commsintel.contracts.telemetry import configure_tracing
from commsintel.identity.adapters.grpc_api import (
    CommandGateway,
    IdentityServicer,
    WorkspaceServicer,
)
from commsintel.identity.adapters.store import IdentityStore
from commsintel.identity.config import IdentitySettings
from commsintel.identity.handlers import IdentityHandlers, is_user_command

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


@dataclass
class IdentityService:
    settings: IdentitySettings
    broker: KafkaBroker
    mongo: AsyncMongoClient
    store: IdentityStore
    interceptor: CallerInterceptor
    grpc_server: grpc.aio.Server | None = None
    grpc_port: int = 0

    async def start(self) -> None:
        await self.store.ensure_indexes()
        await self.broker.start()
        gateway = CommandGateway(self.store, EventPublisher(self.broker))
        clock = lambda: datetime.now(UTC)  # noqa: E731

        def register(server: grpc.aio.Server) -> None:
            identity_pb2_grpc.add_WorkspaceServiceServicer_to_server(
                WorkspaceServicer(self.store, gateway, clock), server
            )
            identity_pb2_grpc.add_IdentityServiceServicer_to_server(
                IdentityServicer(self.store, gateway, clock), server
            )

        self.grpc_server, self.grpc_port = await start_grpc_server(
            self.settings.grpc_bind, register, GRPC_SERVICES, [self.interceptor]
        )

    async def stop(self) -> None:
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace=2)
        await self.broker.stop()
        await self.mongo.close()


def build(settings: IdentitySettings) -> IdentityService:
    provider = configure_tracing(SERVICE_NAME)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    store = IdentityStore(mongo[settings.mongo_database])
    handlers = IdentityHandlers(store, EventPublisher(broker))

    async def handle(events: Sequence[Event]) -> None:
        await handlers.handle_batch([e for e in events if is_identity_input(e)])

    subscribe_event_batches(
        broker,
        INPUT_TOPICS,
        group_id=settings.consumer_group,
        handle=handle,
        max_records=settings.batch_size,
    )
    return IdentityService(
        settings, broker, mongo, store, CallerInterceptor(settings.signing_key, provider)
    )


def is_identity_input(event: Event) -> bool:
    return event.TOPIC != topics.IDENTITY_RECORDS or is_user_command(event)
