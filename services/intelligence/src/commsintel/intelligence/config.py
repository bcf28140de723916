from pydantic import Field
from pydantic_settings import SettingsConfigDict

from commsintel.contracts.settings import GrpcServiceSettings


class IntelligenceSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_INTELLIGENCE_")

    mongo_database: str = "commsintel_intelligence"
    consumer_group: str = "commsintel-intelligence"
    grpc_bind: str = "127.0.0.1:50052"
    strength_half_life_days: float = Field(90.0, gt=0)
