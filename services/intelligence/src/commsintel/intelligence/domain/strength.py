"""Connection strength: recency- and frequency-weighted (docs/decisions/0004).

Each interaction contributes a weight that halves every `half_life_days`, so ten emails
last month outweigh ten a year ago. What one interaction is worth when fresh:
- an email the member sent: 1.0; one they received: 0.6;
- times 1.5 when it is part of a two-way exchange (the member and the record wrote to each
  other within `exchange_window_days`);
- times 0.2 when it had more than 10 participants (mass mail);
- a meeting attended: 2.0 (organizer or attendee); a declined invitation: nothing.
A member's strength with a record is the sum of the decayed weights of their interactions
with it; the record's strength is its strongest member's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

SECONDS_PER_DAY = 86_400.0
MASS_MAIL_PARTICIPANTS = 10


class StrengthLevel(IntEnum):
    VERY_WEAK = 1
    WEAK = 2
    GOOD = 3
    STRONG = 4
    VERY_STRONG = 5


# Lower bounds of each level, in "fresh sent emails" worth of strength.
LEVEL_FLOORS = (
    (StrengthLevel.VERY_STRONG, 12.0),
    (StrengthLevel.STRONG, 5.0),
    (StrengthLevel.GOOD, 2.0),
    (StrengthLevel.WEAK, 0.5),
)


@dataclass(frozen=True, slots=True)
class StrengthModel:
    half_life_days: float = 90.0
    sent_weight: float = 1.0
    received_weight: float = 0.6
    two_way_factor: float = 1.5
    exchange_window_days: float = 30.0
    mass_mail_factor: float = 0.2
    meeting_weight: float = 2.0

    def weight(
        self, kind: str, direction: str, role: str, participant_count: int, two_way: bool
    ) -> float:
        if kind == "calendar":
            return 0.0 if role == "declined" else self.meeting_weight
        base = self.sent_weight if direction == "sent" else self.received_weight
        if two_way:
            base *= self.two_way_factor
        if participant_count > MASS_MAIL_PARTICIPANTS:
            base *= self.mass_mail_factor
        return base

    def decay(self, age_seconds: float) -> float:
        """Interactions in the future of `as_of` do not count yet."""
        if age_seconds < 0:
            return 0.0
        return math.exp(-math.log(2) * age_seconds / (self.half_life_days * SECONDS_PER_DAY))


@dataclass(frozen=True, slots=True)
class DecayedScore:
    """A sum of decayed weights kept at an anchor time: value(t) = value * decay(t - anchor)."""

    value: float = 0.0
    anchor: datetime | None = None

    def at(self, when: datetime, model: StrengthModel) -> float:
        if self.anchor is None or when < self.anchor:
            return 0.0 if self.anchor is None else self.value
        return self.value * model.decay((when - self.anchor).total_seconds())


def level_of(strength: float) -> StrengthLevel:
    for level, floor in LEVEL_FLOORS:
        if strength >= floor:
            return level
    return StrengthLevel.VERY_WEAK


def rank_key(score: DecayedScore, model: StrengthModel) -> float:
    """A sort key that orders scores by their value at any moment after all anchors:
    ln(value) + ln2 * anchor / half_life, which does not depend on the moment."""
    if score.anchor is None or score.value <= 0:
        return -math.inf
    half_life_seconds = model.half_life_days * SECONDS_PER_DAY
    return math.log(score.value) + math.log(2) * score.anchor.timestamp() / half_life_seconds
