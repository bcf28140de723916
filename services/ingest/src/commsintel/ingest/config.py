from commsintel.contracts.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_INGEST_")

    mongo_database: str = "commsintel_ingest"
    consumer_group: str = "commsintel-ingest"
