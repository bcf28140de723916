from pydantic import Field
from pydantic_settings import SettingsConfigDict

from commsintel.contracts.settings import ServiceSettings


class AccessSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_ACCESS_")

    mongo_database: str = "commsintel_access"
    consumer_group: str = "commsintel-access"
    grpc_bind: str = Field("127.0.0.1:50051", description="host:port of AccessService")
    signing_key: str = Field(description="HMAC key that signs callers' bearer tokens")
    intelligence_target: str = Field(
        "127.0.0.1:50052", description="host:port of the intelligence service's gRPC API"
    )
