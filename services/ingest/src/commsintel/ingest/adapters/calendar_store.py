"""Calendar sync's own MongoDB collections, per mailbox:
- `calendar_cursors`: where the last sync of each calendar stopped (sync-token, ctag);
- `calendar_resources`: what was published from each resource (its etag, and per
  occurrence key the last event id and content hash; cancelled keys stay as tombstones),
  so a re-sync publishes only what changed and a deletion cancels exactly what was sent;
- `calendar_quarantine`: resources that could not be read, with the reason and bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.ingest.adapters.calendar_source import CalendarCursor
from commsintel.ingest.domain.calendar import PublishedOccurrence, ResourceState
from commsintel.ingest.domain.sightings import Mailbox


class CalendarStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._cursors = database["calendar_cursors"]
        self._resources = database["calendar_resources"]
        self._quarantine = database["calendar_quarantine"]

    async def ensure_indexes(self) -> None:
        await self._cursors.create_index([("mailbox_id", 1)])
        await self._resources.create_index([("mailbox_id", 1), ("calendar_id", 1)])
        await self._quarantine.create_index([("mailbox_id", 1)])

    # --- cursors ----------------------------------------------------------------------

    async def load_cursor(self, mailbox_id: str, calendar_id: str) -> CalendarCursor | None:
        document = await self._cursors.find_one({"_id": _calendar_doc_id(mailbox_id, calendar_id)})
        if document is None:
            return None
        return CalendarCursor(sync_token=document["sync_token"], ctag=document["ctag"])

    async def save_cursor(self, mailbox: Mailbox, calendar_id: str, cursor: CalendarCursor) -> None:
        await self._cursors.replace_one(
            {"_id": _calendar_doc_id(mailbox.mailbox_id, calendar_id)},
            {
                "workspace_id": mailbox.workspace_id,
                "mailbox_id": mailbox.mailbox_id,
                "calendar_id": calendar_id,
                "sync_token": cursor.sync_token,
                "ctag": cursor.ctag,
            },
            upsert=True,
        )

    async def calendar_ids(self, mailbox_id: str) -> set[str]:
        """The calendars this mailbox syncs: a cursor, or resources not deleted."""
        cursors = await self._cursors.distinct("calendar_id", {"mailbox_id": mailbox_id})
        # `deleted` checked here: in the filter it made the stand-in scan the collection.
        resources = self._resources.find(
            {"mailbox_id": mailbox_id}, {"calendar_id": 1, "deleted": 1, "_id": 0}
        )
        standing = {d.get("calendar_id") async for d in resources if d.get("deleted") is False}
        return set(cursors) | (standing - {None})

    async def forget_cursor(self, mailbox_id: str, calendar_id: str) -> None:
        """The calendar is gone: its resources stay as tombstones, its quarantine goes."""
        await self._cursors.delete_one({"_id": _calendar_doc_id(mailbox_id, calendar_id)})
        await self._quarantine.delete_many({"mailbox_id": mailbox_id, "calendar_id": calendar_id})

    # --- resources --------------------------------------------------------------------

    async def resource_index(
        self, mailbox_id: str, calendar_id: str
    ) -> dict[str, tuple[str, datetime | None]]:
        """href -> (etag, revisit_at) of every resource still on the server: enough to
        tell what changed and what the moving window needs read again."""
        # `deleted` is checked here, not in the filter: beside the index's fields it made
        # the MongoDB-protocol stand-in scan the whole collection.
        cursor = self._resources.find(
            {"mailbox_id": mailbox_id, "calendar_id": calendar_id},
            {"href": 1, "etag": 1, "revisit_at": 1, "deleted": 1},
        )
        return {
            d["href"]: (d["etag"], d.get("revisit_at"))
            async for d in cursor
            if d.get("deleted") is False
        }

    async def resource_states(
        self, mailbox_id: str, calendar_id: str, hrefs: Iterable[str]
    ) -> dict[str, ResourceState]:
        ids = [_resource_doc_id(mailbox_id, calendar_id, href) for href in hrefs]
        if not ids:
            return {}
        cursor = self._resources.find({"_id": {"$in": ids}})
        return {d["href"]: _state(d) async for d in cursor}

    async def all_resource_states(self, mailbox_id: str, calendar_id: str) -> list[ResourceState]:
        cursor = self._resources.find({"mailbox_id": mailbox_id, "calendar_id": calendar_id})
        return [_state(d) async for d in cursor]

    async def save_resource_states(self, mailbox: Mailbox, states: Iterable[ResourceState]) -> None:
        writes = [
            ReplaceOne(
                {"_id": _resource_doc_id(mailbox.mailbox_id, state.calendar_id, state.href)},
                _document(mailbox, state),
                upsert=True,
            )
            for state in states
        ]
        if writes:
            await self._resources.bulk_write(writes, ordered=False)

    # --- quarantine -------------------------------------------------------------------

    async def quarantine(
        self, mailbox: Mailbox, calendar_id: str, href: str, raw: bytes, reason: str
    ) -> None:
        """Keep the bytes and the reason: a fixed parser can read them again."""
        await self._quarantine.replace_one(
            {"_id": _resource_doc_id(mailbox.mailbox_id, calendar_id, href)},
            {
                "workspace_id": mailbox.workspace_id,
                "mailbox_id": mailbox.mailbox_id,
                "calendar_id": calendar_id,
                "href": href,
                "reason": reason,
                "size": len(raw),
                "raw": raw,
            },
            upsert=True,
        )

    async def release(self, mailbox_id: str, calendar_id: str, hrefs: Iterable[str]) -> None:
        """These resources were read after all (fixed on the server, or deleted)."""
        ids = [_resource_doc_id(mailbox_id, calendar_id, href) for href in hrefs]
        if ids:
            await self._quarantine.delete_many({"_id": {"$in": ids}})

    async def quarantined(self, mailbox_id: str) -> list[dict]:
        cursor = self._quarantine.find({"mailbox_id": mailbox_id}, {"raw": 0}).sort("href", 1)
        return [document async for document in cursor]

    # --- removal ----------------------------------------------------------------------

    async def forget_mailbox(self, mailbox_id: str) -> None:
        """Everything calendar sync kept for the mailbox (MailboxRemoved)."""
        for collection in (self._cursors, self._resources, self._quarantine):
            await collection.delete_many({"mailbox_id": mailbox_id})


def _calendar_doc_id(mailbox_id: str, calendar_id: str) -> str:
    return f"{mailbox_id}:{_digest(calendar_id)}"


def _resource_doc_id(mailbox_id: str, calendar_id: str, href: str) -> str:
    return f"{mailbox_id}:{_digest(calendar_id + chr(0x1F) + href)}"


def _digest(text: str) -> str:
    # Calendar paths and UIDs are free text of any length: ids stay short and safe.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _document(mailbox: Mailbox, state: ResourceState) -> dict:
    return {
        "workspace_id": mailbox.workspace_id,
        "mailbox_id": mailbox.mailbox_id,
        "calendar_id": state.calendar_id,
        "href": state.href,
        "etag": state.etag,
        "revisit_at": state.revisit_at,
        "deleted": state.deleted,
        # A list, not a map: keys are free text ("." and "$" included).
        "occurrences": [
            {
                "key": key,
                "event_id": o.event_id,
                "content_hash": o.content_hash,
                "uid": o.uid,
                "starts_at": o.starts_at,
                "cancelled": o.cancelled,
            }
            for key, o in sorted(state.occurrences.items())
        ],
    }


def _state(document: dict) -> ResourceState:
    return ResourceState(
        calendar_id=document["calendar_id"],
        href=document["href"],
        etag=document["etag"],
        revisit_at=document.get("revisit_at"),
        occurrences={
            o["key"]: PublishedOccurrence(
                event_id=o["event_id"],
                content_hash=o["content_hash"],
                uid=o["uid"],
                starts_at=o["starts_at"],
                cancelled=o["cancelled"],
            )
            for o in document["occurrences"]
        },
        deleted=document["deleted"],
    )
