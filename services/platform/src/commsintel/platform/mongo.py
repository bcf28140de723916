"""The one way services open MongoDB: timezone-aware datetimes, named for the server log;
and the one way a service saves several collections all or nothing."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.platform.metrics import INSTRUMENTS


def mongo_client(uri: str, service_name: str) -> AsyncMongoClient:
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        appname=f"commsintel-{service_name}",
        event_listeners=[StoreOperations()],
    )


# Commands that are the driver's own housekeeping, not the store operations of a service.
_HOUSEKEEPING = frozenset(
    {"hello", "ismaster", "isMaster", "ping", "endSessions", "killCursors", "buildInfo"}
)


class StoreOperations(monitoring.CommandListener):
    """db.client.operation.duration (OpenTelemetry database semantic conventions) per
    MongoDB command: its count is the store operations, by operation, collection and
    outcome."""

    def __init__(self) -> None:
        self._collections: dict[int, tuple[str, str]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _HOUSEKEEPING:
            return
        target = event.command.get(event.command_name)
        collection = target if isinstance(target, str) else ""
        self._collections[event.request_id] = (event.database_name, collection)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._record(event, None)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        failure = event.failure if isinstance(event.failure, dict) else {}
        self._record(event, str(failure.get("codeName") or "error"))

    def _record(self, event, error: str | None) -> None:
        names = self._collections.pop(event.request_id, None)
        if names is None:
            return
        database, collection = names
        attributes = {
            "db.system.name": "mongodb",
            "db.namespace": database,
            "db.operation.name": event.command_name,
        }
        if collection:
            attributes["db.collection.name"] = collection
        if error is not None:
            attributes["error.type"] = error
        INSTRUMENTS.db_operation_duration.record(event.duration_micros / 1e6, attributes)


async def find_scoped(collection, document_id, projection=None, **scope) -> dict | None:
    """The document with this `_id` if its fields equal `scope` (its workspace, its member),
    else None: another tenant's document is as good as absent. Looked up by `_id` alone
    and checked here, because the MongoDB-protocol stand-in answers an `_id` filter with
    any other field by scanning the whole collection."""
    document = await collection.find_one({"_id": document_id}, projection)
    if document is None or any(document.get(field) != value for field, value in scope.items()):
        return None
    return document


@asynccontextmanager
async def all_or_nothing(database: AsyncDatabase) -> AsyncIterator[AsyncClientSession]:
    """A multi-document transaction: the writes made with the yielded session are kept
    together, or none of them is (a crash half way keeps none). A projection whose writes
    decide what a redelivered batch does (identity's contacts say a person exists) must
    never be saved in part (docs/decisions/0022). Needs a replica set (or mongos), as
    deploy/ runs; the MongoDB-protocol stand-in supports it too."""
    async with database.client.start_session() as session:
        async with await session.start_transaction():
            yield session
