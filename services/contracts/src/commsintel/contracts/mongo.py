"""The one way services open MongoDB: timezone-aware datetimes, named for the server log."""

from pymongo import AsyncMongoClient


def mongo_client(uri: str, service_name: str) -> AsyncMongoClient:
    return AsyncMongoClient(uri, tz_aware=True, appname=f"commsintel-{service_name}")


async def find_scoped(collection, document_id, projection=None, **scope) -> dict | None:
    """The document with this `_id` if its fields equal `scope` (its workspace, its member),
    else None: another tenant's document is as good as absent. Looked up by `_id` alone
    and checked here, because the MongoDB-protocol stand-in answers an `_id` filter with
    any other field by scanning the whole collection."""
    document = await collection.find_one({"_id": document_id}, projection)
    if document is None or any(document.get(field) != value for field, value in scope.items()):
        return None
    return document
