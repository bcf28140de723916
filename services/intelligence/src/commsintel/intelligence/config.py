from pydantic import Field
from pydantic_settings import SettingsConfigDict

from commsintel.intelligence.domain.strength import StrengthModel
from commsintel.platform.settings import GrpcServiceSettings


class IntelligenceSettings(GrpcServiceSettings):
    """The strength model's parameters are settings (docs/decisions/0004)."""

    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_INTELLIGENCE_")

    mongo_database: str = "commsintel_intelligence"
    consumer_group: str = "commsintel-intelligence"
    grpc_bind: str = "127.0.0.1:50052"
    strength_half_life_days: float = Field(90.0, gt=0)
    strength_sent_weight: float = Field(1.0, ge=0)
    strength_received_weight: float = Field(0.6, ge=0)
    strength_two_way_factor: float = Field(1.5, ge=1)
    strength_exchange_window_days: float = Field(30.0, gt=0)
    strength_mass_mail_factor: float = Field(0.2, ge=0, le=1)
    strength_meeting_weight: float = Field(2.0, ge=0)
    # A replay folds in memory up to this many interactions (~0.7 KB each, measured),
    # then writes what it has and goes on batch by batch like the live consumer.
    replay_memory_interactions: int = Field(500_000, gt=0)

    def strength_model(self) -> StrengthModel:
        return StrengthModel(
            half_life_days=self.strength_half_life_days,
            sent_weight=self.strength_sent_weight,
            received_weight=self.strength_received_weight,
            two_way_factor=self.strength_two_way_factor,
            exchange_window_days=self.strength_exchange_window_days,
            mass_mail_factor=self.strength_mass_mail_factor,
            meeting_weight=self.strength_meeting_weight,
        )
