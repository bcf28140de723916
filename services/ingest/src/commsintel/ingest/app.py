"""Wiring for ingest: settings -> Mongo, Kafka, telemetry. Archive import runs through it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from commsintel.contracts.mongo import mongo_client
from commsintel.contracts.service_runtime import ServiceRuntime
from commsintel.contracts.streaming import EventPublisher, build_broker
from commsintel.contracts.telemetry import configure_tracing
from commsintel.ingest.adapters.store import IngestStore
from commsintel.ingest.archive_import import ImportProgress, import_archive
from commsintel.ingest.config import IngestSettings
from commsintel.ingest.domain.sightings import archive_mailbox

SERVICE_NAME = "ingest"


@dataclass
class IngestService:
    settings: IngestSettings
    runtime: ServiceRuntime
    store: IngestStore

    async def start(self) -> None:
        await self.runtime.start()

    async def stop(self) -> None:
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
            publisher=EventPublisher(self.runtime.broker),
            now=datetime.now(UTC),
            batch_size=self.settings.batch_size,
            on_progress=on_progress,
        )


def build(settings: IngestSettings) -> IngestService:
    provider = configure_tracing(SERVICE_NAME)
    broker = build_broker(settings.kafka_bootstrap, provider, SERVICE_NAME)
    mongo = mongo_client(settings.mongo_uri, SERVICE_NAME)
    store = IngestStore(mongo[settings.mongo_database])
    runtime = ServiceRuntime(SERVICE_NAME, broker, mongo, store.ensure_indexes)
    return IngestService(settings, runtime, store)
