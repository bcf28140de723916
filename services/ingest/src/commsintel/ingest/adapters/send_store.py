"""Sends: one document per (mailbox, idempotency key), so a retried request finds what
the first one did. A mass send keeps each recipient's state and, until it is sent, the
composed message sealed with the mailbox's content key."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo import DeleteMany
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from commsintel.platform.mongo import find_scoped

_NAMESPACE = uuid.UUID("5d0c2c55-7f43-4f0e-9a55-1c1b8f2b6e61")


def send_id(mailbox_id: str, idempotency_key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{mailbox_id}\x1f{idempotency_key}"))


class SendStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._sends = database["sends"]

    async def ensure_indexes(self) -> None:
        await self._sends.create_index([("mailbox_id", 1)])
        await self._sends.create_index([("kind", 1), ("recipients.state", 1)])

    async def create(self, document: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """(the stored document, True) or, when the id exists, (the first one, False)."""
        try:
            await self._sends.insert_one(document)
            return document, True
        except DuplicateKeyError:
            existing = await self._sends.find_one({"_id": document["_id"]})
            assert existing is not None
            return existing, False

    async def get(self, workspace_id: str, send_id: str) -> dict[str, Any] | None:
        return await find_scoped(self._sends, send_id, workspace_id=workspace_id)

    async def finish_single(self, send_id: str, changes: dict[str, Any]) -> None:
        await self._sends.update_one({"_id": send_id}, {"$set": changes})

    async def set_recipient(
        self, send_id: str, index: int, changes: dict[str, Any], *, drop_sealed: bool = False
    ) -> None:
        update: dict[str, Any] = {
            "$set": {f"recipients.{index}.{k}": v for k, v in changes.items()}
        }
        if drop_sealed:
            update["$unset"] = {f"recipients.{index}.sealed": ""}
        await self._sends.update_one({"_id": send_id}, update)

    async def claim_recipient(self, send_id: str, index: int) -> bool:
        """queued -> sending, atomically: only one worker (of any instance) may send it."""
        result = await self._sends.update_one(
            {"_id": send_id, f"recipients.{index}.state": "queued"},
            {"$set": {f"recipients.{index}.state": "sending"}},
        )
        return result.modified_count == 1

    async def unfinished_mass_sends(self) -> list[dict[str, Any]]:
        cursor = self._sends.find(
            {"kind": "mass", "recipients.state": {"$in": ["queued", "sending"]}}
        ).sort("created_at", 1)
        return [document async for document in cursor]

    async def forget_mailbox(self, mailbox_id: str) -> None:
        await self._sends.bulk_write([DeleteMany({"mailbox_id": mailbox_id})])


def new_document(
    kind: str,
    workspace_id: str,
    member_id: str,
    mailbox_id: str,
    idempotency_key: str,
    now: datetime,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "_id": send_id(mailbox_id, idempotency_key),
        "kind": kind,
        "workspace_id": workspace_id,
        "member_id": member_id,
        "mailbox_id": mailbox_id,
        "created_at": now,
        **fields,
    }
