from pydantic import Field
from pydantic_settings import SettingsConfigDict

from commsintel.platform.settings import GrpcServiceSettings


class AccessSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_ACCESS_")

    mongo_database: str = "commsintel_access"
    consumer_group: str = "commsintel-access"
    grpc_bind: str = "127.0.0.1:50051"
    intelligence_target: str = Field(
        "127.0.0.1:50052", description="host:port of the intelligence service's gRPC API"
    )
    ingest_target: str = Field(
        "127.0.0.1:50054",
        description="host:port of ingest's gRPC API (ContentService: bodies and attachments)",
    )
    max_workspaces_in_memory: int = Field(
        64, ge=1, description="Workspaces whose state this instance keeps in memory at once"
    )
    version_read_spacing_ms: float = Field(
        2.0,
        ge=0,
        description="Least time between two reads of a workspace's version (queries that "
        "arrive meanwhile share the next read); bounds the store's load under many queries",
    )
