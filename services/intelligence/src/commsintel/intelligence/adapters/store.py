"""Intelligence's MongoDB projections:
- `interactions`: one document per (record, member, calendar year) holding that member's
  interactions with that record in that year (the facts strength and attributes are
  folded from; as_of queries read these), each with the mailbox it came from, and the
  bucket's sightings (`refs`) indexed, so a new resolution of one finds it.
- `member_strengths`: one per (record, member): a decayed score kept at an anchor time,
  with a time-independent rank key so "strongest" is an index scan.
- `records`: one per record identity created (PersonCreated, CompanyCreated), so the API
  tells a record without interactions from one that does not exist (NOT_FOUND).
A removed mailbox's interactions are deleted, so the projections are what they would be
had it never been synced. One writer per workspace (docs/decisions/0017).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from pymongo import DESCENDING, DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.intelligence.domain.attributes import Interaction, pair_score
from commsintel.intelligence.domain.book import BucketKey, InteractionBook, Pair, sighting_ref
from commsintel.intelligence.domain.strength import StrengthModel, rank_key
from commsintel.intelligence.ports import StoredBuckets

# Buckets read for a book: pair -> bucket id -> document as stored.
WRITE_CHUNK = 1000


class IntelligenceStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._interactions = database["interactions"]
        self._strengths = database["member_strengths"]
        self._records = database["records"]

    async def ensure_indexes(self) -> None:
        await self._interactions.create_index(
            [("workspace_id", 1), ("record_id", 1), ("member_id", 1), ("year", 1)]
        )
        await self._interactions.create_index([("workspace_id", 1), ("refs", 1)])
        await self._strengths.create_index([("workspace_id", 1), ("rank_key", DESCENDING)])
        await self._strengths.create_index(
            [("workspace_id", 1), ("member_id", 1), ("rank_key", DESCENDING)]
        )

    async def load(
        self,
        workspace_id: str,
        *,
        refs: Iterable[str] = (),
        members: Iterable[str] = (),
        pairs: Iterable[Pair] = (),
    ) -> tuple[InteractionBook, StoredBuckets]:
        """A book of every pair holding one of `refs`, every pair of `members` (a removed
        mailbox: rare, so it has no index of its own) and `pairs`, with all their
        interactions (what a batch can change and fold)."""
        wanted = set(pairs)
        if refs := sorted(set(refs)):
            query = {"workspace_id": workspace_id, "refs": {"$in": refs}}
            async for document in self._interactions.find(query, {"record_id": 1, "member_id": 1}):
                wanted.add((document["record_id"], document["member_id"]))
        if members := sorted(set(members)):
            query = {"workspace_id": workspace_id, "member_id": {"$in": members}}
            async for document in self._strengths.find(query, {"record_id": 1, "member_id": 1}):
                wanted.add((document["record_id"], document["member_id"]))
        book, stored = InteractionBook(), {}
        if not wanted:
            return book, stored
        # By record only, the wanted pairs picked here: with a second `$in` (member) the
        # MongoDB-protocol stand-in plans a collection scan, and a batch then reads every
        # bucket of the workspace (its latency grew with the collection).
        query = {
            "workspace_id": workspace_id,
            "record_id": {"$in": sorted({record for record, _ in wanted})},
        }
        async for document in self._interactions.find(query):
            pair = (document["record_id"], document["member_id"])
            if pair in wanted:
                stored.setdefault(pair, {})[document["_id"]] = document
                book.load(_interactions_of_bucket(document))
        return book, stored

    async def save(
        self,
        workspace_id: str,
        book: InteractionBook,
        stored: StoredBuckets | None,
        model: StrengthModel,
    ) -> None:
        """Write the buckets and strengths of the pairs `book` changed. `stored`: the
        buckets the book was loaded from; None when the store held nothing of the
        workspace (a replay), so every document is inserted."""
        buckets = _PipelinedWrites(self._interactions)
        strengths = _PipelinedWrites(self._strengths)
        try:
            for pair in sorted(book.changed):
                before = {} if stored is None else dict(stored.get(pair, {}))
                interactions: list[Interaction] = []
                for key, bucket in book.buckets_of(pair).items():
                    document = _bucket_document(workspace_id, key, bucket)
                    interactions += bucket
                    previous = before.pop(document["_id"], None)
                    if previous is None:
                        await buckets.add(InsertOne(document))
                    elif previous != document:
                        await buckets.add(ReplaceOne({"_id": document["_id"]}, document))
                for gone in sorted(before):
                    await buckets.add(DeleteOne({"_id": gone}))
                write = _strength_write(workspace_id, pair, interactions, model, stored)
                if write is not None:
                    await strengths.add(write)
            await buckets.flush()
            await strengths.flush()
        finally:
            await buckets.cancel()
            await strengths.cancel()
        book.changed.clear()

    async def add_records(self, workspace_id: str, record_ids: Iterable[str]) -> None:
        writes = [
            UpdateOne(
                {"_id": _record_key(workspace_id, record_id)},
                {"$setOnInsert": {"workspace_id": workspace_id, "record_id": record_id}},
                upsert=True,
            )
            for record_id in sorted(set(record_ids))
        ]
        for start in range(0, len(writes), WRITE_CHUNK):
            await self._records.bulk_write(writes[start : start + WRITE_CHUNK], ordered=False)

    async def has_record(self, workspace_id: str, record_id: str) -> bool:
        found = await self._records.find_one({"_id": _record_key(workspace_id, record_id)})
        return found is not None

    async def interactions_of(self, workspace_id: str, record_id: str) -> list[Interaction]:
        cursor = self._interactions.find({"workspace_id": workspace_id, "record_id": record_id})
        return [
            interaction
            async for document in cursor
            for interaction in _interactions_of_bucket(document)
        ]

    async def strongest_records(
        self, workspace_id: str, limit: int, member_id: str | None = None
    ) -> list[str]:
        query = {"workspace_id": workspace_id}
        if member_id:
            query["member_id"] = member_id
        cursor = self._strengths.find(query, {"record_id": 1}).sort("rank_key", DESCENDING)
        records: list[str] = []
        async for document in cursor:
            if document["record_id"] not in records:
                records.append(document["record_id"])
                if len(records) == limit:
                    break
        return records


class _PipelinedWrites:
    """Unordered bulk writes of `WRITE_CHUNK` operations, sent while the next chunk is
    being built (the server works in its own process meanwhile), at most `depth` in
    flight. The operations of one save touch distinct documents, so order is free."""

    def __init__(self, collection: AsyncCollection, depth: int = 2) -> None:
        self._collection = collection
        self._depth = depth
        self._pending: list = []
        self._in_flight: deque[asyncio.Task] = deque()

    async def add(self, operation) -> None:
        self._pending.append(operation)
        if len(self._pending) >= WRITE_CHUNK:
            await self._send()

    async def flush(self) -> None:
        if self._pending:
            await self._send()
        while self._in_flight:
            await self._in_flight.popleft()

    async def cancel(self) -> None:
        """After a failure: nothing left running behind the caller's back."""
        for task in self._in_flight:
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        self._in_flight.clear()

    async def _send(self) -> None:
        chunk, self._pending = self._pending, []
        self._in_flight.append(
            asyncio.create_task(self._collection.bulk_write(chunk, ordered=False))
        )
        if len(self._in_flight) >= self._depth:
            await self._in_flight.popleft()
        else:
            await asyncio.sleep(0)  # let the task encode and send before the next chunk


def _strength_write(
    workspace_id: str,
    pair: Pair,
    interactions: list[Interaction],
    model: StrengthModel,
    stored: StoredBuckets | None,
):
    pair_id = "\x1f".join((workspace_id, *pair))
    score = pair_score(interactions, model)
    if score.anchor is None:
        return None if stored is None else DeleteOne({"_id": pair_id})
    document = {
        "workspace_id": workspace_id,
        "record_id": pair[0],
        "member_id": pair[1],
        "value": score.value,
        "anchor": score.anchor,
        "rank_key": rank_key(score, model),
    }
    if stored is None:
        return InsertOne({"_id": pair_id, **document})
    return UpdateOne({"_id": pair_id}, {"$set": document}, upsert=True)


def _record_key(workspace_id: str, record_id: str) -> str:
    return "\x1f".join((workspace_id, record_id))


def _bucket_document(workspace_id: str, key: BucketKey, interactions: list[Interaction]) -> dict:
    record_id, member_id, year = key
    return {
        "_id": "\x1f".join((workspace_id, record_id, member_id, str(year))),
        "workspace_id": workspace_id,
        "record_id": record_id,
        "member_id": member_id,
        "year": year,
        "refs": sorted({sighting_ref(i.mailbox_id, i.interaction_key) for i in interactions}),
        "interactions": [
            {
                "mailbox_id": i.mailbox_id,
                "key": i.interaction_key,
                "at": i.at,
                "direction": i.direction,
                "participant_count": i.participant_count,
                "kind": i.kind,
                "role": i.role,
            }
            for i in interactions
        ],
    }


def _interactions_of_bucket(document: dict) -> list[Interaction]:
    record_id, member_id = document["record_id"], document["member_id"]
    return [
        Interaction(
            record_id=record_id,
            member_id=member_id,
            interaction_key=item["key"],
            at=item["at"],
            direction=item["direction"],
            participant_count=item["participant_count"],
            kind=item["kind"],
            role=item["role"],
            mailbox_id=item["mailbox_id"],
        )
        for item in document["interactions"]
    ]
