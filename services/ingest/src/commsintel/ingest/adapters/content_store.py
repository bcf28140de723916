"""Bodies and attachments, encrypted with a key of their own per mailbox.

- content_keys: one random AES-256 key per mailbox, stored wrapped by the master key.
  Removing the mailbox deletes this key first: from then on every copy of its content,
  in this database or in any backup of it, is unreadable (crypto-shredding).
- contents: per (mailbox, message) the sealed bodies and the attachments' metadata.
- attachments (GridFS bucket): each attachment's sealed bytes.

Each mailbox keeps its own copy of a message both mailboxes synced: each copy is sealed
with its own mailbox's key, so removing one mailbox never takes the other's away.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from pymongo import DeleteMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from commsintel.contracts.errors import UnknownItem
from commsintel.ingest.adapters.crypto import SecretBox, new_key
from commsintel.ingest.domain.content import MessageContent


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class StoredContent:
    mailbox_id: str
    message_key: str
    text_body: str
    html_body: str
    attachments: tuple[StoredAttachment, ...]


_CHUNK_BYTES = 255 * 1024  # GridFS's default chunk size


class ContentStore:
    def __init__(self, database: AsyncDatabase, master: SecretBox) -> None:
        self._master = master
        self._keys = database["content_keys"]
        self._contents = database["contents"]
        self._files = AsyncGridFSBucket(database, bucket_name="attachments")
        self._files_collection = database["attachments.files"]
        self._chunks = database["attachments.chunks"]
        self._boxes: dict[str, SecretBox] = {}

    async def ensure_indexes(self) -> None:
        await self._contents.create_index([("workspace_id", 1), ("message_key", 1)])
        await self._contents.create_index([("mailbox_id", 1)])
        # The indexes GridFS itself would make, plus one to find a mailbox's files.
        await self._files_collection.create_index([("filename", 1), ("uploadDate", 1)])
        await self._files_collection.create_index([("metadata.mailbox_id", 1)])
        await self._chunks.create_index([("files_id", 1), ("n", 1)], unique=True)

    async def save(
        self,
        workspace_id: str,
        mailbox_id: str,
        contents: Sequence[tuple[str, MessageContent]],
    ) -> None:
        """(message_key, content) pairs; saving a message again changes nothing."""
        if not contents:
            return
        box = await self._box(mailbox_id, create=True)
        ids = [_content_id(mailbox_id, key) for key, _ in contents]
        present = {d["_id"] async for d in self._contents.find({"_id": {"$in": ids}}, {"_id": 1})}
        writes = []
        files: list[dict] = []
        chunks: list[dict] = []
        now = datetime.now(UTC)
        for (message_key, content), content_id in zip(contents, ids, strict=True):
            if content_id in present:
                continue
            attachments = []
            for index, attachment in enumerate(content.attachments):
                sealed = box.seal(attachment.payload, f"{content_id}:{index}")
                file_id = ObjectId()
                files.append(
                    {
                        "_id": file_id,
                        "length": len(sealed),
                        "chunkSize": _CHUNK_BYTES,
                        "uploadDate": now,
                        "filename": attachment.filename or f"attachment-{index}",
                        "metadata": {"mailbox_id": mailbox_id, "message_key": message_key},
                    }
                )
                chunks += [
                    {"files_id": file_id, "n": n, "data": sealed[start : start + _CHUNK_BYTES]}
                    for n, start in enumerate(range(0, max(len(sealed), 1), _CHUNK_BYTES))
                ]
                attachments.append(
                    {
                        "index": index,
                        "filename": attachment.filename,
                        "content_type": attachment.content_type,
                        "size": len(attachment.payload),
                        "file_id": file_id,
                    }
                )
            bodies = json.dumps({"text": content.text_body, "html": content.html_body})
            writes.append(
                UpdateOne(
                    {"_id": content_id},
                    {
                        "$setOnInsert": {
                            "workspace_id": workspace_id,
                            "mailbox_id": mailbox_id,
                            "message_key": message_key,
                            "bodies": box.seal(bodies.encode(), content_id),
                            "attachments": attachments,
                        }
                    },
                    upsert=True,
                )
            )
        # Attachments in the GridFS layout (any GridFS reader opens them), written for
        # the whole batch at once: the driver's one-file-at-a-time upload asks the server
        # about indexes before every file, which the stand-in answers by a full scan.
        if chunks:
            await self._chunks.insert_many(chunks, ordered=False)
            await self._files_collection.insert_many(files, ordered=False)
        if writes:
            await self._contents.bulk_write(writes, ordered=False)

    async def content(
        self, workspace_id: str, message_key: str, mailbox_id: str = ""
    ) -> StoredContent:
        document = await self._find(workspace_id, message_key, mailbox_id)
        box = await self._box(document["mailbox_id"])
        bodies = json.loads(box.open(bytes(document["bodies"]), document["_id"]))
        return StoredContent(
            mailbox_id=document["mailbox_id"],
            message_key=message_key,
            text_body=bodies["text"],
            html_body=bodies["html"],
            attachments=tuple(_attachment(a) for a in document["attachments"]),
        )

    async def attachment(
        self, workspace_id: str, message_key: str, mailbox_id: str, index: int
    ) -> tuple[StoredAttachment, bytes]:
        document = await self._find(workspace_id, message_key, mailbox_id)
        found = [a for a in document["attachments"] if a["index"] == index]
        if not found:
            raise UnknownItem(f"message {message_key} has no attachment {index}")
        box = await self._box(document["mailbox_id"])
        stream = await self._files.open_download_stream(found[0]["file_id"])
        sealed = await stream.read()
        return _attachment(found[0]), box.open(sealed, f"{document['_id']}:{index}")

    async def seal(self, mailbox_id: str, data: bytes, bound_to: str) -> bytes:
        """Other private data of a mailbox (e.g. queued outgoing mail), under its key."""
        return (await self._box(mailbox_id, create=True)).seal(data, bound_to)

    async def unseal(self, mailbox_id: str, sealed: bytes, bound_to: str) -> bytes:
        return (await self._box(mailbox_id)).open(sealed, bound_to)

    async def forget_mailbox(self, mailbox_id: str) -> None:
        """The key first: once it is gone, whatever is left behind is unreadable."""
        await self._keys.delete_one({"_id": mailbox_id})
        self._boxes.pop(mailbox_id, None)
        file_ids = [
            d["_id"]
            async for d in self._files_collection.find(
                {"metadata.mailbox_id": mailbox_id}, {"_id": 1}
            )
        ]
        if file_ids:
            await self._chunks.delete_many({"files_id": {"$in": file_ids}})
            await self._files_collection.delete_many({"_id": {"$in": file_ids}})
        await self._contents.bulk_write([DeleteMany({"mailbox_id": mailbox_id})])

    async def _find(self, workspace_id: str, message_key: str, mailbox_id: str) -> dict:
        query = {"workspace_id": workspace_id, "message_key": message_key}
        if mailbox_id:
            query["mailbox_id"] = mailbox_id
        document = await self._contents.find_one(query, sort=[("_id", 1)])
        if document is None:
            raise UnknownItem(f"no content for message {message_key}")
        return document

    async def _box(self, mailbox_id: str, *, create: bool = False) -> SecretBox:
        if mailbox_id in self._boxes:
            return self._boxes[mailbox_id]
        document = await self._keys.find_one({"_id": mailbox_id})
        if document is None:
            if not create:
                raise UnknownItem(f"mailbox {mailbox_id} has no content key (removed?)")
            wrapped = self._master.seal(new_key(), f"content-key:{mailbox_id}")
            try:
                await self._keys.insert_one({"_id": mailbox_id, "wrapped": wrapped})
            except DuplicateKeyError:  # another instance made it first: use theirs
                pass
            document = await self._keys.find_one({"_id": mailbox_id})
            assert document is not None
        key = self._master.open(bytes(document["wrapped"]), f"content-key:{mailbox_id}")
        self._boxes[mailbox_id] = SecretBox(key)
        return self._boxes[mailbox_id]


def _content_id(mailbox_id: str, message_key: str) -> str:
    return f"{mailbox_id}:{message_key}"


def _attachment(document: dict) -> StoredAttachment:
    return StoredAttachment(
        index=document["index"],
        filename=document["filename"],
        content_type=document["content_type"],
        size=document["size"],
    )
