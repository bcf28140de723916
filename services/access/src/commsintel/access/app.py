"""Wiring for access: settings -> Mongo, Kafka, gRPC (with its intelligence channel)."""

from __future__ import annotations

import grpc

from commsintel.access.adapters.grpc_api import AccessServicer
from commsintel.access.adapters.store import AccessStore
from commsintel.access.config import AccessSettings
from commsintel.access.handlers import AccessHandlers
from commsintel.contracts import topics
from commsintel.contracts.grpc_runtime import CallerInterceptor
from commsintel.contracts.mongo import mongo_client
from commsintel.contracts.proto.access.v1 import access_pb2, access_pb2_grpc
from commsintel.contracts.service_runtime import GrpcEndpoint, ServiceRuntime
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


def build(settings: AccessSettings) -> ServiceRuntime:
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
    servicer = AccessServicer(store, channel)
    endpoint = GrpcEndpoint(
        settings.grpc_bind,
        lambda server: access_pb2_grpc.add_AccessServiceServicer_to_server(servicer, server),
        [GRPC_SERVICE],
        [CallerInterceptor(settings.signing_key, provider)],
    )
    return ServiceRuntime(
        SERVICE_NAME, broker, mongo, store.ensure_indexes, endpoint, closers=[channel.close]
    )
