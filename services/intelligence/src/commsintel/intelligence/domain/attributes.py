"""A record's intelligence as of a moment, folded from its interactions.

Attributes (each with when, which member, which message or event): first and last
interaction, first and last email interaction, first and last calendar interaction, and
the next calendar interaction; "next" becomes "last" once its time has passed, because
every attribute is computed for `as_of` (now, unless asked otherwise).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from commsintel.intelligence.domain.strength import (
    MASS_MAIL_PARTICIPANTS,
    DecayedScore,
    StrengthLevel,
    StrengthModel,
    level_of,
)


class Interaction(NamedTuple):
    """One member's sighting of one message or calendar event with this record (a named
    tuple: a replay makes millions of them)."""

    record_id: str
    member_id: str
    interaction_key: str
    at: datetime
    direction: str  # sent | received
    participant_count: int
    kind: str = "email"  # email | calendar
    role: str = ""  # the record's role: from, to, cc, organizer, attendee, declined, ...
    mailbox_id: str = ""  # whose copy: the same message in two mailboxes is two sightings

    @property
    def counts_as_meeting(self) -> bool:
        return self.kind == "calendar" and self.role != "declined"


@dataclass(frozen=True, slots=True)
class InteractionRef:
    at: datetime
    member_id: str
    interaction_key: str


@dataclass(frozen=True, slots=True)
class Contribution:
    interaction: Interaction
    reason: str  # "email sent", "email received", "two-way email ...", "meeting", ...
    weight: float  # what it is worth as of the summary's moment


@dataclass(frozen=True, slots=True)
class MemberStrength:
    member_id: str
    strength: float
    level: StrengthLevel


@dataclass(frozen=True, slots=True)
class RecordIntelligence:
    record_id: str
    as_of: datetime
    first_interaction: InteractionRef | None
    last_interaction: InteractionRef | None
    first_email: InteractionRef | None
    last_email: InteractionRef | None
    first_calendar: InteractionRef | None
    last_calendar: InteractionRef | None
    next_calendar: InteractionRef | None
    email_count: int
    meeting_count: int
    member_strengths: tuple[MemberStrength, ...]  # strongest first
    contributions: tuple[Contribution, ...]  # largest first

    @property
    def strength(self) -> float:
        return self.member_strengths[0].strength if self.member_strengths else 0.0

    @property
    def level(self) -> StrengthLevel:
        return level_of(self.strength)

    @property
    def strongest_member_id(self) -> str | None:
        return self.member_strengths[0].member_id if self.member_strengths else None


def _order(interaction: Interaction) -> tuple:
    # Ties broken by member and key, so no answer depends on arrival order.
    return (
        interaction.at,
        interaction.member_id,
        interaction.interaction_key,
        interaction.mailbox_id,
    )


def two_way_keys(emails: list[Interaction], window: timedelta) -> set[tuple[str, str]]:
    """(member, key) of emails answered the other way within `window`, before or after."""
    found: set[tuple[str, str]] = set()
    by_member: dict[tuple[str, str], list[datetime]] = {}
    for email in emails:
        by_member.setdefault((email.member_id, email.direction), []).append(email.at)
    for times in by_member.values():
        times.sort()
    for email in emails:
        other = "received" if email.direction == "sent" else "sent"
        times = by_member.get((email.member_id, other), [])
        index = bisect.bisect_left(times, email.at - window)
        if index < len(times) and times[index] <= email.at + window:
            found.add((email.member_id, email.interaction_key))
    return found


def contributions(
    interactions: Iterable[Interaction], as_of: datetime, model: StrengthModel
) -> list[Contribution]:
    """What each interaction up to `as_of` is worth at `as_of`, and why."""
    past = sorted((i for i in interactions if i.at <= as_of), key=_order)
    return [
        Contribution(interaction, _reason(interaction, answered), weight)
        for interaction, answered, weight in _decayed_weights(past, as_of, model)
    ]


def _decayed_weights(
    past: list[Interaction], as_of: datetime, model: StrengthModel
) -> Iterator[tuple[Interaction, bool, float]]:
    """(interaction, two-way?, worth at `as_of`) of interactions at or before `as_of`."""
    emails = [i for i in past if i.kind == "email"]
    two_way = two_way_keys(emails, timedelta(days=model.exchange_window_days))
    for interaction in past:
        answered = (interaction.member_id, interaction.interaction_key) in two_way
        weight = model.weight(
            interaction.kind,
            interaction.direction,
            interaction.role,
            interaction.participant_count,
            answered,
        )
        yield interaction, answered, weight * model.decay((as_of - interaction.at).total_seconds())


def _reason(interaction: Interaction, answered: bool) -> str:
    if interaction.kind == "calendar":
        return "declined invitation" if interaction.role == "declined" else "meeting"
    reason = f"email {interaction.direction}" + (" (two-way)" if answered else "")
    if interaction.participant_count > MASS_MAIL_PARTICIPANTS:
        reason += " (mass mail)"
    return reason


def summarize(
    record_id: str, interactions: Iterable[Interaction], as_of: datetime, model: StrengthModel
) -> RecordIntelligence:
    """Only interactions at or before `as_of` count (except "next"), so any past moment
    can be asked."""
    interactions = sorted(interactions, key=_order)
    past = [i for i in interactions if i.at <= as_of]
    emails = [i for i in past if i.kind == "email"]
    meetings = [i for i in past if i.counts_as_meeting]
    upcoming = [i for i in interactions if i.at > as_of and i.counts_as_meeting]
    attended = [i for i in past if i.kind == "email" or i.counts_as_meeting]
    scored = contributions(past, as_of, model)
    per_member: dict[str, list[float]] = {}
    for contribution in scored:
        per_member.setdefault(contribution.interaction.member_id, []).append(contribution.weight)
    # fsum is exactly rounded, so the same interactions in any order give the same bits.
    strengths = sorted(
        (
            MemberStrength(m, s, level_of(s))
            for m, s in ((m, math.fsum(values)) for m, values in per_member.items())
        ),
        key=lambda member: (-member.strength, member.member_id),
    )
    return RecordIntelligence(
        record_id=record_id,
        as_of=as_of,
        first_interaction=_ref(attended[0] if attended else None),
        last_interaction=_ref(attended[-1] if attended else None),
        first_email=_ref(emails[0] if emails else None),
        last_email=_ref(emails[-1] if emails else None),
        first_calendar=_ref(meetings[0] if meetings else None),
        last_calendar=_ref(meetings[-1] if meetings else None),
        next_calendar=_ref(upcoming[0] if upcoming else None),
        email_count=len(emails),
        meeting_count=len(meetings),
        member_strengths=tuple(strengths),
        contributions=tuple(sorted(scored, key=lambda c: (-c.weight, _order(c.interaction)))),
    )


def pair_score(interactions: list[Interaction], model: StrengthModel) -> DecayedScore:
    """One member's strength with one record, kept at the time of their latest
    interaction (the ranking index stores this)."""
    if not interactions:
        return DecayedScore()
    # The same worths as `contributions` at the anchor (fsum: order does not matter), without
    # the reasons and the sort: a replay folds every pair.
    anchor = max(i.at for i in interactions)
    value = math.fsum(weight for _, _, weight in _decayed_weights(interactions, anchor, model))
    return DecayedScore(value, anchor)


def _ref(interaction: Interaction | None) -> InteractionRef | None:
    if interaction is None:
        return None
    return InteractionRef(interaction.at, interaction.member_id, interaction.interaction_key)
