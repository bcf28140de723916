"""Access's MongoDB projections, folded from every topic it needs, one bulk write per
collection and batch. Every write is idempotent, so a redelivered batch changes nothing.
- `mailboxes`: owner, sharing level and FULL grants per mailbox;
- `messages` and `calendar_events`: one per message or meeting, with the mailboxes that
  synced it (its sightings);
- `records`: people and companies, as identity-resolution publishes them;
- `record_messages` and `record_events`: which records took part in which message or
  meeting, through which mailboxes' resolutions (`via`);
- `record_shares` and `access_requests`: "Manage access" and requests (`access.grants`);
- `workspaces`: a version per workspace, raised after each batch that changed it, so
  every instance can tell whether its in-memory state is current;
- `receipts`: the `access.grants` events applied (the gRPC API waits on them).
A merged-away person is hidden (`merged_into`); an unmerge shows it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import DeleteMany, DeleteOne, ReturnDocument, UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.access.domain.state import AccessRequest, AccessState, RecordEntry, RecordShare
from commsintel.access.domain.visibility import (
    DEFAULT_SHARING_LEVEL,
    Attendee,
    CalendarEvent,
    Level,
    Mailbox,
    Message,
    Participant,
)
from commsintel.contracts import topics
from commsintel.contracts.events import (
    AccessRequestDecided,
    AccessRequested,
    CompanyCreated,
    Event,
    EventCancelled,
    EventSynced,
    InteractionResolved,
    MailboxAccessGranted,
    MailboxAccessRevoked,
    MailboxConnected,
    MailboxRemoved,
    MailboxSharingLevelChanged,
    MessageRetracted,
    MessageSynced,
    PeopleMerged,
    PersonCreated,
    PersonLinkedToCompany,
    PersonUnmerged,
    RecordEmailsShared,
    RecordEmailsUnshared,
    RecordEnriched,
)
from commsintel.platform.mongo import find_scoped

Write = tuple[str, Any]  # (collection, pymongo write)


class AccessStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._database = database
        self._records = database["records"]
        self._workspaces = database["workspaces"]
        self._receipts = database["receipts"]

    async def ensure_indexes(self) -> None:
        db = self._database
        # Pages of live records, of one kind or all (each filter field in the index: the
        # MongoDB-protocol stand-in scans the collection for a field outside it).
        await db["records"].create_index(
            [("workspace_id", 1), ("merged_into", 1), ("kind", 1), ("_id", 1)]
        )
        await db["records"].create_index([("workspace_id", 1), ("merged_into", 1), ("_id", 1)])
        for name in ("record_messages", "record_events"):
            await db[name].create_index([("workspace_id", 1), ("item_key", 1)])
            await db[name].create_index([("workspace_id", 1), ("via", 1)])
        await db["messages"].create_index([("workspace_id", 1), ("sightings.mailbox_id", 1)])
        await db["calendar_events"].create_index([("workspace_id", 1), ("sightings.mailbox_id", 1)])
        for name in ("mailboxes", "record_shares", "access_requests"):
            await db[name].create_index([("workspace_id", 1)])

    # --- the fold ---------------------------------------------------------------------

    async def apply(self, events: Sequence[Event]) -> dict[str, int]:
        """Fold a batch into the projections; returns the new version of each workspace it
        touched. Receipts of `access.grants` events are written last, after the version:
        whoever sees a receipt and then reads the version finds the change applied."""
        for segment in _segments(events):
            await self._apply_segment(segment)
        versions = {}
        for workspace_id in sorted({e.workspace_id for e in events}):
            found = await self._workspaces.find_one_and_update(
                {"_id": workspace_id},
                {"$inc": {"version": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            versions[workspace_id] = found["version"]
        receipts = [
            UpdateOne({"_id": e.event_id}, {"$setOnInsert": {"ws": e.workspace_id}}, upsert=True)
            for e in events
            if e.TOPIC == topics.ACCESS_GRANTS
        ]
        if receipts:
            await self._receipts.bulk_write(receipts, ordered=False)
        return versions

    async def _apply_segment(self, events: Sequence[Event]) -> None:
        writes: dict[str, list] = {}
        sighted: set[str] = set()
        for event in events:
            for collection, write in _writes_for(event, sighted):
                writes.setdefault(collection, []).append(write)
        for kind, collection in (("email", "record_messages"), ("calendar", "record_events")):
            resolutions = [
                e for e in events if isinstance(e, InteractionResolved) and e.kind == kind
            ]
            if resolutions:
                # A segment ends at a mailbox removal: its resolutions come before it.
                folded = await self._link_writes(collection, resolutions)
                writes[collection] = folded + writes.get(collection, [])
        for collection, batch in writes.items():
            if batch:
                await self._database[collection].bulk_write(batch, ordered=True)

    async def _link_writes(self, collection: str, events: list[InteractionResolved]) -> list:
        """One document per (record, item), listing the mailboxes (`via`) whose resolution
        put the record there. A later resolution of one mailbox's sighting replaces that
        mailbox's share; a document nobody vouches for any more goes."""
        via: dict[str, set[str]] = {}
        of_item: dict[tuple[str, str], set[str]] = {}  # (workspace, item) -> document ids
        for workspace_id in sorted({e.workspace_id for e in events}):
            keys = sorted({e.interaction_key for e in events if e.workspace_id == workspace_id})
            query = {"workspace_id": workspace_id, "item_key": {"$in": keys}}
            async for found in self._database[collection].find(query, {"via": 1, "item_key": 1}):
                via[found["_id"]] = set(found.get("via", ()))
                of_item.setdefault((workspace_id, found["item_key"]), set()).add(found["_id"])
        before = {key: set(value) for key, value in via.items()}
        details: dict[str, dict] = {}
        for event in events:
            item = (event.workspace_id, event.interaction_key)
            now_in = set()
            for record in event.records:
                key = _id(event.workspace_id, record.record_id, event.interaction_key)
                now_in.add(key)
                via.setdefault(key, set()).add(event.mailbox_id)
                of_item.setdefault(item, set()).add(key)
                details[key] = {
                    "workspace_id": event.workspace_id,
                    "record_id": record.record_id,
                    "item_key": event.interaction_key,
                    "at": event.occurred_at,
                }
            for key in of_item.get(item, set()) - now_in:
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

    async def has_receipt(self, event_id: str) -> bool:
        return await self._receipts.find_one({"_id": event_id}) is not None

    # --- reading ----------------------------------------------------------------------

    async def version(self, workspace_id: str) -> int:
        found = await self._workspaces.find_one({"_id": workspace_id})
        return found["version"] if found else 0

    async def load_state(self, workspace_id: str) -> AccessState:
        """The workspace's state as of (at least) the version read first."""
        state = AccessState(workspace_id, await self.version(workspace_id))
        scope = {"workspace_id": workspace_id}
        async for d in self._database["mailboxes"].find(scope):
            state.load_mailbox(_mailbox(d))
        async for d in self._database["messages"].find(scope):
            state.load_message(_message(d))
        async for d in self._database["calendar_events"].find(scope):
            state.load_event(_calendar_event(d))
        async for d in self._records.find(scope, {"kind": 1, "merged_into": 1}):
            state.records[d["_id"]] = RecordEntry(d.get("kind"), d.get("merged_into"))
        for collection, links in (
            ("record_messages", state.email_links),
            ("record_events", state.calendar_links),
        ):
            async for d in self._database[collection].find(scope):
                links.load(d["record_id"], d["item_key"], d["at"], d["via"])
        async for d in self._database["record_shares"].find(scope):
            share = RecordShare(d.get("whole_workspace", False), frozenset(d.get("member_ids", ())))
            state.load_share(d["owner_member_id"], d["record_id"], share)
        async for d in self._database["access_requests"].find(scope):
            state.load_request(_access_request(d))
        return state

    async def record(self, workspace_id: str, record_id: str) -> dict | None:
        """The record, or the one it was merged into."""
        for _ in range(64):
            found = await find_scoped(self._records, record_id, workspace_id=workspace_id)
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


def _segments(events: Sequence[Event]) -> Iterable[Sequence[Event]]:
    """The batch cut after each mailbox removal, so that what comes after a removal is
    applied after it (the removal's writes span several collections)."""
    start = 0
    for index, event in enumerate(events):
        if isinstance(event, MailboxRemoved):
            yield events[start : index + 1]
            start = index + 1
    if start < len(events):
        yield events[start:]


def _id(workspace_id: str, *parts: str) -> str:
    return ":".join((workspace_id, *parts))


def _writes_for(event: Event, sighted: set[str]) -> list[Write]:
    """`sighted`: mailboxes already upserted from a sighting in this segment."""
    match event:
        case MailboxConnected() | MailboxRemoved() | MessageSynced() | MessageRetracted():
            return _mail_writes(event, sighted)
        case EventSynced() | EventCancelled():
            return _calendar_writes(event, sighted)
        case MailboxSharingLevelChanged() | MailboxAccessGranted() | MailboxAccessRevoked():
            return _mailbox_sharing_writes(event)
        case RecordEmailsShared() | RecordEmailsUnshared():
            return _share_writes(event)
        case AccessRequested() | AccessRequestDecided():
            return _request_writes(event)
    return _record_writes(event)


def _sighting_writes(event: MessageSynced | EventSynced, sighted: set[str]) -> list[Write]:
    """A sighting makes its mailbox known even before MailboxConnected arrives."""
    mailbox = _id(event.workspace_id, event.mailbox_id)
    if mailbox in sighted:
        return []
    sighted.add(mailbox)
    new_mailbox = {
        "workspace_id": event.workspace_id,
        "mailbox_id": event.mailbox_id,
        "member_id": event.member_id,
        "sharing_level": DEFAULT_SHARING_LEVEL.name,
        "full_access": [],
    }
    return [("mailboxes", UpdateOne({"_id": mailbox}, {"$setOnInsert": new_mailbox}, upsert=True))]


def _mail_writes(event: Event, sighted: set[str]) -> list[Write]:
    ws = event.workspace_id
    scope = {"workspace_id": ws}
    match event:
        case MailboxConnected():
            sighted.discard(_id(ws, event.mailbox_id))
            update = {
                "$set": {
                    "workspace_id": ws,
                    "mailbox_id": event.mailbox_id,
                    "member_id": event.member_id,
                },
                "$setOnInsert": {"sharing_level": DEFAULT_SHARING_LEVEL.name, "full_access": []},
            }
            return [
                ("mailboxes", UpdateOne({"_id": _id(ws, event.mailbox_id)}, update, upsert=True))
            ]
        case MailboxRemoved():
            # Its mail goes from the workspace: a message nobody else synced is gone, and
            # a record's message that only this mailbox vouched for is gone.
            mailbox = event.mailbox_id
            sighted.discard(_id(ws, mailbox))
            pull = {"$pull": {"sightings": {"mailbox_id": mailbox}}}
            writes: list[Write] = [("mailboxes", DeleteOne({"_id": _id(ws, mailbox)}))]
            for collection in ("messages", "calendar_events"):
                writes += [
                    (collection, UpdateMany({**scope, "sightings.mailbox_id": mailbox}, pull)),
                    (collection, DeleteMany({**scope, "sightings": {"$size": 0}})),
                ]
            for collection in ("record_messages", "record_events"):
                writes += [
                    (
                        collection,
                        UpdateMany({**scope, "via": mailbox}, {"$pull": {"via": mailbox}}),
                    ),
                    (collection, DeleteMany({**scope, "via": {"$size": 0}})),
                ]
            return writes
        case MessageRetracted():
            # Hidden for that mailbox (its blocklist): its sighting no longer shows the
            # message; other mailboxes' sightings of it are untouched.
            pull = {"$pull": {"sightings": {"mailbox_id": event.mailbox_id}}}
            return [
                ("messages", UpdateOne({"_id": _id(ws, event.message_key)}, pull)),
                ("messages", DeleteMany({**scope, "sightings": {"$size": 0}})),
            ]
        case MessageSynced():
            sighting = {"mailbox_id": event.mailbox_id, "member_id": event.member_id}
            message = {
                "workspace_id": ws,
                "message_key": event.message_key,
                "thread_key": event.thread_key or event.message_key,
                "sent_at": event.sent_at,
                "subject": event.subject,
                "participants": [p.model_dump() for p in event.participants],
            }
            update = {"$setOnInsert": message, "$addToSet": {"sightings": sighting}}
            return [
                *_sighting_writes(event, sighted),
                ("messages", UpdateOne({"_id": _id(ws, event.message_key)}, update, upsert=True)),
            ]
    return []


def _calendar_writes(event: EventSynced | EventCancelled, sighted: set[str]) -> list[Write]:
    ws = event.workspace_id
    key = _id(ws, event.calendar_event_key)
    if isinstance(event, EventCancelled):
        pull = {"$pull": {"sightings": {"mailbox_id": event.mailbox_id}}}
        return [
            ("calendar_events", UpdateOne({"_id": key}, pull)),
            ("calendar_events", DeleteMany({"workspace_id": ws, "sightings": {"$size": 0}})),
        ]
    # The latest sync of a meeting describes it (a new time, a changed RSVP).
    details = {
        "workspace_id": ws,
        "event_key": event.calendar_event_key,
        "title": event.title,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "all_day": event.all_day,
        "organizer": event.organizer,
        "attendees": [a.model_dump() for a in event.attendees],
    }
    sighting = {"mailbox_id": event.mailbox_id, "member_id": event.member_id}
    update = {"$set": details, "$addToSet": {"sightings": sighting}}
    return [
        *_sighting_writes(event, sighted),
        ("calendar_events", UpdateOne({"_id": key}, update, upsert=True)),
    ]


def _mailbox_sharing_writes(
    event: MailboxSharingLevelChanged | MailboxAccessGranted | MailboxAccessRevoked,
) -> list[Write]:
    # No upsert: a mailbox removed meanwhile stays removed.
    mailbox = {"_id": _id(event.workspace_id, event.mailbox_id)}
    match event:
        case MailboxSharingLevelChanged():
            update = {"$set": {"sharing_level": event.level.upper()}}
        case MailboxAccessGranted():
            update = {"$addToSet": {"full_access": event.member_id}}
        case MailboxAccessRevoked():
            update = {"$pull": {"full_access": event.member_id}}
    return [("mailboxes", UpdateOne(mailbox, update))]


def _share_writes(event: RecordEmailsShared | RecordEmailsUnshared) -> list[Write]:
    share = {"_id": _id(event.workspace_id, event.owner_member_id, event.record_id)}
    if isinstance(event, RecordEmailsShared):
        update: dict = {
            "$setOnInsert": {
                "workspace_id": event.workspace_id,
                "owner_member_id": event.owner_member_id,
                "record_id": event.record_id,
            },
            "$addToSet": {"member_ids": {"$each": list(event.member_ids)}},
        }
        if event.whole_workspace:
            update["$set"] = {"whole_workspace": True}
        else:
            update["$setOnInsert"]["whole_workspace"] = False
        return [("record_shares", UpdateOne(share, update, upsert=True))]
    update = {"$pull": {"member_ids": {"$in": list(event.member_ids)}}}
    if event.whole_workspace:
        update["$set"] = {"whole_workspace": False}
    empty = {**share, "whole_workspace": False, "member_ids": {"$size": 0}}
    return [
        ("record_shares", UpdateOne(share, update)),
        ("record_shares", DeleteOne(empty)),
    ]


def _request_writes(event: AccessRequested | AccessRequestDecided) -> list[Write]:
    request = {"_id": _id(event.workspace_id, event.request_id)}
    if isinstance(event, AccessRequested):
        fields = {
            "workspace_id": event.workspace_id,
            "request_id": event.request_id,
            "requester_member_id": event.requester_member_id,
            "owner_member_id": event.owner_member_id,
            "target_kind": event.target_kind,
            "target_key": event.target_key,
            "note": event.note,
            "requested_at": event.requested_at,
            "state": "pending",
            "decided_at": None,
        }
        return [("access_requests", UpdateOne(request, {"$setOnInsert": fields}, upsert=True))]
    decided = {"$set": {"state": event.decision, "decided_at": event.decided_at}}
    return [("access_requests", UpdateOne(request, decided))]


def _record_writes(event: Event) -> list[Write]:
    ws = event.workspace_id
    match event:
        case PersonCreated():
            fields = {
                "workspace_id": ws,
                "kind": "person",
                "name": event.display_name,
                "email_address": event.address,
            }
            return [("records", UpdateOne({"_id": event.person_id}, {"$set": fields}, upsert=True))]
        case CompanyCreated():
            update = {
                "$set": {"workspace_id": ws, "kind": "company", "name": event.name},
                "$addToSet": {"domains": event.domain},
            }
            return [("records", UpdateOne({"_id": event.company_id}, update, upsert=True))]
        case PersonLinkedToCompany():
            update = {"$set": {"workspace_id": ws, "company_id": event.company_id}}
            return [("records", UpdateOne({"_id": event.person_id}, update, upsert=True))]
        case PeopleMerged():
            update = {"$set": {"merged_into": event.survivor_id}}
            return [("records", UpdateOne({"_id": event.merged_id}, update))]
        case PersonUnmerged():
            return [
                ("records", UpdateOne({"_id": event.restored_id}, {"$set": {"merged_into": None}}))
            ]
        case RecordEnriched() if event.field in ("name", "domains"):
            value = list(event.value) if isinstance(event.value, tuple) else event.value
            update = {"$set": {"workspace_id": ws, event.field: value}}
            return [("records", UpdateOne({"_id": event.record_id}, update, upsert=True))]
    return []


def _mailbox(document: dict) -> Mailbox:
    return Mailbox(
        mailbox_id=document.get("mailbox_id") or document["_id"],
        owner_member_id=document["member_id"],
        sharing_level=Level[document.get("sharing_level", DEFAULT_SHARING_LEVEL.name)],
        full_access=frozenset(document.get("full_access", ())),
    )


def _message(document: dict) -> Message:
    return Message(
        message_key=document["message_key"],
        thread_key=document.get("thread_key") or document["message_key"],
        sent_at=document["sent_at"],
        subject=document["subject"],
        participants=tuple(
            Participant(p["role"], p["address"], p.get("display_name", ""))
            for p in document["participants"]
        ),
        sightings={s["mailbox_id"]: s["member_id"] for s in document["sightings"]},
    )


def _calendar_event(document: dict) -> CalendarEvent:
    return CalendarEvent(
        event_key=document["event_key"],
        title=document["title"],
        starts_at=document["starts_at"],
        ends_at=document["ends_at"],
        all_day=document.get("all_day", False),
        organizer=document["organizer"],
        attendees=tuple(
            Attendee(a["address"], a.get("display_name", ""), a.get("rsvp", "needs_action"))
            for a in document["attendees"]
        ),
        sightings={s["mailbox_id"]: s["member_id"] for s in document["sightings"]},
    )


def _access_request(document: dict) -> AccessRequest:
    return AccessRequest(
        request_id=document["request_id"],
        requester_member_id=document["requester_member_id"],
        owner_member_id=document["owner_member_id"],
        target_kind=document["target_kind"],
        target_key=document["target_key"],
        note=document.get("note", ""),
        requested_at=document["requested_at"],
        state=document["state"],
        decided_at=document.get("decided_at"),
    )
