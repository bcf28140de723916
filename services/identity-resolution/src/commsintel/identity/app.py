"""Wiring for identity-resolution: settings -> Mongo, Kafka, telemetry -> handlers."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from commsintel.contracts import topics
from commsintel.contracts.mongo import mongo_client
from commsintel.contracts.streaming import EventPublisher, build_broker, subscribe_event_batches
from commsintel.contracts.telemetry import configure_tracing
from commsintel.identity.adapters.store import IdentityStore
from commsintel.identity.config import IdentitySettings
from commsintel.identity.handlers import IdentityHandlers

SERVICE_NAME = "identity-resolution"
INPUT_TOPICS = (topics.INGEST_MAILBOXES, topics.INGEST_MESSAGES)


@dataclass
class IdentityService:
    settings: IdentitySettings
    broker: KafkaBroker
    mongo: AsyncMongoClient
    store: IdentityStore

    async def start(self) -> None:
        await self.store.ensure_indexes()
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.mongo.close()


def build(settings: IdentitySettings) -> IdentityService:
    provider = configure_tracing(SERVICE_NAME)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    store = IdentityStore(mongo[settings.mongo_database])
    handlers = IdentityHandlers(store, EventPublisher(broker))
    subscribe_event_batches(
        broker,
        INPUT_TOPICS,
        group_id=settings.consumer_group,
        handle=handlers.handle_batch,
        max_records=settings.batch_size,
    )
    return IdentityService(settings, broker, mongo, store)
