"""Access's MongoDB projections. The store decides nothing: for each batch it loads the
part of each workspace the batch touches, folds the batch with `AccessState.apply` (the
one fold), and saves the documents that changed, so a redelivered batch changes nothing.
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

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import DeleteOne, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.access.domain.state import (
    AccessRequest,
    AccessState,
    ListedRecord,
    RecordEntry,
    RecordShare,
)
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

    # --- saving what the fold changed ----------------------------------------------

    async def apply(self, events: Sequence[Event]) -> dict[str, int]:
        """Fold a batch (`AccessState.apply`, the one fold) and save what it changed;
        returns the new version of each workspace it touched. Receipts of `access.grants`
        events are written last, after the version: whoever sees a receipt and then reads
        the version finds the change applied."""
        by_workspace: dict[str, list[Event]] = {}
        for event in events:
            by_workspace.setdefault(event.workspace_id, []).append(event)
        for workspace_id in sorted(by_workspace):
            run = by_workspace[workspace_id]
            state = await self._load_touched(workspace_id, run)
            before = _documents(state)
            state.apply_all(run)
            await self._save_changes(before, _documents(state))
        versions = {}
        for workspace_id in sorted(by_workspace):
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

    async def _load_touched(self, workspace_id: str, events: Sequence[Event]) -> AccessState:
        """The part of the workspace `events` can change: what they name, and all the mail
        of a mailbox they remove."""
        touched = _Touched.of(events)
        ws = workspace_id
        removed = sorted(touched.removed)
        state = AccessState(workspace_id)

        def named(ids: Iterable[str]) -> dict:
            # By id alone (the workspace is checked on each document found): beside a
            # second condition the MongoDB-protocol stand-in plans a collection scan.
            return {"_id": {"$in": sorted(ids)}}

        def of_removed(field: str) -> list[dict]:
            return [{"workspace_id": ws, field: {"$in": removed}}] if removed else []

        mailboxes = named(_id(ws, m) for m in touched.mailboxes)
        async for d in self._find(ws, "mailboxes", [mailboxes]):
            state.load_mailbox(_mailbox(d))
        messages = [
            named(_id(ws, k) for k in touched.messages),
            *of_removed("sightings.mailbox_id"),
        ]
        async for d in self._find(ws, "messages", messages):
            state.load_message(_message(d))
        meetings = [
            named(_id(ws, k) for k in touched.meetings),
            *of_removed("sightings.mailbox_id"),
        ]
        async for d in self._find(ws, "calendar_events", meetings):
            state.load_event(_calendar_event(d))
        async for d in self._find(ws, "records", [named(touched.records)]):
            state.records[d["_id"]] = _record_entry(d)
        for collection, links, items in (
            ("record_messages", state.email_links, touched.email_items),
            ("record_events", state.calendar_links, touched.calendar_items),
        ):
            by_item = [{"workspace_id": ws, "item_key": {"$in": sorted(items)}}] if items else []
            async for d in self._find(ws, collection, [*by_item, *of_removed("via")]):
                links.load(d["record_id"], d["item_key"], d["at"], d["via"])
        shares = named(_id(ws, owner, record) for owner, record in touched.shares)
        async for d in self._find(ws, "record_shares", [shares]):
            state.load_share(d["owner_member_id"], d["record_id"], _record_share(d))
        async for d in self._find(
            ws, "access_requests", [named(_id(ws, r) for r in touched.requests)]
        ):
            state.load_request(_access_request(d))
        return state

    async def _find(
        self, workspace_id: str, collection: str, queries: list[dict]
    ) -> AsyncIterator[dict]:
        """Each document of the workspace matching any of `queries`, once (no `$or`: the
        MongoDB-protocol stand-in plans it as a collection scan)."""
        seen: set[str] = set()
        for query in queries:
            if query.get("_id", {}).get("$in") == []:
                continue
            async for document in self._database[collection].find(query):
                if document["_id"] not in seen and document.get("workspace_id") == workspace_id:
                    seen.add(document["_id"])
                    yield document

    async def _save_changes(self, before: _Documents, after: _Documents) -> None:
        for collection in COLLECTIONS:
            old, new = before[collection], after[collection]
            writes: list = [
                ReplaceOne({"_id": key}, document, upsert=True)
                for key, document in sorted(new.items())
                if old.get(key) != document
            ]
            writes += [DeleteOne({"_id": key}) for key in sorted(old.keys() - new.keys())]
            if writes:
                await self._database[collection].bulk_write(writes, ordered=False)

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
        async for d in self._records.find(scope):
            state.records[d["_id"]] = _record_entry(d)
        for collection, links in (
            ("record_messages", state.email_links),
            ("record_events", state.calendar_links),
        ):
            async for d in self._database[collection].find(scope):
                links.load(d["record_id"], d["item_key"], d["at"], d["via"])
        async for d in self._database["record_shares"].find(scope):
            state.load_share(d["owner_member_id"], d["record_id"], _record_share(d))
        async for d in self._database["access_requests"].find(scope):
            state.load_request(_access_request(d))
        return state

    async def record(self, workspace_id: str, record_id: str) -> ListedRecord | None:
        """The record, or the one it was merged into."""
        for _ in range(64):
            found = await find_scoped(self._records, record_id, workspace_id=workspace_id)
            if found is None or not found.get("merged_into"):
                return _listed(found) if found is not None else None
            record_id = found["merged_into"]
        return None

    async def records(
        self, workspace_id: str, kind: str | None, after_id: str, limit: int
    ) -> list[ListedRecord]:
        query: dict = {"workspace_id": workspace_id, "_id": {"$gt": after_id}, "merged_into": None}
        if kind:
            query["kind"] = kind
        cursor = self._records.find(query).sort("_id", 1).limit(limit)
        return [_listed(document) async for document in cursor]


def _id(workspace_id: str, *parts: str) -> str:
    return ":".join((workspace_id, *parts))


# The collections the fold's state is saved to, in the order they are written.
COLLECTIONS = (
    "mailboxes",
    "messages",
    "calendar_events",
    "records",
    "record_messages",
    "record_events",
    "record_shares",
    "access_requests",
)
_Documents = dict[str, dict[str, dict]]  # collection -> _id -> document


@dataclass
class _Touched:
    """What a run of one workspace's events names, so that the store loads only that."""

    mailboxes: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)
    meetings: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)
    email_items: set[str] = field(default_factory=set)
    calendar_items: set[str] = field(default_factory=set)
    shares: set[tuple[str, str]] = field(default_factory=set)
    requests: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, events: Iterable[Event]) -> _Touched:
        touched = cls()
        for event in events:
            match event:
                case MailboxRemoved():
                    touched.mailboxes.add(event.mailbox_id)
                    touched.removed.add(event.mailbox_id)
                case (
                    MailboxConnected()
                    | MailboxSharingLevelChanged()
                    | MailboxAccessGranted()
                    | MailboxAccessRevoked()
                ):
                    touched.mailboxes.add(event.mailbox_id)
                case MessageSynced() | MessageRetracted():
                    touched.mailboxes.add(event.mailbox_id)
                    touched.messages.add(event.message_key)
                case EventSynced() | EventCancelled():
                    touched.mailboxes.add(event.mailbox_id)
                    touched.meetings.add(event.calendar_event_key)
                case InteractionResolved():
                    items = touched.email_items if event.kind == "email" else touched.calendar_items
                    items.add(event.interaction_key)
                case PersonCreated() | PersonLinkedToCompany():
                    touched.records.add(event.person_id)
                case CompanyCreated():
                    touched.records.add(event.company_id)
                case RecordEnriched():
                    touched.records.add(event.record_id)
                case PeopleMerged():
                    touched.records.add(event.merged_id)
                case PersonUnmerged():
                    touched.records.add(event.restored_id)
                case RecordEmailsShared() | RecordEmailsUnshared():
                    touched.shares.add((event.owner_member_id, event.record_id))
                case AccessRequested() | AccessRequestDecided():
                    touched.requests.add(event.request_id)
        return touched


def _documents(state: AccessState) -> _Documents:
    """The documents that hold `state` (the inverse of the loaders below)."""
    ws = state.workspace_id
    found: _Documents = {collection: {} for collection in COLLECTIONS}
    for mailbox in state.mailboxes.values():
        found["mailboxes"][_id(ws, mailbox.mailbox_id)] = {
            "workspace_id": ws,
            "mailbox_id": mailbox.mailbox_id,
            "member_id": mailbox.owner_member_id,
            "sharing_level": mailbox.sharing_level.name,
            "full_access": sorted(mailbox.full_access),
        }
    for message in state.messages.values():
        found["messages"][_id(ws, message.message_key)] = {
            "workspace_id": ws,
            "message_key": message.message_key,
            "thread_key": message.thread_key,
            "sent_at": message.sent_at,
            "subject": message.subject,
            "participants": [
                {"role": p.role, "address": p.address, "display_name": p.display_name}
                for p in message.participants
            ],
            "sightings": _sightings(message.sightings),
        }
    for meeting in state.events.values():
        found["calendar_events"][_id(ws, meeting.event_key)] = {
            "workspace_id": ws,
            "event_key": meeting.event_key,
            "title": meeting.title,
            "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at,
            "all_day": meeting.all_day,
            "organizer": meeting.organizer,
            "attendees": [
                {"address": a.address, "display_name": a.display_name, "rsvp": a.rsvp}
                for a in meeting.attendees
            ],
            "sightings": _sightings(meeting.sightings),
        }
    for record_id, entry in state.records.items():
        found["records"][record_id] = _record_document(ws, entry)
    for collection, links in (
        ("record_messages", state.email_links),
        ("record_events", state.calendar_links),
    ):
        for item, via in links.via.items():
            for record in sorted(set().union(*via.values())):
                found[collection][_id(ws, record, item)] = {
                    "workspace_id": ws,
                    "record_id": record,
                    "item_key": item,
                    "at": links.of_record[record][item],
                    "via": sorted(m for m, records in via.items() if record in records),
                }
    for (owner, record_id), share in state.shares.items():
        found["record_shares"][_id(ws, owner, record_id)] = {
            "workspace_id": ws,
            "owner_member_id": owner,
            "record_id": record_id,
            "whole_workspace": share.whole_workspace,
            "member_ids": sorted(share.member_ids),
        }
    for request in state.requests.values():
        found["access_requests"][_id(ws, request.request_id)] = {
            "workspace_id": ws,
            "request_id": request.request_id,
            "requester_member_id": request.requester_member_id,
            "owner_member_id": request.owner_member_id,
            "target_kind": request.target_kind,
            "target_key": request.target_key,
            "note": request.note,
            "requested_at": request.requested_at,
            "state": request.state,
            "decided_at": request.decided_at,
        }
    return found


def _sightings(sightings: dict[str, str]) -> list[dict]:
    return [{"mailbox_id": m, "member_id": member} for m, member in sightings.items()]


def _record_document(workspace_id: str, entry: RecordEntry) -> dict:
    document: dict[str, Any] = {"workspace_id": workspace_id, "merged_into": entry.merged_into}
    for name in ("kind", "name", "email_address", "company_id"):
        if (value := getattr(entry, name)) is not None:
            document[name] = value
    if entry.domains:
        document["domains"] = list(entry.domains)
    return document


def _record_entry(document: dict) -> RecordEntry:
    return RecordEntry(
        kind=document.get("kind"),
        merged_into=document.get("merged_into"),
        name=document.get("name"),
        email_address=document.get("email_address"),
        company_id=document.get("company_id"),
        domains=tuple(document.get("domains", ())),
    )


def _listed(document: dict) -> ListedRecord:
    return ListedRecord(
        record_id=document["_id"],
        kind=document.get("kind"),
        name=document.get("name", ""),
        email_address=document.get("email_address", ""),
        company_id=document.get("company_id") or "",
        domains=tuple(document.get("domains", ())),
    )


def _record_share(document: dict) -> RecordShare:
    return RecordShare(
        document.get("whole_workspace", False), frozenset(document.get("member_ids", ()))
    )


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
