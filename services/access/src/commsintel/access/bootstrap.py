"""The one wiring point of access: settings -> Mongo, Kafka (consumer and the access.grants
producer), the in-memory workspace states, and gRPC (with its intelligence and ingest
channels) in `build`; the same fold on an emptied database in `build_replay`."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from commsintel.access.adapters.content import IngestContent
from commsintel.access.adapters.intelligence import IntelligenceClient
from commsintel.access.adapters.store import AccessStore
from commsintel.access.config import AccessSettings
from commsintel.access.entrypoints.grpc_api import AccessServicer
from commsintel.access.service_layer.handlers import AccessHandlers
from commsintel.access.service_layer.workspace_states import WorkspaceStates
from commsintel.contracts import topics
from commsintel.contracts.proto.access.v1 import access_pb2, access_pb2_grpc
from commsintel.platform.commands import CommandGateway
from commsintel.platform.grpc_runtime import CallerInterceptor
from commsintel.platform.metrics import configure_metrics
from commsintel.platform.mongo import mongo_client
from commsintel.platform.rebuild import ProjectionRebuild, emptied_database
from commsintel.platform.service_runtime import GrpcEndpoint, ServiceRuntime
from commsintel.platform.streaming import EventPublisher, build_broker, subscribe_event_batches
from commsintel.platform.telemetry import configure_tracing

SERVICE_NAME = "access"
INPUT_TOPICS = (
    topics.INGEST_MAILBOXES,
    topics.INGEST_MESSAGES,
    topics.INGEST_CALENDAR,
    topics.IDENTITY_RECORDS,
    topics.IDENTITY_INTERACTIONS,
    # Our own commands: sharing levels, grants, shares, requests and decisions.
    topics.ACCESS_GRANTS,
)
GRPC_SERVICE = access_pb2.DESCRIPTOR.services_by_name["AccessService"].full_name


def build(settings: AccessSettings, **overrides) -> ServiceRuntime:
    """`overrides`: `clock` (token lifetimes and request times)."""
    provider = configure_tracing(SERVICE_NAME)
    configure_metrics(settings.metrics_bind)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME, settings.instance_id)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    store = AccessStore(mongo[settings.mongo_database])
    states = WorkspaceStates(
        store, settings.max_workspaces_in_memory, settings.version_read_spacing_ms / 1000
    )
    membership = subscribe_event_batches(
        broker,
        INPUT_TOPICS,
        group_id=settings.consumer_group,
        handle=AccessHandlers(store, states).handle_batch,
        max_records=settings.batch_size,
        instance_id=settings.instance_id,
        tracer_provider=provider,
    )
    clock = overrides.get("clock") or (lambda: datetime.now(UTC))
    intelligence = grpc.aio.insecure_channel(settings.intelligence_target)
    ingest = grpc.aio.insecure_channel(settings.ingest_target)
    servicer = AccessServicer(
        store,
        states,
        CommandGateway(store, EventPublisher(broker)),
        IntelligenceClient(intelligence),
        IngestContent(ingest, settings.signing_key, clock),
        settings.signing_key,
        clock,
    )
    endpoint = GrpcEndpoint(
        settings.grpc_bind,
        lambda server: access_pb2_grpc.add_AccessServiceServicer_to_server(servicer, server),
        [GRPC_SERVICE],
        [CallerInterceptor(settings.signing_key, provider)],
    )
    return ServiceRuntime(
        SERVICE_NAME,
        broker,
        mongo,
        store.ensure_indexes,
        endpoint,
        closers=[intelligence.close, ingest.close],
        membership=membership,
    )


def build_replay(
    settings: AccessSettings | None = None, publisher: object = None
) -> ProjectionRebuild:
    """The live fold on an emptied database, with no workspace held in memory. Access
    publishes nothing from its consumer (`publisher` is unused)."""
    settings = settings or AccessSettings()
    mongo = mongo_client(settings.mongo_uri, f"{SERVICE_NAME}-replay")
    store = AccessStore(mongo[settings.mongo_database])

    prepare = emptied_database(mongo, settings.mongo_database, store.ensure_indexes)

    return ProjectionRebuild(
        settings.kafka_bootstrap,
        INPUT_TOPICS,
        AccessHandlers(store).handle_batch,
        prepare,
        mongo.close,
    )
