from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from commsintel.ingest.adapters.oauth import OAuthClient
from commsintel.ingest.domain.destinations import DestinationPolicy
from commsintel.ingest.domain.oauth import GOOGLE, Endpoint, ProviderName, generic, microsoft
from commsintel.ingest.service_layer.sync import SyncTimings
from commsintel.platform.settings import GrpcServiceSettings


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
        300.0,
        gt=0,
        description=(
            "Longest wait between two syncs of a mailbox's folders (INBOX is watched by"
            " IDLE; Sent and the others are seen at the latest then, or at a sync now)"
        ),
    )
    idle_slice_seconds: float = Field(
        540.0,
        gt=0,
        le=1740,
        description=(
            "Longest single IMAP IDLE before it is renewed (RFC 2177: under 29 minutes);"
            " a 'sync now' ends an IDLE at once"
        ),
    )
    calendar_interval_seconds: float = Field(
        300.0, gt=0, description="Seconds between two syncs of a mailbox's calendar"
    )
    sync_batch_size: int = Field(200, ge=1, le=5_000, description="IMAP messages per fetch")
    retry_ceiling_seconds: float = Field(
        300.0, gt=0, description="Longest wait before retrying an unreachable server"
    )
    backfill_concurrency: int = Field(
        8,
        ge=1,
        le=1_000,
        description="Mailbox passes of more than one batch (backfills) this instance runs "
        "at once; the others wait for a slot. New mail in a mailbox that is caught up "
        "never waits for one",
    )
    connect_concurrency: int = Field(
        16,
        ge=1,
        le=1_000,
        description="IMAP logins this instance has in progress at once: its start, a "
        "rebalance and the reconnects after a server outage come in waves of this size",
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

    # OAuth2 accounts (decision 0025): the operator's client registrations. A provider
    # without a client id is not offered.
    oauth_redirect_uri: str = Field(
        "",
        description="Where providers send the member back with ?code=&state= (the "
        "operator's front end, which passes them on to ConnectMailbox/ReconnectMailbox)",
    )
    oauth_google_client_id: str = Field("", description="Google OAuth client id")
    oauth_google_client_secret: SecretStr = Field(
        SecretStr(""), description="Google OAuth client secret"
    )
    oauth_microsoft_client_id: str = Field("", description="Microsoft Entra application id")
    oauth_microsoft_client_secret: SecretStr = Field(
        SecretStr(""), description="Microsoft Entra client secret"
    )
    oauth_microsoft_tenant: str = Field(
        "common", description="Microsoft tenant: common, organizations or a tenant id"
    )
    oauth_generic_client_id: str = Field("", description="Generic provider's client id")
    oauth_generic_client_secret: SecretStr = Field(
        SecretStr(""), description="Generic provider's client secret"
    )
    oauth_generic_issuer: str = Field(
        "",
        description="Generic provider's issuer URL: endpoints not set below are "
        "discovered from its metadata (RFC 8414 or OpenID discovery)",
    )
    oauth_generic_authorization_endpoint: str = Field(
        "", description="Generic provider's authorization endpoint URL"
    )
    oauth_generic_token_endpoint: str = Field(
        "", description="Generic provider's token endpoint URL"
    )
    oauth_generic_scopes: str = Field("", description="Generic provider's scopes, space-separated")
    oauth_generic_imap: str = Field(
        "", description="Generic provider's IMAP server, host:port[:tls|starttls|none]"
    )
    oauth_generic_smtp: str = Field(
        "", description="Generic provider's SMTP server, host:port[:tls|starttls|none]"
    )
    oauth_generic_caldav_url: str = Field(
        "",
        description="Generic provider's CalDAV URL ({username} is replaced by the "
        "account's address), used with the access token as a bearer",
    )

    @field_validator("oauth_generic_imap", "oauth_generic_smtp")
    @classmethod
    def _servers_parse(cls, value: str) -> str:
        _endpoint(value)
        return value

    @field_validator("outbound_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        DestinationPolicy.parse(networks=value)
        return value

    def destination_policy(self) -> DestinationPolicy:
        return DestinationPolicy.parse(self.outbound_allowed_hosts, self.outbound_allowed_networks)

    def oauth_clients(self) -> dict[ProviderName, OAuthClient]:
        """The providers this deployment offers, with its client registration for each."""
        clients: dict[ProviderName, OAuthClient] = {}
        redirect = self.oauth_redirect_uri
        if self.oauth_google_client_id:
            clients["google"] = OAuthClient(
                GOOGLE,
                self.oauth_google_client_id,
                self.oauth_google_client_secret.get_secret_value(),
                redirect,
            )
        if self.oauth_microsoft_client_id:
            clients["microsoft"] = OAuthClient(
                microsoft(self.oauth_microsoft_tenant),
                self.oauth_microsoft_client_id,
                self.oauth_microsoft_client_secret.get_secret_value(),
                redirect,
            )
        if self.oauth_generic_client_id and (
            self.oauth_generic_token_endpoint or self.oauth_generic_issuer
        ):
            provider = generic(
                issuer=self.oauth_generic_issuer,
                authorization_endpoint=self.oauth_generic_authorization_endpoint,
                token_endpoint=self.oauth_generic_token_endpoint,
                scopes=tuple(self.oauth_generic_scopes.replace(",", " ").split()),
                imap=_endpoint(self.oauth_generic_imap),
                smtp=_endpoint(self.oauth_generic_smtp),
                caldav_url=self.oauth_generic_caldav_url,
            )
            clients["generic"] = OAuthClient(
                provider,
                self.oauth_generic_client_id,
                self.oauth_generic_client_secret.get_secret_value(),
                redirect,
            )
        return clients

    def sync_timings(self) -> SyncTimings:
        return SyncTimings(
            poll_interval=self.poll_interval_seconds,
            idle_slice=self.idle_slice_seconds,
            batch_size=self.sync_batch_size,
            retry_ceiling=self.retry_ceiling_seconds,
            calendar_interval=self.calendar_interval_seconds,
            backfill_concurrency=self.backfill_concurrency,
            connect_concurrency=self.connect_concurrency,
        )


def _endpoint(text: str) -> Endpoint | None:
    """host:port[:security]; security defaults to tls."""
    if not text.strip():
        return None
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        raise ValueError(f"not host:port[:security]: {text!r}")
    security = parts[2] if len(parts) == 3 else "tls"
    if security not in ("tls", "starttls", "none"):
        raise ValueError(f"security must be tls, starttls or none: {text!r}")
    return Endpoint(parts[0], int(parts[1]), security)  # type: ignore[arg-type]
