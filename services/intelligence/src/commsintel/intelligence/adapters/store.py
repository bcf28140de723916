"""Intelligence's MongoDB projections:
- `interactions`: one document per (record, mailbox, interaction): the facts strength is
  folded from (as_of queries read these). The records of one (mailbox, interaction) are
  replaced whenever identity resolves it again (a person made from history, a merge).
- `member_strengths`: one per (record, member): a decayed score kept at an anchor time,
  with a time-independent rank key so "strongest" is an index scan.
A removed mailbox's interactions are deleted, so the projections are what they would be
had it never been synced.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pymongo import DESCENDING, DeleteOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.intelligence.domain.attributes import Interaction, pair_score
from commsintel.intelligence.domain.strength import StrengthModel, rank_key

Pair = tuple[str, str]  # (record_id, member_id)


class IntelligenceStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._interactions = database["interactions"]
        self._strengths = database["member_strengths"]

    async def ensure_indexes(self) -> None:
        await self._interactions.create_index([("workspace_id", 1), ("record_id", 1)])
        await self._interactions.create_index([("workspace_id", 1), ("ref", 1)])
        await self._strengths.create_index([("workspace_id", 1), ("rank_key", DESCENDING)])

    async def replace_interactions(
        self, workspace_id: str, resolved: dict[str, tuple[str, list[Interaction]]]
    ) -> tuple[list[Interaction], set[Pair]]:
        """`resolved`: ref -> (mailbox_id, the interactions it now has, one per record).

        Returns the interactions that are new, and the (record, member) pairs that lost
        one (their strength must be folded again from what remains)."""
        refs = sorted(resolved)
        existing: dict[str, dict] = {}
        if refs:
            query = {"workspace_id": workspace_id, "ref": {"$in": refs}}
            async for document in self._interactions.find(
                query, {"ref": 1, "member_id": 1, "record_id": 1}
            ):
                existing[document["_id"]] = document
        writes: list = []
        fresh: list[Interaction] = []
        wanted_ids: set[str] = set()
        for ref in refs:
            mailbox_id, interactions = resolved[ref]
            for interaction in interactions:
                key = _document_id(interaction.record_id, ref)
                wanted_ids.add(key)
                if key not in existing:
                    fresh.append(interaction)
                writes.append(
                    UpdateOne(
                        {"_id": key},
                        {"$set": _document(workspace_id, mailbox_id, ref, interaction)},
                        upsert=True,
                    )
                )
        lost = {
            (d["record_id"], d["member_id"]) for key, d in existing.items() if key not in wanted_ids
        }
        writes += [DeleteOne({"_id": key}) for key in sorted(existing) if key not in wanted_ids]
        if writes:
            await self._interactions.bulk_write(writes, ordered=True)
        return fresh, lost

    async def fold_strengths(
        self, workspace_id: str, pairs: Iterable[Pair], model: StrengthModel
    ) -> None:
        """Fold these (record, member) pairs again from all their interactions: a reply
        can make earlier mail two-way, a merge or a removal takes interactions away."""
        writes: list = []
        for pair, interactions in sorted(
            (await self._interactions_of_pairs(workspace_id, pairs)).items()
        ):
            score = pair_score(interactions, model)
            if score.anchor is None:
                writes.append(DeleteOne({"_id": _pair_id(pair)}))
                continue
            writes.append(
                UpdateOne(
                    {"_id": _pair_id(pair)},
                    {
                        "$set": {
                            "workspace_id": workspace_id,
                            "record_id": pair[0],
                            "member_id": pair[1],
                            "value": score.value,
                            "anchor": score.anchor,
                            "rank_key": rank_key(score, model),
                        }
                    },
                    upsert=True,
                )
            )
        if writes:
            await self._strengths.bulk_write(writes, ordered=False)

    async def remove_mailbox(self, workspace_id: str, mailbox_id: str) -> set[Pair]:
        """Forget every interaction a mailbox brought; returns the pairs that changed."""
        query = {"workspace_id": workspace_id, "mailbox_id": mailbox_id}
        pairs = {
            (d["record_id"], d["member_id"])
            async for d in self._interactions.find(query, {"record_id": 1, "member_id": 1})
        }
        await self._interactions.delete_many(query)
        return pairs

    async def _interactions_of_pairs(
        self, workspace_id: str, pairs: Iterable[Pair]
    ) -> dict[Pair, list[Interaction]]:
        pairs = set(pairs)
        found: dict[Pair, list[Interaction]] = {pair: [] for pair in pairs}
        if not pairs:
            return found
        query = {
            "workspace_id": workspace_id,
            "record_id": {"$in": sorted({record for record, _ in pairs})},
        }
        async for document in self._interactions.find(query):
            pair = (document["record_id"], document["member_id"])
            if pair in found:
                found[pair].append(_interaction(document))
        return found

    async def interactions_of(self, workspace_id: str, record_id: str) -> list[Interaction]:
        cursor = self._interactions.find({"workspace_id": workspace_id, "record_id": record_id})
        return [_interaction(document) async for document in cursor]

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


def _document_id(record_id: str, ref: str) -> str:
    return f"{record_id}\x1f{ref}"


def _pair_id(pair: Pair) -> str:
    return f"{pair[0]}:{pair[1]}"


def _document(workspace_id: str, mailbox_id: str, ref: str, interaction: Interaction) -> dict:
    return {
        "workspace_id": workspace_id,
        "ref": ref,
        "record_id": interaction.record_id,
        "member_id": interaction.member_id,
        "mailbox_id": mailbox_id,
        "interaction_key": interaction.interaction_key,
        "at": interaction.at,
        "direction": interaction.direction,
        "participant_count": interaction.participant_count,
        "kind": interaction.kind,
        "role": interaction.role,
    }


def _interaction(document: dict) -> Interaction:
    at: datetime = document["at"]
    return Interaction(
        record_id=document["record_id"],
        member_id=document["member_id"],
        interaction_key=document["interaction_key"],
        at=at,
        direction=document["direction"],
        participant_count=document["participant_count"],
        kind=document.get("kind", "email"),
        role=document.get("role", ""),
    )
