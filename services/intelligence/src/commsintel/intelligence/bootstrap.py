"""The one wiring point of intelligence: settings -> Mongo, Kafka, gRPC, telemetry ->
handlers (`build`), and the same handlers for a rebuild of the projections (`build_replay`)."""

from __future__ import annotations

from commsintel.contracts import topics
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2, intelligence_pb2_grpc
from commsintel.intelligence.adapters.store import IntelligenceStore
from commsintel.intelligence.config import IntelligenceSettings
from commsintel.intelligence.entrypoints.grpc_api import IntelligenceServicer
from commsintel.intelligence.service_layer.handlers import IntelligenceHandlers, IntelligenceReplay
from commsintel.platform.grpc_runtime import CallerInterceptor
from commsintel.platform.metrics import configure_metrics
from commsintel.platform.mongo import mongo_client
from commsintel.platform.rebuild import ProjectionRebuild, emptied_database
from commsintel.platform.service_runtime import GrpcEndpoint, ServiceRuntime
from commsintel.platform.streaming import build_broker, subscribe_event_batches
from commsintel.platform.telemetry import configure_tracing

SERVICE_NAME = "intelligence"
# identity.records: which records exist (PersonCreated, CompanyCreated); the rest of
# that topic is read past.
INPUT_TOPICS = (topics.INGEST_MAILBOXES, topics.IDENTITY_RECORDS, topics.IDENTITY_INTERACTIONS)
GRPC_SERVICE = intelligence_pb2.DESCRIPTOR.services_by_name["IntelligenceService"].full_name


def build(settings: IntelligenceSettings, **overrides) -> ServiceRuntime:
    """`overrides`: `tracer_provider` (tests collect the spans)."""
    provider = overrides.get("tracer_provider") or configure_tracing(SERVICE_NAME)
    configure_metrics(settings.metrics_bind)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME, settings.instance_id)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    store = IntelligenceStore(mongo[settings.mongo_database])
    model = settings.strength_model()
    membership = subscribe_event_batches(
        broker,
        INPUT_TOPICS,
        group_id=settings.consumer_group,
        handle=IntelligenceHandlers(store, model).handle_batch,
        max_records=settings.batch_size,
        instance_id=settings.instance_id,
        tracer_provider=provider,
    )
    servicer = IntelligenceServicer(store, model)
    endpoint = GrpcEndpoint(
        settings.grpc_bind,
        lambda server: intelligence_pb2_grpc.add_IntelligenceServiceServicer_to_server(
            servicer, server
        ),
        [GRPC_SERVICE],
        [CallerInterceptor(settings.signing_key, provider)],
    )
    return ServiceRuntime(
        SERVICE_NAME, broker, mongo, store.ensure_indexes, endpoint, membership=membership
    )


def build_replay(
    settings: IntelligenceSettings | None = None, publisher: object = None
) -> ProjectionRebuild:
    """Rebuilds into an empty database: books in memory, each document written once at the
    end, the indexes after them. Intelligence publishes nothing (`publisher` is unused)."""
    settings = settings or IntelligenceSettings()
    mongo = mongo_client(settings.mongo_uri, f"{SERVICE_NAME}-replay")
    store = IntelligenceStore(mongo[settings.mongo_database])
    rebuild = IntelligenceReplay(
        store, settings.strength_model(), settings.replay_memory_interactions
    )
    return ProjectionRebuild(
        settings.kafka_bootstrap,
        INPUT_TOPICS,
        rebuild.handle_batch,
        prepare=emptied_database(mongo, settings.mongo_database),
        close=mongo.close,
        finish=rebuild.finish,
    )
