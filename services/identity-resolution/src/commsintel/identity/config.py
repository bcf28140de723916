from pydantic_settings import SettingsConfigDict

from commsintel.contracts.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_IDENTITY_")

    mongo_database: str = "commsintel_identity"
    consumer_group: str = "commsintel-identity-resolution"
