"""The one way services open MongoDB: timezone-aware datetimes, named for the server log."""

from pymongo import AsyncMongoClient


def mongo_client(uri: str, service_name: str) -> AsyncMongoClient:
    return AsyncMongoClient(uri, tz_aware=True, appname=f"commsintel-{service_name}")
