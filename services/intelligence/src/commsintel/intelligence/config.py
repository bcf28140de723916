from pydantic import Field
from pydantic_settings import SettingsConfigDict

from commsintel.contracts.settings import ServiceSettings


class IntelligenceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_INTELLIGENCE_")

    mongo_database: str = "commsintel_intelligence"
    consumer_group: str = "commsintel-intelligence"
    grpc_bind: str = Field("127.0.0.1:50052", description="host:port of IntelligenceService")
    signing_key: str = Field(description="HMAC key that signs callers' bearer tokens")
    strength_half_life_days: float = Field(90.0, gt=0)
