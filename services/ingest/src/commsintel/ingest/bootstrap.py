"""The one wiring point of ingest: settings -> Mongo, Kafka, gRPC, telemetry -> mailbox
sync, archive import, sending, MailboxService, SendService and ContentService."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc

from commsintel.contracts import topics
from commsintel.contracts.proto.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from commsintel.ingest.adapters.calendar_store import CalendarStore
from commsintel.ingest.adapters.content_store import ContentStore
from commsintel.ingest.adapters.crypto import SecretBox, decode_key
from commsintel.ingest.adapters.oauth import OAuthTokens
from commsintel.ingest.adapters.record_directory import RecordDirectory
from commsintel.ingest.adapters.send_store import SendStore
from commsintel.ingest.adapters.store import IngestStore
from commsintel.ingest.adapters.sync_requests import RequestPartitions
from commsintel.ingest.config import IngestSettings
from commsintel.ingest.domain.sightings import archive_mailbox
from commsintel.ingest.entrypoints.grpc_api import ContentServicer, MailboxServicer, SendServicer
from commsintel.ingest.service_layer.archive_import import ImportProgress, import_archive
from commsintel.ingest.service_layer.calendar_import import (
    CalendarImportProgress,
    import_calendar_archive,
)
from commsintel.ingest.service_layer.intake import MessageIntake
from commsintel.ingest.service_layer.mailbox_commands import MailboxCommands
from commsintel.ingest.service_layer.oauth_accounts import OAuthAccounts
from commsintel.ingest.service_layer.sending import SendCommands
from commsintel.ingest.service_layer.sync import SyncSupervisor
from commsintel.platform.grpc_runtime import CallerInterceptor
from commsintel.platform.metrics import configure_metrics
from commsintel.platform.mongo import mongo_client
from commsintel.platform.service_runtime import GrpcEndpoint, ServiceRuntime
from commsintel.platform.streaming import (
    EventPublisher,
    GroupMembership,
    build_broker,
    subscribe_event_batches,
)
from commsintel.platform.telemetry import configure_tracing

SERVICE_NAME = "ingest"
GRPC_SERVICES = [
    ingest_pb2.DESCRIPTOR.services_by_name[name].full_name
    for name in ("MailboxService", "SendService", "ContentService")
]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class IngestService:
    settings: IngestSettings
    runtime: ServiceRuntime
    store: IngestStore
    contents: ContentStore
    intake: MessageIntake
    supervisor: SyncSupervisor
    commands: MailboxCommands
    sending: SendCommands
    calendars: CalendarStore

    @property
    def grpc_port(self) -> int:
        return self.runtime.grpc_port

    async def start(self) -> None:
        await self.runtime.start()
        if self.settings.sync_mailboxes:
            await self.supervisor.start()
            await self.sending.start()

    async def stop(self) -> None:
        await self.sending.stop()
        await self.supervisor.stop()
        await self.runtime.stop()

    async def import_archive(
        self,
        path: Path,
        *,
        workspace_id: str,
        member_id: str,
        owner_address: str,
        on_progress: Callable[[ImportProgress], None] = lambda progress: None,
    ) -> ImportProgress:
        return await import_archive(
            path,
            archive_mailbox(workspace_id, member_id, owner_address),
            store=self.store,
            intake=self.intake,
            publisher=EventPublisher(self.runtime.broker),
            now=utc_now(),
            batch_size=self.settings.batch_size,
            on_progress=on_progress,
        )

    async def import_calendar_archive(
        self,
        path: Path,
        *,
        workspace_id: str,
        member_id: str,
        owner_address: str,
        on_progress: Callable[[CalendarImportProgress], None] = lambda progress: None,
    ) -> CalendarImportProgress:
        """An .ics file or a directory of them, into the same archive mailbox as the
        member's imported mail."""
        return await import_calendar_archive(
            path,
            archive_mailbox(workspace_id, member_id, owner_address),
            store=self.store,
            calendars=self.calendars,
            publisher=EventPublisher(self.runtime.broker),
            now=utc_now(),
            on_progress=on_progress,
        )


def build(settings: IngestSettings, **overrides) -> IngestService:
    """`overrides`: `clock` (OAuth expiries, sync and send times, the servicers' now)."""
    clock = overrides.get("clock") or utc_now
    provider = configure_tracing(SERVICE_NAME)
    configure_metrics(settings.metrics_bind)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME, settings.instance_id)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    database = mongo[settings.mongo_database]
    master = SecretBox(decode_key(settings.encryption_key.get_secret_value()))
    store = IngestStore(database, master)
    contents = ContentStore(database, master)
    publisher = EventPublisher(broker)
    intake = MessageIntake(store, contents, publisher)
    calendars = CalendarStore(database)
    oauth = OAuthAccounts(
        store=store,
        tokens=OAuthTokens(settings.destination_policy()),
        clients=settings.oauth_clients(),
        clock=clock,
    )
    supervisor = SyncSupervisor(
        store=store,
        intake=intake,
        publisher=publisher,
        timings=settings.sync_timings(),
        calendars=calendars,
        destinations=settings.destination_policy(),
        tracer_provider=provider,
        oauth=oauth,
        instance_id=settings.instance_id,
        clock=clock,
    )
    sends = SendStore(database)
    identity_channel = grpc.aio.insecure_channel(settings.identity_target)
    sending = SendCommands(
        store=store,
        sends=sends,
        contents=contents,
        intake=intake,
        directory=RecordDirectory(identity_channel),
        per_minute=settings.send_rate_per_minute,
        clock=clock,
        destinations=settings.destination_policy(),
        oauth=oauth,
    )
    commands = MailboxCommands(
        store=store,
        contents=contents,
        intake=intake,
        publisher=publisher,
        forgetters=(sends.forget_mailbox, calendars.forget_mailbox),
        destinations=settings.destination_policy(),
        oauth=oauth,
    )
    membership: GroupMembership | None = None
    if settings.sync_mailboxes:
        # This instance syncs the mailboxes of the ingest.sync-requests partitions its
        # group assigns it, and handles the requests for them (docs/decisions/0027).
        membership = subscribe_event_batches(
            broker,
            (topics.INGEST_SYNC_REQUESTS,),
            group_id=settings.consumer_group,
            handle=supervisor.handle,
            max_records=100,
            instance_id=settings.instance_id,
            tracer_provider=provider,
            on_assigned=supervisor.assigned,
            on_revoked=supervisor.revoked,
        )
        supervisor.partition_of = RequestPartitions(membership, topics.INGEST_SYNC_REQUESTS)
        supervisor.remove = commands.finish_removal
    mailbox_servicer = MailboxServicer(commands, clock)
    send_servicer = SendServicer(sending)
    content_servicer = ContentServicer(contents, settings.signing_key)

    def register(server) -> None:
        ingest_pb2_grpc.add_MailboxServiceServicer_to_server(mailbox_servicer, server)
        ingest_pb2_grpc.add_SendServiceServicer_to_server(send_servicer, server)
        ingest_pb2_grpc.add_ContentServiceServicer_to_server(content_servicer, server)

    async def prepare_store() -> None:
        await store.ensure_indexes()
        await contents.ensure_indexes()
        await sends.ensure_indexes()
        await calendars.ensure_indexes()

    endpoint = GrpcEndpoint(
        settings.grpc_bind,
        register,
        GRPC_SERVICES,
        [CallerInterceptor(settings.signing_key, provider)],
    )
    runtime = ServiceRuntime(
        SERVICE_NAME,
        broker,
        mongo,
        prepare_store,
        endpoint,
        closers=[identity_channel.close],
        membership=membership,
    )
    return IngestService(
        settings, runtime, store, contents, intake, supervisor, commands, sending, calendars
    )
