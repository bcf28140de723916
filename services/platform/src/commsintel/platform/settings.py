"""Settings every service has. Each service subclasses this with its own env prefix,
e.g. COMMSINTEL_INGEST_KAFKA_BOOTSTRAP, COMMSINTEL_ACCESS_MONGO_URI."""

import socket

from pydantic import Field
from pydantic_settings import BaseSettings


class ServiceSettings(BaseSettings):
    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma separated"
    )
    mongo_uri: str = Field(
        "mongodb://127.0.0.1:27017/?directConnection=true",
        description="MongoDB connection string (a replica set in production)",
    )
    mongo_database: str = Field(description="This service's own database")
    consumer_group: str = Field(description="Kafka consumer group of this service")
    batch_size: int = Field(500, ge=1, le=10_000, description="Kafka records per batch")
    metrics_bind: str = Field(
        "",
        description="host:port of this instance's Prometheus `/metrics` endpoint (e.g. "
        "0.0.0.0:9464); empty: none. Services sharing a process share one endpoint",
    )
    instance_id: str = Field(
        default_factory=socket.gethostname,
        min_length=1,
        max_length=200,
        description="This instance's static member id in its consumer group (Kafka's "
        "group.instance.id): unique per running instance, kept across restarts, so a "
        "restarted instance takes its own partitions back at once (docs/decisions/0022)",
    )


class GrpcServiceSettings(ServiceSettings):
    """A service that also serves gRPC to authenticated callers."""

    grpc_bind: str = Field(description="host:port the gRPC server listens on")
    signing_key: str = Field(description="HMAC key that signs callers' bearer tokens")
