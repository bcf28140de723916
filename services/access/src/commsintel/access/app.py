"""Wiring for access: settings -> Mongo, Kafka, gRPC (with its intelligence channel)."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from commsintel.access.adapters.grpc_api import AccessServicer
from commsintel.access.adapters.store import AccessStore
from commsintel.access.config import AccessSettings
from commsintel.access.handlers import AccessHandlers
from commsintel.contracts import topics
from commsintel.contracts.grpc_runtime import CallerInterceptor, start_grpc_server
from commsintel.contracts.mongo import mongo_client
from commsintel.contracts.proto.access.v1 import access_pb2, access_pb2_grpc
from commsintel.contracts.streaming import build_broker, subscribe_event_batches
from commsintel.contracts.telemetry import configure_tracing

SERVICE_NAME = "access"
INPUT_TOPICS = (
    topics.INGEST_MAILBOXES,
    topics.INGEST_MESSAGES,
    topics.IDENTITY_RECORDS,
    topics.IDENTITY_INTERACTIONS,
)
GRPC_SERVICE = access_pb2.DESCRIPTOR.services_by_name["AccessService"].full_name


@dataclass
class AccessService:
    settings: AccessSettings
    broker: KafkaBroker
    mongo: AsyncMongoClient
    store: AccessStore
    intelligence_channel: grpc.aio.Channel
    interceptor: CallerInterceptor
    grpc_server: grpc.aio.Server | None = None
    grpc_port: int = 0

    async def start(self) -> None:
        await self.store.ensure_indexes()
        await self.broker.start()
        servicer = AccessServicer(self.store, self.intelligence_channel)
        self.grpc_server, self.grpc_port = await start_grpc_server(
            self.settings.grpc_bind,
            lambda server: access_pb2_grpc.add_AccessServiceServicer_to_server(servicer, server),
            [GRPC_SERVICE],
            [self.interceptor],
        )

    async def stop(self) -> None:
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace=2)
        await self.intelligence_channel.close()
        await self.broker.stop()
        await self.mongo.close()


def build(settings: AccessSettings) -> AccessService:
    provider = configure_tracing(SERVICE_NAME)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    store = AccessStore(mongo[settings.mongo_database])
    subscribe_event_batches(
        broker,
        INPUT_TOPICS,
        group_id=settings.consumer_group,
        handle=AccessHandlers(store).handle_batch,
        max_records=settings.batch_size,
    )
    channel = grpc.aio.insecure_channel(settings.intelligence_target)
    return AccessService(
        settings, broker, mongo, store, channel, CallerInterceptor(settings.signing_key, provider)
    )
