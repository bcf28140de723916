"""Ingest's own MongoDB collections.

- mailboxes: where each mailbox syncs from, its settings, its sync status, and its
  credentials sealed with the master key (never returned as such by any method here).
- sightings: what each mailbox has synced (so a re-sync never duplicates), with the
  MessageSynced it published (so a blocklist change can retract and restore it).
- threads: the participants' terms of each mailbox's threads (blocklist matching).
- folder_cursors: per mailbox and IMAP folder, UIDVALIDITY and the last UID done.
- quarantine: messages we could not parse, with the reason and the bytes.
- oauth_authorizations: authorizations started and not completed yet (state, provider,
  the PKCE verifier sealed), for a few minutes (decision 0025).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pymongo import DeleteMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from commsintel.contracts.errors import AlreadyKnown, UnknownItem
from commsintel.ingest.adapters.crypto import SecretBox
from commsintel.ingest.domain.blocklist import BlocklistEntry, parse_entries
from commsintel.ingest.domain.folder_sync import FolderCursor
from commsintel.ingest.domain.mailboxes import (
    CalendarLink,
    ImapEndpoint,
    SmtpEndpoint,
    SyncStatus,
)
from commsintel.ingest.domain.oauth import OAuthCredential, ProviderName
from commsintel.ingest.domain.sightings import Mailbox, StoredSighting
from commsintel.platform.mongo import find_scoped


class MailboxRecord:
    """A stored mailbox, as read back (secrets excluded)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document

    @property
    def mailbox(self) -> Mailbox:
        d = self._document
        return Mailbox(
            workspace_id=d["workspace_id"],
            mailbox_id=d["_id"],
            member_id=d["member_id"],
            owner_addresses=frozenset(d["owner_addresses"]),
        )

    @property
    def source(self) -> str:
        return self._document["source"]

    @property
    def imap(self) -> ImapEndpoint | None:
        imap = self._document.get("imap")
        return ImapEndpoint(**imap) if imap else None

    @property
    def smtp(self) -> SmtpEndpoint | None:
        smtp = self._document.get("smtp")
        return SmtpEndpoint(**smtp) if smtp else None

    @property
    def sender_name(self) -> str:
        return self._document.get("sender_name", "")

    @property
    def sender_address(self) -> str:
        """The address mail from this mailbox goes out under: the IMAP username when it
        is one of the owner's addresses, else the first of them."""
        owners = sorted(self._document["owner_addresses"])
        imap = self._document.get("imap") or {}
        username = str(imap.get("username", "")).lower()
        return username if username in owners else owners[0]

    @property
    def calendar(self) -> CalendarLink | None:
        calendar = self._document.get("calendar")
        return CalendarLink(**calendar) if calendar else None

    @property
    def blocklist(self) -> tuple[BlocklistEntry, ...]:
        return parse_entries(self._document.get("blocklist", ()))

    @property
    def calendar_enabled(self) -> bool:
        return bool(self._document.get("calendar_enabled", False))

    @property
    def status(self) -> SyncStatus:
        return SyncStatus(**self._document.get("status", {}))

    @property
    def calendar_status(self) -> SyncStatus:
        return SyncStatus(**self._document.get("calendar_status", {}))

    @property
    def connected_at(self) -> datetime:
        return self._document["connected_at"]

    @property
    def synced_by(self) -> str:
        """The ingest instance that last claimed the mailbox's sync ("" before any)."""
        return str((self._document.get("sync_owner") or {}).get("instance", ""))

    @property
    def removal_requested(self) -> bool:
        return self._document.get("removal_requested_at") is not None

    @property
    def oauth(self) -> OAuthCredential | None:
        """The OAuth2 credential's state (never its tokens) when ingest keeps it fresh."""
        oauth = self._document.get("oauth")
        return _oauth_credential(oauth) if oauth else None


class SyncFenced(Exception):
    """A newer claim took the mailbox's sync over (or the mailbox is gone): the instance
    holding the older claim must stop syncing it."""


def _oauth_credential(document: Mapping[str, Any]) -> OAuthCredential:
    return OAuthCredential(
        provider=document["provider"],
        state=document.get("state", "valid"),
        issued_at=_aware(document.get("issued_at")),
        expires_at=_aware(document.get("expires_at")),
        refresh_failures=int(document.get("refresh_failures", 0)),
    )


def _aware(value: datetime | None) -> datetime | None:
    """MongoDB hands datetimes back naive (UTC) unless the client is tz-aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class IngestStore:
    def __init__(self, database: AsyncDatabase, master: SecretBox) -> None:
        self._master = master
        self._mailboxes = database["mailboxes"]
        self._sightings = database["sightings"]
        self._threads = database["threads"]
        self._cursors = database["folder_cursors"]
        self._quarantine = database["quarantine"]
        self._authorizations = database["oauth_authorizations"]

    async def ensure_indexes(self) -> None:
        await self._mailboxes.create_index([("workspace_id", 1), ("member_id", 1)])
        await self._sightings.create_index([("workspace_id", 1), ("message_key", 1)])
        await self._sightings.create_index([("mailbox_id", 1), ("thread_key", 1)])
        await self._threads.create_index([("mailbox_id", 1), ("terms", 1)])
        await self._cursors.create_index([("mailbox_id", 1)])
        await self._quarantine.create_index([("mailbox_id", 1), ("_id", 1)])
        await self._authorizations.create_index([("expires_at", 1)])

    # -- mailboxes -------------------------------------------------------------------

    async def save_mailbox(self, mailbox: Mailbox, source: str, now: datetime) -> None:
        """An archive mailbox: created on first import, the same one on the next."""
        await self._mailboxes.update_one(
            {"_id": mailbox.mailbox_id},
            {
                "$set": {
                    "workspace_id": mailbox.workspace_id,
                    "member_id": mailbox.member_id,
                    "owner_addresses": sorted(mailbox.owner_addresses),
                    "source": source,
                },
                "$setOnInsert": {"connected_at": now, "blocklist": [], "status": {}},
            },
            upsert=True,
        )

    async def create_imap_mailbox(
        self,
        mailbox: Mailbox,
        *,
        imap: ImapEndpoint,
        calendar: CalendarLink | None,
        blocklist: tuple[BlocklistEntry, ...],
        secrets: Mapping[str, str],
        now: datetime,
        smtp: SmtpEndpoint | None = None,
        sender_name: str = "",
        oauth: OAuthCredential | None = None,
    ) -> MailboxRecord:
        document = {
            "_id": mailbox.mailbox_id,
            "workspace_id": mailbox.workspace_id,
            "member_id": mailbox.member_id,
            "owner_addresses": sorted(mailbox.owner_addresses),
            "source": "imap",
            "imap": asdict(imap),
            "calendar": asdict(calendar) if calendar else None,
            "calendar_enabled": calendar is not None,
            "smtp": asdict(smtp) if smtp else None,
            "sender_name": sender_name,
            "blocklist": [entry.value for entry in blocklist],
            "status": {"state": "syncing", "updated_at": now},
            "secrets": self._seal(mailbox.mailbox_id, secrets),
            "oauth": asdict(oauth) if oauth else None,
            "connected_at": now,
        }
        try:
            await self._mailboxes.insert_one(document)
        except DuplicateKeyError:
            raise AlreadyKnown(
                f"this account is already connected as mailbox {mailbox.mailbox_id}"
            ) from None
        return MailboxRecord(document)

    async def mailbox(
        self, workspace_id: str, mailbox_id: str, *, member_id: str | None = None
    ) -> MailboxRecord:
        """With `member_id`, only that member's: another member's mailbox is not even
        acknowledged to exist (UnknownItem, like one that does not)."""
        scope = {"workspace_id": workspace_id}
        if member_id is not None:
            scope["member_id"] = member_id
        document = await find_scoped(self._mailboxes, mailbox_id, {"secrets": 0}, **scope)
        if document is None or document.get("removal_requested_at") is not None:
            raise UnknownItem(f"no mailbox {mailbox_id}")
        return MailboxRecord(document)

    async def exists(self, mailbox_id: str) -> bool:
        return await self._mailboxes.find_one({"_id": mailbox_id}, {"_id": 1}) is not None

    async def mailbox_by_id(self, mailbox_id: str) -> MailboxRecord:
        """For the service's own tasks (sync, token refresh): no caller scope."""
        document = await self._mailboxes.find_one({"_id": mailbox_id}, {"secrets": 0})
        if document is None:
            raise UnknownItem(f"no mailbox {mailbox_id}")
        return MailboxRecord(document)

    async def mailboxes_of(self, workspace_id: str, member_id: str) -> list[MailboxRecord]:
        cursor = self._mailboxes.find(
            {"workspace_id": workspace_id, "member_id": member_id}, {"secrets": 0}
        ).sort("connected_at", 1)
        return [MailboxRecord(d) async for d in cursor if d.get("removal_requested_at") is None]

    async def imap_mailboxes(self) -> list[MailboxRecord]:
        """Every IMAP mailbox to sync (not those whose removal was asked for)."""
        cursor = self._mailboxes.find({"source": "imap"}, {"secrets": 0}).sort("_id", 1)
        return [MailboxRecord(d) async for d in cursor if d.get("removal_requested_at") is None]

    async def request_removal(self, mailbox_id: str, now: datetime) -> None:
        """The member removed the mailbox: it is gone for them at once; the instance that
        syncs it stops and deletes it (MailboxRemoval)."""
        await self._mailboxes.update_one(
            {"_id": mailbox_id}, {"$set": {"removal_requested_at": now}}
        )

    async def removal_pending(self, mailbox_id: str) -> tuple[MailboxRecord, datetime] | None:
        """The mailbox and when its removal was asked for, while it is still stored."""
        document = await self._mailboxes.find_one({"_id": mailbox_id}, {"secrets": 0})
        if document is None or document.get("removal_requested_at") is None:
            return None
        return MailboxRecord(document), _aware(document["removal_requested_at"]) or datetime.now(
            UTC
        )

    async def claim_sync(self, mailbox_id: str, instance_id: str, now: datetime) -> int | None:
        """This instance syncs the mailbox from now on: a fence higher than every earlier
        claim's, which every status and cursor write of the sync then carries; None when
        the mailbox is gone or being removed. The mailbox's folder cursors take the new
        fence at once, so an older claim cannot write one even before this claim does."""
        while True:  # compare and set (find_one_and_update is ~30x slower on the stand-in)
            document = await self._mailboxes.find_one(
                {"_id": mailbox_id}, {"sync_owner": 1, "removal_requested_at": 1}
            )
            if document is None or document.get("removal_requested_at") is not None:
                return None
            held = (document.get("sync_owner") or {}).get("fence")
            claimed = await self._mailboxes.update_one(
                {"_id": mailbox_id, "sync_owner.fence": held, "removal_requested_at": None},
                {
                    "$set": {
                        "sync_owner.fence": (held or 0) + 1,
                        "sync_owner.instance": instance_id,
                        "sync_owner.since": now,
                    }
                },
            )
            if claimed.matched_count == 1:
                break
        fence = (held or 0) + 1
        await self._cursors.update_many({"mailbox_id": mailbox_id}, {"$max": {"fence": fence}})
        return fence

    async def secrets(self, mailbox_id: str) -> dict[str, str]:
        document = await self._mailboxes.find_one({"_id": mailbox_id}, {"secrets": 1})
        if document is None or document.get("secrets") is None:
            raise UnknownItem(f"no mailbox {mailbox_id}")
        opened = self._master.open(bytes(document["secrets"]), f"credentials:{mailbox_id}")
        return json.loads(opened)

    async def replace_credentials(
        self,
        mailbox_id: str,
        *,
        imap: ImapEndpoint,
        calendar: CalendarLink | None,
        secrets: Mapping[str, str],
        now: datetime,
        smtp: SmtpEndpoint | None = None,
        oauth: OAuthCredential | None = None,
    ) -> None:
        changes: dict[str, Any] = {
            "imap": asdict(imap),
            "secrets": self._seal(mailbox_id, secrets),
            "oauth": asdict(oauth) if oauth else None,
            "status.state": "syncing",
            "status.error_kind": "",
            "status.error_message": "",
            "status.updated_at": now,
        }
        if calendar is not None:
            changes["calendar"] = asdict(calendar)
        if smtp is not None:
            changes["smtp"] = asdict(smtp)
        await self._mailboxes.update_one({"_id": mailbox_id}, {"$set": changes})

    async def save_oauth(
        self,
        mailbox_id: str,
        credential: OAuthCredential,
        new_secrets: Mapping[str, str] | None = None,
    ) -> None:
        """The credential's new state; with `new_secrets`, the tokens a refresh returned
        (merged into the sealed secrets)."""
        changes: dict[str, Any] = {"oauth": asdict(credential)}
        if new_secrets:
            secrets = await self.secrets(mailbox_id)
            changes["secrets"] = self._seal(mailbox_id, secrets | dict(new_secrets))
        await self._mailboxes.update_one({"_id": mailbox_id}, {"$set": changes})

    async def save_authorization(
        self,
        state: str,
        *,
        workspace_id: str,
        member_id: str,
        provider: ProviderName,
        code_verifier: str,
        expires_at: datetime,
    ) -> None:
        await self._authorizations.insert_one(
            {
                "_id": state,
                "workspace_id": workspace_id,
                "member_id": member_id,
                "provider": provider,
                "verifier": self._master.seal(code_verifier.encode(), f"authorization:{state}"),
                "expires_at": expires_at,
            }
        )

    async def take_authorization(
        self, state: str, *, workspace_id: str, member_id: str, now: datetime
    ) -> tuple[ProviderName, str] | None:
        """The provider and PKCE verifier of the caller's own pending authorization, used
        once: None when unknown, another member's, or expired."""
        document = await self._authorizations.find_one_and_delete(
            {"_id": state, "workspace_id": workspace_id, "member_id": member_id}
        )
        if document is None or _aware(document["expires_at"]) <= now:
            return None
        verifier = self._master.open(bytes(document["verifier"]), f"authorization:{state}")
        return document["provider"], verifier.decode()

    async def authorization_provider(
        self, state: str, *, workspace_id: str, member_id: str
    ) -> ProviderName | None:
        document = await self._authorizations.find_one(
            {"_id": state, "workspace_id": workspace_id, "member_id": member_id},
            {"provider": 1},
        )
        return document["provider"] if document else None

    async def forget_expired_authorizations(self, now: datetime) -> None:
        await self._authorizations.delete_many({"expires_at": {"$lte": now}})

    async def save_settings(
        self,
        mailbox_id: str,
        *,
        blocklist: tuple[BlocklistEntry, ...],
        calendar_enabled: bool,
    ) -> None:
        await self._mailboxes.update_one(
            {"_id": mailbox_id},
            {
                "$set": {
                    "blocklist": [entry.value for entry in blocklist],
                    "calendar_enabled": calendar_enabled,
                }
            },
        )

    async def save_status(
        self, mailbox_id: str, status: SyncStatus, fence: int | None = None
    ) -> None:
        """With `fence`, only while that claim is the newest (else SyncFenced)."""
        if fence is None:
            await self._mailboxes.update_one(
                {"_id": mailbox_id}, {"$set": {"status": asdict(status)}}
            )
            return
        result = await self._mailboxes.update_one(
            {"_id": mailbox_id, "sync_owner.fence": fence, "removal_requested_at": None},
            {"$set": {"status": asdict(status)}},
        )
        if result.matched_count == 0:
            raise SyncFenced(f"mailbox {mailbox_id} is no longer synced under claim {fence}")

    async def save_calendar_status(self, mailbox_id: str, status: SyncStatus) -> None:
        await self._mailboxes.update_one(
            {"_id": mailbox_id}, {"$set": {"calendar_status": asdict(status)}}
        )

    async def forget_mailbox(self, mailbox_id: str) -> None:
        """Everything ingest kept of a mailbox, credentials included."""
        scope = {"mailbox_id": mailbox_id}
        for collection in (self._sightings, self._threads, self._cursors, self._quarantine):
            await collection.bulk_write([DeleteMany(scope)])
        await self._mailboxes.delete_one({"_id": mailbox_id})

    # -- sightings and threads ---------------------------------------------------------

    async def already_synced(self, mailbox_id: str, message_keys: Iterable[str]) -> set[str]:
        ids = [_sighting_id(mailbox_id, key) for key in message_keys]
        cursor = self._sightings.find({"_id": {"$in": ids}}, {"message_key": 1})
        return {document["message_key"] async for document in cursor}

    async def record_sightings(self, mailbox: Mailbox, sightings: Iterable[dict]) -> None:
        """`sightings`: {message_key, thread_key, event (the MessageSynced payload),
        hidden_reason ("" when published)}."""
        writes = [
            UpdateOne(
                {"_id": _sighting_id(mailbox.mailbox_id, sighting["message_key"])},
                {
                    "$setOnInsert": {
                        "workspace_id": mailbox.workspace_id,
                        "mailbox_id": mailbox.mailbox_id,
                        "generation": 0,
                        **sighting,
                    }
                },
                upsert=True,
            )
            for sighting in sightings
        ]
        if writes:
            await self._sightings.bulk_write(writes, ordered=False)

    async def sighting(self, mailbox_id: str, message_key: str) -> dict | None:
        return await self._sightings.find_one({"_id": _sighting_id(mailbox_id, message_key)})

    async def visible_sightings(
        self, mailbox_id: str, thread_keys: Iterable[str]
    ) -> list[StoredSighting]:
        found = await self._sightings_in_threads(mailbox_id, thread_keys)
        return [_sighting(d) for d in found if d.get("hidden_reason") == ""]

    async def hidden_sightings(
        self, mailbox_id: str, thread_keys: Iterable[str]
    ) -> list[StoredSighting]:
        found = await self._sightings_in_threads(mailbox_id, thread_keys)
        return [_sighting(d) for d in found if d.get("hidden_reason") != ""]

    async def _sightings_in_threads(self, mailbox_id: str, thread_keys: Iterable[str]) -> list:
        """Filtered on the index's fields only: with one more condition (hidden or not)
        beside the `$in`, the MongoDB-protocol stand-in plans a collection scan."""
        thread_keys = sorted(set(thread_keys))
        if not thread_keys:  # the common case: ask the server nothing
            return []
        cursor = self._sightings.find(
            {"mailbox_id": mailbox_id, "thread_key": {"$in": thread_keys}}
        ).sort("_id", 1)
        return [document async for document in cursor]

    async def mark_hidden(self, mailbox_id: str, message_keys: Iterable[str], reason: str) -> None:
        """Retracted: the next time it is shown is a new generation (a new event id)."""
        writes = [
            UpdateOne(
                {"_id": _sighting_id(mailbox_id, key)},
                {"$set": {"hidden_reason": reason}, "$inc": {"generation": 1}},
            )
            for key in message_keys
        ]
        if writes:
            await self._sightings.bulk_write(writes, ordered=False)

    async def mark_shown(self, mailbox_id: str, message_keys: Iterable[str]) -> None:
        writes = [
            UpdateOne({"_id": _sighting_id(mailbox_id, key)}, {"$set": {"hidden_reason": ""}})
            for key in message_keys
        ]
        if writes:
            await self._sightings.bulk_write(writes, ordered=False)

    async def thread_terms(
        self, mailbox_id: str, thread_keys: Iterable[str]
    ) -> dict[str, frozenset[str]]:
        ids = [_thread_id(mailbox_id, key) for key in thread_keys]
        cursor = self._threads.find({"_id": {"$in": ids}})
        return {d["thread_key"]: frozenset(d["terms"]) async for d in cursor}

    async def add_thread_terms(self, mailbox: Mailbox, terms: Mapping[str, frozenset[str]]) -> None:
        writes = [
            UpdateOne(
                {"_id": _thread_id(mailbox.mailbox_id, thread_key)},
                {
                    "$setOnInsert": {"mailbox_id": mailbox.mailbox_id, "thread_key": thread_key},
                    "$addToSet": {"terms": {"$each": sorted(thread_terms)}},
                },
                upsert=True,
            )
            for thread_key, thread_terms in terms.items()
        ]
        if writes:
            await self._threads.bulk_write(writes, ordered=False)

    async def threads_touching(
        self, mailbox_id: str, values: Iterable[str]
    ) -> dict[str, frozenset[str]]:
        """The threads of a mailbox holding any of these addresses or domains."""
        values = list(values)
        if not values:
            return {}
        cursor = self._threads.find({"mailbox_id": mailbox_id, "terms": {"$in": list(values)}})
        return {d["thread_key"]: frozenset(d["terms"]) async for d in cursor}

    # -- folder cursors ------------------------------------------------------------------

    async def folder_cursors(self, mailbox_id: str) -> dict[str, FolderCursor]:
        cursor = self._cursors.find({"mailbox_id": mailbox_id})
        return {
            d["folder"]: FolderCursor(
                folder=d["folder"],
                uidvalidity=d["uidvalidity"],
                last_uid=d["last_uid"],
                highest_modseq=d.get("highest_modseq"),
            )
            async for d in cursor
        }

    async def save_folder_cursor(
        self, mailbox_id: str, cursor: FolderCursor, fence: int = 0
    ) -> None:
        """Refused (SyncFenced) once a newer claim than `fence` holds the mailbox: its
        claim raised every cursor's fence, and the upsert then meets the existing one."""
        try:
            await self._cursors.update_one(
                {"_id": f"{mailbox_id}:{cursor.folder}", "fence": {"$lte": fence}},
                {"$set": {"mailbox_id": mailbox_id, "fence": fence, **asdict(cursor)}},
                upsert=True,
            )
        except DuplicateKeyError:
            raise SyncFenced(
                f"folder {cursor.folder!r} of mailbox {mailbox_id} has a newer claim than {fence}"
            ) from None

    # -- quarantine --------------------------------------------------------------------

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

    async def quarantined(self, mailbox_id: str, *, after: str = "", limit: int = 0) -> list[dict]:
        """In a stable order (by id), `limit` at a time after the id `after`."""
        query: dict[str, Any] = {"mailbox_id": mailbox_id}
        if after:
            query["_id"] = {"$gt": after}
        cursor = self._quarantine.find(query, {"raw": 0}).sort("_id", 1).limit(limit)
        return [document async for document in cursor]

    def _seal(self, mailbox_id: str, secrets: Mapping[str, str]) -> bytes:
        return self._master.seal(json.dumps(dict(secrets)).encode(), f"credentials:{mailbox_id}")


def _sighting_id(mailbox_id: str, message_key: str) -> str:
    return f"{mailbox_id}:{message_key}"


def _thread_id(mailbox_id: str, thread_key: str) -> str:
    return f"{mailbox_id}:{thread_key}"


def _sighting(document: dict) -> StoredSighting:
    return StoredSighting(
        message_key=document["message_key"],
        thread_key=document["thread_key"],
        generation=document.get("generation", 0),
        event=document.get("event"),
    )
