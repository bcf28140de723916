from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from commsintel.contracts.settings import GrpcServiceSettings
from commsintel.ingest.domain.destinations import DestinationPolicy
from commsintel.ingest.mailbox_sync import SyncTimings


class IngestSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMMSINTEL_INGEST_")

    mongo_database: str = "commsintel_ingest"
    consumer_group: str = "commsintel-ingest"
    grpc_bind: str = "127.0.0.1:50054"
    encryption_key: SecretStr = Field(
        description="Master key (urlsafe base64 of 32 bytes): seals mailbox credentials "
        "and wraps each mailbox's content key. Losing it loses every stored body."
    )
    sync_mailboxes: bool = Field(
        True, description="Run the IMAP sync of connected mailboxes in this instance"
    )
    poll_interval_seconds: float = Field(
        60.0, gt=0, description="Longest wait between two syncs of a mailbox"
    )
    idle_slice_seconds: float = Field(
        5.0, gt=0, description="Longest single IMAP IDLE; bounds how long 'sync now' waits"
    )
    calendar_interval_seconds: float = Field(
        300.0, gt=0, description="Seconds between two syncs of a mailbox's calendar"
    )
    sync_batch_size: int = Field(200, ge=1, le=5_000, description="IMAP messages per fetch")
    retry_ceiling_seconds: float = Field(
        300.0, gt=0, description="Longest wait before retrying an unreachable server"
    )

    identity_target: str = Field(
        "127.0.0.1:50053",
        description="host:port of identity-resolution's gRPC API (people for mass sends)",
    )
    send_rate_per_minute: float = Field(
        30.0, gt=0, le=6_000, description="Most messages one mailbox sends per minute"
    )

    outbound_allowed_hosts: str = Field(
        "",
        description="Comma-separated host names (or host:port) members may point IMAP, "
        "SMTP, CalDAV and .ics feeds at whatever they resolve to (on-premises servers). "
        "Empty: only public addresses",
    )
    outbound_allowed_networks: str = Field(
        "",
        description="Comma-separated networks (CIDR, e.g. 10.1.0.0/16, 127.0.0.1/32) "
        "allowed besides public addresses. Empty: no loopback, private, link-local, "
        "metadata or other non-public address",
    )

    @field_validator("outbound_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        DestinationPolicy.parse(networks=value)
        return value

    def destination_policy(self) -> DestinationPolicy:
        return DestinationPolicy.parse(self.outbound_allowed_hosts, self.outbound_allowed_networks)

    def sync_timings(self) -> SyncTimings:
        return SyncTimings(
            poll_interval=self.poll_interval_seconds,
            idle_slice=self.idle_slice_seconds,
            batch_size=self.sync_batch_size,
            retry_ceiling=self.retry_ceiling_seconds,
            calendar_interval=self.calendar_interval_seconds,
        )
