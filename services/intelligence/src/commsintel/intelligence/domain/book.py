"""The interactions of one workspace's (record, member) pairs, as identity resolved them.

A sighting (`ref`: one mailbox's copy of one message or calendar event) names all its
records at once; a later resolution of the same sighting replaces the earlier one (a
person made from history, a merge, an unmerge; no records at all once the message is
retracted or the event cancelled). A removed mailbox takes all its sightings with it.

The book holds whatever part of the workspace the caller loaded (a live batch loads the
pairs its events touch; a replay starts empty and holds everything) and remembers which
pairs changed, so only those are folded and written again. Interactions are kept per
(record, member, year) bucket, the unit the store writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from commsintel.intelligence.domain.attributes import Interaction

Pair = tuple[str, str]  # (record_id, member_id)
BucketKey = tuple[str, str, int]  # (record_id, member_id, year)


def sighting_ref(mailbox_id: str, interaction_key: str) -> str:
    return f"{mailbox_id}\x1f{interaction_key}"


def to_millisecond(when: datetime) -> datetime:
    """What the store can keep (BSON dates are milliseconds), so a fold of freshly
    resolved interactions equals a fold of stored ones, bit for bit."""
    return when.replace(microsecond=when.microsecond - when.microsecond % 1000)


def interaction_order(interaction: Interaction) -> tuple:
    return (interaction.at, interaction.interaction_key, interaction.mailbox_id)


@dataclass
class InteractionBook:
    _by_pair: dict[Pair, dict[str, Interaction]] = field(default_factory=dict)
    _pairs_of_ref: dict[str, set[Pair]] = field(default_factory=dict)
    _refs_of_mailbox: dict[str, set[str]] = field(default_factory=dict)
    changed: set[Pair] = field(default_factory=set)
    size: int = 0  # interactions held

    def load(self, interactions: Iterable[Interaction]) -> None:
        """Stored interactions: known, not changed."""
        for interaction in interactions:
            self._add(interaction)

    def resolve(self, ref: str, interactions: Iterable[Interaction]) -> None:
        """`interactions`: everything the sighting `ref` now is (one per record)."""
        self._drop(ref)
        for interaction in interactions:
            self._add(interaction)
            self.changed.add((interaction.record_id, interaction.member_id))

    def remove_mailbox(self, mailbox_id: str) -> None:
        for ref in sorted(self._refs_of_mailbox.pop(mailbox_id, ())):
            self._drop(ref)

    def interactions_of(self, pair: Pair) -> list[Interaction]:
        return sorted(self._by_pair.get(pair, {}).values(), key=interaction_order)

    def buckets_of(self, pair: Pair) -> dict[BucketKey, list[Interaction]]:
        """The pair's interactions by calendar year, each bucket in time order."""
        buckets: dict[BucketKey, list[Interaction]] = {}
        for interaction in self.interactions_of(pair):
            key = (pair[0], pair[1], interaction.at.year)
            buckets.setdefault(key, []).append(interaction)
        return buckets

    def _add(self, interaction: Interaction) -> None:
        pair = (interaction.record_id, interaction.member_id)
        ref = sighting_ref(interaction.mailbox_id, interaction.interaction_key)
        held = self._by_pair.setdefault(pair, {})
        if ref not in held:
            self.size += 1
        held[ref] = interaction
        self._pairs_of_ref.setdefault(ref, set()).add(pair)
        self._refs_of_mailbox.setdefault(interaction.mailbox_id, set()).add(ref)

    def _drop(self, ref: str) -> None:
        for pair in self._pairs_of_ref.pop(ref, ()):
            held = self._by_pair[pair]
            dropped = held.pop(ref)
            self.size -= 1
            self.changed.add(pair)
            if not held:
                del self._by_pair[pair]
            refs = self._refs_of_mailbox.get(dropped.mailbox_id)
            if refs is not None:
                refs.discard(ref)
