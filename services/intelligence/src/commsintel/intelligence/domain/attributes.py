"""A record's intelligence as of a moment, folded from its interactions."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from commsintel.intelligence.domain.strength import StrengthLevel, StrengthModel, level_of


@dataclass(frozen=True, slots=True)
class Interaction:
    """One member's sighting of one message with this record."""

    record_id: str
    member_id: str
    interaction_key: str
    at: datetime
    direction: str
    participant_count: int


@dataclass(frozen=True, slots=True)
class InteractionRef:
    at: datetime
    member_id: str
    interaction_key: str


@dataclass(frozen=True, slots=True)
class MemberStrength:
    member_id: str
    strength: float
    level: StrengthLevel


@dataclass(frozen=True, slots=True)
class RecordIntelligence:
    record_id: str
    as_of: datetime
    first_email: InteractionRef | None
    last_email: InteractionRef | None
    email_count: int
    member_strengths: tuple[MemberStrength, ...]  # strongest first

    @property
    def strength(self) -> float:
        return self.member_strengths[0].strength if self.member_strengths else 0.0

    @property
    def level(self) -> StrengthLevel:
        return level_of(self.strength)

    @property
    def strongest_member_id(self) -> str | None:
        return self.member_strengths[0].member_id if self.member_strengths else None


def summarize(
    record_id: str, interactions: Iterable[Interaction], as_of: datetime, model: StrengthModel
) -> RecordIntelligence:
    """Only interactions at or before `as_of` count, so any past moment can be asked."""
    first: Interaction | None = None
    last: Interaction | None = None
    count = 0
    contributions: dict[str, list[float]] = {}
    for interaction in interactions:
        if interaction.at > as_of:
            continue
        count += 1
        if first is None or _earlier(interaction, first):
            first = interaction
        if last is None or _earlier(last, interaction):
            last = interaction
        weight = model.weight(interaction.direction, interaction.participant_count)
        decayed = weight * model.decay((as_of - interaction.at).total_seconds())
        contributions.setdefault(interaction.member_id, []).append(decayed)
    # fsum is exactly rounded, so the same interactions in any order give the same bits.
    by_member = {member: math.fsum(values) for member, values in contributions.items()}
    strengths = sorted(
        (MemberStrength(m, s, level_of(s)) for m, s in by_member.items()),
        key=lambda member: (-member.strength, member.member_id),
    )
    return RecordIntelligence(
        record_id=record_id,
        as_of=as_of,
        first_email=_ref(first),
        last_email=_ref(last),
        email_count=count,
        member_strengths=tuple(strengths),
    )


def _earlier(a: Interaction, b: Interaction) -> bool:
    # Ties broken by member and key, so the answer never depends on arrival order.
    return (a.at, a.member_id, a.interaction_key) < (b.at, b.member_id, b.interaction_key)


def _ref(interaction: Interaction | None) -> InteractionRef | None:
    if interaction is None:
        return None
    return InteractionRef(interaction.at, interaction.member_id, interaction.interaction_key)
