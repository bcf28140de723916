from pydantic_settings import SettingsConfigDict

from commsintel.contracts.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_INGEST_")

    mongo_database: str = "commsintel_ingest"
    consumer_group: str = "commsintel-ingest"
