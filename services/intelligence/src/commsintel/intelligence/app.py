"""Wiring for intelligence: settings -> Mongo, Kafka, gRPC, telemetry -> handlers."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from commsintel.contracts import topics
from commsintel.contracts.grpc_runtime import CallerInterceptor, start_grpc_server
from commsintel.contracts.mongo import mongo_client
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2, intelligence_pb2_grpc
from commsintel.contracts.streaming import build_broker, subscribe_event_batches
from commsintel.contracts.telemetry import configure_tracing
from commsintel.intelligence.adapters.grpc_api import IntelligenceServicer
from commsintel.intelligence.adapters.store import IntelligenceStore
from commsintel.intelligence.config import IntelligenceSettings
from commsintel.intelligence.handlers import IntelligenceHandlers

SERVICE_NAME = "intelligence"
INPUT_TOPICS = (topics.INGEST_MAILBOXES, topics.IDENTITY_INTERACTIONS)
GRPC_SERVICE = intelligence_pb2.DESCRIPTOR.services_by_name["IntelligenceService"].full_name


@dataclass
class IntelligenceService:
    settings: IntelligenceSettings
    broker: KafkaBroker
    mongo: AsyncMongoClient
    store: IntelligenceStore
    servicer: IntelligenceServicer
    interceptor: CallerInterceptor
    grpc_server: grpc.aio.Server | None = None
    grpc_port: int = field(default=0)

    async def start(self) -> None:
        await self.store.ensure_indexes()
        await self.broker.start()
        self.grpc_server, self.grpc_port = await start_grpc_server(
            self.settings.grpc_bind,
            lambda server: intelligence_pb2_grpc.add_IntelligenceServiceServicer_to_server(
                self.servicer, server
            ),
            [GRPC_SERVICE],
            [self.interceptor],
        )

    async def stop(self) -> None:
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace=2)
        await self.broker.stop()
        await self.mongo.close()


def build(settings: IntelligenceSettings) -> IntelligenceService:
    provider = configure_tracing(SERVICE_NAME)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    store = IntelligenceStore(mongo[settings.mongo_database])
    model = settings.strength_model()
    subscribe_event_batches(
        broker,
        INPUT_TOPICS,
        group_id=settings.consumer_group,
        handle=IntelligenceHandlers(store, model).handle_batch,
        max_records=settings.batch_size,
    )
    return IntelligenceService(
        settings,
        broker,
        mongo,
        store,
        IntelligenceServicer(store, model),
        CallerInterceptor(settings.signing_key, provider),
    )
