from pydantic_settings import SettingsConfigDict

from commsintel.platform.settings import GrpcServiceSettings


class IdentitySettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_IDENTITY_")

    mongo_database: str = "commsintel_identity"
    consumer_group: str = "commsintel-identity-resolution"
    grpc_bind: str = "127.0.0.1:50053"
