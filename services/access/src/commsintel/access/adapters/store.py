"""Access's MongoDB projections, folded from every topic it needs:
- `mailboxes`: owner and sharing level per mailbox;
- `messages`: one per message, with the mailboxes that synced it (its sightings);
- `records`: people and companies, as identity-resolution publishes them;
- `record_messages`: which messages each record took part in, newest first; the records
  of one (mailbox, message) are replaced whenever identity resolves it again.
A merged-away person is hidden (`merged_into`); an unmerge shows it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import DESCENDING, DeleteMany, DeleteOne, UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.access.domain.visibility import (
    DEFAULT_SHARING_LEVEL,
    Level,
    Participant,
    Sighting,
    StoredMessage,
)
from commsintel.contracts.events import (
    CompanyCreated,
    Event,
    InteractionResolved,
    MailboxConnected,
    MailboxRemoved,
    MessageRetracted,
    MessageSynced,
    PeopleMerged,
    PersonCreated,
    PersonLinkedToCompany,
    PersonUnmerged,
    RecordEnriched,
)


class AccessStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._mailboxes = database["mailboxes"]
        self._messages = database["messages"]
        self._records = database["records"]
        self._record_messages = database["record_messages"]

    async def ensure_indexes(self) -> None:
        await self._records.create_index([("workspace_id", 1), ("kind", 1), ("_id", 1)])
        await self._record_messages.create_index([("workspace_id", 1), ("message_key", 1)])
        await self._record_messages.create_index([("workspace_id", 1), ("via", 1)])
        await self._messages.create_index([("workspace_id", 1), ("sightings.mailbox_id", 1)])
        await self._record_messages.create_index(
            [("workspace_id", 1), ("record_id", 1), ("sent_at", DESCENDING), ("message_key", 1)]
        )

    async def apply(self, events: Sequence[Event]) -> None:
        """Fold a batch into the projections with one bulk write per collection. Every
        write is idempotent, so a redelivered batch changes nothing."""
        writes: dict[str, list] = {}
        for event in events:
            for collection, write in _writes_for(event):
                writes.setdefault(collection, []).append(write)
        resolutions = [
            e for e in events if isinstance(e, InteractionResolved) and e.kind == "email"
        ]
        if resolutions:
            # Folded resolutions first; a removal in the same batch comes after them.
            folded = await self._record_message_writes(resolutions)
            writes["record_messages"] = folded + writes.get("record_messages", [])
        for collection, batch in writes.items():
            if batch:
                await getattr(self, f"_{collection}").bulk_write(batch, ordered=True)

    async def _record_message_writes(self, events: list[InteractionResolved]) -> list:
        """One document per (record, message), listing the mailboxes (`via`) whose
        resolution put the record there. A later resolution of one mailbox's sighting
        replaces that mailbox's share; a document nobody vouches for any more goes."""
        via: dict[str, set[str]] = {}
        of_message: dict[str, set[str]] = {}
        for workspace_id in sorted({e.workspace_id for e in events}):
            keys = sorted({e.interaction_key for e in events if e.workspace_id == workspace_id})
            query = {"workspace_id": workspace_id, "message_key": {"$in": keys}}
            projection = {"via": 1, "message_key": 1}
            async for document in self._record_messages.find(query, projection):
                via[document["_id"]] = set(document.get("via", ()))
                of_message.setdefault(document["message_key"], set()).add(document["_id"])
        before = {key: set(value) for key, value in via.items()}
        details: dict[str, dict] = {}
        for event in events:
            now_in = set()
            for record in event.records:
                key = f"{record.record_id}:{event.interaction_key}"
                now_in.add(key)
                via.setdefault(key, set()).add(event.mailbox_id)
                of_message.setdefault(event.interaction_key, set()).add(key)
                details[key] = {
                    "workspace_id": event.workspace_id,
                    "record_id": record.record_id,
                    "message_key": event.interaction_key,
                    "sent_at": event.occurred_at,
                }
            for key in of_message.get(event.interaction_key, set()) - now_in:
                via[key].discard(event.mailbox_id)
        writes: list = []
        for key in sorted(via):
            if not via[key]:
                if key in before:
                    writes.append(DeleteOne({"_id": key}))
            elif via[key] != before.get(key) or key in details:
                update = {"$set": {"via": sorted(via[key]), **details.get(key, {})}}
                writes.append(UpdateOne({"_id": key}, update, upsert=True))
        return writes

    async def record(self, workspace_id: str, record_id: str) -> dict | None:
        """The record, or the one it was merged into."""
        for _ in range(64):
            found = await self._records.find_one({"_id": record_id, "workspace_id": workspace_id})
            if found is None or not found.get("merged_into"):
                return found
            record_id = found["merged_into"]
        return None

    async def records(
        self, workspace_id: str, kind: str | None, after_id: str, limit: int
    ) -> list[dict]:
        query: dict = {"workspace_id": workspace_id, "_id": {"$gt": after_id}, "merged_into": None}
        if kind:
            query["kind"] = kind
        cursor = self._records.find(query).sort("_id", 1).limit(limit)
        return [document async for document in cursor]

    async def record_message_page(
        self, workspace_id: str, record_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[tuple[datetime, str]]:
        """(sent_at, message_key) newest first, strictly after the `before` cursor."""
        query: dict = {"workspace_id": workspace_id, "record_id": record_id}
        if before is not None:
            sent_at, key = before
            query["$or"] = [
                {"sent_at": {"$lt": sent_at}},
                {"sent_at": sent_at, "message_key": {"$gt": key}},
            ]
        cursor = (
            self._record_messages.find(query, {"sent_at": 1, "message_key": 1})
            .sort([("sent_at", DESCENDING), ("message_key", 1)])
            .limit(limit)
        )
        return [(d["sent_at"], d["message_key"]) async for d in cursor]

    async def messages(self, workspace_id: str, message_keys: Sequence[str]) -> list[StoredMessage]:
        ids = [_message_id(workspace_id, key) for key in message_keys]
        documents = {d["_id"]: d async for d in self._messages.find({"_id": {"$in": ids}})}
        mailbox_ids = {s["mailbox_id"] for d in documents.values() for s in d["sightings"]}
        levels = {
            d["_id"]: Level[d.get("sharing_level", DEFAULT_SHARING_LEVEL.name)]
            async for d in self._mailboxes.find({"_id": {"$in": sorted(mailbox_ids)}})
        }
        return [_stored_message(documents[i], levels) for i in ids if i in documents]


def _writes_for(event: Event) -> list[tuple[str, object]]:
    ws = event.workspace_id
    match event:
        case MailboxConnected():
            return [
                (
                    "mailboxes",
                    UpdateOne(
                        {"_id": event.mailbox_id},
                        {
                            "$set": {"workspace_id": ws, "member_id": event.member_id},
                            "$setOnInsert": {"sharing_level": DEFAULT_SHARING_LEVEL.name},
                        },
                        upsert=True,
                    ),
                )
            ]
        case MailboxRemoved():
            # Its mail goes from the workspace: a message nobody else synced is gone, and
            # a record's message that only this mailbox vouched for is gone.
            mailbox, scope = event.mailbox_id, {"workspace_id": ws}
            return [
                ("mailboxes", DeleteOne({"_id": mailbox})),
                (
                    "messages",
                    UpdateMany(
                        {**scope, "sightings.mailbox_id": mailbox},
                        {"$pull": {"sightings": {"mailbox_id": mailbox}}},
                    ),
                ),
                ("messages", DeleteMany({**scope, "sightings": {"$size": 0}})),
                (
                    "record_messages",
                    UpdateMany({**scope, "via": mailbox}, {"$pull": {"via": mailbox}}),
                ),
                ("record_messages", DeleteMany({**scope, "via": {"$size": 0}})),
            ]
        case MessageRetracted():
            # Hidden for that mailbox (its blocklist): its sighting no longer shows the
            # message; other mailboxes' sightings of it are untouched.
            scope = {"workspace_id": ws}
            return [
                (
                    "messages",
                    UpdateOne(
                        {"_id": _message_id(ws, event.message_key)},
                        {"$pull": {"sightings": {"mailbox_id": event.mailbox_id}}},
                    ),
                ),
                ("messages", DeleteMany({**scope, "sightings": {"$size": 0}})),
            ]
        case MessageSynced():
            sighting = {"mailbox_id": event.mailbox_id, "member_id": event.member_id}
            return [
                (
                    "messages",
                    UpdateOne(
                        {"_id": _message_id(ws, event.message_key)},
                        {
                            "$setOnInsert": {
                                "workspace_id": ws,
                                "message_key": event.message_key,
                                "sent_at": event.sent_at,
                                "subject": event.subject,
                                "participants": [p.model_dump() for p in event.participants],
                            },
                            "$addToSet": {"sightings": sighting},
                        },
                        upsert=True,
                    ),
                )
            ]
        case PersonCreated():
            return [
                (
                    "records",
                    UpdateOne(
                        {"_id": event.person_id},
                        {
                            "$set": {
                                "workspace_id": ws,
                                "kind": "person",
                                "name": event.display_name,
                                "email_address": event.address,
                            }
                        },
                        upsert=True,
                    ),
                )
            ]
        case CompanyCreated():
            return [
                (
                    "records",
                    UpdateOne(
                        {"_id": event.company_id},
                        {
                            "$set": {"workspace_id": ws, "kind": "company", "name": event.name},
                            "$addToSet": {"domains": event.domain},
                        },
                        upsert=True,
                    ),
                )
            ]
        case PersonLinkedToCompany():
            return [
                (
                    "records",
                    UpdateOne(
                        {"_id": event.person_id},
                        {"$set": {"workspace_id": ws, "company_id": event.company_id}},
                        upsert=True,
                    ),
                )
            ]
        case PeopleMerged():
            return [
                (
                    "records",
                    UpdateOne(
                        {"_id": event.merged_id}, {"$set": {"merged_into": event.survivor_id}}
                    ),
                )
            ]
        case PersonUnmerged():
            return [
                ("records", UpdateOne({"_id": event.restored_id}, {"$set": {"merged_into": None}}))
            ]
        case RecordEnriched() if event.field in ("name", "domains"):
            value = list(event.value) if isinstance(event.value, tuple) else event.value
            return [
                (
                    "records",
                    UpdateOne(
                        {"_id": event.record_id},
                        {"$set": {"workspace_id": ws, event.field: value}},
                        upsert=True,
                    ),
                )
            ]
    return []


def _message_id(workspace_id: str, message_key: str) -> str:
    return f"{workspace_id}:{message_key}"


def _stored_message(document: dict, levels: dict[str, Level]) -> StoredMessage:
    return StoredMessage(
        message_key=document["message_key"],
        sent_at=document["sent_at"],
        subject=document["subject"],
        participants=tuple(
            Participant(p["role"], p["address"], p.get("display_name", ""))
            for p in document["participants"]
        ),
        sightings=tuple(
            Sighting(
                s["mailbox_id"], s["member_id"], levels.get(s["mailbox_id"], DEFAULT_SHARING_LEVEL)
            )
            for s in document["sightings"]
        ),
    )
