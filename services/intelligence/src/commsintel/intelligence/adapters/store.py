"""Intelligence's MongoDB projections:
- `interactions`: one document per (record, mailbox, message): the facts strength is
  folded from (as_of queries read these);
- `member_strengths`: one per (record, member): a decayed score kept at an anchor time,
  with a time-independent rank key so "strongest" is an index scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import DESCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.intelligence.domain.attributes import Interaction
from commsintel.intelligence.domain.strength import DecayedScore, StrengthModel, rank_key


class IntelligenceStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._interactions = database["interactions"]
        self._strengths = database["member_strengths"]

    async def ensure_indexes(self) -> None:
        await self._interactions.create_index([("workspace_id", 1), ("record_id", 1)])
        await self._strengths.create_index([("workspace_id", 1), ("rank_key", DESCENDING)])

    async def add_interactions(
        self, workspace_id: str, interactions: Sequence[tuple[str, Interaction]]
    ) -> list[Interaction]:
        """Store (mailbox_id, interaction) pairs; returns only those not seen before, so a
        redelivered event never counts twice."""
        if not interactions:
            return []
        writes = [
            UpdateOne(
                {"_id": f"{i.record_id}:{mailbox_id}:{i.interaction_key}"},
                {
                    "$setOnInsert": {
                        "workspace_id": workspace_id,
                        "record_id": i.record_id,
                        "member_id": i.member_id,
                        "mailbox_id": mailbox_id,
                        "interaction_key": i.interaction_key,
                        "at": i.at,
                        "direction": i.direction,
                        "participant_count": i.participant_count,
                    }
                },
                upsert=True,
            )
            for mailbox_id, i in interactions
        ]
        result = await self._interactions.bulk_write(writes, ordered=True)
        return [interactions[index][1] for index in sorted(result.upserted_ids)]

    async def fold_strengths(
        self, workspace_id: str, fresh: Sequence[Interaction], model: StrengthModel
    ) -> None:
        if not fresh:
            return
        keys = sorted({(i.record_id, i.member_id) for i in fresh})
        ids = [f"{record}:{member}" for record, member in keys]
        scores = {
            document["_id"]: DecayedScore(document["value"], document["anchor"])
            async for document in self._strengths.find({"_id": {"$in": ids}})
        }
        for interaction in fresh:
            key = f"{interaction.record_id}:{interaction.member_id}"
            weight = model.weight(interaction.direction, interaction.participant_count)
            scores[key] = scores.get(key, DecayedScore()).add(weight, interaction.at, model)
        writes = []
        for (record, member), key in zip(keys, ids, strict=True):
            score = scores[key]
            writes.append(
                UpdateOne(
                    {"_id": key},
                    {
                        "$set": {
                            "workspace_id": workspace_id,
                            "record_id": record,
                            "member_id": member,
                            "value": score.value,
                            "anchor": score.anchor,
                            "rank_key": rank_key(score, model),
                        }
                    },
                    upsert=True,
                )
            )
        await self._strengths.bulk_write(writes, ordered=False)

    async def interactions_of(self, workspace_id: str, record_id: str) -> list[Interaction]:
        cursor = self._interactions.find({"workspace_id": workspace_id, "record_id": record_id})
        return [_interaction(document) async for document in cursor]

    async def strongest_records(self, workspace_id: str, limit: int) -> list[str]:
        cursor = self._strengths.find({"workspace_id": workspace_id}, {"record_id": 1}).sort(
            "rank_key", DESCENDING
        )
        records: list[str] = []
        async for document in cursor:
            if document["record_id"] not in records:
                records.append(document["record_id"])
                if len(records) == limit:
                    break
        return records


def _interaction(document: dict) -> Interaction:
    at: datetime = document["at"]
    return Interaction(
        record_id=document["record_id"],
        member_id=document["member_id"],
        interaction_key=document["interaction_key"],
        at=at,
        direction=document["direction"],
        participant_count=document["participant_count"],
    )
