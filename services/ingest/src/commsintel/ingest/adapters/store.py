"""Ingest's own MongoDB collections: mailboxes, sightings (what each mailbox has already
synced, so a re-sync never duplicates) and quarantine (messages we could not parse)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.ingest.domain.sightings import Mailbox


class IngestStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._mailboxes = database["mailboxes"]
        self._sightings = database["sightings"]
        self._quarantine = database["quarantine"]

    async def ensure_indexes(self) -> None:
        await self._sightings.create_index([("workspace_id", 1), ("message_key", 1)])
        await self._quarantine.create_index([("mailbox_id", 1)])

    async def save_mailbox(self, mailbox: Mailbox, source: str, now: datetime) -> None:
        await self._mailboxes.update_one(
            {"_id": mailbox.mailbox_id},
            {
                "$set": {
                    "workspace_id": mailbox.workspace_id,
                    "member_id": mailbox.member_id,
                    "owner_addresses": sorted(mailbox.owner_addresses),
                    "source": source,
                },
                "$setOnInsert": {"connected_at": now},
            },
            upsert=True,
        )

    async def already_synced(self, mailbox_id: str, message_keys: Iterable[str]) -> set[str]:
        ids = [_sighting_id(mailbox_id, key) for key in message_keys]
        cursor = self._sightings.find({"_id": {"$in": ids}}, {"message_key": 1})
        return {document["message_key"] async for document in cursor}

    async def record_sightings(self, mailbox: Mailbox, message_keys: Iterable[str]) -> None:
        writes = [
            UpdateOne(
                {"_id": _sighting_id(mailbox.mailbox_id, key)},
                {
                    "$setOnInsert": {
                        "workspace_id": mailbox.workspace_id,
                        "mailbox_id": mailbox.mailbox_id,
                        "message_key": key,
                    }
                },
                upsert=True,
            )
            for key in message_keys
        ]
        if writes:
            await self._sightings.bulk_write(writes, ordered=False)

    async def quarantine(self, mailbox: Mailbox, source: str, raw: bytes, reason: str) -> None:
        """Keep the bytes and the reason: nothing is lost, a fixed parser can retry it."""
        digest = hashlib.sha256(raw).hexdigest()
        await self._quarantine.update_one(
            {"_id": f"{mailbox.mailbox_id}:{digest}"},
            {
                "$set": {
                    "workspace_id": mailbox.workspace_id,
                    "mailbox_id": mailbox.mailbox_id,
                    "source": source,
                    "reason": reason,
                    "size": len(raw),
                    "raw": raw,
                }
            },
            upsert=True,
        )

    async def quarantined(self, mailbox_id: str) -> list[dict]:
        cursor = self._quarantine.find({"mailbox_id": mailbox_id}, {"raw": 0}).sort("source", 1)
        return [document async for document in cursor]


def _sighting_id(mailbox_id: str, message_key: str) -> str:
    return f"{mailbox_id}:{message_key}"
